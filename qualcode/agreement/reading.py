"""Integer columns from the store into numpy, millions of rows at a time.

A database driver builds a Python object for every value it returns; for the
millions of codings of a large project that costs more than every statistic of the
report. So the database joins each group's values into one comma-separated string
(SQLite ``group_concat``, PostgreSQL ``string_agg``) and numpy parses the string in
C: a few Python objects per query instead of one per value. Two columns travel as
one integer (``packed``), which halves the text to parse and keeps them paired.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import BigInteger, Text, cast, func
from sqlmodel import Session, select

from ..store.ids import wide_select


def packed(high, low, base: int):
    """SQL ``high * base + low`` in 64 bits (``low`` must lie in 0 .. base - 1); undo with ``unpack``."""
    return cast(high, BigInteger) * base + low


def unpack(values: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    return values // base, values % base


def parse_ints(text: str | None) -> np.ndarray:
    """A comma-separated list of integers (None or "" for none) as an int64 array."""
    if not text:
        return np.empty(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


def joined(session: Session, value):
    """The SQL aggregate joining ``value`` over a group into one comma-separated string."""
    if session.get_bind().dialect.name == "sqlite":
        return func.group_concat(value, ",")
    return func.string_agg(cast(value, Text), ",")


def int_groups(session: Session, value, *keys, where: tuple | list = ()) -> list[tuple[Any, ...]]:
    """One tuple per group of ``keys``: the key values, then every ``value`` of the group as an int64 array.

    Without keys there is one group (possibly empty).
    """
    stmt = wide_select(*keys, joined(session, value)).where(*where)
    if keys:
        stmt = stmt.group_by(*keys)
    return [(*row[:-1], parse_ints(row[-1])) for row in session.exec(stmt).all()]


def max_id(session: Session, column) -> int:
    """The largest value of an integer key column (0 when the table is empty)."""
    return int(session.exec(select(func.max(column))).one() or 0)
