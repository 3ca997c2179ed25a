"""Segments in bulk: which transcript each belongs to, and where each stands with its speaker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from ..store.ids import wide_select
from ..store.models import Case, Segment, Speaker, Transcript

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


def segments_with_speakers() -> Any:
    """A select of each segment with where it stands and who speaks: segment id, transcript id,
    transcript title, case name, position, start, end, speaker label, pseudonym and role (the
    case and speaker may be missing). Callers add their own ``where`` and ordering."""
    return (
        wide_select(
            col(Segment.id),
            col(Segment.transcript_id),
            col(Transcript.title),
            col(Case.name),
            col(Segment.position),
            col(Segment.start),
            col(Segment.end),
            col(Speaker.label),
            col(Speaker.pseudonym),
            col(Speaker.role),
        )
        .join(Transcript, col(Transcript.id) == Segment.transcript_id)
        .outerjoin(Case, col(Case.id) == Transcript.case_id)
        .outerjoin(Speaker, col(Speaker.id) == Segment.speaker_id)
    )
