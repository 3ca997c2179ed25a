"""The CQR domain/category table (lead and auditors): blocks, cases and frequency labels
per category; move between cells, Enter opens the segments behind the row's numbers."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Static

from ...synthesis.labels import MISCELLANEOUS
from ...synthesis.queries import CqrView, cqr_view
from .. import bindings as keys
from ..widgets.columns import fit_columns, literal, text_width
from ..widgets.empty_state import Missing, missing_title, read_or_missing
from ..widgets.lead_screen import LeadScreen, next_in
from .evidence import EvidenceScreen

NAME_MIN = 20  # the domain / category column is cut no shorter than this
NAME_MAX = 60
LABEL_WIDTH = len(MISCELLANEOUS)  # every frequency label whole
GROUP_MIN = 4


@dataclass(frozen=True)
class CqrChoice:
    codebook: str | None = None
    layer: str | None = None
    case_unit: str = "transcript"
    groups: str | None = None
    order: str = "codebook"


class CqrTableScreen(LeadScreen):
    BINDINGS = keys.bindings("cqr")
    what = "the CQR table"
    DEFAULT_CSS = """
    CqrTableScreen #cqr-title { height: auto; padding: 0 1; background: $primary-background; }
    CqrTableScreen #cqr-table { height: 1fr; }
    CqrTableScreen #cqr-note {
        height: auto; max-height: 8; padding: 0 1; color: $text-muted; border-top: solid $panel;
    }
    """

    def __init__(self, choice: CqrChoice | None = None) -> None:
        super().__init__()
        self.choice = choice or CqrChoice()
        self.content: CqrView | None = None
        self.records: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Static("CQR table · loading…", id="cqr-title")
        yield DataTable(id="cqr-table", cursor_type="cell", zebra_stripes=True)
        yield Static("", id="cqr-note")
        yield Footer()

    def read(self) -> CqrView | Missing:
        def view() -> CqrView:
            c = self.choice
            content = cqr_view(
                self.app.project,
                self.app.coder_name,
                codebook=c.codebook,
                layer=c.layer,
                case_unit=c.case_unit,
                groups=c.groups,
                order=c.order,
            )
            self.choice = replace(c, codebook=content.codebook, layer=content.layer)
            return content

        return read_or_missing(self.app.project, view, first=self.last_content is None)

    def show(self, content: CqrView | Missing) -> None:
        if isinstance(content, Missing):
            self.content, self.records = None, []
            self.query_one("#cqr-title", Static).update(missing_title("CQR table", content))
            self.query_one("#cqr-note", Static).update("")
            self.query_one(DataTable).clear(columns=True)
            return
        self.content = content
        cqr = content.table
        title = Text()
        title.append(f"CQR table · {cqr.data.codebook.name}", style="bold")
        title.append(
            f" · {cqr.data.layer.description} · cases: {cqr.unit.name} (N = {cqr.n_cases}) · order: {self.choice.order}"
        )
        if self.choice.groups:
            title.append(f" · groups: {self.choice.groups}")
        self.query_one("#cqr-title", Static).update(title)
        self.query_one("#cqr-note", Static).update(Text(cqr.note()))
        table = self.query_one(DataTable)
        keep = table.cursor_coordinate
        table.clear(columns=True)
        self.records = cqr.frame.to_dict("records")
        names = [self.row_name(r) for r in self.records]
        # Fitted to the screen: the names are cut ("…") before a number or a label is; group
        # columns that still do not fit scroll sideways past the frozen name column.
        columns: list[tuple[Any, int, int]] = [("Domain / category", min(text_width(names), NAME_MAX), NAME_MIN)]
        columns += [("Blocks", 6, 6), ("Cases", 5, 5), ("Label", LABEL_WIDTH, LABEL_WIDTH)]
        for group in cqr.groups:
            numbers = max([len(str(r[group])) for r in self.records] + [1])
            columns.append((group, max(text_width([group]), numbers), max(numbers, GROUP_MIN)))
        table.fixed_columns = 1
        fit_columns(table, columns, self.app.size.width)
        for r, name in zip(self.records, names):
            label = literal(r["label"], style="dim italic" if r["label"] == MISCELLANEOUS else "")
            table.add_row(
                name, str(r["blocks"]), str(r["cases"]), label, *(str(r[g]) for g in cqr.groups), key=str(r["code_id"])
            )
        if self.records:
            table.move_cursor(row=min(keep.row, len(self.records) - 1), column=min(keep.column, len(table.columns) - 1))
        table.focus()

    @staticmethod
    def row_name(record: dict[str, Any]) -> Text:
        if record["depth"] == 0:
            return literal(record["domain"], style="bold")
        return literal("  " * record["depth"] + record["category"].rsplit(" > ", 1)[-1])

    # -- choices ------------------------------------------------------------------------------
    def action_cycle_unit(self) -> None:
        if self.content:
            self.rechoose(case_unit=next_in(self.content.units, self.choice.case_unit))

    def action_cycle_layer(self) -> None:
        if self.content and self.content.layers:
            self.rechoose(layer=next_in(self.content.layers, self.choice.layer))

    def action_cycle_codebook(self) -> None:
        if self.content:
            self.rechoose(codebook=next_in(self.content.codebooks, self.choice.codebook))

    def action_cycle_groups(self) -> None:
        if self.content:
            self.rechoose(groups=next_in([None, *self.content.groups], self.choice.groups))

    def action_toggle_order(self) -> None:
        self.rechoose(order="count" if self.choice.order == "codebook" else "codebook")

    # -- evidence -----------------------------------------------------------------------------
    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.action_evidence()

    def action_evidence(self) -> None:
        if not self.content or not self.records:
            return
        cursor = self.query_one(DataTable).cursor_coordinate
        row = self.records[cursor.row]
        cqr = self.content.table
        # A group column opens that group's blocks; any other column the whole row's.
        group = self.group_at(cursor.column)
        if group is not None:
            what = f"{row['path']}: {row[group]} blocks from {group} ({cqr.data.layer.description})"
        else:
            what = (
                f"{row['path']}: {row['blocks']} blocks in {row['cases']} {cqr.unit.name} cases"
                f" ({cqr.data.layer.description})"
            )
        self.app.push_screen(
            EvidenceScreen(what, cqr.segment_ids(int(row["code_id"]), group=group), int(row["code_id"]))
        )

    def group_at(self, column: int) -> str | None:
        """The group whose column is at ``column`` (they follow Domain / category, Blocks, Cases, Label)."""
        groups = self.content.table.groups if self.content else []
        index = column - 4
        return groups[index] if 0 <= index < len(groups) else None
