"""Importing a whole REFI-QDA project (``qualcode import PROJECT.qdpx``), in one transaction.

The file is read and checked first (``refi_read``); then, in one transaction with its audit events:
cases and their variables (as attributes), sources as transcripts (through the transcript importer,
``ingest.importer.store_source``), the codebook with its GUIDs and Sets, users as coders, each
coding of a ``PlainTextSelection`` as that user's coding, notes as memos.

The span rule: a selection (code points, 0-based, end exclusive) becomes a coding on every segment
it overlaps. Where it covers only part of a segment, the part is kept as the coding's quote
(``quote_start``/``quote_end``); a second selection of the same code by the same user inside one
segment becomes a further quote span (``QuoteSpan``). A selection that overlaps no segment (it
covers only a speaker label or blank lines) is left out, and counted. Codings of one user on one
source mark that user's work on that source done, in the source's current round (round 1 for a
transcript the import creates). A user named ``consensus`` (as ``export qdpx`` writes the consensus)
becomes consensus decisions.
"""

from __future__ import annotations

import bisect
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from ..codebook import persist
from ..codebook.model import KINDS, CodebookModel, CodeSetNode, guid_key
from ..codebook.validate import validate
from ..coding.blinding import require_lead_once_appointed
from ..coding.bulk import NewDecision, mark_transcripts_done, write_decisions
from ..coding.layers import CONSENSUS
from ..coding.rounds import current_round
from ..coding.team import RESERVED_CODER_NAMES
from ..errors import QualcodeError, located
from ..ingest.attributes import AttributeValue, store_case_attributes
from ..ingest.importer import ImportJob, ImportOptions, store_source
from ..ingest.sources import Source
from ..ingest.speakers import compile_speaker_pattern
from ..ingest.txt import parse_text
from ..ingest.writer import SEGMENT_COLUMNS, TranscriptWriter, _copy_statement, _statements
from ..store import audit
from ..store.access import Access
from ..store.enums import CodingSource, MemoKind
from ..store.ids import require_id, table_of, wide_select
from ..store.locks import Serialized, serialize
from ..store.models import (
    CODER_ROLES,
    SPEAKER_ROLES,
    TRANSCRIPT_KINDS,
    AuditEvent,
    Case,
    Code,
    Codebook,
    Coder,
    CodeSet,
    CodeSetMember,
    Coding,
    Memo,
    QuoteSpan,
    Segment,
    SegmentStatus,
    Speaker,
    Transcript,
    utcnow,
)
from ..store.values import check_text
from .refi_read import CODEBOOK_MARKER, PROGRESS_NOTE, RefiProject, RefiSource, read_refi_project

UNATTRIBUTED = "unattributed"  # the coder of codings that name no user
NUMBER_TYPES = ("Integer", "Float")
DATE_TYPES = ("Date", "DateTime")


@dataclass(frozen=True)
class RefiImportSummary:
    """What an import brought in and, line by line, what it left out."""

    path: str
    transcripts_new: int
    transcripts_existing: int
    codebook: str | None
    codebook_new: bool
    codes: int
    sets: int
    coders_new: tuple[str, ...]
    codings_by_user: tuple[tuple[str, int], ...]  # REFI codings brought in, per user (coder name)
    codings_already: tuple[tuple[str, int], ...]  # REFI codings the project held already, per user
    codings_stored: int  # coding rows (one per segment, code, coder)
    quote_spans: int
    consensus: int
    memos: int
    cases: int
    attributes: int
    left_out: tuple[str, ...]  # "3 PDF sources skipped: no text"
    warnings: tuple[str, ...]

    def lines(self) -> list[str]:
        transcripts = f"{self.transcripts_new} transcripts imported"
        if self.transcripts_existing:
            transcripts += f", {self.transcripts_existing} already in the project (same text)"
        out = [f"{self.path}: {transcripts}"]
        if self.codebook:
            verb = "stored as codebook" if self.codebook_new else "matched the codebook"
            sets = f", {self.sets} sets" if self.sets else ""
            out.append(f"codebook: {self.codes} codes{sets}, {verb} {self.codebook!r}")
        if self.coders_new:
            out.append(f"coders added: {', '.join(self.coders_new)}")
        for user, count in self.codings_by_user:
            out.append(f"codings by {user}: {count} imported")
        for user, count in self.codings_already:
            out.append(f"codings by {user}: {count} already in the project (same segment, code and round)")
        out.append(
            f"stored: {self.codings_stored} codings on segments, {self.quote_spans} further quote spans, "
            f"{self.consensus} consensus decisions"
        )
        if self.memos or self.cases or self.attributes:
            out.append(f"memos: {self.memos}; cases: {self.cases}; case attributes: {self.attributes}")
        out.extend(f"not imported: {line}" for line in self.left_out)
        out.extend(f"warning: {line}" for line in self.warnings)
        return out


class _SessionWriter(TranscriptWriter):
    """The transcript importer's writer, on the connection of an open session: the transcripts go
    into the same transaction as everything else the project import writes."""

    def __init__(self, session: Session) -> None:
        super().__init__(None)
        self.session = session

    def __enter__(self) -> _SessionWriter:
        connection = self.session.connection()
        dialect = connection.dialect
        self.connection = connection.connection
        self._sqlite = dialect.name == "sqlite"
        self._sql = _statements(dialect)
        self.integrity_errors = (sa_exc.IntegrityError, dialect.loaded_dbapi.IntegrityError)
        self._copy_segments = _copy_statement(table_of(Segment), SEGMENT_COLUMNS, dialect)
        driver = self.connection.driver_connection
        if driver is None:
            raise AssertionError("the session's connection was invalidated")
        self._cursor = driver.cursor()
        return self

    def __exit__(self, *exc) -> None:
        self._cursor.close()
        self.connection = None


def import_refi_project(
    access: Access,
    path: str | Path,
    *,
    viewer: str | None,
    actor: str | None = None,
    unit: str = "turn",
    speaker_pattern: str | None = None,
) -> RefiImportSummary:
    """Read ``path``, check it, and write everything in one transaction (nothing on any error)."""
    project = read_refi_project(path)  # the file's problems first, before the project is touched
    compile_speaker_pattern(speaker_pattern)
    with access.transaction() as session:
        return write_refi_project(
            session, project, viewer=viewer, actor=actor, unit=unit, speaker_pattern=speaker_pattern
        )


def write_refi_project(
    session: Session,
    project: RefiProject,
    *,
    viewer: str | None,
    actor: str | None = None,
    unit: str = "turn",
    speaker_pattern: str | None = None,
    coding_source: str = CodingSource.IMPORT,
) -> RefiImportSummary:
    """Write a read project inside ``session``'s transaction (the caller commits); lead only once
    the project has a lead."""
    allowed = require_lead_once_appointed(session, viewer, "importing a REFI-QDA project")
    actor = actor if actor is not None else allowed
    state = _Import(session, project, actor, coding_source)
    state.cases()
    state.sources(unit, speaker_pattern)
    state.codebook_and_sets()
    state.coders()
    state.codings()
    state.memos()
    summary = state.summary()
    audit.record(
        session,
        actor,
        "refi.import",
        entity="project",
        after={
            "file": project.path,
            "origin": project.origin,
            "transcripts": summary.transcripts_new,
            "codings": summary.codings_stored,
            "consensus": summary.consensus,
            "memos": summary.memos,
            "left_out": list(summary.left_out),
        },
    )
    return summary


@dataclass
class _Import:
    session: Session
    project: RefiProject
    actor: str
    coding_source: str
    transcript_of: dict[str, int] = field(default_factory=dict)  # source GUID key -> transcript id
    new_transcripts: int = 0
    existing_transcripts: int = 0
    case_of_source: dict[str, str] = field(default_factory=dict)
    codebook_row: Codebook | None = None
    codebook_new: bool = False
    codebooks: list[str] = field(default_factory=list)
    code_ids: dict[str, int] = field(default_factory=dict)  # code GUID key -> id
    sets_stored: int = 0
    coder_of: dict[str, int] = field(default_factory=dict)  # user GUID key -> coder id
    consensus_users: set[str] = field(default_factory=set)
    coders_new: list[str] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)  # coder id -> name
    by_user: Counter[str] = field(default_factory=Counter)
    already_by_user: Counter[str] = field(default_factory=Counter)
    empty: list[str] = field(default_factory=list)  # names of sources whose text is empty
    stored: int = 0
    spans: int = 0
    decisions: int = 0
    memo_count: int = 0
    case_count: int = 0
    attribute_count: int = 0
    left_out: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    segments: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)
    ends: dict[int, list[int]] = field(default_factory=dict)
    rounds: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.left_out.update(self.project.left_out)
        self.warnings.extend(self.project.warnings)

    @property
    def where(self) -> str:
        return self.project.path

    # -- cases --------------------------------------------------------------------------
    def cases(self) -> None:
        session = self.session
        by_guid = {guid_key(c.guid): c for c in session.exec(select(Case)) if c.guid}
        by_name = {c.name: c for c in session.exec(select(Case))}
        values: list[AttributeValue] = []
        for case in self.project.cases:
            check_text(case.name, "case name", Case, "name", path=self.where)
            row = by_guid.get(guid_key(case.guid)) or by_name.get(case.name)
            if row is None:
                row = Case(name=case.name, description=case.description, guid=case.guid or None)
                session.add(row)
                session.flush()
                audit.record(session, self.actor, "case.add", row)
                by_name[row.name] = row
                self.case_count += 1
            elif not row.guid and case.guid:
                before = audit.row_dict(row)
                row.guid = case.guid
                session.add(row)
                session.flush()
                audit.record(session, self.actor, "case.guid", row, before=before, after=row)
            for key in case.sources:
                if key in self.case_of_source and self.case_of_source[key] != row.name:
                    self.warnings.append(
                        f"a source is in the cases {self.case_of_source[key]!r} and {row.name!r}: kept in the first"
                    )
                    continue
                self.case_of_source[key] = row.name
            for value in case.values:
                kind = "number" if value.type in NUMBER_TYPES else "date" if value.type in DATE_TYPES else "text"
                number = None
                if kind == "number":
                    try:
                        number = float(value.value)
                    except ValueError:
                        kind = "text"
                text = value.value[:10] if kind == "date" and value.type == "DateTime" else value.value
                values.append(AttributeValue(row.name, value.variable, kind, text, number, 0))
        if values:
            store_case_attributes(session, Path(self.where), values, self.actor, create_cases=False)
            self.attribute_count = len(values)

    # -- sources ------------------------------------------------------------------------
    def sources(self, unit: str, speaker_pattern: str | None) -> None:
        session = self.session
        options = ImportOptions(unit=unit, speaker_pattern=speaker_pattern, format="qdpx", actor=self.actor)
        created: list[tuple[int, str]] = []
        pattern = compile_speaker_pattern(speaker_pattern)
        path = Path(self.where)
        session.flush()
        with _SessionWriter(session) as writer:
            for source in self.project.sources:
                if not source.text.strip():
                    self.empty.append(source.name)
                    continue
                where = f"{path}:{source.origin}"
                parsed = parse_text(source.text, pattern, "qdpx", where)
                job = ImportJob(path, "qdpx", self.case_of_source.get(guid_key(source.guid)))
                outcome = store_source(
                    writer, Source(source.name, f"{path.name}:{source.origin}", parsed), job, options
                )
                if outcome.status == "imported" and outcome.transcript_id is not None:
                    transcript_id = outcome.transcript_id
                    self.new_transcripts += 1
                    created.append((transcript_id, guid_key(source.guid)))
                else:
                    transcript_id = self._same_text(source)
                    self.existing_transcripts += 1
                self.transcript_of[guid_key(source.guid)] = transcript_id
        self._restore_sources(created)
        for source in self.project.sources:
            known = self.transcript_of.get(guid_key(source.guid))
            if known is not None:
                session.connection().execute(
                    update(table_of(Transcript))
                    .where(table_of(Transcript).c.id == known, table_of(Transcript).c.guid.is_(None))
                    .values(guid=source.guid)
                )

    def _restore_sources(self, created: list[tuple[int, str]]) -> None:
        """What our own export keeps of a transcript beyond its text (kind, date, file name, speakers'
        roles and pseudonyms), put back on the transcripts this import created."""
        data = self.own_data() or {}
        sources = data.get("sources") if isinstance(data.get("sources"), dict) else {}
        if not sources:
            return
        by_key = {guid_key(k): v for k, v in sources.items() if isinstance(v, dict)}
        transcripts = table_of(Transcript)
        speakers = table_of(Speaker)
        connection = self.session.connection()
        for transcript_id, key in created:
            meta = by_key.get(key)
            if not meta:
                continue
            values = {
                "title": meta.get("title") if isinstance(meta.get("title"), str) and meta["title"].strip() else None,
                "kind": meta.get("kind") if meta.get("kind") in TRANSCRIPT_KINDS else None,
                "date": meta.get("date") if isinstance(meta.get("date"), str) else None,
                "source_name": meta.get("source_name") if isinstance(meta.get("source_name"), str) else None,
            }
            values = {k: v for k, v in values.items() if v}
            if values:
                connection.execute(update(transcripts).where(transcripts.c.id == transcript_id).values(**values))
            for label, pair in (meta.get("speakers") or {}).items():
                if not (isinstance(pair, list) and len(pair) == 2):
                    continue
                role, pseudonym = pair
                change: dict[str, Any] = {}
                if role in SPEAKER_ROLES:
                    change["role"] = role
                if isinstance(pseudonym, str) and pseudonym:
                    change["pseudonym"] = pseudonym
                if change:
                    connection.execute(
                        update(speakers)
                        .where(speakers.c.transcript_id == transcript_id, speakers.c.label == label)
                        .values(**change)
                    )

    def _same_text(self, source: RefiSource) -> int:
        from ..decoding import content_hash

        digest = content_hash(source.text)
        found = self.session.exec(select(Transcript.id).where(Transcript.content_hash == digest)).first()
        if found is None:  # cannot happen: the writer found it a moment ago
            raise QualcodeError(located(self.where, f"source {source.name!r} vanished while importing"))
        return int(found)

    # -- codebook -------------------------------------------------------------------------
    def codebook_and_sets(self) -> None:
        """The codebook (and the project's other codebooks, where our own export wrapped them): each one
        matched to a stored codebook holding all its GUIDs, else stored as a new codebook."""
        parts = split_codebooks(self.project.codebook)
        for number, model in enumerate(parts):
            row, new = self._one_codebook(model)
            if row is None:
                continue
            if number == 0 or self.codebook_row is None:
                self.codebook_row, self.codebook_new = row, new
            self.codebooks.append(row.name)
        codebook_of_code = {int(i or 0): int(c) for i, c in self.session.exec(select(Code.id, Code.codebook_id)).all()}
        for code_set in self.project.codebook.sets:
            members = [self.code_ids[guid_key(m)] for m in code_set.members if guid_key(m) in self.code_ids]
            owner = codebook_of_code.get(members[0]) if members else require_id(self.codebook_row)
            if owner is not None:
                self._set(code_set, owner, members)

    def _one_codebook(self, model: CodebookModel) -> tuple[Codebook | None, bool]:
        session = self.session
        keys = {guid_key(n.guid) for n, _, _ in model.walk() if n.guid}
        if not keys:
            return None, False
        stored: dict[int, dict[str, int]] = defaultdict(dict)
        for code_id, guid, codebook_id in session.exec(select(Code.id, Code.guid, Code.codebook_id)).all():
            stored[codebook_id][guid_key(guid)] = int(code_id or 0)
        candidates = [cid for cid, codes in stored.items() if keys <= codes.keys()]
        new = not candidates
        if candidates:
            active = {c.id for c in session.exec(select(Codebook).where(Codebook.active == True))}  # noqa: E712
            chosen = sorted(candidates, key=lambda cid: (cid not in active, cid))[0]
            row = session.get_one(Codebook, chosen)
        else:
            validate(model)
            model.name = _free_name(session, model.name)
            row = persist.store_model(session, model, self.actor, source_name=Path(self.where).name)
        codebook_id = require_id(row)
        for code_id, guid in session.exec(select(Code.id, Code.guid).where(Code.codebook_id == codebook_id)).all():
            if guid_key(guid) in keys:
                self.code_ids[guid_key(guid)] = int(code_id or 0)
        return row, new

    def _set(self, code_set: CodeSetNode, codebook_id: int, members: list[int]) -> None:
        session = self.session
        have = {guid_key(s.guid) for s in session.exec(select(CodeSet).where(CodeSet.codebook_id == codebook_id))}
        if guid_key(code_set.guid) in have:
            return
        row = CodeSet(codebook_id=codebook_id, guid=code_set.guid, name=code_set.name, description=code_set.description)
        session.add(row)
        session.flush()
        for member in dict.fromkeys(members):
            session.add(CodeSetMember(set_id=require_id(row), code_id=member))
        session.flush()
        audit.record(
            session, self.actor, "codeset.add", row, after={**audit.row_dict(row), "members": code_set.members}
        )
        self.sets_stored += 1

    # -- coders -------------------------------------------------------------------------
    def coders(self) -> None:
        session = self.session
        serialize(session, Serialized.TEAM)
        rows = list(session.exec(select(Coder)))
        by_guid = {guid_key(c.guid): c for c in rows if c.guid}
        by_name = {c.name: c for c in rows}
        self.names = {require_id(c): c.name for c in rows}
        wanted = {u.guid: u.name for u in self.project.users}
        named = {guid_key(u.guid) for u in self.project.users}
        for source in self.project.sources:
            for selection in source.selections:
                for coding in selection.codings:
                    if coding.user is not None and coding.user not in named:
                        wanted.setdefault(coding.user, f"user-{coding.user[:8]}")
                        named.add(coding.user)
                        self.warnings.append(
                            f"codings name a user not in <Users> ({coding.user}): coder user-{coding.user[:8]}"
                        )
        for guid, name in wanted.items():
            key = guid_key(guid)
            name = name or f"user-{key[:8]}"
            if name.casefold() in RESERVED_CODER_NAMES:
                self.consensus_users.add(key)
                continue
            row = by_guid.get(key) or by_name.get(name)
            if row is None:
                check_text(name, "coder name", Coder, "name", path=self.where)
                row = Coder(name=name, role=self._role(guid), guid=guid)
                session.add(row)
                session.flush()
                audit.record(session, self.actor, "coder.add", row)
                by_name[name] = row
                self.coders_new.append(name)
            elif not row.guid:
                before = audit.row_dict(row)
                row.guid = guid
                session.add(row)
                session.flush()
                audit.record(session, self.actor, "coder.guid", row, before=before, after=row)
            self.coder_of[key] = require_id(row)
            self.names[require_id(row)] = row.name

    def _role(self, guid: str) -> str:
        """A new coder's role as our own export recorded it; "lead" only while the project has none."""
        roles = (self.own_data() or {}).get("roles")
        role = roles.get(guid) if isinstance(roles, dict) else None
        if role == "lead":
            if self.session.exec(select(Coder.id).where(Coder.role == "lead")).first() is not None:
                return "coder"
            return "lead"
        return role if role in CODER_ROLES else "coder"

    def _unattributed(self) -> int:
        if "" not in self.coder_of:
            row = self.session.exec(select(Coder).where(Coder.name == UNATTRIBUTED)).first()
            if row is None:
                row = Coder(name=UNATTRIBUTED, role="coder")
                self.session.add(row)
                self.session.flush()
                audit.record(self.session, self.actor, "coder.add", row)
                self.coders_new.append(UNATTRIBUTED)
            self.coder_of[""] = require_id(row)
            self.names[require_id(row)] = row.name
        return self.coder_of[""]

    # -- codings --------------------------------------------------------------------------
    def _segments(self, transcript_id: int) -> list[tuple[int, int, int]]:
        if transcript_id not in self.segments:
            rows = self.session.exec(
                select(Segment.start, Segment.end, Segment.id)
                .where(Segment.transcript_id == transcript_id)
                .order_by(col(Segment.start))
            ).all()
            self.segments[transcript_id] = [(int(a), int(b), int(i or 0)) for a, b, i in rows]
            self.ends[transcript_id] = [b for _, b, _ in self.segments[transcript_id]]
        return self.segments[transcript_id]

    def round_of(self, transcript_id: int) -> int:
        """The round the import's codings go to: the transcript's current round (1 for a new one)."""
        if transcript_id not in self.rounds:
            self.rounds[transcript_id] = current_round(self.session, transcript_id)
        return self.rounds[transcript_id]

    def overlapping(self, transcript_id: int, start: int, end: int) -> Iterator[tuple[int, int, int]]:
        """``(segment id, start, end)`` of each segment ``[start, end)`` overlaps, in order."""
        segments = self._segments(transcript_id)
        ends = self.ends[transcript_id]
        i = bisect.bisect_right(ends, start)
        while i < len(segments) and segments[i][0] < end:
            a, b, segment_id = segments[i]
            yield segment_id, a, b
            i += 1

    def codings(self) -> None:
        session = self.session
        # (segment, code, coder, round) -> [quote or None, further spans]
        found: dict[tuple[int, int, int, int], list[Any]] = {}
        consensus: dict[tuple[int, int], NewDecision] = {}
        finished: set[tuple[int, int, int]] = set()
        produced: list[tuple[int, list[tuple[int, int, int, int]]]] = []  # per REFI coding: coder, its keys
        code_of: dict[str, int] = {}  # a code's GUID as the file spells it -> its id
        for source in self.project.sources:
            transcript_id = self.transcript_of.get(guid_key(source.guid))
            if transcript_id is None:
                continue
            round_ = self.round_of(transcript_id)
            for selection in source.selections:
                if not selection.codings:
                    continue
                if selection.start == selection.end:
                    self.left_out["codings of empty selections skipped (no text selected)"] += len(selection.codings)
                    continue
                hits = list(self.overlapping(transcript_id, selection.start, selection.end))
                if not hits:
                    self.left_out[
                        "codings skipped: their selection covers no segment's text (a speaker label or blank lines)"
                    ] += len(selection.codings)
                    continue
                for coding in selection.codings:
                    code_id = code_of.get(coding.code)
                    if code_id is None:
                        code_id = code_of[coding.code] = self.code_ids[guid_key(coding.code)]
                    user = coding.user or ""
                    if user in self.consensus_users:
                        for segment_id, a, b in hits:
                            qs, qe = max(a, selection.start), min(b, selection.end)
                            whole = (qs, qe) == (a, b)
                            consensus.setdefault(
                                (segment_id, code_id),
                                NewDecision(
                                    segment_id,
                                    code_id,
                                    True,
                                    "import",
                                    round_,
                                    None if whole else qs,
                                    None if whole else qe,
                                ),
                            )
                        self.by_user[CONSENSUS] += 1
                        continue
                    coder_id = self.coder_of.get(user) if user else self._unattributed()
                    if coder_id is None:
                        coder_id = self._unattributed()
                    finished.add((transcript_id, coder_id, round_))
                    produced.append((coder_id, [(h[0], code_id, coder_id, round_) for h in hits]))
                    for segment_id, a, b in hits:
                        qs, qe = max(a, selection.start), min(b, selection.end)
                        span = None if (qs, qe) == (a, b) else (qs, qe)
                        key = (segment_id, code_id, coder_id, round_)
                        entry = found.get(key)
                        if entry is None:
                            found[key] = [span, []]
                        elif entry[0] is not None and span is not None and span != entry[0] and span not in entry[1]:
                            entry[1].append(span)
                        elif span is None and entry[0] is not None:  # the whole segment: the narrower spans go
                            entry[0], entry[1] = None, []
        new_keys = self._store_codings(found)
        for coder_id, keys in produced:
            fresh = any(key in new_keys for key in keys)
            (self.by_user if fresh else self.already_by_user)[self.names[coder_id]] += 1
        if consensus:
            self.decisions = write_decisions(session, self.actor, list(consensus.values()))
        progress = self._progress_note()
        if progress is None:
            mark_transcripts_done(session, finished)  # another tool's codings: the user's work there is done
        else:
            self._mark_done(progress)

    def _progress_note(self) -> dict[str, dict[str, Any]] | None:
        """The done marks our own export carries (``refi_export``), or None."""
        data = self.own_data()
        if data is not None:
            try:
                done = data["done"]
                if isinstance(done, dict) and all(isinstance(v, dict) for v in done.values()):
                    return {
                        guid_key(user): {guid_key(k): v for k, v in sources.items()} for user, sources in done.items()
                    }
            except (KeyError, TypeError, AttributeError):
                pass
            self.warnings.append(f"the note {PROGRESS_NOTE!r} is not as qualcode writes it: done marks from codings")
        return None

    def own_data(self) -> dict[str, Any] | None:
        """The JSON note our own export writes (``refi_export._progress``), or None."""
        for note in self.project.notes.values():
            if note.name == PROGRESS_NOTE:
                try:
                    data = json.loads(note.text)
                    return data if isinstance(data, dict) else {}
                except ValueError:
                    return {}
        return None

    def _mark_done(self, progress: dict[str, dict[str, Any]]) -> None:
        session = self.session
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for user, sources in progress.items():
            coder_id = self.coder_of.get(user)
            if coder_id is None:
                continue
            for source_key, spans in sources.items():
                transcript_id = self.transcript_of.get(source_key)
                if transcript_id is None:
                    continue
                round_ = self.round_of(transcript_id)
                segments = self._segments(transcript_id)
                wanted = {(int(a), int(b)) for a, b in spans} if isinstance(spans, list) else None
                have = set(
                    session.exec(
                        select(SegmentStatus.segment_id)
                        .join(Segment, col(Segment.id) == SegmentStatus.segment_id)
                        .where(
                            SegmentStatus.coder_id == coder_id,
                            SegmentStatus.round == round_,
                            Segment.transcript_id == transcript_id,
                        )
                    ).all()
                )
                rows.extend(
                    {"segment_id": i, "coder_id": coder_id, "round": round_, "done_at": now}
                    for a, b, i in segments
                    if (wanted is None or (a, b) in wanted) and i not in have
                )
        if rows:
            _insert_many(session, table_of(SegmentStatus), rows)

    def _store_codings(self, found: dict[tuple[int, int, int, int], list[Any]]) -> set[tuple[int, int, int, int]]:
        """Insert the codings not stored yet; returns the keys of those inserted."""
        if not found:
            return set()
        session = self.session
        segment_ids = {key[0] for key in found}
        stored: set[tuple[int, int, int, int]] = set()
        ids = sorted(segment_ids)
        for start in range(0, len(ids), 500):
            stored.update(
                (int(a), int(b), int(c), int(d))
                for a, b, c, d in session.exec(
                    select(Coding.segment_id, Coding.code_id, Coding.coder_id, Coding.round).where(
                        col(Coding.segment_id).in_(ids[start : start + 500])
                    )
                ).all()
            )
        now = utcnow()
        params = []
        for key, (span, _more) in found.items():
            if key in stored:
                continue
            params.append(
                {
                    "segment_id": key[0],
                    "code_id": key[1],
                    "coder_id": key[2],
                    "round": key[3],
                    "quote_start": span[0] if span else None,
                    "quote_end": span[1] if span else None,
                    "source": self.coding_source,
                    "created_at": now,
                }
            )
        if not params:
            return set()
        table = table_of(Coding)
        highest = session.exec(select(func.max(col(Coding.id)))).one() or 0
        _insert_many(session, table, params)
        inserted = session.exec(
            wide_select(table.c.id, table.c.segment_id, table.c.code_id, table.c.coder_id, table.c.round).where(
                table.c.id > highest
            )
        ).all()
        by_key = {(p["segment_id"], p["code_id"], p["coder_id"], p["round"]): p for p in params}
        now_iso = now.isoformat()
        spans = []
        events = []
        for coding_id, segment_id, code_id, coder_id, round_ in inserted:
            key = (segment_id, code_id, coder_id, round_)
            p = by_key.get(key)
            if p is None:  # another writer's row (PostgreSQL, concurrently): not ours to describe
                continue
            after = {
                "id": coding_id,
                "segment_id": segment_id,
                "code_id": code_id,
                "coder_id": coder_id,
                "round": round_,
                "quote_start": p["quote_start"],
                "quote_end": p["quote_end"],
                "source": self.coding_source,
                "created_at": now_iso,
            }
            events.append(_event(self.actor, "coding.import", "qc_coding", coding_id, after, now))
            for qs, qe in found[key][1]:
                spans.append({"coding_id": coding_id, "coder_id": coder_id, "start": qs, "end": qe})
        self.stored = len(events)
        if spans:
            _insert_many(session, table_of(QuoteSpan), spans)
            self.spans = len(spans)
        if events:
            _insert_many(session, table_of(AuditEvent), events)
        return {key for key in found if key not in stored}

    # -- memos ----------------------------------------------------------------------------
    def memos(self) -> None:
        session = self.session
        notes = self.project.notes
        if not notes:
            return
        attached: dict[str, dict[str, Any]] = {}

        def attach(key: str, **target: Any) -> None:
            if key in notes and key not in attached:
                attached[key] = target

        for code_guid, keys in self.project.code_notes.items():
            for key in keys:
                attach(key, kind=MemoKind.CODE, code_id=self.code_ids.get(guid_key(code_guid)))
        for source in self.project.sources:
            transcript_id = self.transcript_of.get(guid_key(source.guid))
            for key in source.notes:
                attach(key, kind=MemoKind.TRANSCRIPT, transcript_id=transcript_id)
            for selection in source.selections:
                keys = selection.notes + [k for c in selection.codings for k in c.notes]
                if not keys:
                    continue
                hits = (
                    list(self.overlapping(transcript_id, selection.start, max(selection.end, selection.start + 1)))
                    if transcript_id
                    else []
                )
                for key in keys:
                    if hits:
                        attach(key, kind=MemoKind.SEGMENT, segment_id=hits[0][0], transcript_id=transcript_id)
                    else:
                        attach(key, kind=MemoKind.TRANSCRIPT, transcript_id=transcript_id)
        cases = {c.name: require_id(c) for c in session.exec(select(Case))}
        kinds = {k.value for k in MemoKind}
        for key, note in notes.items():
            if note.name == PROGRESS_NOTE:
                continue
            target = attached.get(key, {"kind": MemoKind.GENERAL})
            kind = target["kind"]
            # Our own export names a note by its memo's kind ("core_idea", "case: Site A"): kept on the way back.
            label = [part.strip() for part in note.name.split(":", 1)]
            if label[0] in kinds:
                kind = MemoKind(label[0])
            case_id = cases.get(label[1]) if len(label) == 2 and label[0] in ("case", "cell") else None
            coder_id = self.coder_of.get(note.user) if note.user else None
            check_text(note.text, "note text", path=self.where)
            row = Memo(
                kind=str(kind),
                coder_id=coder_id,
                segment_id=target.get("segment_id"),
                code_id=target.get("code_id"),
                transcript_id=target.get("transcript_id"),
                case_id=case_id,
                text=note.text,
            )
            session.add(row)
            session.flush()
            audit.record(session, self.actor, "memo.import", row)
            self.memo_count += 1

    def summary(self) -> RefiImportSummary:
        model = self.project.codebook
        if self.empty:  # a selection cannot lie inside an empty text: these had no codings
            shown = ", ".join(repr(name) for name in self.empty[:3]) + (", ..." if len(self.empty) > 3 else "")
            self.left_out[f"text sources skipped: their text is empty ({shown})"] += len(self.empty)
        return RefiImportSummary(
            path=self.where,
            transcripts_new=self.new_transcripts,
            transcripts_existing=self.existing_transcripts,
            codebook=self.codebook_row.name if self.codebook_row else None,
            codebook_new=self.codebook_new,
            codes=model.count(),
            sets=len(model.sets),
            coders_new=tuple(self.coders_new),
            codings_by_user=tuple(sorted(self.by_user.items())),
            codings_already=tuple(sorted(self.already_by_user.items())),
            codings_stored=self.stored,
            quote_spans=self.spans,
            consensus=self.decisions,
            memos=self.memo_count,
            cases=self.case_count,
            attributes=self.attribute_count,
            left_out=tuple(f"{count} {what}" for what, count in sorted(self.left_out.items())),
            warnings=tuple(self.warnings),
        )


def _event(actor: str, action: str, entity: str, entity_id: int, after: dict[str, Any], at) -> dict[str, Any]:
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "before": None,
        "after": after,
    }


def _insert_many(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys). On SQLite through the driver's executemany, each
    value through its column's bind processor (dates, JSON) once: SQLAlchemy's per-parameter work
    was most of a large import's time. Elsewhere SQLAlchemy's executemany."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        connection.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    quote = dialect.identifier_preparer.quote
    by_column = []
    for name in columns:
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        column = [row[name] for row in rows]
        if process is not None:
            done: dict[int, Any] = {}  # a timestamp shared by every row is processed once
            for i, value in enumerate(column):
                if value is not None:
                    key = id(value)
                    if key not in done:
                        done[key] = process(value)
                    column[i] = done[key]
        by_column.append(column)
    values = list(zip(*by_column, strict=True))
    names = ", ".join(quote(name) for name in columns)
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join('?' * len(columns))})"
    connection.exec_driver_sql(sql, values)


def _free_name(session: Session, name: str) -> str:
    taken = {n for n in session.exec(select(Codebook.name))}
    if name not in taken:
        return name
    number = 2
    while f"{name} ({number})" in taken:
        number += 1
    return f"{name} ({number})"


def split_codebooks(model: CodebookModel) -> list[CodebookModel]:
    """The project's codebook, and the codebooks our export wrapped in grouping codes (not codable,
    described ``qualcode codebook (kind): description``), each as a model of its own."""
    main = CodebookModel(name=model.name, kind=model.kind, source=model.source)
    out = [main]
    for node in model.codes:
        text = node.definition
        if (
            not node.applicable
            and text.startswith(CODEBOOK_MARKER)
            and not any((node.brief, node.inclusion, node.exclusion, node.example, node.key, node.hotkey))
        ):
            rest = text[len(CODEBOOK_MARKER) :].strip()
            kind = "provisional"
            if rest.startswith("(") and ")" in rest:
                kind, rest = rest[1 : rest.index(")")], rest[rest.index(")") + 1 :].lstrip(": ").strip()
            out.append(
                CodebookModel(
                    name=node.name,
                    kind=kind if kind in KINDS else "provisional",
                    description=rest,
                    codes=node.children,
                    source=model.source,
                )
            )
        else:
            main.codes.append(node)
    return out
