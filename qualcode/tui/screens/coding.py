"""The coding screen: one transcript, the codebook beside it, every action keyboard-first.

The screen coordinates: widgets post messages (a click on a segment or a code), actions
queue writes on the app's single writer thread, and a code shows as saved only once its
``Written`` message reports the commit; until then it carries a pending marker.

Code suggestions (``qualcode.assist``) join the codebook pane only when the viewer may see them
(the lead always; coders once unblinded, or in a blind round the lead opened to them) and a model
was trained: a worker computes them for the whole transcript, and applying a suggested code
records it as accepted from the suggestion. Without them the screen is as it always was.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer, LoadingIndicator, Static

from ...assist.accept import SuggestingWork
from ...codebook.lookup import code_paths
from ...coding.queries import look_up_viewer
from ...coding.service import InactiveCodeError, TranscriptWork
from ...coding.views import others_by_segment
from ...errors import QualcodeError
from .. import bindings
from ..typed import WorkbenchScreen
from ..widgets.code_style import code_looks
from ..widgets.codebook_panel import CodebookTree, CodeDetails, code_details
from ..widgets.suggestion_panel import SuggestionPanel, suggestion_text
from ..widgets.transcript_view import Overlay, TranscriptView
from ..writer import Written
from .dialogs import CodePicker, MemoDialog, PickerEntry, PromptDialog, QuoteChoice, QuoteDialog

PENDING_MARKER_DELAY_S = 0.03


class CodingScreen(WorkbenchScreen[None]):
    BINDINGS = bindings.bindings("coding")

    class Loaded(Message):
        def __init__(self, work: TranscriptWork | None, sees_all: bool, error: str | None = None) -> None:
            super().__init__()
            self.work = work
            self.sees_all = sees_all
            self.error = error

    class OthersLoaded(Message):
        def __init__(self, others: dict[int, dict[str, set[int]]]) -> None:
            super().__init__()
            self.others = others

    class CodesReloaded(Message):
        """The codebook read again after a code was refused as retired or merged."""

        def __init__(self, codes: list | None, error: str | None = None) -> None:
            super().__init__()
            self.codes = codes
            self.error = error

    class BlindingChecked(Message):
        def __init__(self, sees_all: bool, suggestions_allowed: bool | None = None) -> None:
            super().__init__()
            self.sees_all = sees_all
            self.suggestions_allowed = suggestions_allowed  # None: not asked (no model was ever shown)

    class SuggestionsLoaded(Message):
        """Suggestions for every segment of the transcript (None: none to show, or not allowed)."""

        def __init__(self, by_segment: dict | None, allowed: bool, error: str | None = None) -> None:
            super().__init__()
            self.by_segment = by_segment
            self.allowed = allowed
            self.error = error

    BLINDING_CHECK_SECONDS = 3.0  # the lead may blind or unblind from another process

    def __init__(
        self,
        transcript_id: int,
        *,
        segment_position: int | None = None,
        side_by_side: bool = False,
        codebook: str | None = None,
        back_to_previous: bool = False,
    ) -> None:
        super().__init__()
        self.transcript_id = transcript_id
        self.start_position = segment_position
        self.codebook_name = codebook  # None: the active codebook
        self.back_to_previous = back_to_previous  # opened from a lead screen: escape returns there
        self.work: TranscriptWork | None = None
        self.sees_all = False
        self.side_by_side = side_by_side
        self.overlay = Overlay.empty()
        self.in_flight: dict[tuple[int, int], int] = {}  # (segment, code) -> writes queued
        self.my_tickets: set[int] = set()  # writes queued by this screen, not yet reported
        self.writes_done = 0
        self.highlighted_code: int | None = None
        self.search_query = ""
        self.paths: dict[int, str] = {}
        self.hotkeys: dict[str, int] = {}
        self._view: TranscriptView | None = None  # set once the transcript is mounted
        self._fixed: dict[str, Static] = {}
        self.suggestions: dict | None = None  # segment id -> suggestions, while shown
        self.suggestions_allowed: bool | None = None  # known once asked

    # -- building -----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("Loading transcript…", id="coding-title")
        with Horizontal(id="coding-body"):
            yield LoadingIndicator(id="coding-loading")
        yield Footer()

    def on_mount(self) -> None:
        self.load()
        self.set_interval(self.BLINDING_CHECK_SECONDS, self.check_blinding)

    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        app = self.app
        try:
            work_ = SuggestingWork(app.project, app.coder_name, self.transcript_id, codebook=self.codebook_name)
            sees_all = look_up_viewer(app.project, app.coder_name).sees_all
        except QualcodeError as exc:
            self.post_message(self.Loaded(None, False, str(exc)))
            return
        self.post_message(self.Loaded(work_, sees_all))

    async def on_coding_screen_loaded(self, message: Loaded) -> None:
        if message.work is None:
            self.notify(message.error or "cannot open the transcript", severity="error", markup=False)
            self.query_one("#coding-title", Static).update(message.error or "")
            return
        self.work = work_ = message.work
        work_.adopt(self.app.undo_histories.pop(self.transcript_id, None))  # undo reaches back past a visit home
        self.sees_all = message.sees_all
        looks = code_looks(work_.codes)
        self.paths = code_paths(work_.codes)
        self.hotkeys = {c.hotkey: c.id for c in work_.codes if c.hotkey}
        self.bind_code_hotkeys()
        view = self._view = TranscriptView(work_, looks, self.overlay, id="transcript")
        tree = CodebookTree(work_.codes, looks, id="codebook")
        details = CodeDetails("", id="code-details")
        details.display = False
        body = self.query_one("#coding-body", Horizontal)
        await self.query_one("#coding-loading").remove()
        # The status line sits under the transcript column only: a move then repaints that
        # column alone (the compositor redraws the box around what changed).
        await body.mount(
            Vertical(view, Static("", id="segment-status"), id="transcript-pane"),
            Vertical(tree, details, id="codebook-pane"),
        )
        view.focus()
        if self.start_position is not None:
            index = next((i for i, s in enumerate(work_.segments) if s.position == self.start_position), 0)
            view.select(index)
        if self.side_by_side and self.sees_all:
            self.load_others()
        self.refresh_status()
        self.refresh_bindings()
        if work_.codebook is not None:
            self.load_suggestions()

    # -- reading state ------------------------------------------------------------------------
    @property
    def view(self) -> TranscriptView:
        return self._view

    @property
    def ready(self) -> bool:
        return self.work is not None and self._view is not None

    @property
    def current_segment(self):
        return self.work.segments[self.view.current] if self.ready and self.work.segments else None

    def refresh_status(self) -> None:
        work_ = self.work
        if work_ is None:
            return
        done, total = work_.progress()
        title = Text()
        # What changes while coding comes first, so a narrow terminal keeps it.
        title.append(work_.transcript.title, style="bold")
        title.append(f" · done {done}/{total} · round {work_.round} · {self.app.coder_name}")
        if work_.case_name:
            title.append(f" · {work_.case_name}")
        if work_.codebook is not None:
            title.append(f" · {work_.codebook.name}", style="italic")
        if self.side_by_side and self.sees_all:
            title.append(" · all coders shown", style="bold yellow")
        self._update_fixed("#coding-title", title)
        seg = self.current_segment
        status = Text()
        if seg is not None:
            status.append(f"segment {seg.position} of {total}")
            if self.writes_pending:
                status.append(f" · saving {self.writes_pending}…", style="italic")
            else:
                status.append(" · saved", style="green")
            for label, body in (("memo", work_.memo(seg.id)), ("core idea", work_.core_idea(seg.id))):
                if body:
                    status.append(f"\n{label}: ", style="bold")
                    status.append(body.strip().replace("\n", " ")[:300])
        self._update_fixed("#segment-status", status)
        self.refresh_suggestions()

    def _update_fixed(self, selector: str, text: Text) -> None:
        """Repaint a fixed-height line only when it changed, without a layout pass (keeps moving fast)."""
        widget = self._fixed.get(selector)
        if widget is None:
            found = self.query(selector)
            if not found:
                return  # not mounted yet (the status line comes with the transcript)
            widget = self._fixed[selector] = found.first(Static)
        if getattr(widget, "shown_text", None) != text.plain:
            widget.shown_text = text.plain
            widget.update(text, layout=False)

    @property
    def writes_pending(self) -> int:
        return len(self.my_tickets)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_side_by_side":
            return self.sees_all
        if action == "core_idea":
            return self.work is not None and self.work.codebook is not None and self.work.codebook.kind == "cqr"
        return True

    # -- writes ---------------------------------------------------------------------------------
    def queue(self, kind: str, fn, context=None) -> None:
        ticket = self.app.writer.submit(self, kind, fn, context)
        self.my_tickets.add(ticket.number)
        self.refresh_status()

    def toggle_code(self, code_id: int) -> None:
        seg = self.current_segment
        if seg is None:
            return
        code = self.work.code_by_id.get(code_id)
        if code is None:
            return
        if not code.applicable:
            self.notify(f"{code.name} is a grouping: apply one of its codes", severity="warning", markup=False)
            return
        wanted_now = self.overlay.pending_codes.get(seg.id, {}).get(
            code_id, code_id in self.work.applied.get(seg.id, ())
        )
        self.overlay.pending_codes.setdefault(seg.id, {})[code_id] = not wanted_now
        key = (seg.id, code_id)
        self.in_flight[key] = self.in_flight.get(key, 0) + 1
        self.show_pending_soon(seg.id)
        work_ = self.work
        if not wanted_now and code_id in self.suggested_codes(seg.id):
            self.queue("toggle", lambda: work_.accept(seg.id, code_id), key)  # accepted from the suggestion
        else:
            self.queue("toggle", lambda: work_.toggle(seg.id, code_id), key)

    def show_pending_soon(self, segment_id: int) -> None:
        """Paint the pending marker only if the commit takes longer than a frame or so:
        a quick save then shows once, as saved, instead of flickering through "pending"."""
        self.set_timer(PENDING_MARKER_DELAY_S, lambda: self.ready and self.view.refresh_segment(segment_id))

    def on_written(self, message: Written) -> None:
        message.stop()
        if message.ticket not in self.my_tickets:
            return
        self.my_tickets.discard(message.ticket)
        self.writes_done += 1
        if message.kind == "toggle":
            seg_id, code_id = message.context
            left = self.in_flight.get(message.context, 1) - 1
            if left <= 0:
                self.in_flight.pop(message.context, None)
                pending = self.overlay.pending_codes.get(seg_id, {})
                pending.pop(code_id, None)
                if not pending:
                    self.overlay.pending_codes.pop(seg_id, None)
            else:
                self.in_flight[message.context] = left
        elif message.kind == "done":
            self.overlay.pending_done.discard(message.context)
        elif message.kind in ("undo", "redo") and message.error is None:
            label = message.result
            self.notify(f"{message.kind}: {label}" if label else f"nothing to {message.kind}", timeout=2, markup=False)
        if (failure := message.failure) is not None:
            self.notify(failure, severity="error", timeout=8, markup=False)
        if isinstance(message.error, InactiveCodeError):  # the lead changed the codebook: show it as it is now
            self.reload_codebook()
        if self.ready:
            if message.kind == "toggle":
                self.view.refresh_segment(message.context[0])
                self.refresh_suggestions()
            elif message.kind == "done":
                self.view.refresh_segment(message.context)
            else:  # undo, redo, memos and quotes may touch any segment
                self.view.refresh()
        self.refresh_status()

    @work(thread=True, exclusive=True, group="codebook")
    def reload_codebook(self) -> None:
        work_ = self.work
        if work_ is None:
            return
        try:
            codes = work_.reload_codes()
        except QualcodeError as exc:
            self.post_message(self.CodesReloaded(None, str(exc)))
            return
        self.post_message(self.CodesReloaded(codes))

    def on_coding_screen_codes_reloaded(self, message: CodesReloaded) -> None:
        if message.codes is None:
            self.notify(message.error or "cannot reload the codebook", severity="error", markup=False)
            return
        if not self.ready:
            return
        codes = message.codes
        looks = self.view.looks  # shared with the tree: codes kept keep their colours, new ones get theirs
        for code_id, look in code_looks(codes).items():
            looks.setdefault(code_id, look)
        self.paths = code_paths(codes)
        self.hotkeys = {c.hotkey: c.id for c in codes if c.hotkey}
        self.bind_code_hotkeys()  # a retired code's old key now finds no code and does nothing
        tree = self.query_one("#codebook", CodebookTree)
        tree.codes = codes
        tree.build()
        if self.highlighted_code not in self.work.code_by_id:
            self.highlighted_code = None
        self.refresh_details()
        self.view.refresh()
        self.refresh_status()

    # -- moving -------------------------------------------------------------------------------
    def go_to(self, index: int) -> None:
        if self.ready:
            self.view.select(index)
            self.refresh_status()

    def action_move(self, step: int) -> None:
        if self.ready and not self.view.scroll_within(step):  # a long turn scrolls before the next is chosen
            self.go_to(self.view.current + step)

    def action_page(self, direction: int) -> None:
        if self.ready and not self.view.scroll_within(direction, page=True):
            self.go_to(self.view.page_target(direction))

    def action_jump_first(self) -> None:
        self.go_to(0)

    def action_jump_last(self) -> None:
        if self.ready:
            self.go_to(len(self.work.segments) - 1)

    def action_next_uncoded(self) -> None:
        if not self.ready:
            return
        index = self.work.next_uncoded(self.view.current)
        if index is None:
            self.notify("every segment is marked done")
        else:
            self.go_to(index)

    def action_search(self) -> None:
        if self.ready:
            self.app.push_screen(PromptDialog("Search the transcript", self.search_query), self._searched)

    def _searched(self, query: str | None) -> None:
        if query is None:
            return
        self.search_query = query
        self.overlay.search = query
        self.view.refresh()
        self.action_search_again(1)

    def action_search_again(self, direction: int) -> None:
        if not self.ready or not self.search_query:
            return
        index = self.work.search(self.search_query, self.view.current, backwards=direction < 0)
        if index is None:
            self.notify(f"no segment contains {self.search_query!r}", severity="warning", markup=False)
        else:
            self.go_to(index)

    def on_transcript_view_segment_clicked(self, message: TranscriptView.SegmentClicked) -> None:
        self.go_to(message.index)

    # -- coding ---------------------------------------------------------------------------------
    def bind_code_hotkeys(self) -> None:
        """Codebook hotkeys become bindings of this screen, replacing any binding on the same key.

        They must travel the same route as the movement keys: a hotkey handled earlier (in
        ``on_key``) would overtake a queued move and code the wrong segment when keys come fast.
        """
        for key, code_id in self.hotkeys.items():
            self._bindings.key_to_bindings.pop(key, None)
            self._bindings.bind(key, f"toggle_code({code_id})", show=False)

    def action_toggle_code(self, code_id: int) -> None:
        if self.ready:
            self.toggle_code(code_id)

    def on_codebook_tree_code_chosen(self, message: CodebookTree.CodeChosen) -> None:
        self.toggle_code(message.code_id)

    def on_codebook_tree_code_highlighted(self, message: CodebookTree.CodeHighlighted) -> None:
        self.highlighted_code = message.code_id
        self.refresh_details()

    def action_toggle_done(self) -> None:
        seg = self.current_segment
        if seg is None:
            return
        self.overlay.pending_done.add(seg.id)
        self.show_pending_soon(seg.id)
        work_ = self.work
        self.queue("done", lambda: work_.toggle_done(seg.id), seg.id)

    def action_undo(self) -> None:
        if self.ready:
            self.queue("undo", self.work.undo)

    def action_redo(self) -> None:
        if self.ready:
            self.queue("redo", self.work.redo)

    def action_pick_code(self) -> None:
        seg = self.current_segment
        if seg is None:
            return
        applied = self.work.applied.get(seg.id, set())
        entries = [
            PickerEntry(c.id, self.paths[c.id], c.key or "", c.id in applied) for c in self.work.codes if c.applicable
        ]
        self.app.push_screen(CodePicker(entries), lambda code_id: code_id is not None and self.toggle_code(code_id))

    def _memo(self, title: str, text: str, save) -> None:
        def done(result: str | None) -> None:
            if result is not None and result != text:
                self.queue("memo", lambda: save(result))

        self.app.push_screen(MemoDialog(title, text), done)

    def action_segment_memo(self) -> None:
        seg = self.current_segment
        if seg is not None:
            work_ = self.work
            self._memo(
                f"Memo on segment {seg.position} ({seg.speaker})",
                work_.memo(seg.id),
                lambda text: work_.set_memo(seg.id, text),
            )

    def action_core_idea(self) -> None:
        seg = self.current_segment
        if seg is not None:
            work_ = self.work
            self._memo(
                f"Core idea of block {seg.position} ({seg.speaker})",
                work_.core_idea(seg.id),
                lambda text: work_.set_core_idea(seg.id, text),
            )

    def code_in_focus(self) -> int | None:
        """The highlighted code in the panel, else the first code on the current segment."""
        if self.highlighted_code is not None:
            return self.highlighted_code
        seg = self.current_segment
        on = self.work.codes_on(seg.id) if seg is not None else []
        return on[0].id if on else None

    def action_code_memo(self) -> None:
        if not self.ready:
            return
        code_id = self.code_in_focus()
        if code_id is None:
            self.notify("highlight a code in the codebook first (tab, then arrows)", severity="warning")
            return
        work_ = self.work
        self._memo(
            f"Memo on the code {self.paths[code_id]}",
            work_.code_memo(code_id),
            lambda text: work_.set_code_memo(code_id, text),
        )

    def action_quote(self) -> None:
        seg = self.current_segment
        if seg is None:
            return
        on = self.work.codes_on(seg.id)
        candidates = on or [c for c in self.work.codes if c.applicable]
        if not candidates:
            return
        focus = self.code_in_focus()
        chosen = focus if focus in {c.id for c in candidates} else candidates[0].id
        work_ = self.work

        def done(choice: QuoteChoice | None) -> None:
            if choice is not None:
                self.queue("quote", lambda: work_.set_quote(seg.id, choice.code_id, choice.start, choice.end))

        self.app.push_screen(
            QuoteDialog(
                work_.segment_text(seg),
                seg.start,
                [(self.paths[c.id], c.id) for c in candidates],
                chosen,
                work_.quotes.get((seg.id, chosen)),
            ),
            done,
        )

    # -- codebook details and the lead's side-by-side view ----------------------------------
    def action_toggle_details(self) -> None:
        if self.ready:
            details = self.query_one(CodeDetails)
            details.display = not details.display
            self.refresh_details()

    def refresh_details(self) -> None:
        details = self.query_one(CodeDetails)
        code_id = self.highlighted_code if self.highlighted_code is not None else self.code_in_focus()
        if details.display and code_id is not None:
            code = self.work.code_by_id[code_id]
            details.update(code_details(code, self.paths[code_id], self.work.code_memo(code_id)))

    def show_code(self, code_id: int) -> None:
        """Highlight a code in the codebook and show its rules (from the command palette)."""
        if not self.ready or code_id not in self.work.code_by_id:
            return
        self.highlighted_code = code_id
        self.query_one(CodebookTree).highlight_code(code_id)
        self.query_one(CodeDetails).display = True
        self.refresh_details()

    def action_toggle_side_by_side(self) -> None:
        if not self.ready or not self.sees_all:
            return
        self.side_by_side = not self.side_by_side
        if self.side_by_side:
            self.load_others()
        else:
            self.overlay.others = {}
            self.view.relayout()
            self.view.scroll_to_current()
        self.refresh_status()

    @work(thread=True, exclusive=True, group="others")
    def load_others(self) -> None:
        work_ = self.work
        self.post_message(
            self.OthersLoaded(
                others_by_segment(self.app.project, self.app.coder_name, work_.transcript.id, work_.round)
            )
        )

    def on_coding_screen_others_loaded(self, message: OthersLoaded) -> None:
        if not self.side_by_side:
            return
        self.overlay.others = message.others
        self.view.relayout()
        self.view.scroll_to_current()

    @work(thread=True, exclusive=True, group="blinding")
    def check_blinding(self) -> None:
        app = self.app
        allowed = None
        if self.suggestions_allowed is not None:  # suggestions were looked for: see whether the lead changed that
            from ...assist.suggest import allowed_for

            allowed = allowed_for(app.project, app.coder_name)
        self.post_message(self.BlindingChecked(look_up_viewer(app.project, app.coder_name).sees_all, allowed))

    def on_coding_screen_blinding_checked(self, message: BlindingChecked) -> None:
        """Blinding changed elsewhere: hide other coders' codes at once, or allow showing them."""
        if (
            message.suggestions_allowed is not None
            and self.suggestions_allowed is not None
            and message.suggestions_allowed != self.suggestions_allowed
            and self.ready
        ):
            self.load_suggestions()  # shows or hides the panel as the lead now has it
        if message.sees_all == self.sees_all or not self.ready:
            return
        self.sees_all = message.sees_all
        if not self.sees_all and self.side_by_side:
            self.side_by_side = False
            self.overlay.others = {}
            self.view.relayout()
            self.view.scroll_to_current()
            self.notify("the lead blinded the project: other coders' codes are hidden")
        self.refresh_status()
        self.refresh_bindings()

    # -- suggestions ----------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="suggest")
    def load_suggestions(self) -> None:
        """Read the model (if the viewer may see it) and suggest for every segment: never on the UI thread."""
        from ...assist.suggest import suggest_state, suggestions_by_segment

        app, work_ = self.app, self.work
        if work_ is None or work_.codebook is None:
            return
        try:
            state = suggest_state(app.project, app.coder_name, work_.codebook.name)
            if state.model is None:
                self.post_message(self.SuggestionsLoaded(None, state.allowed))
                return
            texts = {seg.id: work_.segment_text(seg) for seg in work_.segments}
            self.post_message(self.SuggestionsLoaded(suggestions_by_segment(state.model, texts), True))
        except QualcodeError as exc:
            self.post_message(self.SuggestionsLoaded(None, False, str(exc)))

    async def on_coding_screen_suggestions_loaded(self, message: SuggestionsLoaded) -> None:
        if message.error:
            self.notify(f"suggestions: {message.error}", severity="warning", markup=False)
        self.suggestions_allowed = message.allowed
        self.suggestions = message.by_segment
        panels = self.query(SuggestionPanel)
        if message.by_segment is None:
            if panels:
                await panels.remove()
            return
        if not panels and self.ready:
            await self.query_one("#codebook-pane", Vertical).mount(
                SuggestionPanel("", id="suggestions"), before=self.query_one(CodeDetails)
            )
        self.refresh_suggestions()

    def suggested_codes(self, segment_id: int) -> set[int]:
        """Codes shown as suggested for the segment now (applying one of them accepts the suggestion)."""
        if not self.suggestions:
            return set()
        return {s.code_id for s in self.suggestions.get(segment_id, ())}

    def refresh_suggestions(self) -> None:
        if self.suggestions is None:
            return
        seg = self.current_segment
        panels = self.query(SuggestionPanel)
        if seg is None or not panels:
            return
        applied = set(self.work.applied.get(seg.id, set()))
        panels.first().show(suggestion_text(self.suggestions.get(seg.id), self.view.looks, applied))

    def on_unmount(self) -> None:
        seg = self.current_segment
        if seg is not None:
            self.app.last_position[self.transcript_id] = seg.position
        if self.work is not None:
            self.app.undo_histories[self.transcript_id] = self.work.history

    def action_back(self) -> None:
        if self.back_to_previous:
            self.app.pop_screen()
        else:
            self.app.show_home()
