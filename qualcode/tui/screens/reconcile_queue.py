"""Reconciliation queue (lead decides; auditors may look): one disputed code on one segment
at a time, with the segment, every coder's codes and memos, and the code's definition.

Keys take one coder's codes, the union or the intersection, or set the code present or
absent by hand; write a reconciliation memo, flag the code for revision, or send the
transcript to a new round. Decided items stay in the list, marked, until the queue reloads.

For the lead, the detail also shows the code suggestion model's view of the segment (when a model
was trained): the disputed code's calibrated confidence and the model's top suggestions, computed
in a worker for the whole queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from ...agreement.decisions import decide, flag_for_revision, reconciliation_memo
from ...agreement.queries import reconciliation_queue
from ...agreement.queue import QueueItem
from ...coding.rounds import open_round
from ...errors import QualcodeError
from .. import bindings as keys
from ..widgets.columns import fit_columns, literal, text_width
from ..widgets.lead_screen import LeadScreen
from .dialogs import MemoDialog, PromptDialog


@dataclass(frozen=True)
class QueueChoice:
    codebook: str | None = None
    coders: tuple[str, ...] | None = None
    round: int | None = None
    code: str | None = None  # name, key or path of the one code shown


@dataclass
class QueueRow:
    """One decision to make: a disputed code on a segment."""

    item: QueueItem
    dispute: dict[str, Any]
    decided_before: bool = False  # decided when the queue was read (hidden unless asked for)

    @property
    def decision(self) -> dict[str, Any] | None:
        return self.dispute["decision"]


@dataclass
class QueueContent:
    rows: list[QueueRow]
    coders: list[str] = field(default_factory=list)
    transcript_of: dict[int, int] = field(default_factory=dict)  # segment id -> transcript id


def queue_rows(items: list[QueueItem]) -> list[QueueRow]:
    rows = []
    for item in items:
        for dispute in item.disputed:
            decision = dispute["decision"]
            rows.append(QueueRow(item, dispute, decision is not None and decision["method"] != "agreed"))
    return rows


def transcript_name(item: QueueItem) -> str:
    """CASE/TITLE (the form ``qualcode.coding.refs`` reads): two schools may each have a "Principal interview"."""
    return f"{item.case}/{item.transcript}" if item.case else item.transcript


# The widest a decision gets, besides the coder's name in "take:NAME".
DECISION_WIDTH = len("✓ present (intersection)")


def decision_text(decision: dict[str, Any] | None) -> Text:
    if decision is None or decision["method"] == "agreed":
        return Text("open", style="yellow")
    return Text(f"✓ {'present' if decision['present'] else 'absent'} ({decision['method']})", style="green")


@dataclass(frozen=True)
class ModelView:
    """The suggestion model on one segment: every code's confidence, and the codes it suggests."""

    confidence: dict[int, float]  # code id -> calibrated probability
    suggested: list[tuple[str, float]]  # (code path, confidence), most probable first
    abstains: bool  # the segment shares no word with what the model learned from


def model_text(view: ModelView, code_id: int) -> Text:
    text = Text()
    text.append("\nModel: ", style="bold")
    if view.abstains:
        text.append("abstains (no word it learned from)", style="italic")
        return text
    if code_id in view.confidence:
        text.append(f"{view.confidence[code_id]:.0%} for this code")
    else:
        text.append("no model of this code (too few examples)", style="italic")
    text.append(" · suggests: ")
    text.append(", ".join(f"{path} {p:.0%}" for path, p in view.suggested) or "nothing above its thresholds")
    return text


def item_details(row: QueueRow, coders: list[str], model: ModelView | None = None) -> Text:
    """The segment, each coder's codes and memos, the disputed code's definition, and the model's view."""
    item, dispute = row.item, row.dispute
    text = Text()
    text.append(f"{item.transcript} #{item.position}", style="bold")
    if item.case:
        text.append(f" · {item.case}")
    text.append("  ")
    text.append_text(decision_text(row.decision))
    text.append("\n" + item.text + "\n\n", style="italic")
    text.append(dispute["path"], style="bold")
    text.append(f"  applied by {', '.join(dispute['applied_by']) or 'nobody'}", style="green")
    text.append(f" · not by {', '.join(dispute['omitted_by']) or 'nobody'}\n", style="red")
    for n, name in enumerate(coders, start=1):
        codes = item.codes_by_coder.get(name)
        text.append(f" {n} ", style="reverse")
        text.append(f" {name}: ", style="bold")
        text.append(("(not finished)" if codes is None else (", ".join(codes) or "no codes")) + "\n")
    for memo in item.memos:
        label = "reconciliation memo" if memo["kind"] == "reconciliation" else "memo"
        text.append(f"  {memo['coder']} ({label}): {memo['text']}\n", style="cyan")
    for title, key in (("Definition", "definition"), ("Include", "inclusion"), ("Exclude", "exclusion")):
        if dispute.get(key):
            text.append(f"\n{title}: ", style="bold")
            text.append(" ".join(dispute[key].split()))
    if model is not None:
        text.append_text(model_text(model, dispute["code_id"]))
    return text


def model_views(project: Any, viewer: str, codebook: str | None, items: list[QueueItem]) -> dict[int, ModelView] | None:
    """The model's view of every queued segment (None when no model is trained or the viewer may not see it)."""
    from ...assist.suggest import suggest_state

    state = suggest_state(project, viewer, codebook)
    model = state.model
    if model is None:
        return None
    texts = {item.segment_id: item.text for item in items}
    ids = list(texts)
    probs, known = model.probabilities([texts[i] for i in ids])
    views = {}
    for row, segment_id in enumerate(ids):
        ranked = [s for s in model.ranked(probs[row], int(known[row]), len(model.codes)) if s.suggested][:3]
        views[segment_id] = ModelView(
            {c.code_id: float(p) for c, p in zip(model.codes, probs[row])},
            [(s.path, s.confidence) for s in ranked],
            int(known[row]) == 0,
        )
    return views


class ReconcileQueue(LeadScreen):
    BINDINGS = keys.bindings("reconcile")
    what = "the reconciliation queue"
    LEAD_ACTIONS = frozenset({"take", "decide", "set_present", "memo", "flag", "second_round"})
    DEFAULT_CSS = """
    ReconcileQueue #queue-title { height: auto; padding: 0 1; background: $primary-background; }
    ReconcileQueue #queue-items { height: 1fr; }
    ReconcileQueue #queue-detail-pane { height: 1fr; border-top: solid $panel; padding: 0 1; }
    """

    class ModelRead(Message):
        def __init__(self, views: dict[int, ModelView] | None) -> None:
            super().__init__()
            self.views = views

    def __init__(self, choice: QueueChoice | None = None) -> None:
        super().__init__()
        self.model_views: dict[int, ModelView] | None = None
        self.choice = choice or QueueChoice()
        self.rows: list[QueueRow] = []
        self.shown: list[QueueRow] = []
        self.coders: list[str] = []
        self.transcript_of: dict[int, int] = {}
        self.show_decided = False

    def compose(self) -> ComposeResult:
        yield Static("Reconciliation queue · loading…", id="queue-title")
        yield DataTable(id="queue-items", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="queue-detail-pane"):
            yield Static("", id="queue-detail")
        yield Footer()

    # -- reading ------------------------------------------------------------------------------
    def read(self) -> QueueContent:
        c = self.choice
        queue = reconciliation_queue(
            self.app.project,
            self.app.coder_name,
            codebook=c.codebook,
            round=c.round,
            code=c.code,
            coders=list(c.coders) if c.coders else None,
        )
        return QueueContent(queue_rows(queue.items), queue.coders, queue.transcript_of)

    def show(self, content: QueueContent) -> None:
        self.rows, self.coders, self.transcript_of = content.rows, content.coders, content.transcript_of
        self.fill_table()
        if self.is_lead and self.rows:
            self.read_model([r.item for r in self.rows])

    @work(thread=True, exclusive=True, group="suggest")
    def read_model(self, items: list[QueueItem]) -> None:
        """The suggestion model's view of the queued segments, off the UI thread."""
        try:
            views = model_views(self.app.project, self.app.coder_name, self.choice.codebook, items)
        except QualcodeError:
            views = None  # no model, or one this qualcode cannot read: the queue works without it
        self.post_message(self.ModelRead(views))

    def on_reconcile_queue_model_read(self, message: ModelRead) -> None:
        self.model_views = message.views
        self.show_detail()

    def fill_table(self, keep: QueueRow | None = None) -> None:
        self.shown = [r for r in self.rows if self.show_decided or not r.decided_before]
        table = self.query_one(DataTable)
        table.clear(columns=True)
        rows = self.shown
        applied = [", ".join(r.dispute["applied_by"]) for r in rows]
        # Decisions change in place, so their column is as wide as the widest one could be.
        decision_width = max([DECISION_WIDTH] + [len(f"✓ present (take:{name})") for name in self.coders])
        fit_columns(
            table,
            [
                ("Transcript", text_width((r.item.transcript for r in rows), "Transcript"), 16),
                ("#", text_width((r.item.position for r in rows), "#"), 3),
                ("Case", text_width((r.item.case or "" for r in rows), "Case"), 10),
                ("Code", text_width((r.dispute["path"] for r in rows), "Code"), 16),
                ("Applied by", text_width(applied, "Applied by"), 10),
                ("Decision", decision_width, decision_width),
            ],
            self.app.size.width,
        )
        for i, (r, by) in enumerate(zip(rows, applied)):
            table.add_row(
                literal(r.item.transcript),
                str(r.item.position),
                literal(r.item.case or ""),
                literal(r.dispute["path"]),
                literal(by),
                decision_text(r.decision),
                key=str(i),
            )
        if keep is not None and keep in self.shown:
            table.move_cursor(row=self.shown.index(keep))
        table.focus()
        self.refresh_title()
        self.show_detail()

    def refresh_title(self) -> None:
        open_count = sum(1 for r in self.rows if r.decision is None or r.decision["method"] == "agreed")
        title = Text()
        title.append("Reconciliation queue", style="bold")
        title.append(f" · {open_count} open of {len(self.rows)}")
        if self.choice.code:
            title.append(f" · code: {self.choice.code}", style="bold yellow")
        if self.choice.coders:
            title.append(f" · coders: {', '.join(self.choice.coders)}")
        if self.choice.round:
            title.append(f" · round {self.choice.round}")
        title.append(" · decided shown" if self.show_decided else " · decided hidden")
        if not self.is_lead:
            title.append(" · read only (auditor)", style="italic")
        self.query_one("#queue-title", Static).update(title)

    @property
    def current(self) -> QueueRow | None:
        return self.at_cursor(self.shown)

    def show_detail(self) -> None:
        row = self.current
        detail = self.query_one("#queue-detail", Static)
        if row is None:
            detail.update("No disagreements here." if self.loaded else "")
        else:
            views = self.model_views or {}
            detail.update(item_details(row, self.coders, views.get(row.item.segment_id)))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()

    # -- decisions ----------------------------------------------------------------------------
    def queue_decision(self, method: str, **options: Any) -> None:
        row = self.current
        if row is None or not self.is_lead:
            return
        lead, sid, code_id = self.app.coder_name, row.item.segment_id, row.dispute["code_id"]
        coders = list(self.choice.coders) if self.choice.coders else None
        self.submit(
            "decision",
            decide,
            lead,
            sid,
            code_id,
            method,
            coders=coders,
            round=self.choice.round,
            **options,
            context=row,
        )

    def action_take(self, number: int) -> None:
        if 1 <= number <= len(self.coders):
            self.queue_decision("take", coder=self.coders[number - 1])

    def action_decide(self, method: str) -> None:
        self.queue_decision(method)

    def action_set_present(self, present: bool) -> None:
        self.queue_decision("manual", present=present)

    def ask_then_write(self, dialog, write, *, allow_empty: bool = False) -> None:
        """Ask for a text in ``dialog``; the answer goes to ``write(row, text)``, which submits the write."""
        row = self.current
        if row is None or not self.is_lead:
            return

        def answered(text: str | None) -> None:
            if text is not None and (allow_empty or text.strip()):
                write(row, text.strip())

        self.app.push_screen(dialog(row), answered)

    def action_memo(self) -> None:
        lead = self.app.coder_name
        self.ask_then_write(
            lambda row: MemoDialog(
                Text(f"Reconciliation memo: {row.dispute['path']} on {transcript_name(row.item)} #{row.item.position}")
            ),
            lambda row, text: self.submit(
                "memo",
                reconciliation_memo,
                lead,
                row.item.segment_id,
                text,
                code_id=row.dispute["code_id"],
                context=row,
            ),
        )

    def action_flag(self) -> None:
        lead = self.app.coder_name
        self.ask_then_write(
            lambda row: PromptDialog(
                Text(f"Flag {row.dispute['path']} for revision: what should change?"),
                placeholder="e.g. add an exclusion for …",
            ),
            lambda row, text: self.submit(
                "flag",
                flag_for_revision,
                lead,
                row.dispute["code_id"],
                text,
                segment_id=row.item.segment_id,
                context=row,
            ),
        )

    def action_second_round(self) -> None:
        lead = self.app.coder_name
        self.ask_then_write(
            lambda row: PromptDialog(
                Text(f"Send {transcript_name(row.item)} to a new round: a note for the coders"),
                placeholder="why this transcript is recoded",
            ),
            lambda row, note: self.submit(
                "round", open_round, lead, [self.transcript_of[row.item.segment_id]], note, context=row
            ),
            allow_empty=True,
        )

    def written(self, kind: str, result: Any, context: Any) -> None:
        row: QueueRow = context
        if kind == "decision":  # the consensus decision as the queue describes decisions
            result = {"present": result.present, "method": result.method, "by": result.decided_by}
            row.dispute["decision"] = result
            index = self.shown.index(row) if row in self.shown else -1
            if index >= 0:
                table = self.query_one(DataTable)
                table.update_cell_at((index, 5), decision_text(result))
                self.move_to_next_open(index)
            self.notify(
                f"{row.dispute['path']}: {'present' if result['present'] else 'absent'} ({result['method']})",
                markup=False,
            )
        elif kind == "memo":
            row.item.memos.append(
                {
                    "kind": "reconciliation",
                    "coder": self.app.coder_name,
                    "code_id": row.dispute["code_id"],
                    "round": None,
                    "text": result.text,
                }
            )
            self.notify("reconciliation memo saved")
        elif kind == "flag":
            self.notify(f"{row.dispute['path']} flagged for revision", markup=False)
        elif kind == "round":
            self.notify(f"{transcript_name(row.item)} sent to round {result}", markup=False)
        self.refresh_title()
        self.show_detail()

    def move_to_next_open(self, after: int) -> None:
        for i in range(after + 1, len(self.shown)):
            d = self.shown[i].decision
            if d is None or d["method"] == "agreed":
                self.query_one(DataTable).move_cursor(row=i)
                return

    # -- filtering ----------------------------------------------------------------------------
    def action_filter_code(self) -> None:
        def chosen(code: str | None) -> None:
            if code is not None:
                self.rechoose(code=code.strip() or None)

        self.app.push_screen(
            PromptDialog("Show one code (name, key or path; empty for every code)", value=self.choice.code or ""),
            chosen,
        )

    def action_toggle_decided(self) -> None:
        self.show_decided = not self.show_decided
        self.fill_table(keep=self.current)

    def action_open_segment(self) -> None:
        row = self.current
        if row is None:
            return
        self.app.open_transcript(
            self.transcript_of[row.item.segment_id], row.item.position, codebook=self.choice.codebook
        )
