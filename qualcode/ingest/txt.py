"""Plain-text transcripts: stored as they read, turns found by speaker labels."""

from __future__ import annotations

from .model import ParsedTranscript
from .speakers import SpeakerPattern, split_turns


def parse_text(
    text: str, speaker_pattern: SpeakerPattern | None = None, fmt: str = "txt", source: object = ""
) -> ParsedTranscript:
    """``text`` is already decoded and normalised (see ``decoding``); ``source`` is named in errors."""
    turns = split_turns(text, speaker_pattern, source)
    notes = [] if turns else ["no speaker labels found: imported as paragraphs with one unknown speaker"]
    return ParsedTranscript(text, turns, notes, fmt)
