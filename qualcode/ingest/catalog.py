"""What a project holds after import: cases, transcripts and speakers, listed and looked up,
and the lead's edits to speakers. Reads and writes take a session; the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from ..errors import InputError
from ..store import audit
from ..store.models import Case, CaseAttribute, Segment, Speaker, Transcript
from ..store.roles import require_lead_once_appointed


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
    counts = dict(session.exec(select(Transcript.case_id, func.count()).group_by(col(Transcript.case_id))).all())
    attributes = session.exec(select(CaseAttribute).order_by(col(CaseAttribute.name))).all()
    names = list(dict.fromkeys(a.name for a in attributes))
    values: dict[int, dict[str, str | float | None]] = {}
    for a in attributes:
        values.setdefault(a.case_id, {})[a.name] = a.number if a.type == "number" else a.value
    return CaseListing(
        names, [CaseSummary(c.name, counts.get(c.id, 0), values.get(c.id, {}) if c.id else {}) for c in cases]
    )


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


def _counts_by_transcript(model: type[Segment] | type[Speaker]):
    """A subquery: ``transcript_id`` and ``n``, the number of ``model`` rows in each transcript."""
    return select(model.transcript_id, func.count().label("n")).group_by(col(model.transcript_id)).subquery()


def list_transcripts(session: Session, case: str | None = None) -> list[TranscriptSummary]:
    """Transcripts by case and title, with their segment and speaker counts (``case``: that case's only)."""
    segments, speakers = _counts_by_transcript(Segment), _counts_by_transcript(Speaker)
    stmt = (
        select(Transcript, col(Case.name), segments.c.n, speakers.c.n)
        .options(defer(Transcript.text))  # type: ignore[arg-type]  # a listing needs no text
        .outerjoin(Case, col(Case.id) == col(Transcript.case_id))
        .outerjoin(segments, segments.c.transcript_id == col(Transcript.id))
        .outerjoin(speakers, speakers.c.transcript_id == col(Transcript.id))
        .order_by(col(Case.name), col(Transcript.title))
    )
    if case is not None:
        stmt = stmt.where(col(Case.name) == case)
    return [
        TranscriptSummary(
            t.id or 0, t.title, case_name, t.kind, t.date, t.source_name, t.unit, n_segments or 0, n_speakers or 0
        )
        for t, case_name, n_segments, n_speakers in session.exec(stmt).all()
    ]


def transcript_by_id_or_title(session: Session, ref: str, case: str | None = None) -> Transcript:
    """A transcript by id or title (``case`` settles a title used in two cases)."""
    stmt = select(Transcript)
    if ref.isdigit():
        stmt = stmt.where(Transcript.id == int(ref))
    else:
        stmt = stmt.where(Transcript.title == ref)
    if case:
        stmt = stmt.join(Case, col(Case.id) == col(Transcript.case_id)).where(Case.name == case)
    hits = session.exec(stmt).all()
    if not hits:
        raise InputError(f"no transcript {ref!r}" + (f" in case {case!r}" if case else ""))
    if len(hits) > 1:
        ids = ", ".join(str(t.id) for t in hits)
        raise InputError(f"{len(hits)} transcripts are titled {ref!r}: give --case or the id ({ids})")
    return hits[0]


def transcript_ids_by_title(session: Session, names: tuple[str, ...] | list[str]) -> list[int]:
    """Transcript ids for titles, or ``CASE/TITLE`` where a title repeats across cases."""
    ids: list[int] = []
    for name in names:
        case, _, title = name.rpartition("/")
        stmt = (
            select(col(Transcript.id), col(Case.name))
            .outerjoin(Case, col(Case.id) == col(Transcript.case_id))
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
        ids.append(rows[0][0] or 0)  # stored rows have ids
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
        .outerjoin(Speaker, col(Speaker.id) == col(Segment.speaker_id))
        .where(Segment.transcript_id == transcript.id)
        .order_by(col(Segment.position))
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
    return TranscriptContent(transcript.id or 0, transcript.title, text, segments)


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
    segments = (
        select(col(Segment.speaker_id).label("speaker_id"), func.count().label("n"))
        .group_by(col(Segment.speaker_id))
        .subquery()
    )
    stmt = (
        select(Speaker, col(Transcript.title), segments.c.n)
        .join(Transcript, col(Transcript.id) == col(Speaker.transcript_id))
        .outerjoin(segments, segments.c.speaker_id == col(Speaker.id))
        .order_by(col(Transcript.title), col(Speaker.label))
    )
    if transcript:
        stmt = stmt.where(col(Speaker.transcript_id) == transcript_by_id_or_title(session, transcript).id)
    return [
        SpeakerSummary(p.id or 0, title, p.label, p.role, p.pseudonym, n or 0)
        for p, title, n in session.exec(stmt).all()
    ]


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
    (id or title); audited as done by ``actor``, who must be the lead once the project has one."""
    require_lead_once_appointed(session, actor or None, "changing speakers' roles and pseudonyms")
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
