"""Plain-text transcripts: stored as they read, turns found by speaker labels."""

from __future__ import annotations

import re

from .model import ParsedTranscript
from .speakers import split_turns


def parse_text(text: str, speaker_pattern: re.Pattern[str] | None = None, fmt: str = "txt") -> ParsedTranscript:
    """``text`` is already decoded and normalised (see ``decoding``)."""
    turns = split_turns(text, speaker_pattern)
    notes = [] if turns else ["no speaker labels found: imported as paragraphs with one unknown speaker"]
    return ParsedTranscript(text, turns, notes, fmt)
