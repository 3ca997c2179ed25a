"""The cross-case memo matrix (lead writes; auditors may look): codes by cases, each cell
with its counts, memos and quotes. Move between cells; ``m`` edits the cell memo, ``p``
the row's pattern judgement, Enter opens the segments behind a cell (or a whole row)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static

from ...synthesis.annotations import set_cell_memo, set_pattern
from ...synthesis.matrix import MatrixColumn, MatrixRow, MemoMatrix
from ...synthesis.queries import MatrixView, matrix_view, own_cell_memo
from .. import bindings as keys
from ..widgets.columns import SCROLLBAR, fit_columns, literal, text_width
from ..widgets.empty_state import Missing, missing_title, read_or_missing
from ..widgets.lead_screen import LeadScreen, next_in
from ..widgets.pattern_dialog import PatternDialog
from .dialogs import MemoDialog
from .evidence import EvidenceScreen

CELL_PARTS = ("count", "memo", "quotes")
PATTERN_STYLES = {"convergence": "green", "divergence": "yellow", "contradiction": "bold red"}
# A pattern column is never cut below its longest label, nor drawn wider than this.
PATTERN_MIN = max(len(label) for label in PATTERN_STYLES) + 1  # and the "…" of a note cut short
PATTERN_MAX = 40
CODE_MIN = 20
CODE_MIN_COMPACT = 14  # the code column's least width when the cells are written short


@dataclass(frozen=True)
class MatrixChoice:
    layer: str | None = None
    order_by: str | None = None
    transpose: bool = False


@dataclass(frozen=True)
class Spot:
    """What the cursor is on: a cell (row and case), or a row's pattern (case None)."""

    row: MatrixRow
    column: MatrixColumn | None


def cell_summary(matrix: MemoMatrix, row: MatrixRow, column: MatrixColumn, compact: bool = False) -> Text:
    """``5 seg · 3 p ✎ ❝``; ``compact`` (when the cases do not fit otherwise): ``5/3✎❝``."""
    cell = matrix.cell(row.code_id, column.case_id)
    counts = f"{cell.segments}/{cell.participants}" if compact else f"{cell.segments} seg · {cell.participants} p"
    text = Text(counts, style="" if cell.segments else "dim")
    gap = "" if compact else " "
    if cell.memos:
        text.append(f"{gap}✎", style="bold cyan")
    if cell.quotes:
        text.append(f"{gap}❝", style="magenta")
    return text


COMPACT_LEGEND = "cells: segments/participants"


def pattern_summary(row: MatrixRow) -> Text:
    if not row.pattern:
        return literal(row.pattern_note, style="dim")
    text = literal(row.pattern, style=PATTERN_STYLES.get(row.pattern, ""))
    if row.pattern_note:
        text.append(f": {row.pattern_note}")
    return text


class MemoMatrixScreen(LeadScreen):
    BINDINGS = keys.bindings("matrix")
    what = "the memo matrix"
    LEAD_ACTIONS = frozenset({"cell_memo", "pattern"})
    DEFAULT_CSS = """
    MemoMatrixScreen #matrix-title { height: auto; padding: 0 1; background: $primary-background; }
    MemoMatrixScreen #matrix-table { height: 1fr; }
    MemoMatrixScreen #matrix-detail-pane { height: 12; border-top: solid $panel; padding: 0 1; }
    """

    def __init__(self, choice: MatrixChoice | None = None) -> None:
        super().__init__()
        self.choice = choice or MatrixChoice()
        self.content: MatrixView | None = None
        self.grid: list[list[Spot]] = []
        self.compact = False

    def compose(self) -> ComposeResult:
        yield Static("Memo matrix · loading…", id="matrix-title")
        yield DataTable(id="matrix-table", cursor_type="cell")
        with VerticalScroll(id="matrix-detail-pane"):
            yield Static("", id="matrix-detail")
        yield Footer()

    def read(self) -> MatrixView | Missing:
        def view() -> MatrixView:
            content = matrix_view(
                self.app.project,
                self.app.coder_name,
                layer=self.choice.layer,
                order_by=self.choice.order_by,
                cell=CELL_PARTS,
            )
            self.choice = replace(self.choice, layer=content.layer)
            return content

        return read_or_missing(self.app.project, view, first=self.last_content is None)

    def show(self, content: MatrixView | Missing) -> None:
        if isinstance(content, Missing):
            self.content, self.grid = None, []
            self.query_one("#matrix-title", Static).update(missing_title("Memo matrix", content))
            self.query_one(DataTable).clear(columns=True)
            self.query_one("#matrix-detail", Static).update("")
            return
        self.content = content
        m = content.matrix
        title = Text()
        title.append(f"Memo matrix · {m.data.codebook.name}", style="bold")
        title.append(f" · {m.data.layer.description}")
        title.append(f" · cases ordered by {m.order_by}" if m.order_by else " · cases by name")
        if self.choice.transpose:
            title.append(" · transposed")
        table = self.query_one(DataTable)
        keep = table.cursor_coordinate
        table.clear(columns=True)
        if self.choice.transpose:
            self.fill_transposed(table, m)
        else:
            self.fill(table, m)
        if self.compact:
            title.append(f" · {COMPACT_LEGEND}", style="dim")
        self.query_one("#matrix-title", Static).update(title)
        if self.grid:
            table.move_cursor(row=min(keep.row, len(self.grid) - 1), column=min(max(keep.column, 1), len(self.grid[0])))
        table.focus()
        self.show_detail()

    def case_header(self, m: MemoMatrix, column: MatrixColumn) -> Text:
        """The case's name, and below it (when ordered) its value of the ordering attribute."""
        header = literal(column.name)
        if m.order_by:
            header.append("\n" + (column.order_value or "–"), style="dim")
        return header

    def fill(self, table: DataTable, m: MemoMatrix) -> None:
        """Codes down, cases across, fitted to the screen so the pattern column stays in view: when
        the cases do not fit, their cells are written short (``5/3``), and when even that is too
        wide the pattern column comes second, beside the codes, and the cases scroll sideways
        with the code column frozen."""
        patterns = [pattern_summary(r) for r in m.rows]
        table.header_height = 2 if m.order_by else 1
        table.fixed_columns = 1
        pattern = ("Pattern", min(text_width(patterns, "Pattern"), PATTERN_MAX), PATTERN_MIN)
        available = self.table_width(table)
        for compact in (False, True):
            cells = [[cell_summary(m, r, c, compact) for c in m.columns] for r in m.rows]
            columns = [
                ("Code", text_width((r.path for r in m.rows), "Code"), CODE_MIN_COMPACT if compact else CODE_MIN)
            ]
            for j, c in enumerate(m.columns):
                counts = max([row[j].cell_len for row in cells] + [1])
                natural = max(counts, text_width([c.name, c.order_value or ""]))
                columns.append((self.case_header(m, c), natural, counts))
            columns.append(pattern)
            needed = sum(least for _, _, least in columns) + 2 * table.cell_padding * len(columns)
            if needed <= available:
                break
        self.compact = compact
        pattern_first = needed > available
        if pattern_first:
            columns = [columns[0], pattern, *columns[1:-1]]
        fit_columns(table, columns, self.app.size.width)
        self.grid = []
        for r, row_cells, pattern_text in zip(m.rows, cells, patterns):
            spots = [Spot(r, c) for c in m.columns]
            if pattern_first:
                self.grid.append([Spot(r, None), *spots])
                table.add_row(literal(r.path, style="bold"), pattern_text, *row_cells, key=str(r.code_id))
            else:
                self.grid.append([*spots, Spot(r, None)])
                table.add_row(literal(r.path, style="bold"), *row_cells, pattern_text, key=str(r.code_id))

    def table_width(self, table: DataTable) -> int:
        """The cells the table's columns may take (its width less the scrollbar)."""
        return (table.size.width or self.app.size.width) - SCROLLBAR

    def fill_transposed(self, table: DataTable, m: MemoMatrix) -> None:
        table.fixed_columns = 1
        self.compact = False
        cells = [[cell_summary(m, r, c) for r in m.rows] for c in m.columns]
        patterns = [pattern_summary(r) for r in m.rows]
        table.header_height = 1
        columns = [("Case", text_width([m.column_header(c) for c in m.columns], "Case"), CODE_MIN)]
        for i, r in enumerate(m.rows):
            counts = max([row[i].cell_len for row in cells] + [1])
            natural = max(counts, len(r.key or r.name), min(patterns[i].cell_len, PATTERN_MAX))
            columns.append((r.key or r.name, natural, max(counts, PATTERN_MIN)))
        fit_columns(table, columns, self.app.size.width)
        self.grid = [[Spot(r, c) for r in m.rows] for c in m.columns] + [[Spot(r, None) for r in m.rows]]
        for c, row_cells in zip(m.columns, cells):
            table.add_row(literal(m.column_header(c), style="bold"), *row_cells, key=str(c.case_id))
        table.add_row(Text("Pattern", style="bold"), *patterns, key="pattern")

    @property
    def spot(self) -> Spot | None:
        coordinate = self.query_one(DataTable).cursor_coordinate
        if not self.grid or coordinate.column == 0 or coordinate.row >= len(self.grid):
            return None
        spots = self.grid[coordinate.row]
        return spots[coordinate.column - 1] if coordinate.column - 1 < len(spots) else None

    def show_detail(self) -> None:
        spot, text = self.spot, Text()
        if spot is not None and self.content is not None:
            m = self.content.matrix
            text.append(spot.row.path, style="bold")
            if spot.column is None:
                text.append(" · pattern\n")
                text.append_text(
                    pattern_summary(spot.row)
                    if (spot.row.pattern or spot.row.pattern_note)
                    else Text("no judgement yet (p to write one)", style="dim")
                )
            else:
                text.append(f" × {m.column_header(spot.column)}\n")
                text.append(m.cell_text(m.cell(spot.row.code_id, spot.column.case_id)) or "nothing coded here")
                attributes = self.content.case_attributes.get(spot.column.case_id, [])
                if attributes:
                    text.append("\nCase: ", style="bold")
                    text.append(" · ".join(f"{name} = {value}" for name, value in attributes), style="dim")
        self.query_one("#matrix-detail", Static).update(text)

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        event.stop()
        self.show_detail()

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.action_evidence()

    # -- choices ------------------------------------------------------------------------------
    def action_transpose(self) -> None:
        self.choice = replace(self.choice, transpose=not self.choice.transpose)
        if self.content:
            self.show(self.content)

    def action_cycle_order(self) -> None:
        if self.content:
            self.rechoose(order_by=next_in([None, *self.content.attributes], self.choice.order_by))

    def action_cycle_layer(self) -> None:
        if self.content and self.content.layers:
            self.rechoose(layer=next_in(self.content.layers, self.choice.layer))

    # -- writing ------------------------------------------------------------------------------
    def action_cell_memo(self) -> None:
        spot = self.spot
        if spot is None or spot.column is None or not self.is_lead:
            return
        lead, code_id, case_id = self.app.coder_name, spot.row.code_id, spot.column.case_id
        current = own_cell_memo(self.app.project, lead, code_id, case_id)

        def save(text: str | None) -> None:
            if text is not None:
                self.submit("memo", set_cell_memo, lead, code_id, case_id, text)

        self.app.push_screen(MemoDialog(Text(f"Memo: {spot.row.path} at {spot.column.name}"), current), save)

    def action_pattern(self) -> None:
        spot = self.spot
        if spot is None or not self.is_lead:
            return
        lead, row = self.app.coder_name, spot.row

        def save(answer: tuple[str | None, str] | None) -> None:
            if answer is not None:
                self.submit("pattern", set_pattern, lead, row.code_id, answer[0], answer[1])

        self.app.push_screen(
            PatternDialog(Text(f"Pattern across cases: {row.path}"), row.pattern, row.pattern_note), save
        )

    def written(self, kind: str, result: Any, context: Any) -> None:
        self.notify("cell memo saved" if kind == "memo" else "pattern saved")
        self.load()

    # -- evidence -----------------------------------------------------------------------------
    def action_evidence(self) -> None:
        spot = self.spot
        if spot is None or self.content is None:
            return
        m = self.content.matrix
        if spot.column is None:
            ids, what = m.segment_ids(spot.row.code_id), f"{spot.row.path} in every case"
        else:
            ids, what = m.segment_ids(spot.row.code_id, spot.column.case_id), f"{spot.row.path} at {spot.column.name}"
        self.app.push_screen(EvidenceScreen(f"{what} ({m.data.layer.description})", ids, spot.row.code_id))
