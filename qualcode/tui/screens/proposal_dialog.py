"""Propose a code: name, description and (optionally) a parent, from the segment the coder is on.

Opened with ``P`` in the coding screen (or "Propose a code" in the command palette, or ``p`` in the
proposals list). Given no segment, it takes the current segment and codebook of the coding screen
beneath it, if there is one. ``ctrl+s`` (or Enter in the last field) sends the proposal through the
workbench's writer (``coding.proposals.propose``: one transaction, audited); a refusal (a name
already in the codebook, an unknown parent) is shown in the dialog, which stays open to fix it.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label

from ...coding.proposals import propose
from ...coding.queries import look_up_viewer
from ...errors import QualcodeError
from ...store.enums import CoderRole
from ...table import terminal_text
from .. import bindings as keys
from ..typed import WorkbenchModalScreen
from ..writer import Written

HELP = "ctrl+s propose · tab next field · escape cancel"


class ProposalDialog(WorkbenchModalScreen[int | None]):
    """Returns the new proposal's id once it has committed (None when cancelled)."""

    BINDINGS = keys.bindings("proposal_dialog")
    DEFAULT_CSS = """
    ProposalDialog .proposal-field { margin-top: 0; }
    """

    def __init__(self, segment_id: int | None = None, codebook: str | None = None, *, where: str = "") -> None:
        super().__init__()
        self.segment_id = segment_id
        self.codebook = codebook
        self.where = where  # "Lee interview #3", shown in the title
        self.sending = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Propose a code", id="proposal-title", classes="dialog-title")
            yield Label("Name", classes="proposal-field")
            yield Input(placeholder="the new code's name", id="proposal-name")
            yield Label("Description", classes="proposal-field")
            yield Input(placeholder="what it is for, when to use it", id="proposal-description")
            yield Label("Parent (optional: a code's name, key or path)", classes="proposal-field")
            yield Input(placeholder="top level", id="proposal-parent")
            yield Label(HELP, id="proposal-help", classes="dialog-help")

    def on_mount(self) -> None:
        if self.segment_id is None:
            self.take_from_screen_beneath()
        title = Text("Propose a code", style="bold")
        if self.where:
            title.append(f" · from {terminal_text(self.where)}", style="")
        self.query_one("#proposal-title", Label).update(title)
        self.query_one("#proposal-name", Input).focus()
        self.check_role()

    def take_from_screen_beneath(self) -> None:
        """The coding screen's current segment and codebook, when the dialog opens over it."""
        stack = self.app.screen_stack
        beneath = stack[-2] if len(stack) >= 2 and stack[-1] is self else None
        segment = getattr(beneath, "current_segment", None)
        if segment is not None:
            self.segment_id = segment.id
            work_ = getattr(beneath, "work", None)
            transcript = getattr(getattr(work_, "transcript", None), "title", "")
            self.where = f"{transcript} #{segment.position}" if transcript else f"segment {segment.position}"
            codebook = getattr(work_, "codebook", None)
            if codebook is not None and self.codebook is None:
                self.codebook = codebook.name

    @work(thread=True, group="proposal-role")
    def check_role(self) -> None:
        try:
            role = look_up_viewer(self.app.project, self.app.coder_name).role
        except QualcodeError:
            return
        if role == CoderRole.AUDITOR:
            self.app.call_from_thread(
                self.refuse, f"{self.app.coder_name} is an auditor: auditors do not propose codes"
            )

    def refuse(self, message: str) -> None:
        self.notify(message, severity="warning", timeout=6, markup=False)
        if self.is_current:
            self.dismiss(None)

    def show_help(self, problem: str | None = None) -> None:
        label = self.query_one("#proposal-help", Label)
        label.update(Text(terminal_text(problem), style="bold red") if problem else Text(HELP))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        order = ["proposal-name", "proposal-description", "proposal-parent"]
        index = order.index(event.input.id or "proposal-name")
        if index < len(order) - 1:
            self.query_one(f"#{order[index + 1]}", Input).focus()
        else:
            self.action_save()

    def action_save(self) -> None:
        if self.sending:
            return
        name = self.query_one("#proposal-name", Input).value.strip()
        description = self.query_one("#proposal-description", Input).value.strip()
        parent = self.query_one("#proposal-parent", Input).value.strip() or None
        if not name:
            self.show_help("give the code a name")
            self.query_one("#proposal-name", Input).focus()
            return
        project, coder, segment_id, codebook = self.app.project, self.app.coder_name, self.segment_id, self.codebook
        self.sending = True
        self.show_help("sending…")
        self.app.writer.submit(
            self,
            "propose",
            lambda: propose(
                project, coder, name, description=description, parent=parent, segment_id=segment_id, codebook=codebook
            ),
            context=name,
        )

    def on_written(self, message: Written) -> None:
        message.stop()
        self.sending = False
        if (failure := message.failure) is not None:
            self.show_help(failure)
            return
        self.notify(f"proposed {message.context!r}: the lead will review it", markup=False)
        self.dismiss(message.result)

    def action_cancel(self) -> None:
        self.dismiss(None)
