"""Who may do what: the coder rows behind a name, and the lead analyst's exclusive changes.

Below ``ingest`` and ``coding`` in the layers, so every core function that changes shared material
(transcripts, speakers, case attributes, the codebook, the team) checks the lead itself, whoever
calls it: the CLI, the workbench or a notebook.
"""

from __future__ import annotations

from sqlmodel import Session, select

from ..errors import BlindingError, QualcodeError
from .models import Coder


def find_coder(session: Session, name: str) -> Coder:
    coder = session.exec(select(Coder).where(Coder.name == name)).first()
    if coder is None:
        raise QualcodeError(f"unknown coder {name!r} (add one with `qualcode coders add {name}`)")
    return coder


def require_lead(session: Session, viewer: str | None, what: str) -> Coder:
    """Only the lead analyst may ``what``; returns the lead's row."""
    if viewer is None:
        raise BlindingError(f"{what} is for the lead analyst: say who you are with --as NAME")
    coder = find_coder(session, viewer)
    if coder.role != "lead":
        article = "an" if coder.role[:1] in "aeiou" else "a"
        raise BlindingError(f"{what} is for the lead analyst; {viewer} is {article} {coder.role}")
    return coder


def lead_appointed(session: Session) -> bool:
    """True when some coder has the role "lead"."""
    return session.exec(select(Coder.id).where(Coder.role == "lead").limit(1)).first() is not None


def require_lead_once_appointed(session: Session, viewer: str | None, what: str) -> str:
    """Managing the codebook or the team: the lead's job once the project has a lead.

    A project with no lead yet (a fresh setup, a script) stays open, so setting up needs no
    identity. Returns the actor to record; raises ``BlindingError`` for anyone but the lead.
    """
    if lead_appointed(session):
        require_lead(session, viewer, what)
    return viewer or ""
