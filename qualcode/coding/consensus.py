"""Writing the consensus layer: one audited decision row per (segment, code).

The consensus layer is the ``ConsensusDecision`` rows with ``present = True``; coders' own
codings are never changed. A decision on a (segment, code) overwrites an earlier one. The
lead's reconciliation (queue, decide, accept agreed) is ``qualcode.agreement``'s; this is
the one write both it and the codings import use.
"""

from __future__ import annotations

from sqlmodel import Session, select

from ..store import audit
from ..store.models import ConsensusDecision, utcnow


def write_decision(
    session: Session,
    actor: str,
    segment_id: int,
    code_id: int,
    present: bool,
    method: str,
    round: int,
    quote: tuple[int | None, int | None] = (None, None),
) -> ConsensusDecision:
    """Set (or overwrite) the decision on one (segment, code), audited in the session's transaction."""
    row = session.exec(
        select(ConsensusDecision).where(
            ConsensusDecision.segment_id == segment_id, ConsensusDecision.code_id == code_id
        )
    ).first()
    before = audit.row_dict(row)
    if row is None:
        row = ConsensusDecision(segment_id=segment_id, code_id=code_id)
        session.add(row)
    row.present, row.method, row.round, row.decided_by, row.decided_at = present, method, round, actor, utcnow()
    row.quote_start, row.quote_end = quote
    session.flush()
    audit.record(session, actor, "consensus.decide", row, before=before, after=audit.row_dict(row))
    return row
