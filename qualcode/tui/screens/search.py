"""Search across every transcript: keyword-in-context hits; Enter opens a hit in the coding screen
at its segment (escape comes back here). ``space`` marks hits, ``c`` codes the marked hits' segments
(or every hit's) with a code as the viewer's own codings, ``u`` takes the last such coding back.

The query line takes words, "quoted phrases" and word* (``qualcode.assist.search``); ``ctrl+l``
matches every form of a word (lemmas), ``ctrl+r`` reads the query as a regular expression. The
search runs in a worker thread through the core's ``search``, which returns frozen dataclasses.
"""

from __future__ import annotations

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Footer, Input, Static
from textual.widgets.data_table import ColumnKey

from ...assist.search import (
    ApplyOutcome,
    Hit,
    SearchQuery,
    SearchResult,
    apply_search,
    cell_width,
    cells_head,
    cells_tail,
    pad_left,
    search,
    undo_last_batch,
)
from ...codebook.queries import CodeSummary, active_codes
from ...errors import QualcodeError
from ...table import terminal_text
from .. import bindings as keys
from ..typed import WorkbenchScreen
from ..widgets.columns import SCROLLBAR, fit_widths, literal, text_width
from ..writer import Written

MAX_HIT_CELLS = 24  # a longer hit (a phrase, a wide regex) is cut in the context column


class SearchScreen(WorkbenchScreen[None]):
    BINDINGS = keys.bindings("search")
    DEFAULT_CSS = """
    SearchScreen #search-title { height: auto; padding: 0 1; background: $primary-background; }
    SearchScreen #search-query { margin: 0 1; }
    SearchScreen #search-hits { height: 1fr; }
    SearchScreen #search-detail { height: 4; padding: 0 1; border-top: solid $panel; }
    """

    class Found(Message):
        def __init__(
            self, result: SearchResult | None, error: str | None = None, codes: list[CodeSummary] | None = None
        ) -> None:
            super().__init__()
            self.result = result
            self.error = error
            self.codes = codes

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self.initial_query = query
        self.lemma = False
        self.regex = False
        self.result: SearchResult | None = None
        self.searching = False
        self.marked: set[int] = set()  # hit numbers
        self.codes: list[CodeSummary] = []  # the active codebook's, for coding the hits
        self.writes_pending = 0
        self._number_column: ColumnKey | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="search-title")
        yield Input(self.initial_query, placeholder='words, "a phrase", word*  (Enter searches)', id="search-query")
        yield DataTable(id="search-hits", cursor_type="row", zebra_stripes=True)
        yield Static("", id="search-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.show_title()
        self.query_one(Input).focus()
        if self.initial_query:
            self.run_search()

    # -- searching ------------------------------------------------------------------------------
    @property
    def query_text(self) -> str:
        return self.query_one(Input).value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.run_search()

    def run_search(self) -> None:
        if not self.query_text.strip():
            return
        self.searching = True
        self.show_title()
        self.search_worker(SearchQuery(self.query_text, lemma=self.lemma, regex=self.regex))

    @work(thread=True, exclusive=True, group="search")
    def search_worker(self, query: SearchQuery) -> None:
        app = self.app
        try:
            result = search(app.project, app.coder_name, query)
            codes = active_codes(app.project)
        except QualcodeError as exc:
            self.post_message(self.Found(None, str(exc)))
            return
        self.post_message(self.Found(result, codes=codes))

    def on_search_screen_found(self, message: Found) -> None:
        self.searching = False
        if message.result is None:
            self.notify(message.error or "the search failed", severity="error", timeout=8, markup=False)
            self.show_title(message.error)
            return
        self.result = message.result
        self.codes = message.codes or []
        self.marked = set()
        self.fill_table()
        self.show_title()
        if message.result.hits:
            self.query_one(DataTable).focus()

    def action_toggle_lemma(self) -> None:
        self.lemma = not self.lemma
        if self.lemma:
            self.regex = False
        self.show_title()
        self.run_search()

    def action_toggle_regex(self) -> None:
        self.regex = not self.regex
        if self.regex:
            self.lemma = False
        self.show_title()
        self.run_search()

    def action_new_search(self) -> None:
        self.query_one(Input).focus()

    # -- showing --------------------------------------------------------------------------------
    def show_title(self, error: str | None = None) -> None:
        title = Text()
        title.append("Search", style="bold")
        title.append(" · lemmas ", style="")
        title.append("on" if self.lemma else "off", style="bold green" if self.lemma else "dim")
        title.append(" · regex ")
        title.append("on" if self.regex else "off", style="bold green" if self.regex else "dim")
        result = self.result
        if self.searching:
            title.append(" · searching…", style="italic")
        elif error:
            title.append(f" · {terminal_text(error)}", style="bold red")
        elif result is not None:
            n, segs = len(result.hits), len(result.segment_ids)
            title.append(
                f" · {n} hit{'s' * (n != 1)} in {segs} segment{'s' * (segs != 1)}"
                f" of {result.transcripts_searched} transcripts"
            )
            if self.marked:
                title.append(f" · {len(self.marked)} marked", style="bold")
        self.query_one("#search-title", Static).update(title)

    def fill_table(self) -> None:
        """The hits, the context column fitted to the screen with every hit in the same column."""
        table = self.query_one(DataTable)
        table.clear(columns=True)
        hits = self.result.hits if self.result is not None else []
        wheres = [f"{h.transcript}" for h in hits]
        speakers = [h.speaker for h in hits]
        hit_cells = min(MAX_HIT_CELLS, max([cell_width(terminal_text(h.match)) for h in hits] + [3]))
        natural = [
            text_width((h.number for h in hits), "#"),
            text_width(wheres, "Transcript"),
            text_width((h.position for h in hits), "Seg"),
            text_width(speakers, "Speaker"),
            2 * 40 + hit_cells + 2,
        ]
        minimum = [2, 10, 3, 7, hit_cells + 2 + 2 * 8]
        width = table.size.width or self.app.size.width
        available = width - SCROLLBAR - 2 * table.cell_padding * len(natural)
        fitted = fit_widths(natural, minimum, available)
        columns = [
            table.add_column(literal(label), width=w)
            for label, w in zip(("#", "Transcript", "Seg", "Speaker", "In context"), fitted)
        ]
        self._number_column = columns[0]
        side = max(3, (fitted[4] - hit_cells - 2) // 2)
        for h in hits:
            table.add_row(
                self.number_cell(h.number),
                literal(h.transcript),
                str(h.position),
                literal(h.speaker),
                context_cell(h, side, hit_cells),
                key=str(h.number),
            )
        self.show_detail()

    @property
    def current(self) -> Hit | None:
        table = self.query_one(DataTable)
        hits = self.result.hits if self.result is not None else []
        if not hits or table.cursor_row is None or not 0 <= table.cursor_row < len(hits):
            return None
        return hits[table.cursor_row]

    def show_detail(self) -> None:
        hit = self.current
        text = Text()
        if hit is not None:
            text.append(f"{terminal_text(hit.transcript)} #{hit.position}", style="bold")
            text.append(f" · {terminal_text(hit.case)} · {terminal_text(hit.speaker)}")
            text.append(f" ({hit.role})\n" if hit.role else "\n")
            # The left context cut to about a line, so the hit shows within the pane's three lines.
            width = max(20, self.query_one("#search-detail", Static).size.width or self.app.size.width)
            text.append(cells_tail(terminal_text(hit.left), width - 10))
            text.append(terminal_text(hit.match), style="reverse")
            text.append(terminal_text(hit.right))
        self.query_one("#search-detail", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_hit()

    def on_resize(self, event: events.Resize) -> None:
        if self.result is not None:
            self.call_after_refresh(self.refit)

    def refit(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        self.fill_table()
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    def number_cell(self, number: int) -> Text:
        return Text(
            f"✓{number}" if number in self.marked else str(number), style="bold" if number in self.marked else ""
        )

    # -- coding the hits --------------------------------------------------------------------------
    def action_toggle_mark(self) -> None:
        hit = self.current
        if hit is None:
            return
        self.marked ^= {hit.number}
        if self._number_column is not None:
            self.query_one(DataTable).update_cell(str(hit.number), self._number_column, self.number_cell(hit.number))
        self.show_title()

    def chosen_hits(self) -> list[Hit]:
        hits = self.result.hits if self.result is not None else []
        return [h for h in hits if h.number in self.marked] if self.marked else list(hits)

    def action_code_hits(self) -> None:
        hits = self.chosen_hits()
        if not hits or self.result is None:
            return
        from .dialogs import CodePicker, PickerEntry

        entries = [PickerEntry(c.id, c.path, c.key or "", False) for c in self.codes]
        paths = {c.id: c.path for c in self.codes}
        self.app.push_screen(
            CodePicker(entries), lambda code_id: code_id is not None and self.confirm_coding(paths[code_id], hits)
        )

    def confirm_coding(self, path: str, hits: list[Hit]) -> None:
        from .dialogs import ConfirmDialog

        result, project, coder = self.result, self.app.project, self.app.coder_name
        only = sorted(h.number for h in hits) if self.marked else None
        segments = len({h.segment_id for h in hits})
        question = (
            f"Code {segments} segment{'s' * (segments != 1)} ({len(hits)} hit{'s' * (len(hits) != 1)}) "
            f"with {path} as {coder}? (u undoes it)"
        )

        def write() -> ApplyOutcome:
            assert result is not None
            return apply_search(project, coder, result, path, only)

        def answered(yes: bool | None) -> None:
            if yes:
                self.writes_pending += 1
                self.app.writer.submit(self, "autocode", write)

        self.app.push_screen(ConfirmDialog(question), answered)

    def action_undo_coding(self) -> None:
        project, coder = self.app.project, self.app.coder_name
        self.writes_pending += 1
        self.app.writer.submit(self, "autocode_undo", lambda: undo_last_batch(project, coder))

    def on_written(self, message: Written) -> None:
        message.stop()
        self.writes_pending = max(0, self.writes_pending - 1)
        if (failure := message.failure) is not None:
            self.notify(failure, severity="error", timeout=8, markup=False)
        elif message.kind == "autocode":
            outcome: ApplyOutcome = message.result
            new = len(outcome.coding_ids)
            already = len(outcome.plan.codings) - len(outcome.plan.new)
            self.notify(
                f"coded {new} segment{'s' * (new != 1)} with {outcome.plan.code}"
                + (f" ({already} already coded)" if already else ""),
                markup=False,
            )
        elif message.kind == "autocode_undo":
            undone = message.result
            self.notify(
                f"undid the coding with {undone.code} from {undone.query!r}: {undone.removed} removed", markup=False
            )

    # -- opening --------------------------------------------------------------------------------
    def action_open_hit(self) -> None:
        hit = self.current
        if hit is not None:
            self.app.open_transcript(hit.transcript_id, hit.position)

    def action_back(self) -> None:
        self.app.pop_screen()


def context_cell(hit: Hit, side: int, hit_cells: int) -> Text:
    """``left hit right`` with the hit in the same column on every row: the left context cut from
    its start and padded to ``side`` cells, the hit shown in reverse."""
    left = pad_left(cells_tail(terminal_text(hit.left.rstrip()), side - 1), side - 1) + " "
    match = cells_head(terminal_text(hit.match), hit_cells)
    right = " " + cells_head(terminal_text(hit.right.lstrip()), side - 1)
    text = Text(no_wrap=True, overflow="crop", end="")
    text.append(left)
    text.append(match, style="reverse bold")
    text.append(" " * (hit_cells - cell_width(match)))
    text.append(right)
    return text
