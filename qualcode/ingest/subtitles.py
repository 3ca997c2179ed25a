"""WebVTT (Zoom ``Name: text`` cues, Teams ``<v Name>`` voice tags) and SRT.

Adjacent cues of one speaker are merged into one turn that keeps the first cue's start
and the last cue's end time. The stored text reads ``Name: words`` per turn.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from ..errors import InputError, located
from .model import ParsedTranscript, TextBuilder
from .speakers import parse_seconds

_TIME = r"(?:\d{1,3}:)?\d{1,2}:\d{2}[.,]\d{1,3}"
TIMING_RE = re.compile(rf"^\s*(?P<start>{_TIME})\s*-->\s*(?P<end>{_TIME})(?:\s.*)?$")
VOICE_RE = re.compile(r"<v(?:\.[\w.-]+)?\s+(?P<speaker>[^>]+)>")
INLINE_NAME_RE = re.compile(r"^(?P<speaker>[^\W_][^:\n]{0,40}?):\s+")


@dataclass
class Cue:
    speaker: str | None
    words: str
    start: float | None  # None only if a stamp does not parse, which TIMING_RE already rules out
    end: float | None


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks as (first line number, lines)."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    first = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not current:
                first = number
            current.append(line)
        elif current:
            blocks.append((first, current))
            current = []
    if current:
        blocks.append((first, current))
    return blocks


def strip_tags(text: str) -> str:
    """``text`` without ``<...>`` tags (a tag ends on its own line), in linear time.

    The regular expression ``<[^>\\n]*>`` says the same, but retries from every ``<`` of a line
    that has no ``>``: quadratic time on crafted cues."""
    out: list[str] = []
    position = 0
    next_close = next_newline = -2  # not looked up yet; -1: there is none
    while (opening := text.find("<", position)) >= 0:
        if -1 < next_close < opening or next_close == -2:
            next_close = text.find(">", opening)
        if -1 < next_newline < opening or next_newline == -2:
            next_newline = text.find("\n", opening)
        if next_close >= 0 and (next_newline < 0 or next_close < next_newline):
            out.append(text[position:opening])
            position = next_close + 1
        else:  # no tag starts on the rest of this line
            line_end = next_newline if next_newline >= 0 else len(text)
            out.append(text[position:line_end])
            position = line_end
    out.append(text[position:])
    return "".join(out)


def _cue_words(lines: list[str]) -> tuple[str | None, str]:
    payload = "\n".join(lines)
    speaker = None
    # Only up to the last '>': a voice tag cannot start after it, and trying each '<v' there would
    # scan to the end every time (quadratic time on crafted cues).
    voice = VOICE_RE.search(payload, 0, payload.rfind(">") + 1)
    if voice:
        speaker = voice.group("speaker").strip()
    words = html.unescape(strip_tags(payload))
    words = " ".join(part.strip() for part in words.split("\n") if part.strip())
    if speaker is None:
        inline = INLINE_NAME_RE.match(words)
        if inline:
            speaker, words = inline.group("speaker").strip(), words[inline.end() :]
    return speaker, words


def _timed_cue(source: object, number: int, timing: str, lines: list[str]) -> Cue | None:
    m = TIMING_RE.match(timing)
    if not m:
        raise InputError(
            located(
                source, f"expected a cue timing like 00:00:01.000 --> 00:00:04.000, got {timing.strip()[:40]!r}", number
            )
        )
    speaker, words = _cue_words(lines)
    if not words:
        return None
    return Cue(speaker, words, parse_seconds(m.group("start")), parse_seconds(m.group("end")))


def parse_vtt(text: str, source: object) -> ParsedTranscript:
    blocks = _blocks(text)
    if not blocks or not blocks[0][1][0].startswith("WEBVTT"):
        raise InputError(located(source, "not a WebVTT file: the first line must be WEBVTT", 1))
    cues: list[Cue] = []
    for first, lines in blocks[1:]:
        if lines[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        # An optional cue identifier precedes the timing line.
        timing_index = 1 if len(lines) > 1 and "-->" not in lines[0] and "-->" in lines[1] else 0
        cue = _timed_cue(source, first + timing_index, lines[timing_index], lines[timing_index + 1 :])
        if cue:
            cues.append(cue)
    return _merge(cues, "vtt", source)


def parse_srt(text: str, source: object) -> ParsedTranscript:
    cues: list[Cue] = []
    for first, lines in _blocks(text):
        if not lines[0].strip().isdigit():
            raise InputError(located(source, f"expected a subtitle number, got {lines[0].strip()[:40]!r}", first))
        if len(lines) < 2:
            raise InputError(located(source, "subtitle without a timing line", first))
        cue = _timed_cue(source, first + 1, lines[1], lines[2:])
        if cue:
            cues.append(cue)
    return _merge(cues, "srt", source)


def _merge(cues: list[Cue], fmt: str, source: object) -> ParsedTranscript:
    if not cues:
        raise InputError(located(source, f"no cues with words in this {fmt.upper()} file"))
    builder = TextBuilder()
    # Runs of one speaker's cues, their words joined once at the end (joining as they come is quadratic).
    runs: list[tuple[Cue, list[str]]] = []
    for cue in cues:
        # Unlabelled cues stay separate: there is no evidence they are one turn.
        if runs and cue.speaker and cue.speaker == runs[-1][0].speaker:
            runs[-1][0].end = cue.end
            runs[-1][1].append(cue.words)
            continue
        runs.append((Cue(cue.speaker, "", cue.start, cue.end), [cue.words]))
    for first, words in runs:
        builder.add_turn(first.speaker, " ".join(words), first.start, first.end)
    notes = [] if any(c.speaker for c in cues) else ["no speaker names in the cues: one unknown speaker"]
    return builder.result(fmt, notes)
