"""Vectorised building blocks of the synthesis counts: codings as id arrays, id maps, distinct counts."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

NO_ID = 0  # stands for a missing speaker or case in the id arrays (database ids start at 1)
DENSE_IDS = 1 << 22  # ids below this are looked up in a table (32 MB) instead of by binary search


@dataclass
class Codings:
    """One row per coding of a layer (by the schema's unique keys), as parallel int64 arrays.

    ``speaker_id`` and ``case_id`` hold ``NO_ID`` where the segment has no speaker or
    the transcript no case.
    """

    segment_id: np.ndarray
    code_id: np.ndarray
    transcript_id: np.ndarray
    speaker_id: np.ndarray
    case_id: np.ndarray

    def __len__(self) -> int:
        return len(self.segment_id)

    def take(self, index: np.ndarray) -> Codings:
        return Codings(*(getattr(self, f.name)[index] for f in fields(self)))


class IdMap:
    """A vectorised dict from ids to ints: ``lookup`` gives ``missing`` for unknown ids.

    A key may repeat with the same value (say, a segment id once per coding of the segment).
    """

    def __init__(self, keys, values, missing: int = NO_ID):
        keys, values = np.asarray(keys, dtype=np.int64), np.asarray(values, dtype=np.int64)
        self.missing = missing
        self.table = None
        if len(keys) == 0 or (keys.min() >= 0 and keys.max() < DENSE_IDS):
            # Ids are small: index a table (its last slot answers every unknown id).
            self.table = np.full(int(keys.max(initial=-1)) + 2, missing, dtype=np.int64)
            self.table[keys] = values
        else:
            order = np.argsort(keys)
            self.keys, self.values = keys[order], values[order]

    @classmethod
    def of(cls, pairs, missing: int = NO_ID) -> IdMap:
        """From (key, value) pairs; a value of None maps to ``missing``."""
        pairs = [(k, missing if v is None else v) for k, v in pairs]
        return cls([k for k, _ in pairs], [v for _, v in pairs], missing)

    def lookup(self, ids: np.ndarray) -> np.ndarray:
        if self.table is not None:
            unknown = len(self.table) - 1
            return self.table[np.where((ids >= 0) & (ids < unknown), ids, unknown)]
        at = np.minimum(np.searchsorted(self.keys, ids), len(self.keys) - 1)
        return np.where(self.keys[at] == ids, self.values[at], self.missing)


def _run_starts(ordered: np.ndarray) -> np.ndarray:
    """A mask of the sorted values that differ from the one before (the first of each run of equal values)."""
    starts = np.ones(len(ordered), dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    return starts


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` by sort and mask: numpy 2.4's ``np.unique`` hashes, 30 to 60 times slower on millions."""
    ordered = np.sort(values)
    return ordered[_run_starts(ordered)]


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` by sort and mask: the distinct values and each value's index."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = _run_starts(ordered)
    inverse = np.empty(len(values), dtype=np.intp)
    inverse[order] = np.cumsum(starts) - 1
    return ordered[starts], inverse


def unique_pairs(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (first, second) pairs of non-negative ints, sorted by first, then second."""
    width = int(second.max(initial=0)) + 1
    keys = sorted_unique(first * width + second)
    return keys // width, keys % width


def count_pairs(first: np.ndarray, second: np.ndarray, n_first: int, n_second: int) -> np.ndarray:
    """An n_first x n_second matrix counting each (first, second) pair; pairs with a negative are skipped."""
    keep = (first >= 0) & (second >= 0)
    counts = np.bincount(first[keep] * n_second + second[keep], minlength=n_first * n_second)
    return counts.reshape(n_first, n_second)


def distinct_per_group(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """How many distinct ``values`` each group in 0..n_groups-1 has; negative values are skipped."""
    keep = values >= 0
    return np.bincount(unique_pairs(groups[keep], values[keep])[0], minlength=n_groups)
