"""Blinding: a coder sees only their own codings until the lead analyst unblinds.

Every reader of codings, memos and core ideas (TUI, CLI, exports, notebooks) asks
``visible_coder_ids`` which coders' work the viewer may see.
"""

from __future__ import annotations

from sqlmodel import Session

from ..errors import BlindingError
from ..store import audit
from ..store.ids import require_id
from ..store.models import Meta
from ..store.roles import find_coder, lead_appointed, require_lead, require_lead_once_appointed

SEE_ALL_ROLES = ("lead", "auditor")
# Who leads lives in ``store.roles`` (so ingest can ask it too); re-exported here, where callers look.
__all__ = ["find_coder", "lead_appointed", "require_lead", "require_lead_once_appointed"]


def is_blinded(session: Session) -> bool:
    row = session.get(Meta, "blinded")
    return row is None or row.value != "0"


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
