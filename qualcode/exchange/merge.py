"""Merging a coder's separate copy back into the lead's project (``qualcode merge OTHER``).

Everything is matched by stable identities, never by position or title alone:

- transcripts by content hash (and ``Transcript.guid`` where both have one; title and case only to
  tell apart two transcripts of the same text), and their segments by position with the same
  character span;
- codes by GUID (``--map OLD=NEW`` says which code of this project an unknown GUID is;
  ``--add-missing-codes`` adds it, GUID kept);
- coders by ``Coder.guid`` where both have one (a coder renamed since), else by name (the same
  name with different GUIDs: different people, refused);
- cases by name (and GUID where both have one);
- memos on a segment by coder, kind, segment and round; on a code by coder and code.

From a hand-out (``qc_meta`` names its coder) only that coder's work is merged.

A coder's work is compared per *key*: one coder, one segment, one round.

- This project holds none of that coder's work on the key: the copy's codings, done mark and
  memos are added.
- Both hold the same codes with the same quotes: already here, nothing changes.
- The copy holds more codes and this project has not marked the key done: the coder went on in
  the copy; the new codings (and the done mark) are added.
- Otherwise the code sets differ (this project's work on the key is marked done, or the copy lacks
  a code this project has: removed there, or added here since), or a quote differs, or the same
  memo has different text: a **conflict**. Conflicts are listed and nothing is merged, unless
  ``prefer`` says whose state of each conflicting key wins (``ours``: this project's, unchanged;
  ``theirs``: the copy's, codings removed and added to match).

Merging is one transaction; every row written has an audit event naming the copy's path and the
SHA-256 of its bytes, and every merged coding has ``source = "merge"``. Merging the same copy
again finds everything already here and writes nothing, not even an audit event.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Table, func
from sqlmodel import Session, col, select

from ..coding.blinding import require_lead
from ..errors import InputError, ProjectError, QualcodeError, located
from ..project import Project
from ..store import audit
from ..store.enums import CodingSource
from ..store.ids import require_id, table_of, wide_select
from ..store.locks import Serialized, serialize
from ..store.models import (
    AuditEvent,
    Case,
    Code,
    Codebook,
    CodeProposal,
    Coder,
    Coding,
    ConsensusDecision,
    Memo,
    Meta,
    QuoteSpan,
    RoundTranscript,
    Segment,
    SegmentStatus,
    Transcript,
    utcnow,
)
from .handout import HANDOUT_CODER, file_sha256

WRITE_CHUNK = 5_000
MAX_LISTED = 50  # differences and conflicts listed one by one; the rest counted


class Prefer(StrEnum):
    """Whose state of a conflicting key wins."""

    OURS = "ours"  # this project's: the copy's work on the key is left out
    THEIRS = "theirs"  # the copy's: this project's work of that coder on the key becomes the copy's


class Outcome(StrEnum):
    MERGED = "merged"  # written
    DRY_RUN = "dry-run"  # would have been written; nothing was
    NOTHING = "nothing to merge"  # everything is here already
    DIFFERENCES = "differences"  # the copy's transcripts or codebook differ: nothing merged
    CONFLICTS = "conflicts"  # conflicts and no --prefer: nothing merged


@dataclass(frozen=True)
class Difference:
    """The copy's material differs from this project's (``blocking``: nothing merges until settled)."""

    what: str  # transcript | segments | code | coder | round | case
    message: str
    blocking: bool


@dataclass(frozen=True)
class Conflict:
    """The same coder's work on one segment in one round differs between the copy and this project."""

    coder: str
    transcript: str
    segment: int  # position
    round: int
    what: str  # codes | quote | memo
    ours: str
    theirs: str

    def line(self) -> str:
        where = f"{self.transcript!r} segment {self.segment}" if self.segment else self.transcript
        return (
            f"{self.coder}, {where}, round {self.round}: {self.what} differ "
            f"(here: {self.ours or 'none'}; copy: {self.theirs or 'none'})"
        )


@dataclass
class CoderTally:
    coder: str
    codings_merged: int = 0
    codings_present: int = 0
    codings_removed: int = 0  # --prefer theirs
    done_merged: int = 0
    done_present: int = 0
    done_removed: int = 0
    memos_merged: int = 0
    memos_present: int = 0
    conflicts: int = 0

    @property
    def written(self) -> int:
        return self.codings_merged + self.codings_removed + self.done_merged + self.done_removed + self.memos_merged


@dataclass(frozen=True)
class MergeResult:
    source: str
    sha256: str
    outcome: Outcome
    prefer: Prefer | None
    differences: list[Difference]
    conflicts: list[Conflict]
    tallies: list[CoderTally]
    codes_added: list[str] = field(default_factory=list)  # "name (GUID)"
    notes: list[str] = field(default_factory=list)  # what was left out, and why

    @property
    def blocking(self) -> list[Difference]:
        return [d for d in self.differences if d.blocking]

    @property
    def needs_decision(self) -> bool:
        return self.outcome in (Outcome.DIFFERENCES, Outcome.CONFLICTS)


# -- the code map ------------------------------------------------------------------------------------

GUID_PAIR = re.compile(r"^\s*([^=,\s]+)\s*[=,]\s*([^=,\s]+)\s*$")


def parse_map_items(items: Iterable[str], where: str = "--map") -> dict[str, str]:
    """``OLD_GUID=NEW_GUID`` pairs as a dict; a malformed one is one line."""
    out: dict[str, str] = {}
    for item in items:
        m = GUID_PAIR.match(item)
        if not m:
            raise InputError(f"{where} {item!r}: expected OLD_GUID=NEW_GUID")
        old, new = m.groups()
        if out.get(old, new) != new:
            raise InputError(f"{where}: {old} is mapped twice ({out[old]} and {new})")
        out[old] = new
    return out


def read_map_file(path: str | os.PathLike) -> dict[str, str]:
    """A map file: one ``OLD_GUID=NEW_GUID`` (or ``OLD_GUID,NEW_GUID``) per line; ``#`` starts a comment."""
    from ..decoding import read_text

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    out: dict[str, str] = {}
    for number, raw in enumerate(read_text(path).splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.lower().replace(" ", "") in ("old,new", "old_guid,new_guid"):
            continue
        try:
            pair = parse_map_items([line], "line")
        except InputError as exc:
            raise InputError(located(path, str(exc), number)) from None
        for old, new in pair.items():
            if out.get(old, new) != new:
                raise InputError(located(path, f"{old} is mapped twice ({out[old]} and {new})", number))
            out[old] = new
    return out


# -- reading both sides ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Transcript:
    id: int
    title: str
    content_hash: str
    guid: str | None
    case: str


@dataclass(frozen=True)
class _Code:
    id: int
    guid: str
    name: str
    codebook: str
    parent_id: int | None
    merged_into_id: int | None
    status: str


@dataclass
class _Copy:
    """The copy's rows, as plain values."""

    handout_coder: str | None
    coders: dict[int, tuple[str, str | None]]  # id -> (name, guid)
    transcripts: dict[int, _Transcript]
    segments: dict[int, tuple[int, int, int, int]]  # id -> (transcript id, position, start, end)
    codes: dict[int, _Code]
    code_rows: dict[int, Code]
    cases: dict[int, tuple[str, str | None]]
    # id, segment, code, coder, round, quote start, quote end, created at, source
    codings: list[tuple[int, int, int, int, int, int | None, int | None, Any, str | None]]
    spans: dict[int, frozenset[tuple[int, int]]]  # coding id -> further quote spans
    statuses: list[tuple[int, int, int, Any]]  # segment, coder, round, done_at
    memos: list[Memo]
    left_out_work: dict[str, int]  # coder -> rows of work not merged (another coder's, in a hand-out)
    proposals: int
    consensus: int
    left_out_lines: list[str] = field(default_factory=list)


def _read_copy(s: Session) -> _Copy:
    handout = s.get(Meta, HANDOUT_CODER)
    coders = {require_id(i): (n, g) for i, n, g in s.exec(select(Coder.id, Coder.name, Coder.guid)).all()}
    cases = {require_id(i): (n, g) for i, n, g in s.exec(select(Case.id, Case.name, Case.guid)).all()}
    transcripts = {
        require_id(i): _Transcript(require_id(i), title, h, g, cases[cid][0] if cid in cases else "")
        for i, title, h, g, cid in s.exec(
            wide_select(
                col(Transcript.id),
                col(Transcript.title),
                col(Transcript.content_hash),
                col(Transcript.guid),
                col(Transcript.case_id),
            )
        ).all()
    }
    raw = s.connection()  # the copy is a SQLite file: its largest tables are read as the driver gives them
    segments = {
        i: (t, p, a, b)
        for i, t, p, a, b in raw.exec_driver_sql(
            'SELECT id, transcript_id, position, start, "end" FROM qc_segment'
        ).all()
    }
    books = {require_id(i): n for i, n in s.exec(select(Codebook.id, Codebook.name)).all()}
    code_rows = {require_id(c): c for c in s.exec(select(Code)).all()}
    codes = {
        i: _Code(i, c.guid, c.name, books.get(c.codebook_id, ""), c.parent_id, c.merged_into_id, c.status)
        for i, c in code_rows.items()
    }
    worked: dict[int, int] = defaultdict(int)
    for model in (Coding, SegmentStatus, Memo):
        table = table_of(model)
        for coder_id, n in s.exec(
            select(table.c.coder_id, func.count()).where(table.c.coder_id.is_not(None)).group_by(table.c.coder_id)
        ).all():
            worked[int(coder_id)] += int(n)
    chosen = set(worked)
    left_out: dict[str, int] = {}
    if handout is not None:
        own = {i for i, (n, _g) in coders.items() if n == handout.value}
        left_out = {coders[i][0]: n for i, n in worked.items() if i not in own}
        chosen = own & set(worked)
    ids = sorted(chosen)
    among = ", ".join(str(int(i)) for i in ids) or "NULL"
    # Times stay as SQLite stores them (text), to be written back as they are.
    codings = [
        (i, sg, cd, cr, r, qs, qe, at, src)
        for i, sg, cd, cr, r, qs, qe, at, src in raw.exec_driver_sql(
            "SELECT id, segment_id, code_id, coder_id, round, quote_start, quote_end, created_at, source "
            f"FROM qc_coding WHERE coder_id IN ({among})"
        ).all()
    ]
    span_lists: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for coding_id, a, b in s.exec(
        select(QuoteSpan.coding_id, QuoteSpan.start, QuoteSpan.end).where(col(QuoteSpan.coder_id).in_(ids))
    ).all():
        span_lists[coding_id].add((a, b))
    statuses = [
        (sg, cr, r, at)
        for sg, cr, r, at in raw.exec_driver_sql(
            f"SELECT segment_id, coder_id, round, done_at FROM qc_segment_status WHERE coder_id IN ({among})"
        ).all()
    ]
    memos = list(s.exec(select(Memo).where(col(Memo.coder_id).in_(ids))).all())
    proposals = s.exec(select(func.count()).select_from(CodeProposal).where(col(CodeProposal.coder_id).in_(ids))).one()
    return _Copy(
        handout_coder=handout.value if handout else None,
        coders=coders,
        transcripts=transcripts,
        segments=segments,
        codes=codes,
        code_rows=code_rows,
        cases=cases,
        codings=codings,
        spans={k: frozenset(v) for k, v in span_lists.items()},
        statuses=statuses,
        memos=memos,
        left_out_work=left_out,
        proposals=int(proposals),
        consensus=int(s.exec(select(func.count()).select_from(ConsensusDecision)).one()),
    )


# -- matching ----------------------------------------------------------------------------------------


@dataclass
class _Mapping:
    coder: dict[int, int] = field(default_factory=dict)  # copy id -> target id
    coder_name: dict[int, str] = field(default_factory=dict)  # target id -> name
    segment: dict[int, int] = field(default_factory=dict)
    segment_where: dict[int, tuple[str, int]] = field(default_factory=dict)  # target segment -> (title, position)
    transcript: dict[int, int] = field(default_factory=dict)
    code: dict[int, int] = field(default_factory=dict)
    code_name: dict[int, str] = field(default_factory=dict)  # target code id -> name
    case: dict[int, int] = field(default_factory=dict)
    missing_codes: list[_Code] = field(default_factory=list)  # to add with --add-missing-codes


def _short(h: str) -> str:
    return h[:12]


def _match(
    s: Session, copy: _Copy, code_map: dict[str, str], add_missing: bool, source: str
) -> tuple[_Mapping, list[Difference], list[str]]:
    """Map the copy's rows onto this project's; every difference found, and notes."""
    m = _Mapping()
    diffs: list[Difference] = []
    notes: list[str] = []

    # What the work to merge touches.
    work_segments: dict[int, int] = defaultdict(int)  # copy segment -> rows of work
    work_codes: dict[int, int] = defaultdict(int)
    work_coders: dict[int, int] = defaultdict(int)
    work_rounds: set[tuple[int, int]] = set()  # (copy transcript, round)
    for _coding, sg, cd, cr, r, _qs, _qe, _at, _src in copy.codings:
        work_segments[sg] += 1
        work_codes[cd] += 1
        work_coders[cr] += 1
        work_rounds.add((copy.segments[sg][0], r))
    for sg, cr, r, _at in copy.statuses:
        work_segments[sg] += 1
        work_coders[cr] += 1
        work_rounds.add((copy.segments[sg][0], r))
    work_transcripts: dict[int, int] = defaultdict(int)
    for memo in copy.memos:
        work_coders[require_id(memo.coder_id)] += 1
        if memo.segment_id is not None:
            work_segments[memo.segment_id] += 1
        if memo.code_id is not None:
            work_codes[memo.code_id] += 1
        if memo.transcript_id is not None:
            work_transcripts[memo.transcript_id] += 1
    for sg, n in work_segments.items():
        work_transcripts[copy.segments[sg][0]] += n

    # Coders: by GUID where both have one (a coder renamed since), else by name.
    here_coders = {n: (require_id(i), g) for i, n, g in s.exec(select(Coder.id, Coder.name, Coder.guid)).all()}
    coder_by_guid = {g.lower(): (n, i) for n, (i, g) in here_coders.items() if g}
    for copy_id in sorted(work_coders):
        name, guid = copy.coders[copy_id]
        if guid and guid.lower() in coder_by_guid:
            here_name, here_id = coder_by_guid[guid.lower()]
            if here_name != name:
                notes.append(f"coder {name!r} of the copy is {here_name!r} here (the same GUID {guid})")
            m.coder[copy_id] = here_id
            m.coder_name[here_id] = here_name
            continue
        found = here_coders.get(name)
        if found is None:
            diffs.append(
                Difference(
                    "coder",
                    f"coder {name!r} ({work_coders[copy_id]} rows of work in the copy) is not in this project "
                    f"(add them with `qualcode coders add {name}`)",
                    True,
                )
            )
            continue
        if guid and found[1] and guid != found[1]:
            diffs.append(
                Difference(
                    "coder", f"coder {name!r}: GUID {found[1]} here, {guid} in the copy (not the same person)", True
                )
            )
            continue
        m.coder[copy_id] = found[0]
        m.coder_name[found[0]] = name

    # Transcripts: by content hash (GUID where both have one; title and case only to tell twins apart).
    here_transcripts = [
        _Transcript(require_id(i), title, h, g, case or "")
        for i, title, h, g, case in s.exec(
            wide_select(
                col(Transcript.id),
                col(Transcript.title),
                col(Transcript.content_hash),
                col(Transcript.guid),
                col(Case.name),
            ).outerjoin(Case, col(Case.id) == Transcript.case_id)
        ).all()
    ]
    by_hash: dict[str, list[_Transcript]] = defaultdict(list)
    for t in here_transcripts:
        by_hash[t.content_hash].append(t)
    unmatched_without_work = 0
    for t in sorted(copy.transcripts.values(), key=lambda x: x.id):
        candidates = by_hash.get(t.content_hash, [])
        if len(candidates) > 1:
            candidates = [c for c in candidates if t.guid and c.guid == t.guid] or [
                c for c in candidates if (c.title, c.case) == (t.title, t.case)
            ]
        if len(candidates) == 1:
            m.transcript[t.id] = candidates[0].id
            continue
        if not work_transcripts.get(t.id):
            unmatched_without_work += 1
            continue
        why = "is not in this project" if not candidates else "matches several transcripts here"
        diffs.append(
            Difference(
                "transcript",
                f"transcript {t.title!r} (content hash {_short(t.content_hash)}) {why}; "
                f"the copy holds {work_transcripts[t.id]} rows of work on it",
                True,
            )
        )
    if copy.transcripts and not m.transcript:
        raise InputError(
            f"{source}: a copy of a different study: none of its {len(copy.transcripts)} transcripts is in this project"
        )
    if unmatched_without_work:
        notes.append(f"{unmatched_without_work} transcripts of the copy are not here; the copy holds no work on them")

    # Segments: by position with the same span, for every transcript with work.
    wanted = sorted({m.transcript[ct] for ct in work_transcripts if ct in m.transcript})
    here_segments: dict[int, dict[int, tuple[int, int, int]]] = defaultdict(dict)  # transcript -> pos -> (id, a, b)
    for seg_id, tid, p, a, b in s.connection().execute(
        wide_select(
            col(Segment.id), col(Segment.transcript_id), col(Segment.position), col(Segment.start), col(Segment.end)
        ).where(col(Segment.transcript_id).in_(wanted))
    ):
        here_segments[tid][p] = (seg_id, a, b)
    copy_segments: dict[int, dict[int, tuple[int, int, int]]] = defaultdict(dict)
    for seg_id, (tid, p, a, b) in copy.segments.items():
        copy_segments[tid][p] = (seg_id, a, b)
    titles = {t.id: t.title for t in here_transcripts}
    for copy_t, here_t in m.transcript.items():
        if not work_transcripts.get(copy_t):
            continue
        ours, theirs = here_segments.get(here_t, {}), copy_segments.get(copy_t, {})
        differing = [p for p in sorted(set(ours) | set(theirs)) if ours.get(p, (0,))[1:] != theirs.get(p, (0,))[1:]]
        if differing and work_transcripts.get(copy_t):
            p = differing[0]
            here = f"{ours[p][1]}-{ours[p][2]}" if p in ours else "absent"
            there = f"{theirs[p][1]}-{theirs[p][2]}" if p in theirs else "absent"
            diffs.append(
                Difference(
                    "segments",
                    f"transcript {titles[here_t]!r}: segmented differently ({len(differing)} segments differ; "
                    f"segment {p} is {here} here, {there} in the copy)",
                    True,
                )
            )
            continue
        for p, (copy_seg, _a, _b) in theirs.items():
            here_seg = ours[p][0]
            m.segment[copy_seg] = here_seg
            m.segment_where[here_seg] = (titles[here_t], p)

    # Rounds: a round beyond the first must be open here for the transcript.
    opened = set(s.exec(select(RoundTranscript.round, RoundTranscript.transcript_id)).all())
    for copy_t, r in sorted(work_rounds):
        if r > 1 and copy_t in m.transcript and (r, m.transcript[copy_t]) not in opened:
            diffs.append(
                Difference(
                    "round",
                    f"round {r} was not opened for {titles[m.transcript[copy_t]]!r} here "
                    f"(open it with `qualcode rounds open`)",
                    True,
                )
            )

    # Codes: by GUID (after --map), the codebook's name only to tell apart codes of one GUID in two codebooks.
    here_books = {require_id(i): n for i, n in s.exec(select(Codebook.id, Codebook.name)).all()}
    here_codes = [
        _Code(
            require_id(c.id), c.guid, c.name, here_books.get(c.codebook_id, ""), c.parent_id, c.merged_into_id, c.status
        )
        for c in s.exec(select(Code)).all()
    ]
    by_guid: dict[str, list[_Code]] = defaultdict(list)
    for c in here_codes:
        by_guid[c.guid].append(c)
    here_by_id = {c.id: c for c in here_codes}
    for c in sorted(copy.codes.values(), key=lambda c: c.id):
        guid = code_map.get(c.guid, c.guid)
        code_candidates = by_guid.get(guid, [])
        if len(code_candidates) > 1:
            code_candidates = [x for x in code_candidates if x.codebook == c.codebook]
        used = work_codes.get(c.id, 0)
        if len(code_candidates) == 1:
            found_code = code_candidates[0]
            hops = 0
            while found_code.merged_into_id is not None and hops < 100:
                found_code = here_by_id[found_code.merged_into_id]
                hops += 1
            if used and found_code.id != code_candidates[0].id:
                notes.append(
                    f"code {c.name!r} (GUID {c.guid}) was merged into {found_code.name!r} here: its work goes there"
                )
            elif used and found_code.status != "active":
                notes.append(
                    f"code {found_code.name!r} (GUID {found_code.guid}) is retired here: "
                    f"the copy's {used} rows of work on it are merged onto it"
                )
            elif used and found_code.name != c.name and guid == c.guid:
                notes.append(
                    f"code GUID {c.guid} is {found_code.name!r} here and {c.name!r} in the copy: matched by GUID"
                )
            m.code[c.id] = found_code.id
            m.code_name[found_code.id] = found_code.name
            continue
        if not used:
            if not code_candidates:
                notes.append(f"code {c.name!r} (GUID {c.guid}) of the copy is not here; the copy holds no work on it")
            continue
        if not code_candidates and add_missing:
            m.missing_codes.append(c)
            continue
        why = "is not in this project" if not code_candidates else "matches several codes here"
        diffs.append(
            Difference(
                "code",
                f"code {c.name!r} (GUID {c.guid}) of codebook {c.codebook!r} {why}; the copy holds {used} rows of "
                f"work on it (say how: --map {c.guid}=GUID_HERE, or --add-missing-codes)",
                True,
            )
        )
    # Missing codes' parents are added too when they are missing and not in use.
    for c in list(m.missing_codes):
        parent = copy.codes.get(c.parent_id) if c.parent_id is not None else None
        while parent is not None and parent.id not in m.code and parent not in m.missing_codes:
            if by_guid.get(code_map.get(parent.guid, parent.guid)):
                break
            m.missing_codes.append(parent)
            parent = copy.codes.get(parent.parent_id) if parent.parent_id is not None else None

    # Cases, for memos on a case.
    here_cases = {n: (require_id(i), g) for i, n, g in s.exec(select(Case.id, Case.name, Case.guid)).all()}
    needed_cases = {memo.case_id for memo in copy.memos if memo.case_id is not None}
    for copy_case in sorted(needed_cases):
        name, guid = copy.cases[copy_case]
        found = here_cases.get(name)
        if found is None or (guid and found[1] and guid != found[1]):
            diffs.append(Difference("case", f"case {name!r} of the copy is not in this project", True))
            continue
        m.case[copy_case] = found[0]
    return m, diffs, notes


# -- adding missing codes -------------------------------------------------------------------------------


def _add_missing_codes(s: Session, copy: _Copy, m: _Mapping, actor: str, origin: dict[str, str]) -> list[str]:
    """Add the copy's codes this project lacks (GUIDs kept), parents first, to the codebook of the same
    name (or the one sharing the most GUIDs with the copy's codebook); one version per codebook."""
    if not m.missing_codes:
        return []
    from ..codebook.changes import add_code_row
    from ..codebook.model import COMPARED_FIELDS
    from ..codebook.persist import model_from_store, write_version
    from ..codebook.validate import CodebookInvalid, problems_in

    serialize(s, Serialized.CODEBOOK)
    books = {b.name: b for b in s.exec(select(Codebook)).all()}
    guid_book: dict[str, int] = {g: b for g, b in s.exec(select(Code.guid, Code.codebook_id)).all()}
    added: list[str] = []
    pending = sorted(m.missing_codes, key=lambda c: c.id)
    touched: dict[int, Codebook] = {}
    by_copy_book: dict[str, list[str]] = defaultdict(list)
    for c in copy.codes.values():
        by_copy_book[c.codebook].append(c.guid)
    while pending:
        progressed = False
        for c in list(pending):
            if c.parent_id is not None and c.parent_id not in m.code and copy.codes.get(c.parent_id) in pending:
                continue
            book = books.get(c.codebook)
            if book is None:
                shared: dict[int, int] = defaultdict(int)
                for g in by_copy_book[c.codebook]:
                    if g in guid_book:
                        shared[guid_book[g]] += 1
                if shared:
                    best = max(shared, key=lambda k: shared[k])
                    book = next(b for b in books.values() if b.id == best)
            if book is None:
                raise QualcodeError(
                    f"codebook {c.codebook!r} of the copy is not in this project: cannot add {c.name!r}"
                )
            parent = s.get(Code, m.code[c.parent_id]) if c.parent_id is not None and c.parent_id in m.code else None
            row = add_code_row(s, book, c.name, parent, None)
            source_row = copy.code_rows[c.id]
            row.guid = c.guid
            for name in COMPARED_FIELDS:
                if name != "name" and hasattr(source_row, name):
                    setattr(row, name, getattr(source_row, name))
            s.add(row)
            s.flush()
            audit.record(s, actor, "codebook.add", row, after={**audit.row_dict(row), "merged_from": origin})
            m.code[c.id] = require_id(row)
            m.code_name[require_id(row)] = row.name
            touched[require_id(book)] = book
            added.append(f"{c.name} ({c.guid})")
            pending.remove(c)
            progressed = True
        if not progressed:
            raise QualcodeError("the copy's missing codes form a parent cycle: cannot add them")
    for book in touched.values():
        problems = problems_in(model_from_store(s, book))
        if problems:
            raise CodebookInvalid([f"adding the copy's codes refused: {p}" for p in problems])
        write_version(s, book, "add", f"added {len(added)} codes from a merged copy", actor)
    return added


# -- planning and writing --------------------------------------------------------------------------------

Quote = tuple[int | None, int | None, frozenset[tuple[int, int]]]
Key = tuple[int, int, int]  # target coder, target segment, round


def _quote_text(q: Quote) -> str:
    parts = [] if q[0] is None else [f"{q[0]}-{q[1]}"]
    parts += [f"{a}-{b}" for a, b in sorted(q[2])]
    return "+".join(parts) if parts else "whole segment"


@dataclass
class _Plan:
    new_codings: list[dict[str, Any]] = field(default_factory=list)
    new_spans: dict[tuple[int, int, int, int], frozenset[tuple[int, int]]] = field(default_factory=dict)
    copy_sources: dict[tuple[int, int, int, int], str] = field(default_factory=dict)  # kept in the audit
    quote_updates: list[tuple[int, Quote]] = field(default_factory=list)  # target coding id, copy's quote
    removed_codings: list[int] = field(default_factory=list)
    new_done: list[dict[str, Any]] = field(default_factory=list)
    removed_done: list[int] = field(default_factory=list)
    new_memos: list[Memo] = field(default_factory=list)
    memo_updates: list[tuple[int, str]] = field(default_factory=list)


def _plan(
    s: Session, copy: _Copy, m: _Mapping, prefer: Prefer | None
) -> tuple[_Plan, list[Conflict], dict[int, CoderTally]]:
    plan = _Plan()
    conflicts: list[Conflict] = []
    tallies: dict[int, CoderTally] = {}

    def tally(coder_id: int) -> CoderTally:
        if coder_id not in tallies:
            tallies[coder_id] = CoderTally(m.coder_name[coder_id])
        return tallies[coder_id]

    # The copy's work, in this project's ids.
    theirs: dict[Key, dict[int, tuple[Quote, Any]]] = defaultdict(dict)
    their_source: dict[tuple[Key, int], str] = {}  # how a coding was made in the copy (a suggestion, a search)
    for coding_id, sg, cd, cr, r, qs, qe, at, src in copy.codings:
        key = (m.coder[cr], m.segment[sg], r)
        if src:
            their_source[(key, m.code[cd])] = src
        theirs[key].setdefault(m.code[cd], ((qs, qe, copy.spans.get(coding_id, frozenset())), at))
    their_done: dict[Key, Any] = {(m.coder[cr], m.segment[sg], r): at for sg, cr, r, at in copy.statuses}
    for coder_id in set(m.coder.values()):
        tally(coder_id)

    # This project's work of the same coders.
    coder_ids = sorted(set(m.coder.values()))
    ours: dict[Key, dict[int, tuple[int, Quote]]] = defaultdict(dict)
    rows = (
        s.connection()
        .execute(
            wide_select(
                col(Coding.id),
                col(Coding.segment_id),
                col(Coding.code_id),
                col(Coding.coder_id),
                col(Coding.round),
                col(Coding.quote_start),
                col(Coding.quote_end),
            ).where(col(Coding.coder_id).in_(coder_ids))
        )
        .all()
    )
    span_lists: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for coding_id, a, b in s.exec(
        select(QuoteSpan.coding_id, QuoteSpan.start, QuoteSpan.end).where(col(QuoteSpan.coder_id).in_(coder_ids))
    ).all():
        span_lists[coding_id].add((a, b))
    for coding_id, sg, cd, cr, r, qs, qe in rows:
        ours[(cr, sg, r)][cd] = (coding_id, (qs, qe, frozenset(span_lists.get(coding_id, ()))))
    our_done: dict[Key, int] = {
        (cr, sg, r): require_id(i)
        for i, sg, cr, r in s.connection().execute(
            select(SegmentStatus.id, SegmentStatus.segment_id, SegmentStatus.coder_id, SegmentStatus.round).where(
                col(SegmentStatus.coder_id).in_(coder_ids)
            )
        )
    }

    def names(codes: Iterable[int]) -> str:
        return ", ".join(sorted(m.code_name.get(c, str(c)) for c in codes))

    def conflict(key: Key, what: str, here: str, there: str) -> None:
        title, position = m.segment_where[key[1]]
        conflicts.append(Conflict(m.coder_name[key[0]], title, position, key[2], what, here, there))
        tally(key[0]).conflicts += 1

    def add_coding(key: Key, code_id: int, quote: Quote, at: Any) -> None:
        coder_id, segment_id, round_ = key
        plan.new_codings.append(
            {
                "segment_id": segment_id,
                "code_id": code_id,
                "coder_id": coder_id,
                "round": round_,
                "quote_start": quote[0],
                "quote_end": quote[1],
                "source": CodingSource.MERGE.value,
                "created_at": at,
            }
        )
        if quote[2]:
            plan.new_spans[(segment_id, code_id, coder_id, round_)] = quote[2]
        if (key, code_id) in their_source:
            plan.copy_sources[(segment_id, code_id, coder_id, round_)] = their_source[(key, code_id)]
        tally(coder_id).codings_merged += 1

    def take_theirs(key: Key) -> None:
        """This project's work of the coder on ``key`` becomes the copy's."""
        t_codes, c_codes = ours.get(key, {}), theirs.get(key, {})
        for code_id, (coding_id, quote) in t_codes.items():
            if code_id not in c_codes:
                plan.removed_codings.append(coding_id)
                tally(key[0]).codings_removed += 1
            elif c_codes[code_id][0] != quote:
                plan.quote_updates.append((coding_id, c_codes[code_id][0]))
                tally(key[0]).codings_merged += 1
            else:
                tally(key[0]).codings_present += 1
        for code_id, (quote, at) in c_codes.items():
            if code_id not in t_codes:
                add_coding(key, code_id, quote, at)
        if key in their_done and key not in our_done:
            add_done(key)
        elif key in our_done and key not in their_done:
            plan.removed_done.append(our_done[key])
            tally(key[0]).done_removed += 1
        elif key in our_done:
            tally(key[0]).done_present += 1

    def add_done(key: Key) -> None:
        plan.new_done.append({"segment_id": key[1], "coder_id": key[0], "round": key[2], "done_at": their_done[key]})
        tally(key[0]).done_merged += 1

    for key in sorted(set(theirs) | set(their_done)):
        c_codes, t_codes = theirs.get(key, {}), ours.get(key, {})
        t_done, c_done = key in our_done, key in their_done
        if not t_codes and not t_done:  # nothing of this coder here: all of the copy's work is new
            for code_id, (quote, at) in c_codes.items():
                add_coding(key, code_id, quote, at)
            if c_done:
                add_done(key)
            continue
        same_set = set(c_codes) == set(t_codes)
        continued = not t_done and set(c_codes) > set(t_codes)
        if not (same_set or continued):
            conflict(key, "codes", names(t_codes), names(c_codes))
            if prefer is Prefer.THEIRS:
                take_theirs(key)
            continue
        quotes_differ = [c for c in t_codes if c_codes[c][0] != t_codes[c][1]]
        if quotes_differ:
            c = quotes_differ[0]
            conflict(
                key,
                "quote",
                f"{m.code_name[c]} {_quote_text(t_codes[c][1])}",
                f"{m.code_name[c]} {_quote_text(c_codes[c][0])}",
            )
            if prefer is Prefer.THEIRS:
                take_theirs(key)
            continue
        tally(key[0]).codings_present += len(t_codes)
        for code_id, (quote, at) in c_codes.items():
            if code_id not in t_codes:
                add_coding(key, code_id, quote, at)
        if c_done and not t_done:
            add_done(key)
        elif c_done:
            tally(key[0]).done_present += 1

    # Memos: one per coder, kind, what it is on, and round.
    def memo_key(
        memo: Memo, coder_id: int, segment: int | None, code: int | None, case: int | None, tr: int | None
    ) -> tuple[Any, ...]:
        """A memo's identity as the coding screens keep it: on a segment, one per kind and round (its case
        and transcript follow from the segment); on a code, one per code; anything else by all it is on."""
        if segment is not None:
            return (coder_id, memo.kind, "segment", segment, memo.round)
        if memo.kind == "code":
            return (coder_id, memo.kind, "code", code)
        return (coder_id, memo.kind, segment, code, case, tr, memo.round)

    here_memos: dict[tuple[Any, ...], Memo] = {}
    for memo in s.exec(select(Memo).where(col(Memo.coder_id).in_(coder_ids))).all():
        key = memo_key(memo, require_id(memo.coder_id), memo.segment_id, memo.code_id, memo.case_id, memo.transcript_id)
        here_memos[key] = memo
    for memo in copy.memos:
        coder_id = m.coder[require_id(memo.coder_id)]
        segment = m.segment[memo.segment_id] if memo.segment_id is not None else None
        code = m.code[memo.code_id] if memo.code_id is not None else None
        case = m.case[memo.case_id] if memo.case_id is not None else None
        transcript = m.transcript[memo.transcript_id] if memo.transcript_id is not None else None
        key = memo_key(memo, coder_id, segment, code, case, transcript)
        found = here_memos.get(key)
        if found is None:
            plan.new_memos.append(
                Memo(
                    kind=memo.kind,
                    coder_id=coder_id,
                    segment_id=segment,
                    code_id=code,
                    case_id=case,
                    transcript_id=transcript,
                    round=memo.round,
                    label=memo.label,
                    text=memo.text,
                    created_at=_time(memo.created_at),
                    updated_at=_time(memo.updated_at),
                )
            )
            tally(coder_id).memos_merged += 1
        elif (found.text, found.label) == (memo.text, memo.label):
            tally(coder_id).memos_present += 1
        else:
            if segment is not None:
                title, position = m.segment_where[segment]
            else:
                title = f"code {m.code_name.get(code or 0, '')!r}" if memo.kind == "code" else "not on a segment"
                position = 0
            conflicts.append(
                Conflict(
                    m.coder_name[coder_id], title, position, memo.round, f"{memo.kind} memo", found.text, memo.text
                )
            )
            tally(coder_id).conflicts += 1
            if prefer is Prefer.THEIRS:
                plan.memo_updates.append((require_id(found), memo.text))
                tally(coder_id).memos_merged += 1
    return plan, conflicts, tallies


def _event(actor: str, action: str, entity: str, entity_id: int, before: Any, after: Any, at: Any) -> dict[str, Any]:
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "before": before,
        "after": after,
    }


def _iso(value: Any) -> Any:
    """A time as the audit trail writes it (ISO 8601); SQLite's stored text has a space for the ``T``."""
    if isinstance(value, datetime):
        return value.isoformat()
    return value.replace(" ", "T", 1) if isinstance(value, str) else value


def _time(value: Any) -> datetime:
    """A time read from the copy (SQLite keeps UTC without its zone) as an aware datetime, for PostgreSQL."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_COMPACT_JSON = json.JSONEncoder(separators=(",", ":")).encode  # built once: json.dumps with options builds one a call


def _insert(
    s: Session, table: Table, rows: list[dict[str, Any]], *, ids: bool = True, raw: frozenset[str] = frozenset()
) -> list[int]:
    """Insert ``rows`` (dicts of the same keys); the new rows' ids in the same order (when ``ids``).

    SQLite: the driver's executemany, each value through its column's bind processor (``raw`` columns
    hold text already as SQLite stores it), and the ids read back: this
    transaction holds the write lock, and rowids are handed out in order above the highest one
    (SQLAlchemy would have returned them one row at a time). PostgreSQL: INSERT ... RETURNING.
    """
    if not rows:
        return []
    conn = s.connection()
    columns = list(rows[0])
    if conn.dialect.name != "sqlite":
        out: list[int] = []
        for start in range(0, len(rows), WRITE_CHUNK):
            part = [
                {k: (_time(v) if k in raw and v is not None else v) for k, v in r.items()}
                for r in rows[start : start + WRITE_CHUNK]
            ]
            if ids:
                stmt = table.insert().returning(table.c.id, sort_by_parameter_order=True)
                out += [int(r[0]) for r in conn.execute(stmt, part).all()]
            else:
                conn.execute(table.insert(), part)
        return out
    dialect = conn.dialect
    highest = (conn.execute(select(func.max(table.c.id))).scalar() or 0) if ids else 0
    values: list[list[Any]] = []
    for name in columns:
        column = [row[name] for row in rows]
        if name not in raw:
            column_type = table.c[name].type
            processor = column_type.dialect_impl(dialect).bind_processor(dialect)
            done: dict[int, Any] = {}  # by id(): a shared timestamp is processed once
            if isinstance(column_type, JSON):
                null = processor(None) if processor else None
                column = [null if v is None else _COMPACT_JSON(v) for v in column]
            elif processor is not None:
                column = [done[id(v)] if id(v) in done else done.setdefault(id(v), processor(v)) for v in column]
        values.append(column)
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    conn.exec_driver_sql(sql, list(zip(*values, strict=True)))
    if not ids:
        return []
    new = [int(r[0]) for r in conn.execute(select(table.c.id).where(table.c.id > highest).order_by(table.c.id))]
    if len(new) != len(rows):
        raise AssertionError(f"{table.name}: inserted {len(rows)} rows, found {len(new)}")
    return new


def _write(s: Session, plan: _Plan, actor: str, origin: dict[str, str]) -> int:
    """Write the plan and one audit event per row; returns how many events."""
    now = utcnow()
    events: list[dict[str, Any]] = []
    codings = table_of(Coding)
    spans = table_of(QuoteSpan)

    # Removals first (--prefer theirs), so a code removed and added back on a key never collides.
    if plan.removed_codings:
        for gone in s.exec(select(Coding).where(col(Coding.id).in_(plan.removed_codings))).all():
            events.append(
                _event(
                    actor,
                    "merge.coding_remove",
                    "qc_coding",
                    require_id(gone),
                    audit.row_dict(gone),
                    {"merged_from": origin},
                    now,
                )
            )
            s.delete(gone)
    if plan.removed_done:
        for status in s.exec(select(SegmentStatus).where(col(SegmentStatus.id).in_(plan.removed_done))).all():
            events.append(
                _event(
                    actor,
                    "merge.done_remove",
                    "qc_segment_status",
                    require_id(status),
                    audit.row_dict(status),
                    {"merged_from": origin},
                    now,
                )
            )
            s.delete(status)
    s.flush()

    ids = _insert(s, codings, plan.new_codings, raw=frozenset({"created_at"}))
    span_rows: list[dict[str, Any]] = []
    for coding_id, row in zip(ids, plan.new_codings, strict=True):
        after = {"id": coding_id, **row, "created_at": _iso(row["created_at"]), "merged_from": origin}
        row_key = (row["segment_id"], row["code_id"], row["coder_id"], row["round"])
        if row_key in plan.copy_sources:
            after["source_in_copy"] = plan.copy_sources[row_key]
        events.append(_event(actor, "merge.coding", "qc_coding", coding_id, None, after, now))
        extra = plan.new_spans.get(row_key)
        for a, b in sorted(extra or ()):
            span_rows.append({"coding_id": coding_id, "coder_id": row["coder_id"], "start": a, "end": b})
    for coding_id, quote in plan.quote_updates:
        changed = s.get_one(Coding, coding_id)
        before = audit.row_dict(changed)
        changed.quote_start, changed.quote_end = quote[0], quote[1]
        changed.source = CodingSource.MERGE.value
        s.add(changed)
        s.flush()
        s.connection().execute(spans.delete().where(spans.c.coding_id == coding_id))
        span_rows += [
            {"coding_id": coding_id, "coder_id": changed.coder_id, "start": a, "end": b} for a, b in sorted(quote[2])
        ]
        events.append(
            _event(
                actor,
                "merge.quote",
                "qc_coding",
                coding_id,
                before,
                {**audit.row_dict(changed), "merged_from": origin},
                now,
            )
        )
    span_ids = _insert(s, spans, span_rows)
    for span_id, row in zip(span_ids, span_rows, strict=True):
        events.append(
            _event(
                actor,
                "merge.quote_span",
                "qc_quote_span",
                span_id,
                None,
                {"id": span_id, **row, "merged_from": origin},
                now,
            )
        )

    done_ids = _insert(s, table_of(SegmentStatus), plan.new_done, raw=frozenset({"done_at"}))
    for status_id, row in zip(done_ids, plan.new_done, strict=True):
        after = {"id": status_id, **row, "done_at": _iso(row["done_at"]), "merged_from": origin}
        events.append(_event(actor, "merge.done", "qc_segment_status", status_id, None, after, now))

    for memo in plan.new_memos:
        s.add(memo)
    s.flush()
    for memo in plan.new_memos:
        events.append(
            _event(
                actor,
                "merge.memo",
                "qc_memo",
                require_id(memo),
                None,
                {**audit.row_dict(memo), "merged_from": origin},
                now,
            )
        )
    for memo_id, text in plan.memo_updates:
        found = s.get_one(Memo, memo_id)
        before = audit.row_dict(found)
        found.text = text
        found.updated_at = now
        s.add(found)
        s.flush()
        events.append(
            _event(
                actor, "merge.memo", "qc_memo", memo_id, before, {**audit.row_dict(found), "merged_from": origin}, now
            )
        )
    _insert(s, table_of(AuditEvent), events, ids=False)
    return len(events)


# -- the whole merge --------------------------------------------------------------------------------


class _RollBack(Exception):
    """Leaves the transaction without committing (a dry run, or conflicts with no --prefer)."""


def open_copy(path: Path) -> Project:
    """The copy, opened for reading only; anything that is not a qualcode project of this schema is one line."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    try:
        return Project(path, upgrade=False, read_only=True)
    except ProjectError as exc:
        message = str(exc)
        if str(path) not in message:
            message = f"{path}: {message}"
        if "older than" in message:
            message += f" (open it once with `qualcode -p {path} status` to upgrade it, then merge)"
        raise InputError(message) from None


def read_qdpx_copy(path: Path) -> _Copy:
    """A .qdpx copy (as ``qualcode export qdpx`` writes one), imported into a temporary project of its own
    with the REFI-QDA importer and read from there; what the import left out becomes the merge's notes."""
    import tempfile

    from .refi_import import import_refi_project

    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with (
        tempfile.TemporaryDirectory(prefix="qualcode-merge-") as folder,
        Project(Path(folder) / "copy.db", create=True) as temporary,
    ):
        summary = import_refi_project(temporary, path, viewer=None, actor="merge")
        with temporary.read() as cs:
            copy = _read_copy(cs)
    copy.left_out_lines += [f"not imported from the .qdpx: {line}" for line in summary.left_out]
    copy.left_out_lines += [f"importing the .qdpx: {line}" for line in summary.warnings]
    return copy


@dataclass(frozen=True)
class PreparedCopy:
    """A copy read and checked, ready to merge: nothing in it is bad input any more."""

    source: str
    sha256: str
    copy: _Copy


def prepare_copy(project: Project, lead: str | None, other: str | os.PathLike) -> PreparedCopy:
    """Read the copy at ``other`` (a qualcode project file, or a .qdpx qualcode exported) and check it is one
    ``lead`` may merge into ``project``: a file that is not a project, a newer schema, or a copy of a different
    study is one line (``InputError``), before anything is written."""
    path = Path(other).expanduser()
    with project.read() as s:
        require_lead(s, lead, "merging a coder's copy")
    if not project.url.startswith("postgresql") and path.resolve() == Path(project.target).expanduser().resolve():
        raise InputError(f"{path}: is this project itself")
    if project.read_only:
        raise ProjectError(f"project is read-only: {project.shown_target}")
    if path.suffix.lower() == ".qdpx":
        copy = read_qdpx_copy(path)
    else:
        with open_copy(path) as copy_project, copy_project.read() as cs:
            copy = _read_copy(cs)
    hashes = {t.content_hash for t in copy.transcripts.values()}
    with project.read() as s:
        shared = s.exec(
            select(func.count()).select_from(Transcript).where(col(Transcript.content_hash).in_(sorted(hashes)))
        ).one()
    if hashes and not shared:
        raise InputError(
            f"{path}: a copy of a different study: none of its {len(hashes)} transcripts is in this project"
        )
    return PreparedCopy(str(path), file_sha256(path), copy)


def check_code_map(project: Project, code_map: dict[str, str], copies: list[PreparedCopy]) -> None:
    """Every ``--map OLD=NEW`` names a code GUID of some copy and a code GUID of this project."""
    if not code_map:
        return
    theirs = {c.guid for prepared in copies for c in prepared.copy.codes.values()}
    unknown = sorted(set(code_map) - theirs)
    if unknown:
        raise InputError(f"--map {unknown[0]}=...: no code of the copy has that GUID")
    with project.read() as s:
        ours = set(s.exec(select(Code.guid)).all())
    missing = sorted(set(code_map.values()) - ours)
    if missing:
        raise InputError(f"--map ...={missing[0]}: no code of this project has that GUID")


def merge_prepared(
    project: Project,
    lead: str | None,
    prepared: PreparedCopy,
    *,
    code_map: dict[str, str] | None = None,
    add_missing_codes: bool = False,
    prefer: Prefer | None = None,
    dry_run: bool = False,
) -> MergeResult:
    """Merge a prepared copy (see :func:`merge_copy`)."""
    return merge_read_copy(
        project,
        lead or "",
        prepared.copy,
        prepared.source,
        prepared.sha256,
        code_map=code_map or {},
        add_missing_codes=add_missing_codes,
        prefer=prefer,
        dry_run=dry_run,
    )


def merge_copy(
    project: Project,
    lead: str | None,
    other: str | os.PathLike,
    *,
    code_map: dict[str, str] | None = None,
    add_missing_codes: bool = False,
    prefer: Prefer | None = None,
    dry_run: bool = False,
) -> MergeResult:
    """Merge the copy at ``other`` (a qualcode project file, or a .qdpx qualcode exported) into ``project``,
    as ``lead``.

    Nothing is written when the copy's transcripts or codebook differ in a way the options do not
    settle (``Outcome.DIFFERENCES``), when there are conflicts and no ``prefer``
    (``Outcome.CONFLICTS``), or with ``dry_run``; the result says what would have merged.
    """
    prepared = prepare_copy(project, lead, other)
    check_code_map(project, code_map or {}, [prepared])
    return merge_prepared(
        project, lead, prepared, code_map=code_map, add_missing_codes=add_missing_codes, prefer=prefer, dry_run=dry_run
    )


def merge_read_copy(
    project: Project,
    lead: str,
    copy: _Copy,
    source: str,
    sha: str,
    *,
    code_map: dict[str, str],
    add_missing_codes: bool,
    prefer: Prefer | None,
    dry_run: bool,
) -> MergeResult:
    origin = {"path": str(Path(source).resolve()) if source else "", "sha256": sha}
    notes: list[str] = []
    for coder, rows in sorted(copy.left_out_work.items()):
        notes.append(
            f"left out: {rows} rows of work by {coder} in {copy.handout_coder}'s hand-out (only {copy.handout_coder}'s "
            "work is merged from it)"
        )
    if copy.proposals:
        notes.append(f"left out: {copy.proposals} code proposals (propose them again in this project)")
    if copy.consensus:
        notes.append(f"left out: {copy.consensus} consensus decisions (the consensus is made in this project)")
    notes += copy.left_out_lines
    with project.read() as s:
        mapping, differences, match_notes = _match(s, copy, code_map, add_missing_codes, source)
    notes += match_notes
    if any(d.blocking for d in differences):
        return MergeResult(source, sha, Outcome.DIFFERENCES, prefer, differences, [], [], [], notes)
    outcome: Outcome = Outcome.MERGED
    captured: dict[str, Any] = {}
    try:
        with project.transaction() as s:
            added = _add_missing_codes(s, copy, mapping, lead, origin)
            plan, conflicts, tallies = _plan(s, copy, mapping, prefer)
            captured.update(added=added, conflicts=conflicts, tallies=tallies)
            if conflicts and prefer is None:
                outcome = Outcome.CONFLICTS
                raise _RollBack
            if dry_run:
                outcome = Outcome.DRY_RUN
                raise _RollBack
            if not added and not any(t.written for t in tallies.values()):
                outcome = Outcome.NOTHING
                raise _RollBack
            _write(s, plan, lead, origin)
            audit.record(
                s,
                lead,
                "merge.copy",
                entity="merge",
                after={
                    "merged_from": origin,
                    "prefer": prefer.value if prefer else None,
                    "codes_added": added,
                    "conflicts": len(conflicts),
                    "coders": {t.coder: _tally_dict(t) for t in tallies.values()},
                },
            )
    except _RollBack:
        pass
    tallies_list = sorted(captured["tallies"].values(), key=lambda t: t.coder)
    return MergeResult(
        source, sha, outcome, prefer, differences, captured["conflicts"], tallies_list, captured["added"], notes
    )


def _tally_dict(t: CoderTally) -> dict[str, int]:
    return {k: v for k, v in t.__dict__.items() if k != "coder"}


def result_json(result: MergeResult) -> dict[str, Any]:
    return {
        "source": result.source,
        "sha256": result.sha256,
        "outcome": result.outcome.value,
        "prefer": result.prefer.value if result.prefer else None,
        "differences": [d.__dict__ for d in result.differences],
        "conflicts": [c.__dict__ for c in result.conflicts],
        "coders": [{"coder": t.coder, **_tally_dict(t)} for t in result.tallies],
        "codes_added": result.codes_added,
        "notes": result.notes,
    }
