"""The model's suggestions for the current segment, beside the codebook (only when shown at all).

Each line is a code with its hotkey and calibrated confidence; pressing the hotkey (or choosing the
code in the tree or the picker) while it is suggested records the coding as accepted from a
suggestion. The panel is mounted only when the viewer may see suggestions and a model exists, so
without them the screen is exactly what it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from rich.text import Text
from textual.widgets import Static

from .code_style import CodeLook


class ShownSuggestion(Protocol):
    code_id: int
    path: str
    hotkey: str | None
    confidence: float


def suggestion_text(
    suggestions: Iterable[ShownSuggestion] | None, looks: dict[int, CodeLook], applied: set[int]
) -> Text:
    """ "Suggested" and one line per code: swatch, hotkey, name, confidence; ✓ once applied."""
    text = Text()
    text.append("Suggested", style="bold")
    if suggestions is None:
        text.append(" …", style="italic")
        return text
    shown = list(suggestions)
    if not shown:
        text.append("\nnone (the model abstains)", style="italic dim")
        return text
    for s in shown:
        text.append("\n")
        look = looks.get(s.code_id)
        text.append("■ ", style=look.swatch if look is not None else "")
        text.append(f"{s.hotkey} " if s.hotkey else "  ", style="bold")
        text.append(f"{s.confidence:>4.0%} ", style="dim")
        if s.code_id in applied:
            text.append("✓ ", style="green")
        text.append(s.path.rpartition(" > ")[2])
    return text


class SuggestionPanel(Static):
    DEFAULT_CSS = """
    SuggestionPanel {
        height: auto;
        max-height: 6;
        padding: 0 1;
        border-top: solid $panel;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    shown_text: str = ""

    def show(self, text: Text) -> None:
        if text.plain != self.shown_text:
            self.shown_text = text.plain
            self.update(text)
