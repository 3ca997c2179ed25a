"""Project-wide settings the lead chooses, kept in ``qc_meta`` so every coder's process honours them."""

from __future__ import annotations

from sqlmodel import Session

from ..errors import InputError
from ..store import audit
from ..store.enums import Durability
from ..store.models import Meta
from .blinding import require_lead


def durability(session: Session) -> Durability:
    row = session.get(Meta, "durability")
    return Durability(row.value) if row is not None and row.value in set(Durability) else Durability.NORMAL


def set_durability(session: Session, lead: str, value: str) -> tuple[Durability, Durability]:
    """Lead: set what a committed write survives on SQLite; audited. Returns (before, after).

    Processes open at the time keep their connections' setting until they reopen the project.
    """
    require_lead(session, lead, "changing durability")
    try:
        wanted = Durability(value)
    except ValueError:
        raise InputError(f"durability {value!r}: choose {' or '.join(d.value for d in Durability)}") from None
    before = durability(session)
    row = session.get(Meta, "durability")
    if row is None:
        row = Meta(key="durability", value=wanted.value)
        session.add(row)
    row.value = wanted.value
    audit.record(
        session,
        lead,
        "project.durability",
        entity="qc_meta",
        before={"durability": before},
        after={"durability": wanted},
    )
    return before, wanted
