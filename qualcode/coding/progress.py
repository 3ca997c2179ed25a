"""The overview of everyone's progress: transcripts by case, with segments done per coder."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import col, select

from ..store.access import Access
from ..store.enums import CoderRole
from ..store.ids import wide_select
from ..store.models import Case, Coder, Segment, SegmentStatus, Transcript
from .blinding import find_coder, visible_coder_ids
from .rounds import current_rounds


@dataclass
class TranscriptProgress:
    transcript_id: int
    title: str
    case: str
    kind: str
    segments: int
    round: int
    done: dict[str, int] = field(default_factory=dict)  # coder name -> segments done (visible coders)


def progress_overview(project: Access, viewer: str) -> list[TranscriptProgress]:
    """Transcripts grouped by case with segments done per coder, as ``viewer`` may see them."""
    with project.read() as s:
        visible = visible_coder_ids(s, viewer)
        me = find_coder(s, viewer)
        rounds = current_rounds(s)
        rows = s.exec(
            wide_select(
                col(Transcript.id),
                col(Transcript.title),
                col(Case.name),
                col(Transcript.kind),
                func.count(col(Segment.id)),
            )
            .outerjoin(Case, col(Case.id) == Transcript.case_id)
            .outerjoin(Segment, col(Segment.transcript_id) == Transcript.id)
            .group_by(col(Transcript.id), col(Transcript.title), col(Case.name), col(Transcript.kind))
            .order_by(col(Case.name), col(Transcript.title))
        ).all()
        done_rows = s.exec(
            select(Segment.transcript_id, SegmentStatus.coder_id, SegmentStatus.round, func.count())
            .join(Segment, col(Segment.id) == SegmentStatus.segment_id)
            .group_by(col(Segment.transcript_id), col(SegmentStatus.coder_id), col(SegmentStatus.round))
        ).all()
        has_coded = {cid for _, cid, _, _ in done_rows}
        # Coders always have a column; a lead or auditor only once they have coded something.
        coders = {c.id: c.name for c in s.exec(select(Coder)) if c.role == CoderRole.CODER or c.id in has_coded}
        if visible is not None:
            coders = {me.id: me.name}
    out = [
        TranscriptProgress(tid, title, case or "(no case)", kind, n, rounds.get(tid, 1))
        for tid, title, case, kind, n in rows
    ]
    by_id = {p.transcript_id: p for p in out}
    for p in out:
        p.done = {name: 0 for name in coders.values()}
    for tid, cid, rnd, n in done_rows:
        progress = by_id.get(tid)
        if progress is not None and cid in coders and rnd == progress.round:
            progress.done[coders[cid]] = n
    return out
