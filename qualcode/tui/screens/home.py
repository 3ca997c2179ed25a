"""Home: transcripts grouped by case with progress (the viewer's own; every coder's for a lead).

A lead also opens new rounds and blinds or unblinds the project from here.
"""

from __future__ import annotations

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from ...coding.progress import TranscriptProgress, progress_overview
from ...coding.queries import look_up_viewer
from ...errors import QualcodeError
from .. import bindings
from ..registry import HEADLINES
from ..typed import WorkbenchScreen
from ..widgets.columns import fit_columns, literal, text_width
from ..writer import Written


def progress_cell(done: int, total: int) -> Text:
    style = "green" if total and done == total else ("yellow" if done else "")
    return Text(f"{done}/{total}", style=style)


class HomeScreen(WorkbenchScreen[None]):
    BINDINGS = bindings.bindings("home")

    class Overview(Message):
        def __init__(self, rows: list[TranscriptProgress], lead: bool, blinded: bool, lines: list[str]) -> None:
            super().__init__()
            self.rows = rows
            self.lead = lead
            self.blinded = blinded
            self.lines = lines

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[TranscriptProgress] = []
        self.is_lead = False
        self.blinded = True
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Static("qualcode", id="home-title")
        yield DataTable(id="transcripts", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def on_screen_resume(self) -> None:
        if self.loaded:
            self.load()

    @work(thread=True, exclusive=True, group="home")
    def load(self) -> None:
        app = self.app
        try:
            rows = progress_overview(app.project, app.coder_name)
            viewer = look_up_viewer(app.project, app.coder_name)
            lines = [line for h in HEADLINES if viewer.sees_all for line in [h(app.project, app.coder_name)] if line]
        except QualcodeError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.post_message(self.Overview(rows, viewer.is_lead, viewer.blinded, lines))

    def on_home_screen_overview(self, message: Overview) -> None:
        self.rows, self.is_lead, self.blinded, self.loaded = message.rows, message.lead, message.blinded, True
        title = Text()
        title.append("qualcode", style="bold")
        title.append(f" · {self.app.coder_name}")
        title.append(
            " · blinded" if self.blinded else " · unblinded: every coder sees everyone's codes",
            style="" if self.blinded else "bold yellow",
        )
        for line in message.lines:
            title.append("\n" + line)
        if not self.rows:
            title.append("\nNo transcripts yet: import some with `qualcode import`.")
        self.query_one("#home-title", Static).update(title)
        self.fill_table()
        self.query_one(DataTable).focus()
        self.refresh_bindings()

    def fill_table(self) -> None:
        """The transcripts, columns fitted to the screen (titles and case names give way first)."""
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear(columns=True)
        coders = sorted({name for row in self.rows for name in row.done})
        progress_width = max([len(f"{r.segments}/{r.segments}") for r in self.rows] + [3])
        fit_columns(
            table,
            [
                ("Case", text_width((r.case for r in self.rows), "Case"), 8),
                ("Transcript", text_width((r.title for r in self.rows), "Transcript"), 14),
                ("Kind", text_width((r.kind for r in self.rows), "Kind"), 9),
                ("Round", text_width((r.round for r in self.rows), "Round"), 5),
                ("Segments", text_width((r.segments for r in self.rows), "Segments"), 8),
                *((name, max(len(name), progress_width), max(len(name), progress_width)) for name in coders),
            ],
            self.app.size.width,
        )
        last_case = None
        for row in self.rows:
            case = literal(row.case, "bold") if row.case != last_case else Text("")
            last_case = row.case
            # titles as written: a plain string would be read as markup ("[laughs]" vanishes, "[/laugh]" crashes)
            table.add_row(
                case,
                literal(row.title),
                literal(row.kind),
                str(row.round),
                str(row.segments),
                *(progress_cell(row.done.get(name, 0), row.segments) for name in coders),
                key=str(row.transcript_id),
            )
        if self.rows:
            table.move_cursor(row=min(keep, len(self.rows) - 1))

    def on_resize(self, event: events.Resize) -> None:
        if self.loaded:
            self.call_after_refresh(self.fill_table)  # after layout, so the table has its new width

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open_round", "toggle_blinding"):
            return self.is_lead
        return True

    @property
    def selected(self) -> TranscriptProgress | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def select_case(self, case: str) -> None:
        for i, row in enumerate(self.rows):
            if row.case == case:
                self.query_one(DataTable).move_cursor(row=i)
                return

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.app.open_transcript(int(event.row_key.value))

    def action_open_selected(self) -> None:
        row = self.selected
        if row is not None:
            self.app.open_transcript(row.transcript_id)

    def action_refresh(self) -> None:
        self.load()

    # -- lead actions -------------------------------------------------------------------------
    def action_open_round(self) -> None:
        row = self.selected
        if row is None or not self.is_lead:
            return
        from .dialogs import PromptDialog  # the dialogs load when a lead first needs one, not at start-up

        def done(note: str | None) -> None:
            if note is not None:
                self.app.open_round([row.transcript_id], note, self)

        name = f"{row.case}/{row.title}" if row.case else row.title
        self.app.push_screen(
            PromptDialog(
                Text(f"Open round {row.round + 1} for {name}: a note for the coders"),
                placeholder="why this transcript is recoded",
            ),
            done,
        )

    def action_toggle_blinding(self) -> None:
        if not self.is_lead:
            return
        from .dialogs import ConfirmDialog

        question = (
            "Unblind the project? Every coder will see everyone's codings."
            if self.blinded
            else "Blind the project again? Coders will see only their own codings."
        )
        self.app.push_screen(ConfirmDialog(question), lambda yes: yes and self.app.set_blinding(not self.blinded, self))

    def on_written(self, message: Written) -> None:
        message.stop()
        if (failure := message.failure) is not None:
            self.notify(failure, severity="error", timeout=8, markup=False)
        elif message.kind == "round":
            self.notify(f"round {message.result} opened")
        elif message.kind == "blinding":
            self.notify("project blinded" if message.result else "project unblinded")
        self.load()
