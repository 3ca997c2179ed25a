"""Removing a transcript, and re-importing one from its file (a better ``--speaker-pattern``, a
corrected file), with what hangs on its segments: codings and their quote spans, done marks,
memos, consensus decisions and exemplars.

Both refuse while coders' work hangs on the transcript's segments unless told to drop it
(``drop_codings``), and then say how much was dropped. Each is one transaction with one audit
event. Functions take an open session; the caller owns the transaction and checks the lead.

A re-import keeps the transcript's row (its id, title, case, kind, date, REFI guid, the rounds
that list it and the memos written on the transcript as a whole) and replaces its text, speakers
and segments. Speakers whose label comes back keep the role and pseudonym the lead gave them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from ..decoding import content_hash
from ..errors import InputError, located
from ..ingest.catalog import transcript_by_id_or_title
from ..ingest.importer import UNKNOWN_SPEAKER, default_role
from ..ingest.segmentation import UNITS, segment
from ..ingest.sources import Source, detect_format, read_sources
from ..ingest.speakers import compile_speaker_pattern
from ..store import audit
from ..store.models import (
    CodeProposal,
    Coding,
    ConsensusDecision,
    Exemplar,
    Memo,
    QuoteSpan,
    RoundTranscript,
    Segment,
    SegmentStatus,
    Speaker,
    Transcript,
)
from ..store.values import check_text


@dataclass(frozen=True)
class Attached:
    """What hangs on a transcript's segments (and, for a removal, on the transcript itself)."""

    codings: int = 0
    quote_spans: int = 0
    done_marks: int = 0
    memos: int = 0
    consensus: int = 0
    exemplars: int = 0
    proposals: int = 0  # code proposals made on its segments: kept, no longer tied to a segment

    @property
    def any_work(self) -> bool:
        return bool(self.codings or self.done_marks or self.memos or self.consensus or self.exemplars)

    def describe(self) -> str:
        """``3 codings, 2 done marks, 1 memo`` (codings, done marks and memos always named)."""
        parts = [
            _count(self.codings, "coding"),
            _count(self.done_marks, "done mark"),
            _count(self.memos, "memo"),
        ]
        parts += [
            _count(n, what) for n, what in ((self.consensus, "consensus decision"), (self.exemplars, "exemplar")) if n
        ]
        return ", ".join(parts)

    def as_dict(self) -> dict[str, int]:
        return {
            "codings": self.codings,
            "quote_spans": self.quote_spans,
            "done_marks": self.done_marks,
            "memos": self.memos,
            "consensus": self.consensus,
            "exemplars": self.exemplars,
            "proposals_detached": self.proposals,
        }


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Removal:
    id: int
    title: str
    segments: int
    speakers: int
    dropped: Attached


@dataclass(frozen=True)
class Reimport:
    id: int
    title: str
    source: str
    segments_before: int
    speakers_before: int
    segments: int
    speakers: int
    text_changed: bool
    dropped: Attached
    notes: list[str] = field(default_factory=list)


def _segment_ids(transcript_id: int):
    return select(Segment.id).where(Segment.transcript_id == transcript_id)


def _memo_filter(transcript_id: int, whole: bool):
    on_segments = col(Memo.segment_id).in_(_segment_ids(transcript_id))
    return or_(on_segments, col(Memo.transcript_id) == transcript_id) if whole else on_segments


def attached(session: Session, transcript_id: int, *, whole: bool) -> Attached:
    """Counts of what hangs on the transcript's segments; ``whole``: memos on the transcript too."""
    segments = _segment_ids(transcript_id)

    def count(model, column) -> int:
        return session.exec(select(func.count()).select_from(model).where(col(column).in_(segments))).one()

    codings = select(Coding.id).where(col(Coding.segment_id).in_(segments))
    return Attached(
        codings=count(Coding, Coding.segment_id),
        quote_spans=session.exec(
            select(func.count()).select_from(QuoteSpan).where(col(QuoteSpan.coding_id).in_(codings))
        ).one(),
        done_marks=count(SegmentStatus, SegmentStatus.segment_id),
        memos=session.exec(select(func.count()).select_from(Memo).where(_memo_filter(transcript_id, whole))).one(),
        consensus=count(ConsensusDecision, ConsensusDecision.segment_id),
        exemplars=count(Exemplar, Exemplar.segment_id),
        proposals=count(CodeProposal, CodeProposal.segment_id),
    )


def _refuse(title: str, found: Attached, doing: str) -> InputError:
    return InputError(
        f"{title!r} has {found.describe()} on its segments: {doing} would drop them; "
        "give --drop-codings to drop them (nothing was changed)"
    )


def _drop_segments(session: Session, transcript_id: int, *, whole: bool) -> None:
    """Delete the transcript's segments and speakers and everything on its segments."""
    segments = _segment_ids(transcript_id)
    codings = select(Coding.id).where(col(Coding.segment_id).in_(segments))
    session.execute(delete(QuoteSpan).where(col(QuoteSpan.coding_id).in_(codings)))
    for model, column in (
        (Coding, Coding.segment_id),
        (SegmentStatus, SegmentStatus.segment_id),
        (ConsensusDecision, ConsensusDecision.segment_id),
        (Exemplar, Exemplar.segment_id),
    ):
        session.execute(delete(model).where(col(column).in_(segments)))
    session.execute(delete(Memo).where(_memo_filter(transcript_id, whole)))
    session.execute(update(CodeProposal).where(col(CodeProposal.segment_id).in_(segments)).values(segment_id=None))
    session.execute(delete(Segment).where(col(Segment.transcript_id) == transcript_id))
    session.execute(delete(Speaker).where(col(Speaker.transcript_id) == transcript_id))


def _sizes(session: Session, transcript_id: int) -> tuple[int, int]:
    segments = session.exec(
        select(func.count()).select_from(Segment).where(Segment.transcript_id == transcript_id)
    ).one()
    speakers = session.exec(
        select(func.count()).select_from(Speaker).where(Speaker.transcript_id == transcript_id)
    ).one()
    return segments, speakers


def remove_transcript(
    session: Session, ref: str, *, case: str | None = None, drop_codings: bool = False, actor: str = ""
) -> Removal:
    """Delete transcript ``ref`` (id or title) with its speakers and segments; audited."""
    transcript = transcript_by_id_or_title(session, ref, case)
    tid = transcript.id or 0
    found = attached(session, tid, whole=True)
    if found.any_work and not drop_codings:
        raise _refuse(transcript.title, found, "removing it")
    segments, speakers = _sizes(session, tid)
    before = audit.row_dict(transcript)
    before.pop("text", None)  # the text is long; its hash says which text it was
    _drop_segments(session, tid, whole=True)
    session.execute(delete(RoundTranscript).where(col(RoundTranscript.transcript_id) == tid))
    session.delete(transcript)
    session.flush()
    audit.record(
        session,
        actor,
        "transcript.remove",
        entity="qc_transcript",
        entity_id=tid,
        before={**before, "segments": segments, "speakers": speakers},
        after={"dropped": found.as_dict()},
    )
    return Removal(tid, transcript.title, segments, speakers, found)


@dataclass
class ReimportOptions:
    speaker_pattern: str | None = None
    unit: str | None = None  # None: the unit the transcript was imported with
    format: str = "auto"
    encoding: str | None = None
    transcript: str | None = None  # id or title; None: found by the file's name
    case: str | None = None
    drop_codings: bool = False
    actor: str = ""


def read_for_reimport(path: Path, options: ReimportOptions) -> Source:
    """The file's one transcript, read before the project is touched (errors name the file)."""
    if options.unit is not None and options.unit not in UNITS:
        raise InputError(f"--unit must be one of {', '.join(UNITS)}")
    if not path.is_file():
        raise InputError(located(path, "no such file"))
    fmt = detect_format(path, options.format)
    if fmt == "qdpx":
        raise InputError(located(path, "a .qdpx project holds several sources: re-import one transcript file"))
    sources, _ = read_sources(path, fmt, compile_speaker_pattern(options.speaker_pattern), options.encoding)
    return sources[0]


def _target(session: Session, path: Path, options: ReimportOptions) -> Transcript:
    if options.transcript:
        return transcript_by_id_or_title(session, options.transcript, options.case)
    hits = session.exec(select(Transcript).where(Transcript.source_name == path.name)).all()
    if not hits:
        hits = session.exec(select(Transcript).where(Transcript.title == path.stem)).all()
    if options.case is not None:
        hits = [t for t in hits if t.case_id is not None and _case_name(session, t.case_id) == options.case]
    if not hits:
        raise InputError(
            located(path, "no transcript was imported from this file: name it with --transcript ID_OR_TITLE")
        )
    if len(hits) > 1:
        ids = ", ".join(f"{t.id} {t.title!r}" for t in hits)
        raise InputError(
            located(path, f"{len(hits)} transcripts came from a file of this name ({ids}): give --transcript")
        )
    return hits[0]


def _case_name(session: Session, case_id: int) -> str | None:
    from ..store.models import Case

    row = session.get(Case, case_id)
    return row.name if row else None


def reimport_transcript(session: Session, path: Path, source: Source, options: ReimportOptions) -> Reimport:
    """Replace the text, speakers and segments of the transcript ``path`` was imported as."""
    transcript = _target(session, path, options)
    tid = transcript.id or 0
    parsed = source.parsed
    check_text(parsed.text, "transcript text", path=path)
    digest = content_hash(parsed.text)
    twin = session.exec(
        select(Transcript.title).where(Transcript.content_hash == digest, col(Transcript.id) != tid)
    ).first()
    if twin is not None:
        raise InputError(located(path, f"this text is already imported as {twin!r}"))
    units = segment(parsed, options.unit or transcript.unit)
    labels = list(dict.fromkeys(u.speaker or UNKNOWN_SPEAKER for u in units))
    for label in labels:
        check_text(label, "speaker label", Speaker, "label", path=path)

    found = attached(session, tid, whole=False)
    if found.any_work and not options.drop_codings:
        raise _refuse(transcript.title, found, "re-importing it")
    segments_before, speakers_before = _sizes(session, tid)
    kept = {
        s.label: (s.role, s.pseudonym, dict(s.attributes))
        for s in session.exec(select(Speaker).where(Speaker.transcript_id == tid)).all()
    }
    before = {
        "kind": transcript.kind,
        "content_hash": transcript.content_hash,
        "source_name": transcript.source_name,
        "source_format": transcript.source_format,
        "unit": transcript.unit,
        "segments": segments_before,
        "speakers": speakers_before,
    }
    _drop_segments(session, tid, whole=False)
    session.flush()

    text_changed = digest != transcript.content_hash
    transcript.text = parsed.text
    transcript.content_hash = digest
    transcript.source_name = source.name
    transcript.source_format = parsed.format
    transcript.unit = units[0].unit if units else (options.unit or transcript.unit)
    notes = list(parsed.notes)
    if transcript.kind == "document" and parsed.has_speakers:
        # imported without speakers it became a document; with them found it reads as an interview
        transcript.kind = "interview"
        notes.append("speakers found: its kind is now interview (it was document)")
    session.add(transcript)
    speakers: dict[str, Speaker] = {}
    for label in labels:
        role, pseudonym, attributes = kept.get(label, (default_role(label), None, {}))
        speakers[label] = Speaker(transcript_id=tid, label=label, role=role, pseudonym=pseudonym, attributes=attributes)
        session.add(speakers[label])
    session.flush()
    session.add_all(
        Segment(
            transcript_id=tid,
            position=i,
            start=u.start,
            end=u.end,
            speaker_id=speakers[u.speaker or UNKNOWN_SPEAKER].id,
            unit=u.unit,
            time_start=u.time_start,
            time_end=u.time_end,
        )
        for i, u in enumerate(units, start=1)
    )
    session.flush()
    audit.record(
        session,
        options.actor,
        "transcript.reimport",
        entity="qc_transcript",
        entity_id=tid,
        before=before,
        after={
            "kind": transcript.kind,
            "content_hash": digest,
            "source_name": source.name,
            "source_format": parsed.format,
            "unit": transcript.unit,
            "segments": len(units),
            "speakers": len(labels),
            "speaker_pattern": options.speaker_pattern,
            "dropped": found.as_dict(),
        },
    )
    return Reimport(
        tid,
        transcript.title,
        source.name,
        segments_before,
        speakers_before,
        len(units),
        len(labels),
        text_changed,
        found,
        notes,
    )
