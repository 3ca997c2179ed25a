"""Blinding: a coder sees only their own codings until the lead analyst unblinds.

Every reader of codings, memos and core ideas (TUI, CLI, exports, notebooks) asks
``visible_coder_ids`` which coders' work the viewer may see.
"""

from __future__ import annotations

from sqlmodel import Session, select

from ..errors import BlindingError, QualcodeError
from ..store import audit
from ..store.ids import require_id
from ..store.models import Coder, Meta

SEE_ALL_ROLES = ("lead", "auditor")


def is_blinded(session: Session) -> bool:
    row = session.get(Meta, "blinded")
    return row is None or row.value != "0"


def find_coder(session: Session, name: str) -> Coder:
    coder = session.exec(select(Coder).where(Coder.name == name)).first()
    if coder is None:
        raise QualcodeError(f"unknown coder {name!r} (add one with `qualcode coders add {name}`)")
    return coder


def visible_coder_ids(session: Session, viewer: str | None) -> set[int] | None:
    """The coder ids whose work ``viewer`` may see; ``None`` means everyone's."""
    if not is_blinded(session):
        return None
    if viewer is None:
        raise BlindingError("the project is blinded: say who you are with --as NAME (a lead sees every coder)")
    coder = find_coder(session, viewer)
    if coder.role in SEE_ALL_ROLES:
        return None
    return {require_id(coder)}


def require_lead(session: Session, viewer: str | None, what: str) -> Coder:
    """Only the lead analyst may ``what``; returns the lead's row."""
    if viewer is None:
        raise BlindingError(f"{what} is for the lead analyst: say who you are with --as NAME")
    coder = find_coder(session, viewer)
    if coder.role != "lead":
        raise BlindingError(f"{what} is for the lead analyst; {viewer} is a {coder.role}")
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


def may_see_all(session: Session, viewer: str | None) -> bool:
    """True when ``viewer`` may see every coder's work (unblinded, or a lead/auditor)."""
    try:
        return visible_coder_ids(session, viewer) is None
    except BlindingError:
        return False


def require_reader(session: Session, viewer: str | None) -> None:
    """Agreement, queues and the consensus reveal every coder's work: lead or auditor only while blinded."""
    if not may_see_all(session, viewer):
        raise BlindingError(
            "agreement shows every coder's work: only the lead or an auditor may see it while the project is blinded "
            "(use --as NAME)"
        )


def set_blinded(session: Session, lead: str, blinded: bool) -> None:
    """Unblind (or re-blind) for everyone: an explicit lead action, audited."""
    require_lead(session, lead, "unblinding" if not blinded else "blinding")
    row = session.get(Meta, "blinded")
    before = {"blinded": row.value if row else "1"}
    if row is None:
        row = Meta(key="blinded", value="1")
        session.add(row)
    row.value = "1" if blinded else "0"
    audit.record(
        session,
        lead,
        "project.blind" if blinded else "project.unblind",
        entity="qc_meta",
        before=before,
        after={"blinded": row.value},
    )
