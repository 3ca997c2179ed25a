"""The memo browser: every memo the viewer may read (their own while blinded; all for the lead and
auditors), newest first. ``/`` searches the text, ``k`` shows one kind at a time, Enter goes to the
memo's segment in place in the coding screen (escape comes back), ``e`` writes the list to a file.
Reading goes through the core's ``memo_list``, in a worker."""

from __future__ import annotations

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from ...coding.memo_queries import MemoEntry, MemoList, memo_json, memo_list, memo_table
from ...errors import QualcodeError
from ...store.enums import MemoKind
from ...table import terminal_text
from .. import bindings as keys
from ..typed import WorkbenchScreen
from ..widgets.columns import fit_columns, literal, text_width
from .dialogs import PromptDialog
from .retrieval import cycle, excerpt

KINDS: list[str | None] = [None, *(k.value for k in MemoKind)]


class MemoBrowser(WorkbenchScreen[None]):
    BINDINGS = keys.bindings("memos")
    DEFAULT_CSS = """
    MemoBrowser #memos-title { height: auto; padding: 0 1; background: $primary-background; }
    MemoBrowser #memos-list { height: 1fr; }
    MemoBrowser #memos-detail-pane { height: 8; border-top: solid $panel; padding: 0 1; }
    """

    class Loaded(Message):
        def __init__(self, memos: MemoList | None, error: str | None = None) -> None:
            super().__init__()
            self.memos = memos
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.kind: str | None = None
        self.search_text = ""
        self.memos: MemoList | None = None
        self.reading = True

    def compose(self) -> ComposeResult:
        yield Static(Text("Memos · loading…"), id="memos-title")
        yield DataTable(id="memos-list", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="memos-detail-pane"):
            yield Static("", id="memos-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="memos")
    def load(self) -> None:
        app = self.app
        try:
            memos = memo_list(app.project, app.coder_name, kind=self.kind, search=self.search_text or None)
        except QualcodeError as exc:
            self.post_message(self.Loaded(None, str(exc)))
            return
        self.post_message(self.Loaded(memos))

    def reload(self) -> None:
        self.reading = True
        self.show_title()
        self.load()

    def on_memo_browser_loaded(self, message: Loaded) -> None:
        message.stop()
        self.reading = False
        if message.memos is None:
            self.notify(message.error or "cannot read the memos", severity="error", timeout=8, markup=False)
            self.show_title(message.error)
            return
        self.memos = message.memos
        self.fill_table()
        self.show_title()

    def show_title(self, error: str | None = None) -> None:
        title = Text()
        title.append("Memos", style="bold")
        if self.memos is not None:
            n = self.memos.count
            title.append(f" · {n} memo{'s' * (n != 1)}")
        title.append(f" · kind: {self.kind or 'all'}")
        if self.search_text:
            title.append(f" · matching {terminal_text(self.search_text)!r}")
        if self.memos is not None and self.memos.hidden_by_blinding:
            title.append(" · blinded: your own memos", style="italic")
        if self.reading:
            title.append(" · loading…", style="italic")
        elif error:
            title.append(f" · {terminal_text(error)}", style="bold red")
        self.query_one("#memos-title", Static).update(title)

    def fill_table(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        memos = list(self.memos.memos) if self.memos is not None else []
        wheres = [terminal_text(m.where) for m in memos]
        texts = [excerpt(terminal_text(m.text), 60) for m in memos]
        fit_columns(
            table,
            [
                ("Kind", text_width((m.kind for m in memos), "Kind"), 4),
                ("By", text_width((m.author for m in memos), "By"), 3),
                ("Where", text_width(wheres, "Where"), 14),
                ("Memo", text_width(texts, "Memo"), 20),
            ],
            self.app.size.width,
        )
        for i, (m, where, text) in enumerate(zip(memos, wheres, texts)):
            table.add_row(literal(m.kind), literal(m.author), literal(where), literal(text), key=str(i))
        if table.row_count:
            table.move_cursor(row=min(row or 0, table.row_count - 1))
        table.focus()
        self.show_detail()

    @property
    def current(self) -> MemoEntry | None:
        memos = self.memos.memos if self.memos is not None else ()
        row = self.query_one(DataTable).cursor_row
        return memos[row] if memos and row is not None and 0 <= row < len(memos) else None

    def show_detail(self) -> None:
        m = self.current
        text = Text()
        if m is not None:
            text.append(f"{m.kind} memo", style="bold")
            text.append(f" by {terminal_text(m.author)}" if m.author else "")
            text.append(f" · {terminal_text(m.where)}")
            if m.case and not m.where.endswith(m.case):  # a cell memo's place already names its case
                text.append(f" · {terminal_text(m.case)}")
            if m.label:
                text.append(f" · {terminal_text(m.label)}", style="italic")
            text.append(f" · {m.updated_at:%Y-%m-%d %H:%M}\n", style="dim")
            text.append(terminal_text(m.text))
        self.query_one("#memos-detail", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_segment()

    def on_resize(self, event: events.Resize) -> None:
        if self.memos is not None:
            self.call_after_refresh(self.fill_table)

    # -- choosing -----------------------------------------------------------------------------------
    def action_search(self) -> None:
        def searched(text: str | None) -> None:
            if text is not None:
                self.search_text = text.strip()
                self.reload()

        self.app.push_screen(
            PromptDialog("Search the memos' text (empty: every memo)", self.search_text, "words"), searched
        )

    def action_cycle_kind(self) -> None:
        self.kind = cycle(KINDS, self.kind)  # type: ignore[assignment]
        self.reload()

    # -- going to the segment -------------------------------------------------------------------------
    def action_open_segment(self) -> None:
        m = self.current
        if m is None:
            return
        if m.transcript_id is None:
            self.notify(f"this {m.kind} memo is on {m.where}, not on a segment", timeout=4, markup=False)
            return
        self.app.open_transcript(m.transcript_id, m.position)

    def action_export(self) -> None:
        memos = self.memos
        if memos is None:
            return
        self.app.push_screen(
            PromptDialog("Export the memos to a file (.csv .xlsx .docx .md .html .json)", "memos.csv"),
            lambda path: path and self.export(memos, path.strip()),
        )

    @work(thread=True, group="memos-export")
    def export(self, memos: MemoList, path: str) -> None:
        from ...export.writers import FORMAT_BY_SUFFIX, output_path, write

        try:
            suffix = "." + path.rpartition(".")[2].lower() if "." in path else ""
            if FORMAT_BY_SUFFIX.get(suffix) == "json":
                from ...export.machine import json_text

                output_path(path).write_text(json_text(memo_json(memos), default=str), encoding="utf-8")
            else:
                write(memo_table(memos), path)
        except (QualcodeError, OSError) as exc:
            self.app.call_from_thread(self.notify, f"not written: {exc}", severity="error", timeout=8, markup=False)
            return
        self.app.call_from_thread(self.notify, f"wrote {path} ({memos.count} memos)", markup=False)

    def action_back(self) -> None:
        if self.is_current:
            self.dismiss()
