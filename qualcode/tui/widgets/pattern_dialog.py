"""The dialog for a matrix row's pattern judgement: convergence, divergence or
contradiction (or none), with a note. ctrl+s returns ``(label, note)``; escape, None."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Select, TextArea

from ...store.enums import PatternLabel
from .. import bindings as keys

PATTERN_LABELS = tuple(label.value for label in PatternLabel)
NO_PATTERN = "none"


class PatternDialog(ModalScreen[tuple[str | None, str] | None]):
    BINDINGS = keys.bindings("pattern_dialog")
    DEFAULT_CSS = """
    PatternDialog #pattern-note { height: 8; }
    """

    def __init__(self, title: str | Text, label: str | None = None, note: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.label = label if label in PATTERN_LABELS else NO_PATTERN
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            # a Text is shown as written; a plain string would be read as markup
            yield Label(
                Text(self.title_text) if isinstance(self.title_text, str) else self.title_text, classes="dialog-title"
            )
            yield Select(
                [(name, name) for name in (*PATTERN_LABELS, NO_PATTERN)],
                value=self.label,
                allow_blank=False,
                id="pattern-label",
            )
            yield TextArea(self.note, id="pattern-note", soft_wrap=True)
            yield Label(
                "tab to move · ctrl+s save · escape cancel (none with an empty note deletes the judgement)",
                classes="dialog-help",
            )

    def on_mount(self) -> None:
        self.query_one(Select).focus()

    def action_save(self) -> None:
        label = str(self.query_one(Select).value)
        self.dismiss((None if label == NO_PATTERN else label, self.query_one(TextArea).text.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)
