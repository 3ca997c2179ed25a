"""Changes that must not interleave: the codebook and the team.

Two leads' processes changing the codebook (or adding coders) at once could both pass a check
("no code of that name yet") and then collide on a unique index, or both bump the codebook's
version from the same value. On SQLite every write transaction starts with ``BEGIN IMMEDIATE``,
which already serializes them. On PostgreSQL each such change first takes a transaction-scoped
advisory lock, so the second waits for the first to commit and then sees its rows.
"""

from __future__ import annotations

from enum import IntEnum

from sqlalchemy import text
from sqlmodel import Session


class Serialized(IntEnum):
    """One advisory-lock key per kind of change (arbitrary, fixed numbers)."""

    CODEBOOK = 0x71C0_0001
    TEAM = 0x71C0_0002


def serialize(session: Session, what: Serialized) -> None:
    """Wait until no other transaction is making a change of kind ``what``; held until commit."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=int(what)))  # type: ignore[call-overload]
