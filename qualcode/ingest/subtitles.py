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
TAG_RE = re.compile(r"</?[^>\n]*>")
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


def _cue_words(lines: list[str]) -> tuple[str | None, str]:
    payload = "\n".join(lines)
    speaker = None
    voice = VOICE_RE.search(payload)
    if voice:
        speaker = voice.group("speaker").strip()
    words = html.unescape(TAG_RE.sub("", payload))
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
    pending: Cue | None = None
    for cue in cues:
        # Unlabelled cues stay separate: there is no evidence they are one turn.
        if pending and cue.speaker and cue.speaker == pending.speaker:
            pending = Cue(cue.speaker, f"{pending.words} {cue.words}", pending.start, cue.end)
            continue
        if pending:
            builder.add_turn(pending.speaker, pending.words, pending.start, pending.end)
        pending = cue
    assert pending is not None  # cues is not empty
    builder.add_turn(pending.speaker, pending.words, pending.start, pending.end)
    notes = [] if any(c.speaker for c in cues) else ["no speaker names in the cues: one unknown speaker"]
    return builder.result(fmt, notes)
