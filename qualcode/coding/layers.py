"""Which codings make up a layer: the one definition every display and statistic reads.

The consensus layer is the ``ConsensusDecision`` rows with ``present = True``. A coder's
layer is their codings in, per transcript, the latest round in which they coded it or
marked a segment of it done (or in one chosen round). Callers add their own joins to the
returned selectable; blinding is the caller's business (``visible_coder_ids``).
"""

from __future__ import annotations

from sqlalchemy import Select, and_, func, select, union_all

from ..store.models import Code, Coding, ConsensusDecision, Segment, SegmentStatus

LAYER_COLUMNS = ("segment_id", "code_id", "quote_start", "quote_end")


def latest_rounds(coder_id: int):
    """(transcript_id, round): per transcript, the latest round the coder coded or marked done."""
    worked = union_all(
        select(Segment.transcript_id.label("transcript_id"), Coding.round.label("round"))
        .join(Segment, Segment.id == Coding.segment_id).where(Coding.coder_id == coder_id),
        select(Segment.transcript_id.label("transcript_id"), SegmentStatus.round.label("round"))
        .join(Segment, Segment.id == SegmentStatus.segment_id).where(SegmentStatus.coder_id == coder_id),
    ).subquery("worked")
    return (select(worked.c.transcript_id, func.max(worked.c.round).label("round"))
            .group_by(worked.c.transcript_id).subquery("latest"))


def layer_select(coder_id: int | None = None, *, round: int | None = None, codebook_id: int | None = None) -> Select:
    """The codings of a layer, as columns segment_id, code_id, quote_start, quote_end.

    ``coder_id`` None is the consensus layer (``round`` does not apply to it). For a coder,
    ``round`` picks that round in every transcript instead of the latest. ``codebook_id``
    keeps the codes of one codebook (a semi-join, which lets the engine scan the codings
    once instead of walking them code by code).
    """
    if coder_id is None:
        table = ConsensusDecision
        stmt = select(table.segment_id, table.code_id, table.quote_start, table.quote_end).where(
            table.present == True)  # noqa: E712
    else:
        table = Coding
        stmt = select(table.segment_id, table.code_id, table.quote_start, table.quote_end).where(
            table.coder_id == coder_id)
        if round is not None:
            stmt = stmt.where(table.round == round)
        else:
            latest = latest_rounds(coder_id)
            stmt = (stmt.join(Segment, Segment.id == table.segment_id)
                    .join(latest, and_(latest.c.transcript_id == Segment.transcript_id, latest.c.round == table.round)))
    if codebook_id is not None:
        stmt = stmt.where(table.code_id.in_(select(Code.id).where(Code.codebook_id == codebook_id)))
    return stmt
