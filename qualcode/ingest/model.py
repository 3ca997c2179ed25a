"""What every parser returns: normalised text and speaker turns as offsets into it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(slots=True)
class Turn:
    """One speaker's turn: ``text[start:end]`` are the words (the label is outside the span).

    A turn is also a unit of analysis as it stands (``segment(parsed, "turn")`` returns the turns).
    """

    unit: ClassVar[str] = "turn"
    speaker: str | None
    start: int
    end: int
    time_start: float | None = None
    time_end: float | None = None


@dataclass
class ParsedTranscript:
    """A transcript as read: ``text`` is what is stored; ``turns`` index into it.

    ``turns`` is empty when the file has no speaker labels (it is then split into
    paragraphs with one unknown speaker). ``notes`` are things the user should hear.
    """

    text: str
    turns: list[Turn] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    format: str = "txt"

    @property
    def has_speakers(self) -> bool:
        return any(t.speaker for t in self.turns)


class TextBuilder:
    """Builds a readable transcript (``Label: words`` paragraphs) from structured sources.

    Used by the VTT, SRT, CSV and .docx parsers, whose words do not come as one text.
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.turns: list[Turn] = []

    def _append(self, piece: str) -> None:
        self._parts.append(piece)
        self._length += len(piece)

    def add_turn(
        self, speaker: str | None, words: str, time_start: float | None = None, time_end: float | None = None
    ) -> None:
        words = words.strip()
        if not words:
            return
        if self._parts:
            self._append("\n\n")
        if speaker:
            self._append(f"{speaker}: ")
        start = self._length
        self._append(words)
        self.turns.append(Turn(speaker, start, self._length, time_start, time_end))

    def result(self, fmt: str, notes: list[str] | None = None) -> ParsedTranscript:
        return ParsedTranscript("".join(self._parts), self.turns, list(notes or []), fmt)
