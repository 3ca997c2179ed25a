"""The evidence behind a number: its segments in a list; Enter opens one in the coding
screen, ``e`` picks it as an exemplar quote for the code (lead only)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static

from ...codebook.queries import codebook_of_code
from ...synthesis.annotations import add_exemplar
from ...synthesis.queries import EvidenceRow, evidence_rows
from .. import bindings as keys
from ..widgets.columns import fit_columns, literal, text_width
from ..widgets.empty_state import Missing, missing_title, read_or_missing
from ..widgets.lead_screen import LeadScreen

EXCERPT = 70


def excerpt(text: str, width: int = EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


class EvidenceScreen(LeadScreen):
    """``segment_ids`` behind ``title``; ``code_id`` is the code an exemplar would illustrate."""

    BINDINGS = keys.bindings("evidence")
    what = "the evidence list"
    LEAD_ACTIONS = frozenset({"exemplar"})
    DEFAULT_CSS = """
    EvidenceScreen #evidence-title { height: auto; padding: 0 1; background: $primary-background; }
    EvidenceScreen #evidence-list { height: 1fr; }
    EvidenceScreen #evidence-detail-pane { height: 12; border-top: solid $panel; padding: 0 1; }
    """

    def __init__(self, title: str, segment_ids: list[int], code_id: int | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.segment_ids = list(segment_ids)
        self.code_id = code_id
        self.codebook_name: str | None = None
        self.rows: list[EvidenceRow] = []

    def compose(self) -> ComposeResult:
        yield Static(Text(f"Evidence · {self.title_text} · loading…"), id="evidence-title")
        yield DataTable(id="evidence-list", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="evidence-detail-pane"):
            yield Static("", id="evidence-detail")
        yield Footer()

    def read(self) -> list[EvidenceRow] | Missing:
        project = self.app.project

        def rows() -> list[EvidenceRow]:
            if self.code_id is not None:  # open transcripts in the codebook the evidence counts
                self.codebook_name = codebook_of_code(project, self.code_id)
            return evidence_rows(project, self.segment_ids)

        return read_or_missing(project, rows, first=self.last_content is None)

    def show(self, content: list[EvidenceRow] | Missing) -> None:
        if isinstance(content, Missing):
            self.rows = []
            self.query_one("#evidence-title", Static).update(missing_title("Evidence", content))
            self.query_one(DataTable).clear(columns=True)
            self.query_one("#evidence-detail", Static).update("")
            return
        self.rows = content
        title = Text()
        title.append("Evidence", style="bold")
        title.append(f" · {self.title_text} · {len(self.rows)} {'segment' if len(self.rows) == 1 else 'segments'}")
        self.query_one("#evidence-title", Static).update(title)
        table = self.query_one(DataTable)
        table.clear(columns=True)
        rows = self.rows
        excerpts = [excerpt(r.text) for r in rows]
        # Natural width, then the least a column is cut to when the screen is narrow.
        fit_columns(
            table,
            [
                ("Case", text_width((r.case for r in rows), "Case"), 10),
                ("Transcript", text_width((r.transcript for r in rows), "Transcript"), 16),
                ("#", text_width((r.position for r in rows), "#"), 3),
                ("Speaker", text_width((r.speaker for r in rows), "Speaker"), 8),
                ("Text", text_width(excerpts, "Text"), 30),
            ],
            self.app.size.width,
        )
        for i, (r, text) in enumerate(zip(rows, excerpts)):
            table.add_row(
                literal(r.case), literal(r.transcript), str(r.position), literal(r.speaker), literal(text), key=str(i)
            )
        table.focus()
        self.show_detail()
        if not rows:
            self.query_one("#evidence-detail", Static).update(
                Text("No segments: nothing is coded here in this layer (escape goes back).", style="dim")
            )

    @property
    def current(self) -> EvidenceRow | None:
        return self.at_cursor(self.rows)

    def show_detail(self) -> None:
        row = self.current
        text = Text()
        if row is not None:
            text.append(f"{row.transcript} #{row.position}", style="bold")
            text.append(f" · {row.case} · {row.speaker}\n" if row.speaker else f" · {row.case}\n")
            text.append(row.text)
        self.query_one("#evidence-detail", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_segment()

    def action_open_segment(self) -> None:
        row = self.current
        if row is not None:
            self.app.open_transcript(row.transcript_id, row.position, codebook=self.codebook_name)

    def action_exemplar(self) -> None:
        row = self.current
        if row is None or self.code_id is None or not self.is_lead:
            return
        lead, code_id, segment_id = self.app.coder_name, self.code_id, row.segment_id
        self.submit("exemplar", add_exemplar, lead, code_id, segment_id, context=row)

    def written(self, kind: str, result: Any, context: Any) -> None:
        self.notify(f"exemplar picked: {context.transcript} #{context.position}", markup=False)
