"""Agreement statistics at their edges: undefined is NaN or one clear error, never a stray exception."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qualcode.agreement.statistics import (
    bootstrap_ci,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
)


@pytest.mark.parametrize("missing", [None, float("nan")])
def test_missing_labels_are_refused_by_both_two_coder_statistics(missing):
    a = ["x", "y", missing, "x"]
    b = ["x", "x", "y", "x"]
    for statistic in (percent_agreement, cohen_kappa):
        with pytest.raises(ValueError, match=r"missing labels .* unit\(s\) 2"):
            statistic(a, b)


def test_nan_in_a_float_sequence_is_refused_not_counted_as_disagreement():
    with pytest.raises(ValueError, match="drop incomplete units first"):
        percent_agreement([1.0, 0.0, np.nan], [1.0, 0.0, 1.0])
    # The complete units alone: 2 of 2 agree.
    assert percent_agreement([1.0, 0.0], [1.0, 0.0]) == 1.0


def test_fleiss_on_an_empty_table_is_a_clear_error():
    with pytest.raises(ValueError, match="no subjects"):
        fleiss_kappa(np.zeros((0, 2)))


def test_krippendorff_alpha_is_nan_when_no_unit_has_two_values():
    # Two values occur, but every unit was coded by one coder only: nothing is pairable.
    data = np.array([[1.0, np.nan, 0.0], [np.nan, 0.0, np.nan]])
    assert math.isnan(krippendorff_alpha(data))


def test_bootstrap_drops_undefined_resamples_and_says_how_many():
    # Fleiss on two subjects with three raters each; a resample drawing subject 0 twice is
    # all-"a": chance agreement 1, kappa undefined (NaN). Subjects: [3 a], [1 a, 2 b].
    table = np.array([[3.0, 0.0], [1.0, 2.0]])
    interval = bootstrap_ci(fleiss_kappa, table, resamples=200, seed=1)
    low, high = interval
    assert interval.resamples == 200
    assert 0 < interval.dropped < 200  # about a quarter of resamples are [0, 0]
    assert low <= high


def test_bootstrap_treats_a_refusing_statistic_as_a_dropped_resample():
    def picky(x):
        if x.sum() == 0:
            raise ValueError("no subject was rated by two or more raters")
        return float(x.mean())

    interval = bootstrap_ci(picky, np.array([0.0, 1.0]), resamples=100, seed=3)
    assert interval.dropped > 0
    assert 0.5 <= interval.low <= interval.high <= 1.0


def test_the_core_refuses_to_compare_a_coder_with_herself(demo_copy):
    from qualcode.agreement.report import agreement_report
    from qualcode.errors import QualcodeError
    from qualcode.project import Project

    with Project(demo_copy) as project, project.read() as s, pytest.raises(QualcodeError, match="ana named twice"):
        agreement_report(s, "lee", coders=["ana", "ben", "ana"])


def test_an_undefined_pooled_kappa_prints_n_a_with_the_reason(project):
    from qualcode.agreement.report import agreement_report, report_table

    from .test_agreement_report import build_study

    # Both coders finished every segment and applied nothing: chance agreement is 1 on every code.
    build_study(project, {"ann": {}, "ben": {}}, {"ann": set(range(1, 7)), "ben": set(range(1, 7))})
    with project.read() as s:
        report = agreement_report(s, "lead")
    assert report.pooled_kappa is None
    note = report_table(report).note
    assert "Pooled kappa (De Vries et al., 2008) = n/a;" in note
    assert "n/a: undefined (no units every compared coder finished, or chance agreement of 1" in note
