"""What a project holds after import: cases, transcripts and speakers, listed and looked up,
and the lead's edits to speakers. Reads and writes take a session; the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, select

from ..errors import InputError
from ..store import audit
from ..store.models import Case, CaseAttribute, Segment, Speaker, Transcript


# -- cases --------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseSummary:
    name: str
    transcripts: int
    attributes: dict[str, str | float | None] = field(default_factory=dict)  # numbers as numbers


@dataclass(frozen=True)
class CaseListing:
    attribute_names: list[str]  # in name order, each once
    cases: list[CaseSummary]


def list_cases(session: Session) -> CaseListing:
    """Every case by name, with its transcript count and attribute values."""
    cases = session.exec(select(Case).order_by(Case.name)).all()
    counts = dict(session.exec(select(Transcript.case_id, func.count()).group_by(Transcript.case_id)).all())
    attributes = session.exec(select(CaseAttribute).order_by(CaseAttribute.name)).all()
    names = list(dict.fromkeys(a.name for a in attributes))
    values: dict[int, dict[str, str | float | None]] = {}
    for a in attributes:
        values.setdefault(a.case_id, {})[a.name] = a.number if a.type == "number" else a.value
    return CaseListing(names, [CaseSummary(c.name, counts.get(c.id, 0), values.get(c.id, {})) for c in cases])


# -- transcripts --------------------------------------------------------------------------
@dataclass(frozen=True)
class TranscriptSummary:
    id: int
    title: str
    case: str | None
    kind: str
    date: str | None
    source_name: str
    unit: str
    segments: int
    speakers: int


def list_transcripts(session: Session, case: str | None = None) -> list[TranscriptSummary]:
    """Transcripts by case and title, with their segment and speaker counts (``case``: that case's only)."""
    segment_counts = select(Segment.transcript_id, func.count().label("n")).group_by(Segment.transcript_id).subquery()
    speaker_counts = select(Speaker.transcript_id, func.count().label("n")).group_by(Speaker.transcript_id).subquery()
    stmt = (
        select(
            Transcript.id,
            Transcript.title,
            Case.name,
            Transcript.kind,
            Transcript.date,
            Transcript.source_name,
            Transcript.unit,
            segment_counts.c.n,
            speaker_counts.c.n,
        )
        .outerjoin(Case, Case.id == Transcript.case_id)
        .outerjoin(segment_counts, segment_counts.c.transcript_id == Transcript.id)
        .outerjoin(speaker_counts, speaker_counts.c.transcript_id == Transcript.id)
        .order_by(Case.name, Transcript.title)
    )
    if case is not None:
        stmt = stmt.where(Case.name == case)
    return [
        TranscriptSummary(tid, title, case_name, kind, date, source, unit, segments or 0, speakers or 0)
        for tid, title, case_name, kind, date, source, unit, segments, speakers in session.exec(stmt).all()
    ]


def transcript_by_id_or_title(session: Session, ref: str, case: str | None = None) -> Transcript:
    """A transcript by id or title (``case`` settles a title used in two cases)."""
    stmt = select(Transcript)
    if ref.isdigit():
        stmt = stmt.where(Transcript.id == int(ref))
    else:
        stmt = stmt.where(Transcript.title == ref)
    if case:
        stmt = stmt.join(Case, Case.id == Transcript.case_id).where(Case.name == case)
    hits = session.exec(stmt).all()
    if not hits:
        raise InputError(f"no transcript {ref!r}" + (f" in case {case!r}" if case else ""))
    if len(hits) > 1:
        ids = ", ".join(str(t.id) for t in hits)
        raise InputError(f"{len(hits)} transcripts are titled {ref!r}: give --case or the id ({ids})")
    return hits[0]


def transcript_ids_by_title(session: Session, names: tuple[str, ...] | list[str]) -> list[int]:
    """Transcript ids for titles, or ``CASE/TITLE`` where a title repeats across cases."""
    ids = []
    for name in names:
        case, _, title = name.rpartition("/")
        stmt = (
            select(Transcript.id, Case.name)
            .outerjoin(Case, Case.id == Transcript.case_id)
            .where(Transcript.title == title.strip())
        )
        if case:
            stmt = stmt.where(Case.name == case.strip())
        rows = session.exec(stmt).all()
        if not rows:
            raise InputError(f"unknown transcript {name!r} (see `qualcode transcripts`)")
        if len(rows) > 1:
            cases = ", ".join(sorted(c or "" for _, c in rows))
            raise InputError(f"transcript title {name!r} is in several cases ({cases}): write CASE/TITLE")
        ids.append(rows[0][0])
    return ids


@dataclass(frozen=True)
class SegmentLine:
    position: int
    speaker: str | None
    role: str | None
    start: int
    end: int
    time_start: float | None
    text: str


@dataclass(frozen=True)
class TranscriptContent:
    id: int
    title: str
    text: str
    segments: list[SegmentLine]


def transcript_content(session: Session, ref: str, case: str | None = None) -> TranscriptContent:
    """A transcript (by id or title) with its stored text and its segments in order."""
    transcript = transcript_by_id_or_title(session, ref, case)
    rows = session.exec(
        select(Segment, Speaker)
        .outerjoin(Speaker, Speaker.id == Segment.speaker_id)
        .where(Segment.transcript_id == transcript.id)
        .order_by(Segment.position)
    ).all()
    text = transcript.text
    segments = [
        SegmentLine(
            seg.position,
            spk.label if spk else None,
            spk.role if spk else None,
            seg.start,
            seg.end,
            seg.time_start,
            text[seg.start : seg.end],
        )
        for seg, spk in rows
    ]
    return TranscriptContent(transcript.id, transcript.title, text, segments)


# -- speakers -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SpeakerSummary:
    id: int
    transcript: str
    label: str
    role: str
    pseudonym: str | None
    segments: int


def list_speakers(session: Session, transcript: str | None = None) -> list[SpeakerSummary]:
    """Speakers by transcript title and label, with their segment counts (``transcript``: id or title)."""
    stmt = (
        select(Speaker.id, Transcript.title, Speaker.label, Speaker.role, Speaker.pseudonym, func.count(Segment.id))
        .join(Transcript, Transcript.id == Speaker.transcript_id)
        .outerjoin(Segment, Segment.speaker_id == Speaker.id)
        .group_by(Speaker.id, Transcript.title, Speaker.label, Speaker.role, Speaker.pseudonym)
        .order_by(Transcript.title, Speaker.label)
    )
    if transcript:
        stmt = stmt.where(Speaker.transcript_id == transcript_by_id_or_title(session, transcript).id)
    return [SpeakerSummary(*row) for row in session.exec(stmt).all()]


@dataclass(frozen=True)
class SpeakerChange:
    transcript: str
    label: str
    role: str
    pseudonym: str | None


def set_speaker(
    session: Session,
    transcript: str,
    label: str,
    *,
    role: str | None = None,
    pseudonym: str | None = None,
    case: str | None = None,
    actor: str = "",
) -> SpeakerChange:
    """Set the role and/or pseudonym (blank clears it) of speaker ``label`` in ``transcript``
    (id or title); audited as done by ``actor``."""
    if role is None and pseudonym is None:
        raise InputError("nothing to set: give --role and/or --pseudonym")
    row = transcript_by_id_or_title(session, transcript, case)
    speaker = session.exec(select(Speaker).where(Speaker.transcript_id == row.id, Speaker.label == label)).first()
    if speaker is None:
        labels = session.exec(select(Speaker.label).where(Speaker.transcript_id == row.id)).all()
        raise InputError(f"no speaker {label!r} in {row.title!r} (speakers: {', '.join(labels)})")
    before = audit.row_dict(speaker)
    if role is not None:
        speaker.role = role
    if pseudonym is not None:
        speaker.pseudonym = pseudonym.strip() or None
    session.add(speaker)
    session.flush()
    audit.record(session, actor, "speaker.set", speaker, before=before, after=audit.row_dict(speaker))
    return SpeakerChange(row.title, label, speaker.role, speaker.pseudonym)
