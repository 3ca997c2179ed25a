"""Rounds: round 1 covers everything; the lead opens later rounds for chosen transcripts."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from ..errors import QualcodeError
from ..store import audit
from ..store.models import Round, RoundTranscript, Transcript
from .blinding import require_lead


def current_round(session: Session, transcript_id: int) -> int:
    """The round in which coders now code ``transcript_id`` (the latest opened for it)."""
    latest = session.exec(
        select(func.max(RoundTranscript.round)).where(RoundTranscript.transcript_id == transcript_id)
    ).one()
    return int(latest or 1)


def current_rounds(session: Session) -> dict[int, int]:
    """``{transcript_id: round}`` for every transcript sent beyond round 1."""
    rows = session.exec(
        select(RoundTranscript.transcript_id, func.max(RoundTranscript.round)).group_by(
            col(RoundTranscript.transcript_id)
        )
    ).all()
    return {int(t): int(r) for t, r in rows}


def open_round(
    session: Session, lead: str, transcript_ids: list[int], note: str = "", number: int | None = None
) -> int:
    """Send ``transcript_ids`` to a new round (one past each transcript's current round by default).

    Coders then recode those transcripts blind: their new codings carry the new round and the
    screens show them a clean transcript. Earlier rounds are kept untouched.
    """
    require_lead(session, lead, "opening a round")
    if not transcript_ids:
        raise QualcodeError("name at least one transcript for the new round")
    for tid in transcript_ids:
        if session.get(Transcript, tid) is None:
            raise QualcodeError(f"unknown transcript id {tid}")
    current = {tid: current_round(session, tid) for tid in transcript_ids}
    if number is None:
        number = max(current.values()) + 1
    if number < 2:
        raise QualcodeError("round 1 is open for every transcript already")
    behind = [tid for tid, r in current.items() if r >= number]
    if behind:
        title = session.get_one(Transcript, behind[0]).title  # every id was checked above
        raise QualcodeError(f"{title!r} is in round {current[behind[0]]} already: a new round must come after it")
    round_row = session.exec(select(Round).where(Round.number == number)).first()
    if round_row is None:
        round_row = Round(number=number, opened_by=lead, note=note)
        session.add(round_row)
        session.flush()
        audit.record(session, lead, "round.open", round_row)
    elif note and note not in round_row.note:
        # More transcripts join an open round: keep every note the lead wrote for it.
        before = audit.row_dict(round_row)
        round_row.note = f"{round_row.note}; {note}" if round_row.note else note
        session.add(round_row)
        audit.record(session, lead, "round.note", round_row, before=before, after=audit.row_dict(round_row))
    for tid in transcript_ids:
        exists = session.exec(
            select(RoundTranscript).where(RoundTranscript.round == number, RoundTranscript.transcript_id == tid)
        ).first()
        if exists is None:
            link = RoundTranscript(round=number, transcript_id=tid)
            session.add(link)
            session.flush()
            audit.record(session, lead, "round.add_transcript", link)
    return number
