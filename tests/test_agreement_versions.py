"""The report by codebook version: codings and done marks belong to the version in force when they were made.

A hand-built study: version 1 from 1 March, version 2 from 1 April 2024. Ann and Ben code
segments 1-4 in March and segments 5-8 in April. Statistics are worked out by hand below.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from qualcode.store.models import CodebookVersion, Coding, SegmentStatus

from .test_agreement_report import build_study, report_of

V1, V2 = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC)
MARCH, APRIL = datetime(2024, 3, 15, tzinfo=UTC), datetime(2024, 4, 15, tzinfo=UTC)
FEBRUARY = datetime(2024, 2, 20, tzinfo=UTC)

# (coder, position) -> code keys, with when they were coded and marked done.
MARCH_CODINGS = {
    ("ann", 1): {"SV"},
    ("ann", 2): {"SV"},
    ("ann", 3): {"SA"},
    ("ben", 1): {"SV"},
    ("ben", 2): {"SA"},
    ("ben", 3): {"SA"},
}
APRIL_CODINGS = {
    ("ann", 5): {"SV"},
    ("ann", 6): {"SA"},
    ("ann", 8): {"RC"},
    ("ben", 5): {"SV"},
    ("ben", 6): {"SA"},
    ("ben", 8): {"RC"},
}


def build_versioned_study(project, *, with_versions: bool = True) -> dict:
    ids = build_study(project, {"ann": {}, "ben": {}}, {"ann": set(), "ben": set()}, segments=8)
    with project.transaction() as s:
        if with_versions:
            s.add(CodebookVersion(codebook_id=ids["codebook"], number=1, change="load", created_at=V1))
            s.add(CodebookVersion(codebook_id=ids["codebook"], number=2, change="rename", created_at=V2))
        for when, codings, positions in ((MARCH, MARCH_CODINGS, range(1, 5)), (APRIL, APRIL_CODINGS, range(5, 9))):
            for (coder, pos), keys in codings.items():
                for key in keys:
                    s.add(
                        Coding(
                            segment_id=ids["segments"][pos],
                            code_id=ids["codes"][key],
                            coder_id=ids["coders"][coder],
                            created_at=when,
                        )
                    )
            for coder in ("ann", "ben"):
                for pos in positions:
                    s.add(SegmentStatus(segment_id=ids["segments"][pos], coder_id=ids["coders"][coder], done_at=when))
    return ids


def test_each_version_compares_the_work_done_while_it_was_in_force(any_project):
    build_versioned_study(any_project)
    r = report_of(any_project, by="version")
    assert [s["version"] for s in r["slices"]] == [1, 2]
    first, second = r["slices"]
    # Version 1 (segments 1-4). SV: ann 1100, ben 1000 -> p_o 3/4, p_e .5*.25 + .5*.75 = .5.
    # SA: ann 0010, ben 0110 -> p_o 3/4, p_e .5. RC unused -> p_o = p_e = 1.
    # Pooled: mean p_o 5/6, mean p_e 2/3 -> (5/6 - 2/3) / (1 - 2/3) = .5.
    assert first["units"] == 4
    assert first["pooled_kappa"] == pytest.approx(0.5)
    assert first["from"] is None and first["until"] == V2.isoformat()
    # Version 2 (segments 5-8): the coders agree on everything.
    assert second["units"] == 4
    assert second["pooled_kappa"] == pytest.approx(1.0)
    assert second["krippendorff_alpha"] == pytest.approx(1.0)
    assert second["from"] == V2.isoformat() and second["until"] is None
    assert r["units"] == 8  # the whole report is not sliced


def test_codings_older_than_the_first_version_count_in_it(any_project):
    ids = build_versioned_study(any_project)
    with any_project.transaction() as s:
        s.add(
            Coding(
                segment_id=ids["segments"][4],
                code_id=ids["codes"]["RC"],
                coder_id=ids["coders"]["ann"],
                created_at=FEBRUARY,
            )
        )
    first = report_of(any_project, by="version")["slices"][0]
    # RC now: ann 0001, ben 0000 on segments 1-4 -> p_o 3/4, p_e .25 * 0 + .75 * 1 = .75.
    # Pooled: mean p_o (3/4 + 3/4 + 3/4) = .75, mean p_e (.5 + .5 + .75) / 3 = 7/12 -> (.75 - 7/12) / (5/12) = .4.
    assert first["pooled_kappa"] == pytest.approx(0.4)


def test_a_codebook_without_recorded_versions_is_one_slice(any_project):
    build_versioned_study(any_project, with_versions=False)
    r = report_of(any_project, by="version")
    assert [(s["version"], s["units"], s["from"], s["until"]) for s in r["slices"]] == [(1, 8, None, None)]
    assert r["slices"][0]["pooled_kappa"] == r["pooled_kappa"]


def test_agreement_command_by_version(project, project_path):
    from qualcode.cli.main import cli

    build_versioned_study(project)
    result = CliRunner().invoke(
        cli, ["agreement", "-p", str(project_path), "--as", "lead", "--by", "version", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert [s["pooled_kappa"] for s in json.loads(result.output)["slices"]] == pytest.approx([0.5, 1.0])
    table = CliRunner().invoke(
        cli, ["agreement", "-p", str(project_path), "--as", "lead", "--by", "version", "--format", "csv"]
    )
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].startswith("Version,Units,Pooled kappa,")
    assert lines[1].startswith("1,4,0.5,") and lines[2].startswith("2,4,1.0,")  # csv: numbers, full precision
