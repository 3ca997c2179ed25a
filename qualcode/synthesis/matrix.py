"""The cross-case memo matrix: codes by cases, each cell counts, memos, quotes and case data.

Rows are codes (counted with every code beneath them), columns the cases (sites) of
the study; ``table(transpose=True)`` swaps them. Each row carries the analyst's
pattern judgement (convergence, divergence, contradiction) and its note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import or_
from sqlmodel import Session, col, select

from ..codebook.lookup import CodeResolver
from ..coding.blinding import visible_coder_ids
from ..coding.layers import layer_select
from ..errors import BlindingError, QualcodeError
from ..store.ids import require_id, wide_select
from ..store.models import Case, CaseAttribute, Coder, Exemplar, Memo, Segment, Speaker, Transcript
from ..table import Table
from .arrays import NO_ID, IdMap, count_pairs, unique_pairs
from .evidence import transcript_texts
from .layers import CodedData, load_coded
from .tree import Rolled
from .units import NON_PARTICIPANT_ROLES, case_attribute_names, case_attribute_values

if TYPE_CHECKING:
    import pandas as pd

CELL_PARTS = ("count", "memo", "quotes")
DEFAULT_CELL = ("count", "memo")


@dataclass
class Quote:
    segment_id: int
    start: int
    end: int
    text: str
    source: str  # "exemplar" (picked by an analyst) or "coded" (a span a coder marked)


@dataclass
class MatrixCell:
    code_id: int
    case_id: int
    segments: int = 0
    participants: int = 0
    memos: list[str] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)  # attribute name -> value as written


@dataclass
class MatrixRow:
    code_id: int
    name: str
    path: str
    key: str | None
    pattern: str | None = None
    pattern_note: str = ""


@dataclass
class MatrixColumn:
    case_id: int
    name: str
    order_value: str | None = None  # the --order-by attribute's value, shown in the header


@dataclass
class CellCounts:
    """Segments and participants per (code, case), as rows-by-columns matrices."""

    code_index: dict[int, int]  # code id -> matrix row (its position in the codebook tree)
    case_index: dict[int, int]  # case id -> matrix column
    segments: np.ndarray
    participants: np.ndarray

    def new_cell(self, code_id: int, case_id: int) -> MatrixCell:
        """The cell with its counts (zero outside the matrix) and no annotations yet."""
        i, j = self.code_index.get(code_id), self.case_index.get(case_id)
        if i is None or j is None:
            return MatrixCell(code_id, case_id)
        return MatrixCell(code_id, case_id, int(self.segments[i, j]), int(self.participants[i, j]))


@dataclass
class MemoMatrix:
    rows: list[MatrixRow]
    columns: list[MatrixColumn]
    cells: dict[tuple[int, int], MatrixCell]  # the annotated cells; the others are counts only
    counted: CellCounts
    data: CodedData
    parts: tuple[str, ...]
    # The (row code, segment) entries behind the counts, kept as arrays for the evidence.
    rolled: Rolled = field(repr=False)
    attribute_specs: tuple[str, ...] = ()
    order_by: str | None = None

    def cell(self, code_id: int, case_id: int) -> MatrixCell:
        return self.cells.get((code_id, case_id)) or self.counted.new_cell(code_id, case_id)

    def counts(self) -> pd.DataFrame:
        """Segments per code (rows, by path) and case (columns)."""
        import pandas as pd

        return pd.DataFrame(
            [[self.cell(r.code_id, c.case_id).segments for c in self.columns] for r in self.rows],
            index=[r.path for r in self.rows],
            columns=[c.name for c in self.columns],
        )

    def _entries(self, code_id: int | None = None, case_id: int | None = None) -> np.ndarray:
        """A mask of the rolled-up entries of the matrix's rows (or one row), optionally in one case."""
        if code_id is None:
            mask = np.isin(self.rolled.row_code_id, [r.code_id for r in self.rows])
        else:
            mask = self.rolled.of_code(code_id) & any(r.code_id == code_id for r in self.rows)
        cases = self.rolled.column("case_id")
        mask &= cases != NO_ID
        if case_id is not None:
            mask &= cases == case_id
        return mask

    def segment_ids(self, code_id: int, case_id: int | None = None) -> list[int]:
        """The segments behind a cell (or a whole row): what its count counts."""
        return self.rolled.segment_id[self._entries(code_id, case_id)].tolist()  # sorted within a row

    def evidence(self, case_id: int | None = None) -> pd.DataFrame:
        """(row_code_id, case_id, segment_id) of every entry behind the matrix, or behind one case."""
        import pandas as pd

        mask = self._entries(case_id=case_id)
        return pd.DataFrame(
            {
                "row_code_id": self.rolled.row_code_id[mask],
                "case_id": self.rolled.column("case_id")[mask],
                "segment_id": self.rolled.segment_id[mask],
            }
        )

    def cell_text(self, cell: MatrixCell) -> str:
        lines = []
        for part in self.parts:
            if part == "count":
                lines.append(
                    f"{cell.segments} {'segment' if cell.segments == 1 else 'segments'}, "
                    f"{cell.participants} {'participant' if cell.participants == 1 else 'participants'}"
                )
            elif part == "memo":
                lines.extend(cell.memos)
            elif part == "quotes":
                lines.extend(f"“{q.text}”" for q in cell.quotes)
        lines.extend(f"{name} = {value}" for name, value in cell.attributes.items())
        return "\n".join(lines)

    def pattern_text(self, row: MatrixRow) -> str:
        if not row.pattern:
            return row.pattern_note
        return f"{row.pattern}: {row.pattern_note}" if row.pattern_note else row.pattern

    def column_header(self, column: MatrixColumn) -> str:
        return f"{column.name} ({self.order_by} = {column.order_value})" if self.order_by else column.name

    def note(self) -> str:
        parts = [
            f"Cells count segments coded with the code (or a code beneath it) in the "
            f"{self.data.layer.description}, and the participants (speakers other than interviewers) in them."
        ]
        if "quotes" in self.parts:
            parts.append("Quotes: exemplars picked by an analyst first, then spans marked by coders.")
        if self.attribute_specs:
            parts.append(f"Case data: {', '.join(self.attribute_specs)}.")
        if self.order_by:
            parts.append(f"Cases are ordered by {self.order_by}.")
        return " ".join(parts)

    def table(self, transpose: bool = False) -> Table:
        """Codes down, cases across (or, transposed, cases down and codes across)."""
        headers = [self.column_header(c) for c in self.columns]
        grid = [[self.cell_text(self.cell(r.code_id, c.case_id)) for c in self.columns] for r in self.rows]
        patterns = [self.pattern_text(r) for r in self.rows]
        if transpose:
            columns = ["Case"] + [r.path for r in self.rows]
            rows = [[headers[j]] + [grid[i][j] for i in range(len(self.rows))] for j in range(len(self.columns))]
            rows.append(["Pattern"] + patterns)
        else:
            columns = ["Code"] + headers + ["Pattern"]
            rows = [[r.path] + grid[i] + [patterns[i]] for i, r in enumerate(self.rows)]
        return Table(
            columns=columns,
            rows=rows,
            title=f"Cross-Case Matrix: {self.data.codebook.name}",
            caption="Codes across cases",
            note=self.note(),
            label="tab:matrix",
        )


def memo_matrix(
    session: Session,
    *,
    codebook: str | None = None,
    layer: str | None = None,
    codes: list[str] | None = None,
    cell: tuple[str, ...] | list[str] = DEFAULT_CELL,
    order_by: str | None = None,
    max_quotes: int = 2,
    viewer: str | None = None,
) -> MemoMatrix:
    """Build the matrix; ``cell`` lists count, memo, quotes and case attributes to show.

    An attribute may name one attribute for every row (``level``), a template
    (``survey_{key}``), or a prefix that the code key completes (``survey`` -> ``survey_SV``).
    """
    data = load_coded(session, codebook=codebook, layer=layer, viewer=viewer)
    parts = tuple(p for p in cell if p in CELL_PARTS)
    attribute_specs = tuple(p for p in cell if p not in CELL_PARTS)
    tree_codes = data.tree.codes
    if codes:
        resolver = CodeResolver(session, data.codebook)
        wanted = [resolver.resolve(name).id for name in codes]
        tree_codes = [data.tree.by_id[cid] for cid in wanted if cid in data.tree.by_id]
    rows = [MatrixRow(c.id, c.name, c.path, c.key) for c in tree_codes]
    columns = _ordered_cases(session, order_by)

    rolled = data.tree.rollup(data.codings)
    counted = _count_cells(session, rolled, rows, columns)
    cells: dict[tuple[int, int], MatrixCell] = {}

    def cell_at(code_id: int, case_id: int) -> MatrixCell:
        if (code_id, case_id) not in cells:
            cells[(code_id, case_id)] = counted.new_cell(code_id, case_id)
        return cells[(code_id, case_id)]

    row_ids = {r.code_id for r in rows}
    case_ids = {c.case_id for c in columns}
    visible = _visible_memo_authors(session, viewer)
    if "memo" in parts:
        for memo, _ in _memos(session, "cell", row_ids, visible):
            if memo.case_id in case_ids:
                cell_at(memo.code_id, memo.case_id).memos.append(memo.text)
    patterns = {}
    analysts = _analyst_ids(session)
    for memo, _ in _memos(session, "pattern", row_ids, visible):
        if memo.coder_id in analysts:  # row judgements are the lead's; the latest wins (ordered by time)
            patterns[memo.code_id] = memo
    for row in rows:
        if row.code_id in patterns:
            row.pattern, row.pattern_note = patterns[row.code_id].label, patterns[row.code_id].text
    if "quotes" in parts:
        _add_quotes(session, data, row_ids, case_ids, cell_at, max_quotes, with_exemplars=visible is None)
    for spec in attribute_specs:
        for row in rows:
            name = _attribute_for_row(session, spec, row)
            if name is None:
                continue
            for case_id, value in case_attribute_values(session, name).items():
                if case_id in case_ids:
                    cell_at(row.code_id, case_id).attributes[name] = value
    return MemoMatrix(rows, columns, cells, counted, data, parts, rolled, attribute_specs, order_by)


def _visible_memo_authors(session: Session, viewer: str | None) -> set[int] | None:
    """Whose cell memos and pattern judgements ``viewer`` may read; ``None`` means everyone's.

    While the project is blinded a coder reads only their own: the lead's analysis (cell memos,
    pattern judgements, picked exemplars) is built on every coder's work and would tell a coder
    what the others found. After unblinding everyone reads everything.
    """
    try:
        return visible_coder_ids(session, viewer)
    except BlindingError:
        return set()


def _analyst_ids(session: Session) -> set[int]:
    return {require_id(c) for c in session.exec(select(Coder).where(col(Coder.role).in_(("lead", "auditor"))))}


def _memos(session: Session, kind: str, code_ids: set[int], visible: set[int] | None):
    stmt = (
        select(Memo, Coder.name)
        .outerjoin(Coder, col(Coder.id) == Memo.coder_id)
        .where(Memo.kind == kind, col(Memo.code_id).in_(code_ids))
        .order_by(col(Memo.updated_at), col(Memo.id))
    )
    if visible is not None:  # a blinded coder: their own memos only (an unattributed one may be anyone's)
        stmt = stmt.where(col(Memo.coder_id).in_(visible))
    return session.exec(stmt).all()


def _ordered_cases(session: Session, order_by: str | None) -> list[MatrixColumn]:
    cases = [(require_id(c), c.name) for c in session.exec(select(Case))]
    if not order_by:
        return [MatrixColumn(cid, name) for cid, name in sorted(cases, key=lambda c: c[1].casefold())]
    attrs = session.exec(select(CaseAttribute).where(CaseAttribute.name == order_by)).all()
    if not attrs:
        known = ", ".join(case_attribute_names(session)) or "none yet"
        raise QualcodeError(f"unknown case attribute {order_by!r} for --order-by (attributes: {known})")
    by_case = {a.case_id: a for a in attrs}
    numeric = all(a.type == "number" and a.number is not None for a in attrs)

    def key(case: tuple[int, str]):
        attr = by_case.get(case[0])
        if attr is None:  # cases without the attribute go last
            return (1, 0, "", case[1].casefold())
        return (0, attr.number if numeric else 0, "" if numeric else attr.value.casefold(), case[1].casefold())

    return [
        MatrixColumn(cid, name, by_case[cid].value if cid in by_case else "–") for cid, name in sorted(cases, key=key)
    ]


def _attribute_for_row(session: Session, spec: str, row: MatrixRow) -> str | None:
    names = set(case_attribute_names(session))
    if "{" in spec:
        name = spec.format(key=row.key or "", name=row.name)
        return name if name in names else None
    if spec in names:
        return spec
    if row.key and f"{spec}_{row.key}" in names:
        return f"{spec}_{row.key}"
    if not any(n.startswith(f"{spec}_") for n in names):
        known = ", ".join(sorted(names)) or "none yet"
        raise QualcodeError(f"unknown case attribute {spec!r} in --cell (attributes: {known})")
    return None


def _count_cells(session: Session, rolled: Rolled, rows: list[MatrixRow], columns: list[MatrixColumn]) -> CellCounts:
    """Segments and participants (speakers other than interviewers) of every row's code in every case."""
    n_codes, width = len(rolled.tree.codes), len(columns)
    column_of_case = {c.case_id: j for j, c in enumerate(columns)}
    segments = rolled.per_row_and(IdMap.of(column_of_case.items(), missing=-1).lookup(rolled.column("case_id")), width)
    # A participant belongs to one transcript, so to one case: count distinct (row, speaker) pairs in its column.
    people = session.exec(
        select(Speaker.id, Transcript.case_id)
        .join(Transcript, col(Transcript.id) == Speaker.transcript_id)
        .where(or_(col(Speaker.role).is_(None), col(Speaker.role).not_in(NON_PARTICIPANT_ROLES)))
    ).all()
    # Speakers of transcripts without a case stay out of the map, so they look up as -1 like unknown ones.
    column_of_person = IdMap.of(
        ((sid, column_of_case.get(cid, -1)) for sid, cid in people if cid is not None), missing=-1
    )
    speakers = rolled.column("speaker_id")
    counted = column_of_person.lookup(speakers) >= 0
    row, speaker = unique_pairs(rolled.row[counted], speakers[counted])
    participants = count_pairs(row, column_of_person.lookup(speaker), n_codes, width)
    code_index = {r.code_id: rolled.tree.order[r.code_id] for r in rows}
    return CellCounts(code_index, column_of_case, segments, participants)


def _add_quotes(session, data, row_ids, case_ids, cell_at, max_quotes, *, with_exemplars: bool) -> None:
    """Exemplars first, then the spans coders marked (by segment), up to ``max_quotes`` per cell.

    ``with_exemplars``: the lead's picked exemplars, for whoever may read every coder's work (a
    blinded coder may not). A span shown as an exemplar is not shown again as a coded span.
    """
    leads = select(Coder.name).where(Coder.role == "lead")
    exemplars = (
        session.exec(
            select(Exemplar)
            .where(col(Exemplar.code_id).in_(row_ids), col(Exemplar.chosen_by).in_(leads))
            .order_by(col(Exemplar.created_at), col(Exemplar.id))
        ).all()
        if with_exemplars
        else []
    )
    marked = _marked_spans(session, data, row_ids)
    exemplar_transcripts = (
        dict(
            session.exec(
                select(Segment.id, Segment.transcript_id).where(col(Segment.id).in_({e.segment_id for e in exemplars}))
            ).all()
        )
        if exemplars
        else {}
    )
    texts = transcript_texts(session, [m[5] for m in marked] + list(exemplar_transcripts.values()))
    for ex in exemplars:
        if ex.case_id in case_ids:
            quotes = cell_at(ex.code_id, ex.case_id).quotes
            if len(quotes) < max_quotes:
                text = texts[exemplar_transcripts[ex.segment_id]][ex.start : ex.end]
                quotes.append(Quote(ex.segment_id, ex.start, ex.end, text, "exemplar"))
    for row_code_id, segment_id, case_id, start, end, transcript_id in marked:
        if case_id in case_ids:
            quotes = cell_at(row_code_id, case_id).quotes
            shown = any((q.segment_id, q.start, q.end) == (segment_id, start, end) for q in quotes)
            if len(quotes) < max_quotes and not shown:
                quotes.append(Quote(segment_id, start, end, texts[transcript_id][start:end], "coded"))


def _marked_spans(session: Session, data: CodedData, row_ids: set[int]) -> list[tuple[int, int, int, int, int, int]]:
    """(row code, segment, case, start, end, transcript) of the quote spans in the layer, by segment.

    Read only when quotes are shown. Like the counts, a span counts for its code and every
    ancestor, once per (row code, segment): the code first in codebook order wins.
    """
    layer = layer_select(data.layer.coder_id, codebook_id=data.codebook.id).subquery("layer")
    spans = session.exec(
        wide_select(
            layer.c.code_id,
            layer.c.segment_id,
            col(Transcript.case_id),
            layer.c.quote_start,
            layer.c.quote_end,
            col(Segment.transcript_id),
        )
        .join(Segment, col(Segment.id) == layer.c.segment_id)
        .join(Transcript, col(Transcript.id) == Segment.transcript_id)
        .where(layer.c.quote_start.is_not(None), layer.c.quote_end.is_not(None), col(Transcript.case_id).is_not(None))
    ).all()
    tree = data.tree
    spans = sorted((s for s in spans if s[0] in tree.order), key=lambda s: (s[1], tree.order[s[0]]))
    marked, seen = [], set()
    for code_id, segment_id, case_id, start, end, transcript_id in spans:
        for row_code_id in tree.by_id[code_id].ancestors:
            if row_code_id in row_ids and (row_code_id, segment_id) not in seen:
                seen.add((row_code_id, segment_id))
                marked.append((row_code_id, segment_id, case_id, start, end, transcript_id))
    return marked
