"""Small modal dialogs of the coding screen: memo editor, code picker, quote span, one-line prompt."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Select, TextArea
from textual.widgets.option_list import Option

from .. import bindings


class MemoDialog(ModalScreen[str | None]):
    """Edit a memo or core idea; ctrl+s saves (returns the text), escape cancels (None)."""

    BINDINGS = bindings.bindings("editor")

    def __init__(self, title: str, text: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.initial = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield TextArea(self.initial, id="memo-text", soft_wrap=True)
            yield Label("ctrl+s save · escape cancel (an empty memo is deleted)", classes="dialog-help")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PromptDialog(ModalScreen[str | None]):
    """One line of input (search text, a round's note); Enter returns it, escape cancels."""

    BINDINGS = bindings.bindings("editor")

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog prompt"):
            yield Label(self.title_text, classes="dialog-title")
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            yield Label("enter save · escape cancel", classes="dialog-help")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_save(self) -> None:
        self.dismiss(self.query_one(Input).value)

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class PickerEntry:
    code_id: int
    path: str
    key: str
    applied: bool


class CodePicker(ModalScreen[int | None]):
    """Type to filter the codebook (fuzzy, on path and key); Enter returns the code to toggle."""

    BINDINGS = bindings.bindings("picker") + bindings.bindings("editor")

    def __init__(self, entries: list[PickerEntry]) -> None:
        super().__init__()
        self.entries = entries
        self.shown: list[PickerEntry] = list(entries)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog picker"):
            yield Label("Toggle a code on this segment", classes="dialog-title")
            yield Input(placeholder="type to filter…", id="picker-input")
            yield OptionList(id="picker-options")

    def on_mount(self) -> None:
        self.fill("")
        self.query_one(Input).focus()

    def fill(self, query: str) -> None:
        if query.strip():
            matcher = Matcher(query)
            scored = [(max(matcher.match(e.path), matcher.match(e.key) if e.key else 0), e) for e in self.entries]
            self.shown = [e for score, e in sorted(scored, key=lambda p: -p[0]) if score > 0]
        else:
            self.shown = list(self.entries)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(self._label(e)) for e in self.shown])
        if self.shown:
            options.highlighted = 0

    @staticmethod
    def _label(entry: PickerEntry) -> Text:
        text = Text("✓ " if entry.applied else "  ", style="bold green")
        if entry.key:
            text.append(f"{entry.key}  ", style="bold")
        text.append(entry.path)
        return text

    def on_input_changed(self, event: Input.Changed) -> None:
        self.fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_choose()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.shown[event.option_index].code_id)

    def action_cursor(self, step: int) -> None:
        options = self.query_one(OptionList)
        if self.shown:
            current = options.highlighted if options.highlighted is not None else 0
            options.highlighted = max(0, min(len(self.shown) - 1, current + step))

    def action_choose(self) -> None:
        index = self.query_one(OptionList).highlighted
        if self.shown and index is not None:
            self.dismiss(self.shown[index].code_id)

    def action_save(self) -> None:
        self.action_choose()

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class QuoteChoice:
    code_id: int
    start: int  # absolute transcript offsets
    end: int


class QuoteDialog(ModalScreen[QuoteChoice | None]):
    """Select a span of the segment (shift+arrows or the mouse) and the code it exemplifies."""

    BINDINGS = bindings.bindings("editor")

    def __init__(
        self,
        segment_text: str,
        segment_start: int,
        codes: list[tuple[str, int]],
        code_id: int | None,
        span: tuple[int, int] | None = None,
    ) -> None:
        super().__init__()
        self.segment_text = segment_text
        self.segment_start = segment_start
        self.codes = codes
        self.code_id = code_id if code_id is not None else (codes[0][1] if codes else None)
        self.span = span

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog quote"):
            yield Label("Narrow the coding to a quote: select the words, then ctrl+s", classes="dialog-title")
            yield Select(self.codes, value=self.code_id, allow_blank=False, id="quote-code")
            yield TextArea(self.segment_text, read_only=True, soft_wrap=True, id="quote-text")
            yield Label(
                "shift+arrows / shift+ctrl+arrows or drag with the mouse to select · ctrl+s save · escape cancel",
                classes="dialog-help",
            )

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        if self.span:
            doc = area.document
            a = doc.get_location_from_index(self.span[0] - self.segment_start)
            b = doc.get_location_from_index(self.span[1] - self.segment_start)
            from textual.widgets.text_area import Selection

            area.selection = Selection(a, b)
        area.focus()

    def selected_offsets(self) -> tuple[int, int] | None:
        area = self.query_one(TextArea)
        doc = area.document
        a = doc.get_index_from_location(area.selection.start)
        b = doc.get_index_from_location(area.selection.end)
        a, b = sorted((a, b))
        # trim spaces so a sloppy drag gives a clean quote
        while a < b and self.segment_text[a].isspace():
            a += 1
        while b > a and self.segment_text[b - 1].isspace():
            b -= 1
        return (a, b) if b > a else None

    def action_save(self) -> None:
        offsets = self.selected_offsets()
        if offsets is None:
            self.notify("Select some words first (shift+arrows or drag)", severity="warning")
            return
        code_id = self.query_one(Select).value
        self.dismiss(QuoteChoice(int(code_id), self.segment_start + offsets[0], self.segment_start + offsets[1]))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question for actions that change things for everyone (unblinding)."""

    BINDINGS = bindings.bindings("confirm")

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog prompt"):
            yield Label(self.question, classes="dialog-title")
            yield Label("y yes · n no", classes="dialog-help")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
