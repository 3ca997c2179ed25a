"""The pure statistics against published worked examples (each value from the source named beside it)."""

from __future__ import annotations

import numpy as np
import pytest

from qualcode.agreement.statistics import (
    bootstrap_ci,
    brennan_prediger,
    cicchetti,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    kappa_from_table,
    krippendorff_alpha,
    landis_koch,
    percent_agreement,
    pooled_kappa,
    ratings_to_table,
)

nan = np.nan

# Krippendorff (2011) "Computing Krippendorff's alpha-reliability", section C: 4 coders, 12 units,
# values 1-5, missing data. The same data is irrCAC's ``cac.raw4raters`` (Gwet 2014).
KRIPP_4CODERS = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
)

# Krippendorff (2011) section A: binary data, two observers, no missing data.
KRIPP_BINARY = np.array(
    [
        [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
        [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
    ]
)

# Fleiss (1971) / Wikipedia "Fleiss' kappa" worked example: 10 subjects, 5 categories, 14 raters.
WIKIPEDIA_FLEISS = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)

# Fleiss (1971): 6 psychiatrists, 30 patients, 5 diagnoses (raw ratings; R irr::kappam.fleiss gives 0.4302445).
FLEISS_1971 = [
    "444444",
    "222555",
    "233335",
    "555555",
    "222444",
    "113333",
    "333355",
    "113334",
    "114444",
    "555555",
    "144444",
    "124444",
    "222333",
    "144444",
    "224445",
    "333335",
    "111455",
    "111112",
    "224444",
    "133555",
    "555555",
    "244444",
    "224555",
    "114444",
    "144445",
    "222224",
    "111155",
    "224444",
    "133333",
    "555555",
]

# Gwet (2014) / irrCAC ``cont3x3abstractors``: two abstractors, 100 pregnancies, 3 types.
ABSTRACTORS = np.array([[13, 0, 0], [0, 20, 7], [0, 4, 56]])

# irrCAC ``cac.raw5observers`` (Gwet 2014, p. 120): 5 observers, 15 units, values 0-3.
RAW_5OBSERVERS = np.array(
    [
        [1, 1, 2, nan, 0, 0, 1, 1, 2, 2, nan, 0, 1, 3, 1],
        [1, 1, 3, 0, 0, 0, 0, nan, 2, 1, 1, 0, 2, 3, 1],
        [2, 0, 3, 0, 0, 0, 2, 2, 2, 1, 0, 0, 2, 2, 1],
        [nan, 1, 3, nan, nan, nan, nan, 0, nan, 1, 0, 0, 2, 2, nan],
        [2, nan, nan, 0, 0, 0, 1, nan, 2, nan, nan, nan, nan, 3, 1],
    ]
).T


def labels_from_table(table: np.ndarray) -> tuple[list[int], list[int]]:
    """Two coders' label sequences reproducing a contingency table (rows: coder A)."""
    a, b = [], []
    for i, row in enumerate(np.asarray(table)):
        for j, count in enumerate(row):
            a += [i] * int(count)
            b += [j] * int(count)
    return a, b


# -- Cohen's kappa ------------------------------------------------------------------------


def test_cohen_kappa_wikipedia_yes_no_example():
    # Wikipedia "Cohen's kappa": 50 proposals, yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> p_o .7, p_e .5, kappa .4
    a, b = labels_from_table([[20, 5], [10, 15]])
    assert percent_agreement(a, b) == pytest.approx(0.70)
    assert cohen_kappa(a, b) == pytest.approx(0.40)


def test_cohen_kappa_artstein_poesio_tables_as_in_scikit_learn():
    # scikit-learn's test suite: Artstein & Poesio (2008) Table 1 -> .348, Table 4 -> .8013
    y1 = [0] * 40 + [1] * 60
    y2 = [0] * 20 + [1] * 20 + [0] * 10 + [1] * 50
    assert round(cohen_kappa(y1, y2), 3) == 0.348
    y1 = [0] * 46 + [1] * 44 + [2] * 10
    y2 = [0] * 52 + [1] * 32 + [2] * 16
    assert round(cohen_kappa(y1, y2), 4) == 0.8013


def test_weighted_kappa_as_in_scikit_learn():
    y1 = [0] * 46 + [1] * 44 + [2] * 10
    y2 = [0] * 50 + [1] * 40 + [2] * 10
    assert round(cohen_kappa(y1, y2), 4) == 0.9315
    assert round(cohen_kappa(y1, y2, weights="linear"), 4) == 0.9412
    assert round(cohen_kappa(y1, y2, weights="quadratic"), 4) == 0.9541


def test_kappa_sas_example_from_statsmodels():
    # statsmodels' test suite reproduces a SAS printout: simple kappa .4842, linear weighted .4701
    table = np.array([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    assert round(kappa_from_table(table), 4) == 0.4842
    assert round(kappa_from_table(table, "linear"), 4) == 0.4701


def test_kappa_irrcac_abstractors():
    # irrCAC vignette: kappa2.table(cont3x3abstractors) = 0.7964094
    a, b = labels_from_table(ABSTRACTORS)
    assert round(cohen_kappa(a, b), 7) == 0.7964094


def test_cohen_kappa_labels_fix_the_categories():
    # A label outside ``labels`` is ignored (scikit-learn behaves the same way).
    a = [0, 0, 1, 1, 2]
    b = [0, 1, 1, 1, 2]
    assert cohen_kappa(a, b, labels=[0, 1]) == pytest.approx(cohen_kappa(a[:4], b[:4]))


def test_cohen_kappa_rejects_unequal_lengths():
    with pytest.raises(ValueError):
        cohen_kappa([1, 0], [1])


# -- pooled kappa (De Vries et al. 2008) ---------------------------------------------------


def test_pooled_kappa_hand_computed():
    # 4 units, 3 codes. Code 1: A 1100, B 1000 -> p_o 3/4, p_e .5*.25 + .5*.75 = .5
    #                   Code 2: A 1010, B 1010 -> p_o 1,   p_e .5*.5 + .5*.5 = .5
    #                   Code 3: never used     -> p_o 1,   p_e 1
    # mean p_o = (0.75 + 1 + 1)/3 = 11/12 ; mean p_e = (.5 + .5 + 1)/3 = 2/3
    # pooled kappa = (11/12 - 2/3) / (1 - 2/3) = (3/12) / (1/3) = 0.75
    # (not the mean of per-code kappas, which is undefined here because code 3 has none)
    a = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0]])
    b = np.array([[1, 1, 0], [0, 0, 0], [0, 1, 0], [0, 0, 0]])
    assert pooled_kappa(a, b) == pytest.approx(0.75)


def test_pooled_kappa_of_one_code_is_cohen_kappa():
    a, b = labels_from_table([[20, 5], [10, 15]])
    assert pooled_kappa(np.array(a)[:, None], np.array(b)[:, None]) == pytest.approx(0.40)


# -- Fleiss, Gwet's AC1, Brennan-Prediger -----------------------------------------------------


def test_fleiss_kappa_wikipedia():
    assert round(fleiss_kappa(WIKIPEDIA_FLEISS), 3) == 0.210


def test_fleiss_kappa_fleiss_1971_as_in_r_irr():
    ratings = np.array([[int(ch) for ch in row] for row in FLEISS_1971])
    assert round(fleiss_kappa(ratings_to_table(ratings, [1, 2, 3, 4, 5])), 7) == 0.4302445


def test_fleiss_kappa_needs_equal_raters():
    with pytest.raises(ValueError, match="same number"):
        fleiss_kappa([[2, 0], [1, 2]])


def test_gwet_ac1_irrcac_examples():
    # irrCAC / Gwet (2014): cac.raw4raters AC1 .775, cac.raw5observers .497, cont3x3abstractors .849
    assert round(gwet_ac1(ratings_to_table(KRIPP_4CODERS.T)), 3) == 0.775
    assert round(gwet_ac1(ratings_to_table(RAW_5OBSERVERS)), 3) == 0.497
    a, b = labels_from_table(ABSTRACTORS)
    assert round(gwet_ac1(ratings_to_table(np.array([a, b]).T)), 3) == 0.849


def test_brennan_prediger_irrcac_examples():
    # irrCAC / Gwet (2014): cac.raw4raters BP .773 (q = 5), cac.raw5observers .487 (q = 4)
    assert round(brennan_prediger(ratings_to_table(KRIPP_4CODERS.T)), 3) == 0.773
    assert round(brennan_prediger(ratings_to_table(RAW_5OBSERVERS)), 3) == 0.487


# -- Krippendorff's alpha -----------------------------------------------------------------------


def test_krippendorff_nominal_with_missing_data():
    # Krippendorff (2011): nominal .743; irrCAC krippen.alpha.raw(cac.raw4raters) .743
    assert round(krippendorff_alpha(KRIPP_4CODERS), 3) == 0.743


def test_krippendorff_interval_and_ratio():
    # Krippendorff (2011) interval .849; irrCAC quadratic (= interval) .849 and ratio .797
    assert round(krippendorff_alpha(KRIPP_4CODERS, "interval"), 3) == 0.849
    assert round(krippendorff_alpha(KRIPP_4CODERS, "ratio"), 3) == 0.797


def test_krippendorff_binary_two_coders():
    # Krippendorff (2011) section A: alpha = .095. By hand: o_01 = 4, n_0 = 14, n_1 = 6, n = 20,
    # alpha = 1 - (n - 1) * o_01 / (n_0 * n_1) = 1 - 19 * 4 / 84 = 0.0952
    assert round(krippendorff_alpha(KRIPP_BINARY), 3) == 0.095


def test_krippendorff_without_variation_is_undefined():
    assert np.isnan(krippendorff_alpha(np.ones((2, 5))))


def test_krippendorff_rejects_unknown_level():
    with pytest.raises(ValueError):
        krippendorff_alpha(KRIPP_BINARY, "cardinal")


# -- bootstrap ------------------------------------------------------------------------------------


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    a, b = labels_from_table(ABSTRACTORS)
    a, b = np.array(a), np.array(b)
    first = bootstrap_ci(cohen_kappa, a, b, resamples=300, seed=7)
    again = bootstrap_ci(cohen_kappa, a, b, resamples=300, seed=7)
    other = bootstrap_ci(cohen_kappa, a, b, resamples=300, seed=8)
    assert first == again
    assert first != other
    assert first[0] < 0.7964 < first[1]
    assert first[0] > 0.6 and first[1] < 0.95  # irrCAC's asymptotic 95% CI is (0.68, 0.913)


def test_bootstrap_resamples_units_of_coders_by_units_data():
    low, high = bootstrap_ci(krippendorff_alpha, KRIPP_4CODERS, unit_axis=1, resamples=200, seed=1)
    assert low <= 0.743 <= high


# -- interpretation bands ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, label",
    [
        (-0.01, "poor"),
        (0.0, "slight"),
        (0.20, "slight"),
        (0.2001, "fair"),
        (0.40, "fair"),
        (0.4001, "moderate"),
        (0.60, "moderate"),
        (0.6001, "substantial"),
        (0.80, "substantial"),
        (0.8001, "almost perfect"),
        (1.0, "almost perfect"),
    ],
)
def test_landis_koch_bands_include_their_upper_bound(value, label):
    assert landis_koch(value) == label


@pytest.mark.parametrize(
    "value, label",
    [
        (0.3999, "poor"),
        (0.40, "fair"),
        (0.5999, "fair"),
        (0.60, "good"),
        (0.7499, "good"),
        (0.75, "excellent"),
        (1.0, "excellent"),
    ],
)
def test_cicchetti_bands_include_their_lower_bound(value, label):
    assert cicchetti(value) == label


def test_undefined_values_have_no_label():
    assert landis_koch(float("nan")) == "" and cicchetti(float("nan")) == ""
