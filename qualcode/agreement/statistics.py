"""Agreement statistics as pure functions: plain arrays in, floats out.

Usable from a notebook without a project::

    >>> from qualcode.agreement.statistics import cohen_kappa
    >>> cohen_kappa([1, 1, 0, 0], [1, 0, 0, 0])
    0.5

Conventions
-----------
* Label sequences are any hashable values; ``None``/NaN are not allowed in
  ``cohen_kappa`` and ``percent_agreement`` (drop incomplete units first).
* Count tables are subjects x categories: ``table[i, k]`` = how many raters put
  subject ``i`` in category ``k``.
* A statistic that is undefined (e.g. kappa when chance agreement is 1) is NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, cast, overload

import numpy as np

WEIGHTINGS = (None, "linear", "quadratic")
LEVELS = ("nominal", "ordinal", "interval", "ratio")


@overload
def kappa_from_parts(p_o: float, p_e: float) -> float: ...
@overload
def kappa_from_parts(p_o: np.ndarray, p_e: np.ndarray) -> np.ndarray: ...
def kappa_from_parts(p_o: float | np.ndarray, p_e: float | np.ndarray) -> float | np.ndarray:
    """The chance-corrected form every coefficient here shares: (p_o - p_e) / (1 - p_e); NaN where p_e = 1."""
    observed = np.asarray(p_o, dtype=float)
    chance = np.asarray(p_e, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(chance < 1.0, (observed - chance) / (1.0 - chance), np.nan)
    return float(k) if k.ndim == 0 else k


def _missing(labels: Sequence[Any]) -> np.ndarray:
    """Where a label is None or NaN (read before numpy turns a NaN among strings into "nan")."""
    if isinstance(labels, np.ndarray) and labels.dtype.kind == "f":
        return np.isnan(labels)
    if isinstance(labels, np.ndarray) and labels.dtype.kind != "O":
        return np.zeros(labels.shape, dtype=bool)
    return np.array([x is None or (isinstance(x, float) and x != x) for x in labels], dtype=bool)


def _paired(a: Sequence[Any], b: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(a)
    y = np.asarray(b)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("two label sequences of the same length are needed")
    if x.size == 0:
        raise ValueError("no units to compare")
    # A missing label is neither agreement nor disagreement: refuse it rather than guess
    # (percent agreement would count it as a disagreement and kappa would drop it).
    missing = np.flatnonzero(_missing(a) | _missing(b))
    if missing.size:
        shown = ", ".join(str(i) for i in missing[:5]) + (", ..." if missing.size > 5 else "")
        raise ValueError(f"missing labels (None or NaN) at unit(s) {shown}: drop incomplete units first")
    return x, y


def percent_agreement(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Share of units on which two coders gave the same label."""
    x, y = _paired(a, b)
    return float(np.mean(x == y))


def confusion_matrix(a: Sequence[Any], b: Sequence[Any], labels: Sequence[Any] | None = None) -> np.ndarray:
    """Counts ``m[i, j]`` of units coder A labelled ``labels[i]`` and coder B ``labels[j]``."""
    x, y = _paired(a, b)
    names = list(labels) if labels is not None else list(np.unique(np.concatenate([x, y])))
    index = {v: i for i, v in enumerate(names)}
    keep = np.array([u in index and v in index for u, v in zip(x.tolist(), y.tolist())])
    ia = np.array([index[u] for u in x[keep].tolist()], dtype=np.int64)
    ib = np.array([index[v] for v in y[keep].tolist()], dtype=np.int64)
    m = np.zeros((len(names), len(names)))
    np.add.at(m, (ia, ib), 1)
    return m


def kappa_from_table(table: np.ndarray, weights: str | None = None) -> float:
    """Cohen's kappa from a square two-coder contingency table (rows: coder A)."""
    if weights not in WEIGHTINGS:
        raise ValueError(f"weights must be one of {WEIGHTINGS}")
    m = np.asarray(table, dtype=float)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError("a square contingency table is needed")
    n = m.sum()
    if n == 0:
        raise ValueError("no units to compare")
    q = m.shape[0]
    i, j = np.indices((q, q))
    disagreement = {None: (i != j).astype(float), "linear": np.abs(i - j).astype(float), "quadratic": (i - j) ** 2.0}[
        weights
    ]
    observed = m / n
    expected = np.outer(observed.sum(1), observed.sum(0))
    d_e = (disagreement * expected).sum()
    if d_e == 0:
        return float("nan")
    return float(1.0 - (disagreement * observed).sum() / d_e)


def cohen_kappa(
    a: Sequence[Any], b: Sequence[Any], weights: str | None = None, labels: Sequence[Any] | None = None
) -> float:
    """Cohen's (1960) kappa for two coders' labels; ``weights`` "linear"/"quadratic" for ordered labels.

    ``labels`` fixes the categories and their order (units with other labels are ignored).
    """
    return kappa_from_table(confusion_matrix(a, b, labels), weights)


def binary_parts(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-code observed and chance agreement of two units x codes 0/1 matrices."""
    a = np.asarray(a, dtype=bool)
    b = np.asarray(b, dtype=bool)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError("two units x codes matrices of the same shape are needed")
    if a.shape[0] == 0:
        raise ValueError("no units to compare")
    p_o = np.mean(a == b, axis=0)
    pa, pb = a.mean(axis=0), b.mean(axis=0)
    p_e = pa * pb + (1 - pa) * (1 - pb)
    return p_o, p_e


def pooled_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """De Vries et al. (2008) pooled kappa of two coders' units x codes 0/1 matrices.

    The per-code observed and chance agreements are averaged separately, then one
    kappa is taken: (mean p_o - mean p_e) / (1 - mean p_e). A code neither coder used
    adds p_o = p_e = 1 and so keeps the result defined.
    """
    p_o, p_e = binary_parts(a, b)
    return kappa_from_parts(p_o.mean(), p_e.mean())


def ratings_to_table(ratings: np.ndarray, categories: Sequence[Any] | None = None) -> np.ndarray:
    """Subjects x raters ratings (NaN = missing) to a subjects x categories count table."""
    r = np.asarray(ratings, dtype=float)
    values = categories if categories is not None else np.unique(r[~np.isnan(r)])
    return np.stack([(r == c).sum(axis=1) for c in values], axis=1).astype(float)


def _count_table(table: np.ndarray) -> np.ndarray:
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[1] < 2:
        raise ValueError("a subjects x categories table of counts (at least 2 categories) is needed")
    if (t < 0).any():
        raise ValueError("counts cannot be negative")
    return t


def _observed_multi(t: np.ndarray) -> tuple[float, np.ndarray]:
    """Gwet's (2014) observed agreement over subjects rated at least twice, and rater counts."""
    raters = t.sum(axis=1)
    pairable = raters >= 2
    if not pairable.any():
        raise ValueError("no subject was rated by two or more raters")
    r = raters[pairable]
    per_subject = (t[pairable] * (t[pairable] - 1)).sum(axis=1) / (r * (r - 1))
    return float(per_subject.mean()), raters


def _category_shares(t: np.ndarray, raters: np.ndarray) -> np.ndarray:
    """pi_k: the mean over rated subjects of the share of raters choosing k."""
    rated = raters > 0
    return (t[rated] / raters[rated, None]).mean(axis=0)


def fleiss_kappa(table: np.ndarray) -> float:
    """Fleiss' (1971) kappa; every subject must have the same number of raters."""
    t = _count_table(table)
    if t.shape[0] == 0:
        raise ValueError("no subjects to compare")
    raters = t.sum(axis=1)
    if not np.all(raters == raters[0]) or raters[0] < 2:
        raise ValueError("Fleiss' kappa needs the same number (>= 2) of raters for every subject")
    p_o, _ = _observed_multi(t)
    p = t.sum(axis=0) / t.sum()
    return kappa_from_parts(p_o, float((p**2).sum()))


def gwet_ac1(table: np.ndarray) -> float:
    """Gwet's AC1 (Gwet 2008, 2014); subjects may have different numbers of raters."""
    t = _count_table(table)
    p_o, raters = _observed_multi(t)
    pi = _category_shares(t, raters)
    q = t.shape[1]
    return kappa_from_parts(p_o, float((pi * (1 - pi)).sum() / (q - 1)))


def brennan_prediger(table: np.ndarray) -> float:
    """Brennan & Prediger's (1981) coefficient: chance agreement 1/q for q categories."""
    t = _count_table(table)
    p_o, _ = _observed_multi(t)
    return kappa_from_parts(p_o, 1.0 / t.shape[1])


def krippendorff_alpha(data: np.ndarray, level: str = "nominal") -> float:
    """Krippendorff's alpha of a coders x units array (NaN = missing), via the ``krippendorff`` package."""
    import krippendorff

    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    d = np.asarray(data, dtype=float)
    if d.ndim != 2:
        raise ValueError("a coders x units array is needed")
    values = np.unique(d[~np.isnan(d)])
    if values.size < 2:
        return float("nan")  # one value only: no variation, alpha undefined
    if not ((~np.isnan(d)).sum(axis=0) >= 2).any():
        return float("nan")  # no unit coded by two coders: nothing pairable, alpha undefined
    measured = cast(Literal["nominal", "ordinal", "interval", "ratio"], level)  # checked against LEVELS above
    return float(krippendorff.alpha(reliability_data=d, level_of_measurement=measured))


class Interval(tuple):
    """A bootstrap interval ``(low, high)`` that also says how many resamples were undefined and dropped."""

    low: float
    high: float
    dropped: int
    resamples: int

    def __new__(cls, low: float, high: float, dropped: int = 0, resamples: int = 0) -> Interval:
        interval = super().__new__(cls, (low, high))
        interval.low, interval.high, interval.dropped, interval.resamples = low, high, dropped, resamples
        return interval


def bootstrap_ci(
    statistic: Callable[..., float],
    *arrays: np.ndarray,
    unit_axis: int = 0,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap interval: resample units (along ``unit_axis`` of every array) with one seeded generator.

    ``statistic(*resampled_arrays)`` must return a float. A resample where it is undefined (NaN, or
    a ``ValueError`` such as "no subject was rated by two raters") is dropped, not fatal; the
    result's ``dropped`` says how many were.
    """
    if not arrays:
        raise ValueError("give the data to resample")
    arrays = tuple(np.asarray(a) for a in arrays)
    n = arrays[0].shape[unit_axis]
    if any(a.shape[unit_axis] != n for a in arrays):
        raise ValueError("every array needs the same number of units")
    rng = np.random.default_rng(seed)
    values = np.empty(resamples)
    for i in range(resamples):
        idx = rng.integers(0, n, n)
        try:
            values[i] = statistic(*(np.take(a, idx, axis=unit_axis) for a in arrays))
        except ValueError:
            values[i] = np.nan
    low, high = percentile_interval(values, confidence)
    return Interval(low, high, dropped=int(np.isnan(values).sum()), resamples=resamples)


def percentile_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """The central ``confidence`` interval of bootstrap replicates, ignoring NaN."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


# Interpretation bands. Published tables print two decimals, which leaves gaps
# (Landis & Koch: .20 | .21). We close them so: Landis & Koch bands include their
# upper bound (.20 is slight, .2001 fair); Cicchetti bands include their lower
# bound (.40 is fair, .3999 poor). Values are compared at 12 decimals, so floating-point
# noise (0.7499999999999999 for 3/4) does not cross a boundary.
LANDIS_KOCH = (
    (0.0, "poor"),
    (0.20, "slight"),
    (0.40, "fair"),
    (0.60, "moderate"),
    (0.80, "substantial"),
    (1.0, "almost perfect"),
)
CICCHETTI = ((0.40, "poor"), (0.60, "fair"), (0.75, "good"), (float("inf"), "excellent"))


def landis_koch(value: float) -> str:
    """Landis & Koch (1977) label; bands include their upper bound (< 0 poor, 0-.20 slight, ...)."""
    if value is None or np.isnan(value):
        return ""
    value = round(float(value), 12)
    for upper, label in LANDIS_KOCH:
        if value < upper or (value == upper and upper > 0.0):
            return label
    return "almost perfect"


def cicchetti(value: float) -> str:
    """Cicchetti (1994) label; bands include their lower bound (< .40 poor, .40-.59 fair, ...)."""
    if value is None or np.isnan(value):
        return ""
    value = round(float(value), 12)
    for upper, label in CICCHETTI:
        if value < upper:
            return label
    return "excellent"
