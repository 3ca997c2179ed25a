"""Transcription markers kept in the text: ``[inaudible 00:12:03]``, ``[crosstalk]``, ``[laughs]``.

A marker is bracketed text that starts with a known marker word, or that ends in a
timestamp (Rev marks guessed words as ``[Pallis 00:00:52]``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKER_WORDS = (
    "inaudible",
    "unintelligible",
    "indiscernible",
    "crosstalk",
    "cross talk",
    "laughs",
    "laughter",
    "laughing",
    "pause",
    "silence",
    "overlapping",
    "background noise",
    "noise",
    "coughs",
    "sighs",
    "applause",
    "music",
    "phone rings",
    "interruption",
    "unclear",
    "redacted",
    "sic",
)
TIMESTAMP = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
_WORD_ALTERNATION = "|".join(re.escape(w) for w in MARKER_WORDS)
MARKER_RE = re.compile(
    rf"\[(?:(?:{_WORD_ALTERNATION})\b[^\[\]\n]{{0,60}}|[^\[\]\n]{{0,60}}?\s?{TIMESTAMP})\]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Marker:
    start: int
    end: int
    text: str

    @property
    def kind(self) -> str:
        """The marker word (``inaudible``), or ``guess`` for a timestamped guessed word."""
        inner = self.text[1:-1].strip().casefold()
        for word in MARKER_WORDS:
            if inner.startswith(word):
                return word
        return "guess"


def find_markers(text: str, start: int = 0, end: int | None = None) -> list[Marker]:
    """Every transcription marker in ``text[start:end]``, with absolute offsets."""
    end = len(text) if end is None else end
    return [Marker(m.start(), m.end(), m.group()) for m in MARKER_RE.finditer(text, start, end)]


def is_marker_word(label: str) -> bool:
    return label.strip().casefold() in MARKER_WORDS
