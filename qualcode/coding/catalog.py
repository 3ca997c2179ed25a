"""Overviews of a project's coding: how much it holds (as the viewer may see it) and the
rounds opened so far. Reads only; each takes a session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import Session, col, select

from ..errors import BlindingError
from ..store.models import Case, Codebook, Coder, Coding, Round, RoundTranscript, Segment, Speaker, Transcript
from .blinding import is_blinded, visible_coder_ids


class CodingsShown(StrEnum):
    """Whose codings a count covers."""

    ALL = "all"  # the project is not blinded
    EVERY_CODERS = "every coder's"  # blinded, but the viewer is a lead or an auditor
    OWN = "own"  # blinded: the viewer's own
    HIDDEN = "hidden"  # blinded and the viewer did not say who they are


@dataclass(frozen=True)
class ProjectCounts:
    cases: int
    transcripts: int
    segments: int
    speakers: int
    coders: int
    codebooks: int
    codings: int | None  # None when hidden
    codings_shown: CodingsShown


def _count(session: Session, model, *where) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def project_counts(session: Session, viewer: str | None) -> ProjectCounts:
    """Counts of everything in the project; codings only as far as ``viewer`` may see them."""
    if not is_blinded(session):
        codings, shown = _count(session, Coding), CodingsShown.ALL
    else:
        try:
            visible = visible_coder_ids(session, viewer)
        except BlindingError:
            codings, shown = None, CodingsShown.HIDDEN
        else:
            if visible is None:
                codings, shown = _count(session, Coding), CodingsShown.EVERY_CODERS
            else:
                codings, shown = _count(session, Coding, col(Coding.coder_id).in_(visible)), CodingsShown.OWN
    return ProjectCounts(
        cases=_count(session, Case),
        transcripts=_count(session, Transcript),
        segments=_count(session, Segment),
        speakers=_count(session, Speaker),
        coders=_count(session, Coder),
        codebooks=_count(session, Codebook),
        codings=codings,
        codings_shown=shown,
    )


@dataclass(frozen=True)
class RoundSummary:
    number: int
    opened_by: str
    opened_at: datetime | None
    note: str
    transcripts: list[str]  # CASE/TITLE (or TITLE without a case), by case and title


def list_rounds(session: Session) -> list[RoundSummary]:
    """The rounds the lead opened (round 1, which covers every transcript, is not stored)."""
    opened = session.exec(select(Round).order_by(col(Round.number))).all()
    links = session.exec(
        select(RoundTranscript.round, Transcript.title, Case.name)
        .join(Transcript, col(Transcript.id) == col(RoundTranscript.transcript_id))
        .outerjoin(Case, col(Case.id) == col(Transcript.case_id))
        .order_by(col(RoundTranscript.round), col(Case.name), col(Transcript.title))
    ).all()
    titles: dict[int, list[str]] = {}
    for number, title, case in links:
        titles.setdefault(number, []).append(f"{case}/{title}" if case else title)
    return [RoundSummary(r.number, r.opened_by, r.opened_at, r.note, titles.get(r.number, [])) for r in opened]
