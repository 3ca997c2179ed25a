"""Reads the user interfaces ask of the coding package: who is looking and what they may see.

Each takes the project (anything with ``read()``: ``qualcode.store.access.Access``) and opens
its own read session, so a caller never holds a session; results are frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from ..store.access import Access
from ..store.enums import ANALYST_ROLES, CoderRole
from ..store.models import Codebook, Coder, Transcript
from .blinding import find_coder, is_blinded, may_see_all
from .identity import check_identity


@dataclass(frozen=True)
class Viewer:
    """The person at the screen: their role, whether the project is blinded, and whether they
    may see every coder's work (unblinded, or a lead or auditor)."""

    name: str
    role: str
    blinded: bool
    sees_all: bool

    @property
    def is_lead(self) -> bool:
        return self.role == CoderRole.LEAD

    @property
    def is_analyst(self) -> bool:
        """A lead or an auditor: may open the lead's screens."""
        return self.role in ANALYST_ROLES


def look_up_viewer(project: Access, name: str) -> Viewer:
    """``name``'s standing; an unknown name raises ``QualcodeError``."""
    with project.read() as s:
        role = find_coder(s, name).role
        return Viewer(name, role, is_blinded(s), may_see_all(s, name))


def claim_viewer(project: Access, name: str) -> Viewer:
    """``name``'s standing for a session that acts as them: an unknown name, or a coder bound to
    another login, raises ``QualcodeError``."""
    with project.read() as s:
        role = find_coder(s, name).role
        check_identity(s, name)
        return Viewer(name, role, is_blinded(s), may_see_all(s, name))


def coder_names_in(session: Session) -> list[str]:
    """The coders (not leads or auditors), by name (for a query that already holds a session)."""
    return list(session.exec(select(Coder.name).where(Coder.role == CoderRole.CODER).order_by(col(Coder.name))))


def missing_for_analysis(project: Access) -> str | None:
    """What the project lacks before there is anything to code or analyse, said so the user can fix
    it (the command that does), or None when it has transcripts and an active codebook. The
    workbench shows this in place of a table that cannot be filled."""
    with project.read() as s:
        transcripts = s.exec(select(col(Transcript.id)).limit(1)).first() is not None
        active = list(s.exec(select(col(Codebook.active))))
    if not transcripts and not active:
        return "No transcripts or codebook yet: qualcode import FILE, then qualcode codebook load FILE"
    if not transcripts:
        return "No transcripts yet: qualcode import FILE"
    if not active:
        return "No codebook yet: qualcode codebook load FILE"
    if not any(active):
        return "No active codebook: qualcode codebook activate NAME (qualcode codebook list names them)"
    return None
