"""Reads the user interfaces ask of the codebooks: their names, which one a table starts with,
and the active codebook's codes.

Each takes the project (anything with ``read()``: ``qualcode.store.access.Access``) and opens
its own read session; results are plain values or frozen dataclasses. The ``*_in`` functions take
a session instead, for queries of higher packages that read several things in one session.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from ..store.access import Access
from ..store.enums import CodebookKind, CodeStatus
from ..store.models import Code, Codebook
from .lookup import code_paths


@dataclass(frozen=True)
class CodeSummary:
    """One code as a list shows it: its key, its path in the tree and a line about it."""

    id: int
    key: str | None
    path: str
    brief: str  # the brief, else the definition


def codebook_names_in(session: Session) -> list[str]:
    """Every codebook, oldest first (for a query that already holds a session)."""
    return list(session.exec(select(Codebook.name).order_by(col(Codebook.id))))


def default_codebook_in(session: Session) -> str | None:
    """A CQR codebook if the project has one (the active one first), else the active codebook."""
    books = list(session.exec(select(Codebook).order_by(col(Codebook.active).desc(), col(Codebook.id))))
    cqr = [b for b in books if b.kind == CodebookKind.CQR]
    return (cqr or books)[0].name if books else None


def codebook_of_code(project: Access, code_id: int) -> str | None:
    """The name of the codebook ``code_id`` belongs to (None for an unknown code)."""
    with project.read() as s:
        return s.exec(
            select(Codebook.name).join(Code, col(Code.codebook_id) == Codebook.id).where(Code.id == code_id)
        ).first()


def active_codes(project: Access) -> list[CodeSummary]:
    """The active codebook's codes in use (none without an active codebook)."""
    with project.read() as s:
        codebook = s.exec(select(Codebook).where(col(Codebook.active).is_(True))).first()
        if codebook is None:
            return []
        codes = list(
            s.exec(
                select(Code)
                .where(Code.codebook_id == codebook.id, Code.status == CodeStatus.ACTIVE)
                .order_by(col(Code.id))
            )
        )
    paths = code_paths(codes)
    return [
        CodeSummary(code_id, c.key, paths[code_id], c.brief or c.definition)
        for c in codes
        if (code_id := c.id) is not None
    ]  # read back, so every code has its id
