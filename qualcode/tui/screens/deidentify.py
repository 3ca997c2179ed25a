"""De-identification review (the lead only): every term found in the transcripts with its kind,
decision, pseudonym and occurrences; ``a`` accepts, ``r`` rejects, ``p`` sets the pseudonym,
``k`` and ``f`` filter by kind and decision, ``S`` scans the transcripts again. The contexts of
the term under the cursor show below the list. Reads and writes go through ``assist.deid``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Static

from ...assist.deid import KINDS, ScanResult, TermView, decide, list_terms, scan
from ...store.enums import DeidDecision
from .. import bindings as keys
from ..widgets.columns import fit_columns, literal, text_width
from ..widgets.lead_screen import LeadScreen, next_in
from .dialogs import PromptDialog

DECISIONS = (None, "pending", "accepted", "rejected")
MARKS = {"pending": "·", "accepted": "✓", "rejected": "✗"}


@dataclass(frozen=True)
class DeidChoice:
    kind: str | None = None
    decision: str | None = None


class DeidentifyScreen(LeadScreen):
    BINDINGS = keys.bindings("deid")
    what = "de-identification"
    LEAD_ACTIONS = frozenset({"accept", "reject", "pseudonym", "scan"})
    DEFAULT_CSS = """
    DeidentifyScreen #deid-title { height: auto; padding: 0 1; background: $primary-background; }
    DeidentifyScreen #deid-table { height: 1fr; }
    DeidentifyScreen #deid-contexts {
        height: auto; max-height: 6; padding: 0 1; color: $text-muted; border-top: solid $panel;
    }
    """

    def __init__(self, choice: DeidChoice | None = None) -> None:
        super().__init__()
        self.choice = choice or DeidChoice()
        self.terms: list[TermView] = []

    def compose(self) -> ComposeResult:
        yield Static("De-identification · loading…", id="deid-title")
        yield DataTable(id="deid-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="deid-contexts")
        yield Footer()

    # -- reading ------------------------------------------------------------------------------
    def read(self) -> list[TermView]:
        c = self.choice
        return list_terms(self.app.project, self.app.coder_name, kind=c.kind, decision=c.decision, contexts=3)

    def show_error(self, error: str) -> None:
        if not self.is_lead and self.is_current:  # an auditor: the mapping is the lead's alone
            self.dismiss()
            return
        super().show_error(error)

    def show(self, content: list[TermView]) -> None:
        self.terms = content
        counts = {d: sum(t.decision == d for t in content) for d in MARKS}
        title = Text()
        title.append("De-identification", style="bold")
        title.append(
            f" · kind: {self.choice.kind or 'all'} · showing: {self.choice.decision or 'all'} · "
            f"{len(content)} terms ({counts['pending']} pending, {counts['accepted']} accepted, "
            f"{counts['rejected']} rejected)"
        )
        self.query_one("#deid-title", Static).update(title)
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear(columns=True)
        fit_columns(
            table,
            [
                ("", 1, 1),
                ("Term", text_width([t.text for t in content], "Term"), 10),
                ("Kind", 6, 6),
                ("Uses", 4, 4),
                ("Pseudonym", text_width([t.pseudonym for t in content], "Pseudonym"), 9),
                ("From", 6, 4),
            ],
        )
        for t in content:
            mark = Text(MARKS.get(t.decision, "?"), style={"accepted": "green", "rejected": "red"}.get(t.decision, ""))
            table.add_row(mark, literal(t.text), t.kind, str(t.count), literal(t.pseudonym), t.origin, key=str(t.id))
        if content:
            table.move_cursor(row=min(max(keep, 0), len(content) - 1))
        table.focus()
        self.show_contexts()

    def current(self) -> TermView | None:
        return self.at_cursor(self.terms)

    def show_contexts(self) -> None:
        term = self.current()
        lines = Text()
        if term is not None:
            lines.append(f"#{term.id} {term.text} → {term.pseudonym} ({term.kind}, {term.decision})", style="bold")
            for context in term.contexts or ("(not found in the transcripts now)",):
                lines.append("\n" + context)
        self.query_one("#deid-contexts", Static).update(lines)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_contexts()

    # -- filters ------------------------------------------------------------------------------
    def action_cycle_kind(self) -> None:
        self.rechoose(kind=next_in([None, *KINDS], self.choice.kind))

    def action_cycle_decision(self) -> None:
        self.rechoose(decision=next_in(list(DECISIONS), self.choice.decision))

    # -- writes -------------------------------------------------------------------------------
    def call(self, kind: str, fn: Any, context: Any = None) -> None:
        """Queue a core call that opens its own transaction (``assist.deid`` takes the project)."""
        self.writes_pending += 1
        self.app.writer.submit(self, kind, fn, context)

    def _decide(self, decision: DeidDecision | None, pseudonym: str | None = None) -> None:
        term = self.current()
        if term is None:
            return
        project, lead = self.app.project, self.app.coder_name
        self.call(
            "decide", lambda: decide(project, lead, f"#{term.id}", decision, pseudonym=pseudonym), context=term.id
        )

    def action_accept(self) -> None:
        self._decide(DeidDecision.ACCEPTED)

    def action_reject(self) -> None:
        self._decide(DeidDecision.REJECTED)

    def action_pseudonym(self) -> None:
        term = self.current()
        if term is None:
            return

        def chosen(value: str | None) -> None:
            if value is not None and value.strip():
                self._decide(None, value)

        self.app.push_screen(
            PromptDialog(f"Pseudonym for {term.text} ({term.kind})", term.pseudonym, "e.g. [Teacher A]"), chosen
        )

    def action_scan(self) -> None:
        project, lead = self.app.project, self.app.coder_name
        self.notify("scanning the transcripts…", timeout=3)
        self.call("scan", lambda: scan(project, lead))

    def written(self, kind: str, result: Any, context: Any) -> None:
        if kind == "scan" and isinstance(result, ScanResult):
            self.notify(f"{result.added} new terms; {result.known} findings already listed", timeout=5)
        self.choice = replace(self.choice)
        self.load()
