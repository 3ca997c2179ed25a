"""Vectorised agreement parts for 0/1 decisions, every code at once.

Each function takes units x codes arrays and returns per-code arrays. ``weights``
(optional, shape (units,) or (resamples, units)) multiplies each unit: a bootstrap
resample is a vector of unit multiplicities, so the same code gives the estimate
(``weights=None``) and every bootstrap replicate (one row of weights each).

The results equal the general functions in ``statistics`` on each code's 2-category
table (tests check this); these exist because calling those 200 times on 50,000
units is too slow for a project report.

The unweighted figures come from per-code counts (``pair_counts``, ``value_counts``):
the report gets those counts from the sparse coded cells (``report._sparse_stats``)
and passes them to the same ``*_from_counts`` functions the dense arrays use here, so
both give bit-identical floats.
"""

from __future__ import annotations

import numpy as np

from .statistics import kappa_from_parts


def _sum(x: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Column sums of a units x codes array, weighted by unit (``weights @ x``)."""
    if weights is None:
        return x.sum(axis=0, dtype=np.float64)
    return weights @ x.astype(np.float64, copy=False)


def _total(n_units: int, weights: np.ndarray | None) -> np.ndarray:
    return np.asarray(float(n_units)) if weights is None else weights.sum(axis=-1, keepdims=True)


def pair_parts(a: np.ndarray, b: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cohen's observed and chance agreement per code for two coders' units x codes 0/1 arrays."""
    return pair_parts_from_counts(_total(a.shape[0], weights), _sum(a, weights), _sum(b, weights), _sum(a & b, weights))


def pair_parts_from_counts(
    n: np.ndarray, a1: np.ndarray, b1: np.ndarray, both: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cohen's p_o and p_e per code from (weighted) counts: units ``n``, units A applied it, B did, both did.

    ``n`` is a float64 array (0-d, or (resamples, 1)); the counts float64 per code.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        p_o = (n - a1 - b1 + 2 * both) / n
        p_e = (a1 * b1 + (n - a1) * (n - b1)) / (n * n)
    return p_o, p_e


def _sums_of(values: np.ndarray, weights: np.ndarray | None, *tables: np.ndarray) -> list[np.ndarray]:
    """For each table, per-code sums over units of ``table[values[u, k]]`` (``values``: small non-negative integers).

    Unweighted, each value is counted once per code and the counts weighted by the tables:
    exact, and without the units x codes float temporaries that dominated the report's time.
    """
    if weights is None:
        return [table @ value_counts(values, len(tables[0])) for table in tables]
    return [weights @ table[values] for table in tables]


def value_counts(values: np.ndarray, n_values: int) -> np.ndarray:
    """``counts[v, k]``: units where ``values[u, k] == v``, for v in 0 .. n_values - 1 (int64)."""
    return np.stack([np.count_nonzero(values == v, axis=0) for v in range(n_values)]).astype(np.int64, copy=False)


def multi_parts(applied: np.ndarray, raters: int, weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Observed agreement and the chance terms of Fleiss, Gwet's AC1 and Brennan-Prediger per code.

    ``applied[u, k]`` = how many of the ``raters`` coders (all of whom finished unit u) applied code k.
    """
    agree, s = _multi_tables(raters)
    agreeing, applications = _sums_of(applied, weights, agree, s)
    return _multi_from_sums(agreeing, applications, _total(applied.shape[0], weights), raters)


def multi_parts_from_counts(counts: np.ndarray, n_units: int, raters: int) -> dict[str, np.ndarray]:
    """``multi_parts`` from ``counts[v, k]``: all-finished units where v of the ``raters`` coders applied code k."""
    agree, s = _multi_tables(raters)
    return _multi_from_sums(agree @ counts, s @ counts, _total(n_units, None), raters)


def _multi_tables(raters: int) -> tuple[np.ndarray, np.ndarray]:
    """Per number s of coders applying a code: the unit's share of agreeing coder pairs, and s."""
    m = float(raters)
    s = np.arange(raters + 1, dtype=np.float64)
    return (s * (s - 1) + (m - s) * (m - s - 1)) / (m * (m - 1)), s


def _multi_from_sums(
    agreeing: np.ndarray, applications: np.ndarray, n: np.ndarray, raters: int
) -> dict[str, np.ndarray]:
    m = float(raters)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_o = agreeing / n
        p1 = applications / (n * m)
    return {
        "p_o": p_o,
        "fleiss": p1**2 + (1 - p1) ** 2,
        "ac1": 2 * p1 * (1 - p1),  # sum_k pi_k (1 - pi_k) / (q - 1) with q = 2
        "bp": np.full_like(p1, 0.5),
        "p1": p1,
    }


def alpha_parts(applied: np.ndarray, finished: np.ndarray, weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Sums behind nominal Krippendorff's alpha for 0/1 data with missing coders.

    ``applied[u, k]``: coders who applied code k to unit u; ``finished[u]``: coders who
    finished unit u. Units finished by fewer than two coders are not pairable. Units are
    taken in groups with the same number of coders, so each group's terms are a table.
    """
    shape = (*(() if weights is None else weights.shape[:-1]), applied.shape[1])
    sums = {"o01": np.zeros(shape), "n1": np.zeros(shape), "n0": np.zeros(shape)}
    for m in np.unique(finished[finished >= 2]).tolist():
        rows = finished == m
        group, w = applied[rows], None if weights is None else weights[..., rows]
        _add_alpha_group(sums, _sums_of(group, w, *_alpha_tables(m)))
    return sums


def alpha_parts_from_counts(groups: list[tuple[int, np.ndarray]], n_codes: int) -> dict[str, np.ndarray]:
    """``alpha_parts`` from ``(m, counts)`` per number m >= 2 of coders who finished a unit, ascending.

    ``counts[v, k]``: units finished by m coders where v of them applied code k (v = 0 .. m).
    """
    sums = {"o01": np.zeros(n_codes), "n1": np.zeros(n_codes), "n0": np.zeros(n_codes)}
    for m, counts in groups:
        _add_alpha_group(sums, [table @ counts for table in _alpha_tables(m)])
    return sums


def _alpha_tables(m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per number of the m coders applying a code: disagreeing pairs (counted once), ones, zeros."""
    ones = np.arange(m + 1, dtype=np.float64)
    zeros = m - ones
    return ones * zeros / (m - 1), ones, zeros


def _add_alpha_group(sums: dict[str, np.ndarray], parts: list[np.ndarray]) -> None:
    disagreeing, n1, n0 = parts
    sums["o01"] += disagreeing
    sums["n1"] += n1
    sums["n0"] += n0


def alpha_from_parts(o01: np.ndarray, n0: np.ndarray, n1: np.ndarray) -> np.ndarray:
    """alpha = 1 - (n - 1) o_01 / (n_0 n_1) (nominal, two values); NaN without variation."""
    n = n0 + n1
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n0 * n1 > 0, 1 - (n - 1) * o01 / (n0 * n1), np.nan)


def kappas(parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Fleiss, AC1 and Brennan-Prediger from ``multi_parts``."""
    return {name: kappa_from_parts(parts["p_o"], parts[name]) for name in ("fleiss", "ac1", "bp")}
