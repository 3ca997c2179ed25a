"""Codings CSV exchange: ``transcript,segment,coder,code[,case,round,start,end]``.

``transcript`` is the title (with ``case`` where two cases hold a transcript of the
same title), ``segment`` the 1-based position, ``code`` the code's
name where unique or its path joined with " > ". Importing checks every row first
and reports every bad row with its line number; nothing is written unless all are good.
Files are decoded like transcripts (``qualcode.ingest.decoding``: BOM, UTF-16, cp1252).

Who may import: a coder only rows naming themselves; the lead anyone's rows and the
consensus layer. The importer must say who they are (``--as``), so no one writes (or
probes, by the counts written) another coder's layer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select

from ..codebook.lookup import CodeResolver, get_codebook
from ..decoding import read_text
from ..errors import BlindingError, InputError, QualcodeError, located
from ..store.access import Access
from ..store.enums import CodingSource
from ..store.ids import require_id, wide_select
from ..store.models import Case, Code, Coder, Coding, RoundTranscript, Segment, SegmentStatus, Transcript
from ..table import CSV_TEXT_MARK, safe_csv_cell, unmark_csv_cell
from .blinding import find_coder, require_lead, require_reader, visible_coder_ids
from .bulk import (
    CodingRow,
    NewDecision,
    missing_done_marks,
    prepare_codings,
    prepare_decisions,
    write_codings,
    write_done_marks,
    write_in_chunks,
    write_prepared_decisions,
)
from .layers import CONSENSUS, layer_codings

REQUIRED = ("transcript", "segment", "coder", "code")
OPTIONAL = ("case", "round", "start", "end")
MAX_ERRORS_SHOWN = 20


def _int(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise QualcodeError(f"{what} {value!r} is not a whole number") from None


def import_codings(
    session: Session, path: str | Path, actor: str, *, consensus: bool = False, codebook: str | None = None
) -> int:
    """Import a codings CSV (as ``actor``) in ``session``'s transaction; with ``consensus`` the rows
    become consensus decisions.

    Returns the number of rows written. Raises ``InputError`` listing every bad row.
    """
    plan = plan_import(session, path, actor, consensus=consensus, codebook=codebook)
    if consensus:
        written = write_prepared_decisions(session, prepare_decisions(actor, _decisions(plan.rows)))
    else:
        written = write_codings(session, prepare_codings(actor, _codings(plan.rows)))
    write_done_marks(session, missing_done_marks(session, plan.finished))
    return written


def import_codings_in_chunks(
    access: Access, path: str | Path, actor: str, *, consensus: bool = False, codebook: str | None = None
) -> int:
    """``import_codings`` for a project: every row is checked first (reading, no lock), then the rows
    are written in short transactions (``bulk.write_in_chunks``: each about ``TARGET_CHUNK_S`` of
    work under the lock) so coders' keys never wait for the whole file.

    Not one transaction: a run stopped midway (a kill, a full disk) leaves the chunks written so far,
    and running the same import again writes the rest (stored codings are skipped; decisions are set
    to the same values again). Nothing is written when any row is bad.
    """
    with access.read() as session:
        plan = plan_import(session, path, actor, consensus=consensus, codebook=codebook)
        marks = missing_done_marks(session, plan.finished)
    if consensus:
        written = write_in_chunks(
            access,
            _decisions(plan.rows),
            write_prepared_decisions,
            prepare=lambda part: prepare_decisions(actor, part),
        )
    else:
        written = write_in_chunks(
            access, _codings(plan.rows), write_codings, prepare=lambda part: prepare_codings(actor, part)
        )
    write_in_chunks(access, marks, write_done_marks)
    return written


def _codings(rows: Sequence[PlannedRow]) -> list[CodingRow]:
    source = CodingSource.IMPORT
    return [
        (r.segment_id, r.code_id, r.coder_id, r.round, r.quote_start, r.quote_end, source)
        for r in rows
        if r.coder_id is not None
    ]


def _decisions(rows: Sequence[PlannedRow]) -> list[NewDecision]:
    return [NewDecision(r.segment_id, r.code_id, True, "import", r.round, r.quote_start, r.quote_end) for r in rows]


@dataclass(frozen=True, slots=True)
class PlannedRow:
    """One checked row of a codings file, as ids (``coder_id`` None: a consensus row)."""

    segment_id: int
    transcript_id: int
    coder_id: int | None
    code_id: int
    round: int
    quote_start: int | None
    quote_end: int | None


@dataclass(frozen=True, slots=True)
class ImportPlan:
    rows: list[PlannedRow]
    finished: set[tuple[int, int, int]]  # (transcript id, coder id, round) whose segments the import marks done


def plan_import(
    session: Session, path: str | Path, actor: str, *, consensus: bool = False, codebook: str | None = None
) -> ImportPlan:
    """Check every row of a codings CSV; nothing is written. Raises ``InputError`` listing every bad row."""
    path = Path(path)
    if consensus:
        require_lead(session, actor or None, "importing consensus codings")
    importer = _importer(session, actor)
    try:
        return _check_rows(session, path, read_text(path), importer, consensus, codebook)
    except csv.Error as exc:
        raise InputError(located(path, f"not a readable CSV file ({exc})")) from None


def _importer(session: Session, actor: str) -> Coder:
    """The importing coder; a lead may import anyone's rows, others only their own (checked per row)."""
    if not actor:
        raise BlindingError(
            "importing codings: say who you are with --as NAME (a coder imports their own codings; the lead anyone's)"
        )
    return find_coder(session, actor)


def _columns(fieldnames: list[str]) -> dict[str, int]:
    """``{column name: index}`` of a header as ``csv.DictReader`` then a lower-cased key reads it: of
    repeated names, the last cell wins."""
    by_raw: dict[str, int] = {}
    for index, name in enumerate(fieldnames):
        by_raw[name] = index  # a repeated header keeps its first place and its last cell, as in a dict
    return {name.strip().lower(): index for name, index in by_raw.items()}


def _check_rows(
    session: Session, path: Path, text: str, importer: Coder, consensus: bool, codebook: str | None
) -> ImportPlan:
    reader = csv.reader(io.StringIO(text))
    fieldnames = next(reader, None) or []
    header = [h.strip().lower() for h in fieldnames]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(located(path, f"missing column(s): {', '.join(missing)}", 1))
    columns = _columns(fieldnames)
    width = len(fieldnames)
    # The eight cells a row is read by, in the order of REQUIRED + OPTIONAL ("" where a column is absent).
    wanted = [columns.get(name, width) for name in (*REQUIRED, *OPTIONAL)]
    take = itemgetter(*wanted)
    cb = get_codebook(session, codebook)
    resolver = CodeResolver(session, cb)
    case_names = {c.id: c.name.casefold() for c in session.exec(select(Case))}
    titles: dict[str, list[Transcript]] = {}
    for t in session.exec(select(Transcript)):
        titles.setdefault(t.title.casefold(), []).append(t)
    coders = {c.name: c for c in session.exec(select(Coder))}
    coder_ids = {name: require_id(c) for name, c in coders.items()}
    # Rounds past the first exist only for the transcripts the lead sent to them.
    opened = {(t, r) for t, r in session.exec(select(RoundTranscript.transcript_id, RoundTranscript.round)).all()}
    # Each transcript's segments, loaded once when a row first names it: {position: (id, start, end)}.
    segments: dict[int, dict[int, tuple[int, int, int]]] = {}
    # What a cell (or a pair of cells) names, worked out once per distinct text: a file repeats them.
    transcripts: dict[tuple[str, str], Transcript | str] = {}  # (transcript, case): the transcript or why not
    codes: dict[str, int | str] = {}  # code cell: its id or why not
    numbers: dict[str, int] = {}
    lead_imports = consensus or importer.role == "lead"
    errors: list[str] = []
    rows: list[PlannedRow] = []
    finished: set[tuple[int, int, int]] = set()

    def number(value: str, what: str) -> int:
        known = numbers.get(value)
        if known is None:
            known = numbers[value] = _int(value, what)
        return known

    line = 1
    for raw in reader:
        if not raw:  # csv.DictReader skips empty rows without counting them
            continue
        line += 1
        if len(raw) > width:
            errors.append(
                located(path, f"{len(raw) - width} cell(s) more than the {len(header)} columns of the header", line)
            )
            continue
        raw.append("")  # index ``width``: an absent optional column; and cells a short row lacks
        if len(raw) <= width:  # (csv.DictReader fills missing cells with nothing)
            raw += [""] * (width + 1 - len(raw))
        # Our own exports mark text a spreadsheet would run as a formula: read it back as written.
        cells = [cell.strip() for cell in take(raw)]
        title, segment, coder_name, code_text, case, round_text, start_text, end_text = [
            unmark_csv_cell(cell) if cell[:1] == CSV_TEXT_MARK else cell for cell in cells
        ]
        try:
            if not lead_imports and coder_name != importer.name:
                raise BlindingError(
                    f"a row for coder {coder_name!r}: {importer.name} may import only their own "
                    "codings (the lead imports anyone's)"
                )
            found = transcripts.get((title, case))
            if found is None:
                found = transcripts[(title, case)] = _find_transcript(titles, case_names, title, case)
            if isinstance(found, str):
                raise QualcodeError(found)
            transcript = found
            transcript_id = require_id(transcript)
            if not code_text:  # a coder finished the transcript and found nothing (more) to code
                row = {"coder": coder_name, "round": round_text, "start": start_text, "end": end_text}
                finished.add(_finished_nothing(row, transcript, transcript_id, coders, consensus, opened))
                continue
            position = number(segment, "segment")
            if transcript_id not in segments:
                segments[transcript_id] = {
                    pos: (sid, a, b)
                    for sid, pos, a, b in session.exec(
                        select(Segment.id, Segment.position, Segment.start, Segment.end).where(
                            Segment.transcript_id == transcript_id
                        )
                    ).all()
                    if sid is not None
                }
            seg = segments[transcript_id].get(position)
            if seg is None:
                raise QualcodeError(f"segment {position} is out of range for {transcript.title!r}")
            coder_id = coder_ids.get(coder_name) if coder_name or not consensus else None
            if coder_id is None and not consensus:
                raise QualcodeError(f"unknown coder {coder_name!r}")
            code_id = codes.get(code_text)
            if code_id is None:
                code_id = codes[code_text] = _find_code(resolver, code_text)
            if isinstance(code_id, str):
                raise QualcodeError(code_id)
            round_ = number(round_text, "round") if round_text else 1
            if round_ < 1:
                raise QualcodeError(f"round {round_} does not exist (rounds start at 1)")
            if round_ > 1 and (transcript_id, round_) not in opened:
                raise QualcodeError(f"round {round_} was never opened for {transcript.title!r}")
            start = number(start_text, "start") if start_text else None
            end = number(end_text, "end") if end_text else None
            seg_id, seg_start, seg_end = seg
            if (start is None) != (end is None) or (
                start is not None and end is not None and not (seg_start <= start < end <= seg_end)
            ):
                raise QualcodeError(f"start/end must both lie inside the segment ({seg_start}-{seg_end})")
            if consensus:
                coder_id = None
            rows.append(PlannedRow(seg_id, transcript_id, coder_id, code_id, round_, start, end))
            if coder_id is not None:
                finished.add((transcript_id, coder_id, round_))
        except QualcodeError as exc:
            errors.append(located(path, str(exc), line))
    if errors:
        shown = "; ".join(errors[:MAX_ERRORS_SHOWN])
        more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more)" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise InputError(f"{len(errors)} bad row(s), nothing imported: {shown}{more}")
    return ImportPlan(rows, finished)


def _find_transcript(
    titles: dict[str, list[Transcript]], case_names: dict[int | None, str], title: str, case: str
) -> Transcript | str:
    """The transcript a row's title (and case) names, or why there is none."""
    found = titles.get(title.casefold(), [])
    if case:
        found = [t for t in found if case_names.get(t.case_id) == case.casefold()]
    if len(found) != 1:
        hint = " (add a case column)" if len(found) > 1 else ""
        return f"{'ambiguous' if found else 'unknown'} transcript {title!r}{hint}"
    return found[0]


def _find_code(resolver: CodeResolver, text: str) -> int | str:
    """The id of the code a row's cell names, or why there is none."""
    try:
        return require_id(resolver.resolve(text))
    except QualcodeError as exc:
        return str(exc)


def _finished_nothing(
    row: dict[str, str],
    transcript: Transcript,
    transcript_id: int,
    coders: dict[str, Coder],
    consensus: bool,
    opened: set[tuple[int, int]],
) -> tuple[int, int, int]:
    """A row with an empty code: ``coder`` finished ``transcript`` in ``round`` (every segment done).

    It records the coder's judgement that the rest of the transcript has nothing to code, so its
    segments count as units (coded with nothing) for agreement. The segment cell is ignored.
    """
    if consensus:
        raise QualcodeError("a row with an empty code marks a coder's transcript finished; the consensus has none")
    coder = coders.get(row["coder"])
    if coder is None:
        raise QualcodeError(f"unknown coder {row['coder']!r}")
    round_ = _int(row["round"], "round") if row.get("round") else 1
    if round_ < 1 or (round_ > 1 and (transcript_id, round_) not in opened):
        raise QualcodeError(f"round {round_} was never opened for {transcript.title!r}")
    if row.get("start") or row.get("end"):
        raise QualcodeError("a row with an empty code (finished, nothing to code) takes no start or end")
    return (transcript_id, require_id(coder), round_)


def export_codings(session: Session, viewer: str | None, *, layer: str | None = None, round: int | None = None) -> str:
    """Codings as CSV text (the import format). ``layer`` "consensus" or a coder's name; default every visible coder."""
    visible = visible_coder_ids(session, viewer)
    if layer and layer != CONSENSUS:
        wanted = find_coder(session, layer)
        if visible is not None and wanted.id not in visible:
            raise BlindingError(f"the project is blinded: {viewer} may not see {layer}'s codings")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*REQUIRED, *OPTIONAL])  # cells go through safe_csv_cell: no live formula in a spreadsheet
    cases = {c.id: c.name for c in session.exec(select(Case))}
    code_rows = {c.id: c for c in session.exec(select(Code))}
    by_codebook: dict[int, CodeResolver] = {}

    def code_label(code_id: int) -> str:
        code = code_rows[code_id]
        if code.codebook_id not in by_codebook:
            from ..store.models import Codebook

            by_codebook[code.codebook_id] = CodeResolver(
                session, session.get_one(Codebook, code.codebook_id), include_retired=True
            )
        resolver = by_codebook[code.codebook_id]
        return code.name if resolver.find(code.name) is code else resolver.path(code)

    seg_info = {
        sid: (title, pos, cases.get(case_id, ""))
        for sid, title, pos, case_id in session.exec(
            select(Segment.id, Transcript.title, Segment.position, Transcript.case_id).join(
                Transcript, col(Transcript.id) == Segment.transcript_id
            )
        ).all()
    }
    if layer == CONSENSUS:
        require_reader(session, viewer)
        frame = layer_codings(session, CONSENSUS)
        records = [
            (*seg_info[s][:2], CONSENSUS, code_label(c), seg_info[s][2], "", _offset(qs), _offset(qe))
            for s, c, qs, qe in frame.itertuples(index=False)
        ]
    else:
        stmt = wide_select(
            col(Coding.segment_id),
            col(Coder.name),
            col(Coding.code_id),
            col(Coding.round),
            col(Coding.quote_start),
            col(Coding.quote_end),
            col(Coder.id),
        ).join(Coder, col(Coder.id) == Coding.coder_id)
        if layer:
            stmt = stmt.where(Coder.name == layer)
        if round is not None:
            stmt = stmt.where(Coding.round == round)
        records = [
            (*seg_info[s][:2], name, code_label(c), seg_info[s][2], r, qs, qe)
            for s, name, c, r, qs, qe, cid in session.exec(stmt).all()
            if visible is None or cid in visible
        ]
        records += _finished_with_nothing(session, records, cases, layer, round, visible)
    for rec in sorted(records, key=lambda r: (r[4], r[0], r[1] or 0, r[2], r[3])):
        writer.writerow(["" if v is None else safe_csv_cell(v) for v in rec])
    return out.getvalue()


def _offset(value: Any) -> int | None:
    """A quote offset from a pandas frame: a float column (648.0), NaN where there is no span."""
    return None if value is None or value != value else int(value)


def _finished_with_nothing(
    session: Session,
    records: list[tuple],
    cases: dict[int | None, str],
    layer: str | None,
    round: int | None,
    visible: set[int] | None,
) -> list[tuple]:
    """Rows with an empty code for each transcript a coder finished (every segment done) with no coding."""
    coded = {(title, case, name, r) for title, _pos, name, _code, case, r, _qs, _qe in records}
    sizes = dict(session.exec(select(Segment.transcript_id, func.count()).group_by(col(Segment.transcript_id))).all())
    stmt = (
        wide_select(
            col(Transcript.title),
            col(Transcript.case_id),
            col(Coder.name),
            col(SegmentStatus.round),
            col(Transcript.id),
            col(Coder.id),
            func.count(),
        )
        .join(Segment, col(Segment.id) == SegmentStatus.segment_id)
        .join(Transcript, col(Transcript.id) == Segment.transcript_id)
        .join(Coder, col(Coder.id) == SegmentStatus.coder_id)
        .group_by(
            col(Transcript.title),
            col(Transcript.case_id),
            col(Coder.name),
            col(SegmentStatus.round),
            col(Transcript.id),
            col(Coder.id),
        )
    )
    if layer:
        stmt = stmt.where(Coder.name == layer)
    if round is not None:
        stmt = stmt.where(SegmentStatus.round == round)
    rows = []
    for title, case_id, name, round_, transcript_id, coder_id, done in session.exec(stmt).all():
        case = cases.get(case_id, "")
        if (
            (visible is None or coder_id in visible)
            and done == sizes.get(transcript_id)
            and ((title, case, name, round_) not in coded)
        ):
            rows.append((title, None, name, "", case, round_, None, None))
    return rows
