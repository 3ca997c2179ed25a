"""Retrieval: every segment coded with a code in one layer, with its context.

A coder reads their own codings while the project is blinded; the lead and auditors (or anyone once
unblinded) switch the layer with ``l``: a coder's, or the consensus. ``c`` chooses the code, ``f``
the case and ``r`` the speaker role; ``x`` shows the neighbouring segments of the highlighted one;
Enter opens it in place in the coding screen (escape comes back here); ``e`` writes the list to a
file (the format from its suffix). Reading goes through the core's ``retrieve``, in a worker.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Label, Static

from ...codebook.queries import CodeSummary, active_codes
from ...coding.retrieval import (
    Neighbour,
    Retrieval,
    RetrievalChoices,
    Retrieved,
    neighbours,
    retrieval_choices,
    retrieval_table,
    retrieve,
)
from ...errors import QualcodeError
from ...table import terminal_text
from .. import bindings as keys
from ..typed import WorkbenchScreen
from ..widgets.columns import fit_columns, literal, text_width
from .dialogs import CodePicker, PickerEntry, PromptDialog

EXCERPT = 70
CONTEXT_STEPS = (0, 1, 2, 3)


def excerpt(text: str, width: int = EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def cycle(options: list, current: object) -> object:
    """The option after ``current`` (wrapping round)."""
    return options[(options.index(current) + 1) % len(options)] if current in options else options[0]


@dataclass(frozen=True)
class Choice:
    code: str | None = None  # a path of the active codebook
    layer: str | None = None  # None: the viewer's default
    case: str | None = None
    role: str | None = None


class ChooseCode(CodePicker):
    """The code picker, titled for retrieval."""

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(".dialog-title", Label).update("Retrieve the segments of a code")


class RetrievalScreen(WorkbenchScreen[None]):
    BINDINGS = keys.bindings("retrieval")
    DEFAULT_CSS = """
    RetrievalScreen #retrieval-title { height: auto; padding: 0 1; background: $primary-background; }
    RetrievalScreen #retrieval-list { height: 1fr; }
    RetrievalScreen #retrieval-detail-pane { height: 10; border-top: solid $panel; padding: 0 1; }
    """

    class Loaded(Message):
        def __init__(
            self,
            result: Retrieval | None,
            choices: RetrievalChoices | None,
            codes: list[CodeSummary],
            error: str | None,
        ) -> None:
            super().__init__()
            self.result = result
            self.choices = choices
            self.codes = codes
            self.error = error

    class Context(Message):
        def __init__(self, segment_id: int, around: tuple[tuple[Neighbour, ...], tuple[Neighbour, ...]]) -> None:
            super().__init__()
            self.segment_id = segment_id
            self.around = around

    def __init__(self, code: str | None = None) -> None:
        super().__init__()
        self.choice = Choice(code=code)
        self.previous: Choice | None = None
        self.result: Retrieval | None = None
        self.choices: RetrievalChoices | None = None
        self.codes: list[CodeSummary] = []
        self.reading = False
        self.context = 0  # neighbouring segments shown in the pane
        self.around: dict[int, tuple[tuple[Neighbour, ...], tuple[Neighbour, ...]]] = {}

    def compose(self) -> ComposeResult:
        yield Static(Text("Retrieval · loading…"), id="retrieval-title")
        yield DataTable(id="retrieval-list", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="retrieval-detail-pane"):
            yield Static("", id="retrieval-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    # -- reading ----------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="retrieval")
    def load(self) -> None:
        app, choice = self.app, self.choice
        try:
            choices = retrieval_choices(app.project, app.coder_name)
            codes = active_codes(app.project)
            result = None
            if choice.code is not None:
                result = retrieve(
                    app.project,
                    app.coder_name,
                    choice.code,
                    layer=choice.layer,
                    codebook=choices.codebook,
                    case=choice.case,
                    role=choice.role,
                )
        except QualcodeError as exc:
            self.post_message(self.Loaded(None, None, [], str(exc)))
            return
        self.post_message(self.Loaded(result, choices, codes, None))

    def rechoose(self, **changes: object) -> None:
        self.previous = self.choice
        self.choice = replace(self.choice, **changes)  # type: ignore[arg-type]
        self.reading = True
        self.show_title()
        self.load()

    def on_retrieval_screen_loaded(self, message: Loaded) -> None:
        message.stop()
        self.reading = False
        if message.error is not None:
            self.notify(message.error, severity="error", timeout=8, markup=False)
            if self.previous is not None:
                self.choice, self.previous = self.previous, None
            self.show_title(message.error)
            return
        self.choices, self.codes = message.choices, message.codes
        self.result = message.result
        if self.result is not None:
            self.choice = replace(self.choice, layer=self.result.layer)
        self.fill_table()
        self.show_title()
        if self.result is None and self.codes and self.is_current:
            self.action_choose_code()

    # -- showing ----------------------------------------------------------------------------------
    def show_title(self, error: str | None = None) -> None:
        title = Text()
        title.append("Retrieval", style="bold")
        result = self.result
        if result is None:
            title.append(" · press c to choose a code")
        else:
            n = len(result.items)
            title.append(f" · {terminal_text(result.code)}", style="bold")
            layer = "consensus" if result.layer == "consensus" else f"{result.layer}'s codings"
            title.append(f" · {terminal_text(layer)} · {n} segment{'s' * (n != 1)}")
            if result.case:
                title.append(f" · case {terminal_text(result.case)}")
            if result.role:
                title.append(f" · {result.role} turns")
            if self.context:
                title.append(f" · context ±{self.context}")
        if self.reading:
            title.append(" · loading…", style="italic")
        elif error:
            title.append(f" · {terminal_text(error)}", style="bold red")
        self.query_one("#retrieval-title", Static).update(title)

    def fill_table(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        items = list(self.result.items) if self.result is not None else []
        excerpts = [excerpt(terminal_text(i.text)) for i in items]
        fit_columns(
            table,
            [
                ("#", text_width((i.number for i in items), "#"), 2),
                ("Case", text_width((i.case for i in items), "Case"), 8),
                ("Transcript", text_width((i.transcript for i in items), "Transcript"), 12),
                ("Seg", text_width((i.position for i in items), "Seg"), 3),
                ("Speaker", text_width((i.speaker for i in items), "Speaker"), 7),
                ("Text", text_width(excerpts, "Text"), 24),
            ],
            self.app.size.width,
        )
        for i, text in zip(items, excerpts):
            table.add_row(
                str(i.number),
                literal(i.case),
                literal(i.transcript),
                str(i.position),
                literal(i.speaker),
                literal(text),
                key=str(i.number),
            )
        if table.row_count:
            table.move_cursor(row=min(row or 0, table.row_count - 1))
            table.focus()
        self.show_detail()

    @property
    def current(self) -> Retrieved | None:
        items = self.result.items if self.result is not None else ()
        row = self.query_one(DataTable).cursor_row
        return items[row] if items and row is not None and 0 <= row < len(items) else None

    def show_detail(self) -> None:
        item = self.current
        text = Text()
        if item is not None:
            before, after = self.around.get(item.segment_id, ((), ())) if self.context else ((), ())
            for n in before[-self.context :] if self.context else ():
                text.append(neighbour_line(n), style="dim")
            text.append(f"{terminal_text(item.transcript)} #{item.position}", style="bold")
            text.append(f" · {terminal_text(item.case)}")
            if item.speaker:
                text.append(f" · {terminal_text(item.speaker)}" + (f" ({item.role})" if item.role else ""))
            text.append(f" · {terminal_text('; '.join(item.codes))}\n", style="italic")
            text.append(terminal_text(item.text) + "\n")
            for quote in item.quotes:
                text.append(f"❝ {terminal_text(quote)}\n", style="bold")
            for n in after[: self.context] if self.context else ():
                text.append(neighbour_line(n), style="dim")
            if self.context and item.segment_id not in self.around:
                text.append("loading the neighbouring segments…", style="italic")
        self.query_one("#retrieval-detail", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_detail()
        self.want_context()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_segment()

    def on_resize(self, event: events.Resize) -> None:
        if self.result is not None:
            self.call_after_refresh(self.fill_table)

    # -- context on demand ------------------------------------------------------------------------
    def action_cycle_context(self) -> None:
        self.context = int(cycle(list(CONTEXT_STEPS), self.context))  # type: ignore[call-overload]
        self.around.clear()
        self.show_title()
        self.show_detail()
        self.want_context()

    def want_context(self) -> None:
        item = self.current
        if self.context and item is not None and item.segment_id not in self.around:
            self.read_context(item.segment_id, self.context)

    @work(thread=True, exclusive=True, group="retrieval-context")
    def read_context(self, segment_id: int, context: int) -> None:
        try:
            around = neighbours(self.app.project, segment_id, context)
        except QualcodeError:
            return
        self.post_message(self.Context(segment_id, around))

    def on_retrieval_screen_context(self, message: Context) -> None:
        message.stop()
        self.around[message.segment_id] = message.around
        self.show_detail()

    # -- choosing ---------------------------------------------------------------------------------
    def action_choose_code(self) -> None:
        if not self.codes:
            self.notify("the active codebook has no codes", severity="warning")
            return
        entries = [PickerEntry(c.id, c.path, c.key or "", c.path == self.choice.code) for c in self.codes]
        paths = {c.id: c.path for c in self.codes}
        self.app.push_screen(
            ChooseCode(entries), lambda code_id: code_id is not None and self.rechoose(code=paths[code_id])
        )

    def action_cycle_layer(self) -> None:
        layers = list(self.choices.layers) if self.choices else []
        if len(layers) <= 1:
            self.notify("while the project is blinded you read your own codings only", timeout=4)
            return
        self.rechoose(layer=cycle(layers, self.choice.layer))

    def action_cycle_case(self) -> None:
        cases: list[str | None] = [None, *(self.choices.cases if self.choices else ())]
        self.rechoose(case=cycle(cases, self.choice.case))

    def action_cycle_role(self) -> None:
        roles: list[str | None] = [None, *(self.choices.roles if self.choices else ())]
        self.rechoose(role=cycle(roles, self.choice.role))

    # -- opening and exporting --------------------------------------------------------------------
    def action_open_segment(self) -> None:
        item = self.current
        if item is not None and self.result is not None:
            self.app.open_transcript(item.transcript_id, item.position, codebook=self.result.codebook)

    def action_export(self) -> None:
        result = self.result
        if result is None:
            self.notify("choose a code first (c)", severity="warning")
            return
        self.app.push_screen(
            PromptDialog("Export the list to a file (.csv .xlsx .docx .md .html .json)", "retrieval.csv"),
            lambda path: path and self.export(result, path.strip()),
        )

    @work(thread=True, group="retrieval-export")
    def export(self, result: Retrieval, path: str) -> None:
        from ...export.writers import FORMAT_BY_SUFFIX, write

        try:
            suffix = "." + path.rpartition(".")[2].lower() if "." in path else ""
            if FORMAT_BY_SUFFIX.get(suffix) == "json":
                from ...coding.retrieval import retrieval_json
                from ...export.machine import json_text
                from ...export.writers import output_path

                output_path(path).write_text(json_text(retrieval_json(result), default=str), encoding="utf-8")
            else:
                write(retrieval_table(result), path)
        except (QualcodeError, OSError) as exc:
            self.app.call_from_thread(self.notify, f"not written: {exc}", severity="error", timeout=8, markup=False)
            return
        self.app.call_from_thread(self.notify, f"wrote {path} ({len(result.items)} segments)", markup=False)

    def action_back(self) -> None:
        if self.is_current:
            self.dismiss()


def neighbour_line(n: Neighbour) -> str:
    who = f"{terminal_text(n.speaker)}: " if n.speaker else ""
    return f"  [{n.position}] {who}{terminal_text(n.text)}\n"
