"""Code proposals: the lead's review list (a coder sees their own proposals while blinded).

The lead accepts a proposal (``a``: the code joins the codebook as a new version), merges it into
an existing code (``m``, choosing the code) or declines it with a reason (``d``). Each decision is
one queued write through the core (``coding.proposals``), audited. ``p`` proposes a code, ``s``
shows open proposals or all of them, Enter goes to the segment a proposal came from.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from ...codebook.queries import CodeSummary, active_codes
from ...coding.proposals import Proposal, ProposalList, accept_proposal, decline_proposal, merge_proposal, proposal_list
from ...coding.queries import Viewer, look_up_viewer
from ...errors import QualcodeError
from ...table import terminal_text
from .. import bindings as keys
from ..typed import WorkbenchScreen
from ..widgets.columns import fit_columns, literal, text_width
from ..writer import Written
from .dialogs import CodePicker, PickerEntry, PromptDialog

LEAD_ACTIONS = frozenset({"accept", "merge", "decline"})


class ProposalsScreen(WorkbenchScreen[None]):
    BINDINGS = keys.bindings("proposals")
    DEFAULT_CSS = """
    ProposalsScreen #proposals-title { height: auto; padding: 0 1; background: $primary-background; }
    ProposalsScreen #proposals-list { height: 1fr; }
    ProposalsScreen #proposals-detail-pane { height: 7; border-top: solid $panel; padding: 0 1; }
    """

    class Loaded(Message):
        def __init__(
            self,
            proposals: ProposalList | None,
            viewer: Viewer | None,
            codes: list[CodeSummary],
            error: str | None = None,
        ) -> None:
            super().__init__()
            self.proposals = proposals
            self.viewer = viewer
            self.codes = codes
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.only_open = True
        self.proposals: ProposalList | None = None
        self.viewer: Viewer | None = None
        self.codes: list[CodeSummary] = []
        self.writes_pending = 0

    def compose(self) -> ComposeResult:
        yield Static(Text("Code proposals · loading…"), id="proposals-title")
        yield DataTable(id="proposals-list", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="proposals-detail-pane"):
            yield Static("", id="proposals-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def on_screen_resume(self) -> None:
        if self.proposals is not None:
            self.load()  # back from the dialog or the coding screen: show what changed

    @work(thread=True, exclusive=True, group="proposals")
    def load(self) -> None:
        app = self.app
        try:
            viewer = look_up_viewer(app.project, app.coder_name)
            proposals = proposal_list(app.project, app.coder_name, status="open" if self.only_open else None)
            try:
                codes = active_codes(app.project)
            except QualcodeError:
                codes = []  # no codebook yet: nothing to merge into
        except QualcodeError as exc:
            self.post_message(self.Loaded(None, None, [], str(exc)))
            return
        self.post_message(self.Loaded(proposals, viewer, codes))

    def on_proposals_screen_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.proposals is None:
            self.notify(message.error or "cannot read the proposals", severity="error", timeout=8, markup=False)
            return
        self.proposals, self.viewer, self.codes = message.proposals, message.viewer, message.codes
        self.fill_table()
        self.refresh_bindings()

    @property
    def is_lead(self) -> bool:
        return self.viewer is not None and self.viewer.is_lead

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in LEAD_ACTIONS:
            return self.is_lead
        return True

    def show_title(self) -> None:
        title = Text()
        title.append("Code proposals", style="bold")
        if self.proposals is not None:
            n = len(self.proposals.proposals)
            title.append(f" · {n} {'open ' if self.only_open else ''}proposal{'s' * (n != 1)}")
            if self.proposals.hidden_by_blinding:
                title.append(" · blinded: your own", style="italic")
        title.append(" · showing open only (s: all)" if self.only_open else " · showing all (s: open only)")
        if self.writes_pending:
            title.append(" · saving…", style="italic")
        self.query_one("#proposals-title", Static).update(title)

    def fill_table(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        rows = list(self.proposals.proposals) if self.proposals is not None else []
        fit_columns(
            table,
            [
                ("#", text_width((p.id for p in rows), "#"), 2),
                ("Name", text_width((p.name for p in rows), "Name"), 12),
                ("By", text_width((p.coder for p in rows), "By"), 3),
                ("Parent", text_width((p.parent for p in rows), "Parent"), 8),
                ("Status", text_width((p.outcome or p.status for p in rows), "Status"), 8),
            ],
            self.app.size.width,
        )
        for p in rows:
            table.add_row(
                str(p.id),
                literal(p.name),
                literal(p.coder),
                literal(p.parent),
                literal(p.outcome or p.status),
                key=str(p.id),
            )
        if table.row_count:
            table.move_cursor(row=min(row or 0, table.row_count - 1))
        table.focus()
        self.show_title()
        self.show_detail()

    @property
    def current(self) -> Proposal | None:
        rows = self.proposals.proposals if self.proposals is not None else ()
        row = self.query_one(DataTable).cursor_row
        return rows[row] if rows and row is not None and 0 <= row < len(rows) else None

    def show_detail(self) -> None:
        p = self.current
        text = Text()
        if p is not None:
            text.append(terminal_text(p.name), style="bold")
            text.append(f" · proposed by {terminal_text(p.coder)}")
            if p.parent:
                text.append(f" · under {terminal_text(p.parent)}")
            if p.segment_ref:
                text.append(f" · from {terminal_text(p.segment_ref)}")
            text.append(f" · {terminal_text(p.outcome or p.status)}\n", style="italic")
            text.append(terminal_text(p.description) or "(no description)")
        elif self.proposals is not None:
            text.append("No proposals here. p proposes a code.", style="dim")
        self.query_one("#proposals-detail", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_segment()

    def on_resize(self, event: events.Resize) -> None:
        if self.proposals is not None:
            self.call_after_refresh(self.fill_table)

    # -- choosing and going -------------------------------------------------------------------------
    def action_cycle_status(self) -> None:
        self.only_open = not self.only_open
        self.load()

    def action_open_segment(self) -> None:
        p = self.current
        if p is None:
            return
        if p.transcript_id is None:
            self.notify("this proposal names no segment", timeout=3)
            return
        self.app.open_transcript(p.transcript_id, p.position)

    def action_propose(self) -> None:
        from .proposal_dialog import ProposalDialog

        self.app.push_screen(ProposalDialog(codebook=None))

    # -- the lead's decisions -----------------------------------------------------------------------
    def open_one(self) -> Proposal | None:
        p = self.current
        if p is None:
            return None
        if p.status != "open":
            self.notify(f"proposal {p.id} was already {p.status}", severity="warning", timeout=4)
            return None
        return p

    def action_accept(self) -> None:
        p = self.open_one()
        if p is not None and self.is_lead:
            self.submit("accept", accept_proposal, p.id, context=p)

    def action_merge(self) -> None:
        p = self.open_one()
        if p is None or not self.is_lead:
            return
        entries = [PickerEntry(c.id, c.path, c.key or "", False) for c in self.codes]
        paths = {c.id: c.path for c in self.codes}

        def chosen(code_id: int | None) -> None:
            if code_id is not None:
                self.submit("merge", merge_proposal, p.id, paths[code_id], context=p)

        self.app.push_screen(MergePicker(entries, p.name), chosen)

    def action_decline(self) -> None:
        p = self.open_one()
        if p is None or not self.is_lead:
            return

        def reason_given(reason: str | None) -> None:
            if reason is None:
                return
            if not reason.strip():
                self.notify("not declined: say why (the coder reads it)", severity="warning", timeout=5)
                return
            self.submit("decline", decline_proposal, p.id, reason.strip(), context=p)

        self.app.push_screen(
            PromptDialog(f"Decline {p.name!r}: the reason (the coder reads it)", placeholder="why"), reason_given
        )

    def submit(self, kind: str, write: Any, *args: Any, context: Any = None) -> None:
        project, lead = self.app.project, self.app.coder_name

        def run() -> Any:
            with project.transaction() as s:
                return write(s, lead, *args)

        self.writes_pending += 1
        self.show_title()
        self.app.writer.submit(self, kind, run, context)

    def on_written(self, message: Written) -> None:
        message.stop()
        self.writes_pending = max(0, self.writes_pending - 1)
        if (failure := message.failure) is not None:
            self.notify(failure, severity="error", timeout=8, markup=False)
        else:
            p: Proposal = message.context
            done = {"accept": "accepted: added to the codebook", "merge": "merged", "decline": "declined"}[message.kind]
            self.notify(f"{p.name!r} {done}", markup=False)
        self.load()

    def action_back(self) -> None:
        if self.is_current:
            self.dismiss()


class MergePicker(CodePicker):
    """The code picker, titled for merging a proposal."""

    def __init__(self, entries: list[PickerEntry], name: str) -> None:
        super().__init__(entries)
        self.proposal_name = name

    def on_mount(self) -> None:
        super().on_mount()
        from textual.widgets import Label

        self.query_one(".dialog-title", Label).update(Text(f"Merge {self.proposal_name!r} into…"))
