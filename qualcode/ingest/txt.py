"""Plain-text transcripts: stored as they read, turns found by speaker labels.

Two tidy-ups on the way in, each said in the import's notes:

* Otter's footer line (``Transcribed by https://otter.ai``) stays in the stored text but out of the
  last turn;
* continuation lines of a turn lose their indentation (``Interviewer: So how did``
  / ``             the year start?``), so a turn's text reads as one paragraph. This changes the
  stored text, so it is done only for formats whose text is ours to tidy (not a REFI-QDA source,
  whose selections point into the text as it is).
"""

from __future__ import annotations

import re

from .model import ParsedTranscript, Turn
from .speakers import SpeakerPattern, split_turns, strip_span

OTTER_FOOTER = "Transcribed by https://otter.ai"
_OTTER_FOOTER_LINE_RE = re.compile(r"[ \t]*Transcribed by https?://otter\.ai/?[ \t]*", re.IGNORECASE)
_INDENT_RE = re.compile(r"\n([ \t]+)(?=\S)")
# Formats whose stored text may be tidied (a .qdpx source's text is kept exactly).
FOLDED_FORMATS = frozenset({"txt", "docx", "odt"})


def parse_text(
    text: str, speaker_pattern: SpeakerPattern | None = None, fmt: str = "txt", source: object = ""
) -> ParsedTranscript:
    """``text`` is already decoded and normalised (see ``decoding``); ``source`` is named in errors."""
    rejected: list[tuple[int, str]] = []
    turns = split_turns(text, speaker_pattern, source, rejected)
    notes = [judged_words(text, rejected)] if rejected else []
    if not turns:
        notes.insert(0, "no speaker labels found: imported as paragraphs with one unknown speaker")
        return ParsedTranscript(text, [], notes, fmt)
    turns = drop_otter_footer(text, turns, notes)
    if fmt in FOLDED_FORMATS:
        text, turns = fold_indentation(text, turns, notes)
    return ParsedTranscript(text, turns, notes, fmt)


def judged_words(text: str, rejected: list[tuple[int, str]]) -> str:
    """The note for lines that start like a label but were read as words (a few named, with lines)."""
    shown = ", ".join(f"{label!r} (line {text.count(chr(10), 0, start) + 1})" for start, label in rejected[:3])
    more = f" and {len(rejected) - 3} more" if len(rejected) > 3 else ""
    return (
        f"{len(rejected)} line(s) start like a speaker label but were read as words, not being a name "
        f"written as a label more than once: {shown}{more}; if they are speakers, give --speaker-pattern"
    )


def _footer_start(text: str) -> int | None:
    """Where Otter's footer line starts, when it is the text's last line (only the end is looked at)."""
    end = len(text)
    while end and text[end - 1].isspace():  # without copying the text, as rstrip() would
        end -= 1
    line_start = text.rfind("\n", 0, end) + 1
    return line_start if _OTTER_FOOTER_LINE_RE.fullmatch(text, line_start, end) else None


def drop_otter_footer(text: str, turns: list[Turn], notes: list[str]) -> list[Turn]:
    """The last turn ends before Otter's footer line; the footer stays in the text, in no turn."""
    footer = _footer_start(text)
    if footer is None or not turns or turns[-1].end <= footer:
        return turns
    last = turns[-1]
    start, end = strip_span(text, last.start, footer)
    notes.append(f"Otter's footer {OTTER_FOOTER!r} kept out of the last turn (it is boilerplate, not speech)")
    if end <= start:
        return turns[:-1]
    return turns[:-1] + [Turn(last.speaker, start, end, last.time_start, last.time_end)]


def fold_indentation(text: str, turns: list[Turn], notes: list[str]) -> tuple[str, list[Turn]]:
    """``text`` without the indentation of lines inside turns, and the turns' offsets in it."""
    if not turns or _INDENT_RE.search(text, turns[0].start) is None:
        return text, turns  # nothing indented: the usual case, one search (``"\n " in text`` is slower)
    cuts: list[tuple[int, int]] = []  # [start, end) of each indentation inside a turn, in order
    index = 0
    for m in _INDENT_RE.finditer(text, turns[0].start):
        a, b = m.span(1)
        while index < len(turns) and turns[index].end <= a:
            index += 1
        if index == len(turns):
            break
        if turns[index].start < a:
            cuts.append((a, b))
    if not cuts:
        return text, turns
    pieces: list[str] = []
    cursor = 0
    for a, b in cuts:
        pieces.append(text[cursor:a])
        cursor = b
    pieces.append(text[cursor:])
    # Every cut lies strictly inside one turn: a turn's start moves by the cuts before it, its end
    # by those before it and inside it.
    shifted: list[Turn] = []
    removed = 0
    index = 0
    for turn in turns:
        while index < len(cuts) and cuts[index][0] < turn.start:
            removed += cuts[index][1] - cuts[index][0]
            index += 1
        start = turn.start - removed
        while index < len(cuts) and cuts[index][0] < turn.end:
            removed += cuts[index][1] - cuts[index][0]
            index += 1
        shifted.append(Turn(turn.speaker, start, turn.end - removed, turn.time_start, turn.time_end))
    notes.append(f"indentation of {len(cuts)} continuation line(s) removed, so each turn reads as written")
    return "".join(pieces), shifted
