"""Which transcript each segment belongs to, for many segments at once."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from ..store.models import Segment

IN_LIST_LIMIT = 500  # ids per IN list: short enough for every engine


def transcripts_of(session: Session, segment_ids: Sequence[int]) -> dict[int, int]:
    """Segment id -> its transcript's id, read in chunks of ``IN_LIST_LIMIT`` ids."""
    found: dict[int, int] = {}
    ids = list(segment_ids)
    for start in range(0, len(ids), IN_LIST_LIMIT):
        chunk = ids[start : start + IN_LIST_LIMIT]
        for segment_id, transcript_id in session.exec(
            select(Segment.id, Segment.transcript_id).where(col(Segment.id).in_(chunk))
        ):
            if segment_id is not None:
                found[segment_id] = transcript_id
    return found
