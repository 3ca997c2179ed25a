"""WebVTT (Zoom ``Name: text`` cues, Teams ``<v Name>`` voice tags) and SRT.

Adjacent cues of one speaker are merged into one turn that keeps the first cue's start
and the last cue's end time. The stored text reads ``Name: words`` per turn.

Rolling captions (YouTube's automatic ones) show each line twice: a cue repeats the line the
previous cue ended with, then adds the next. When most cues do that, the repeated lines are read
once (and the import says how many were dropped). A cue written without the blank line before
the next one still ends at the next timing line.
"""

from __future__ import annotations

import html
import itertools
import re
from collections import Counter
from dataclasses import dataclass, field

from ..errors import InputError, located
from .model import ParsedTranscript, TextBuilder
from .speakers import label_strength, parse_seconds

_TIME = r"(?:\d{1,3}:)?\d{1,2}:\d{2}[.,]\d{1,3}"
TIMING_RE = re.compile(rf"^\s*(?P<start>{_TIME})\s*-->\s*(?P<end>{_TIME})(?:\s.*)?$")
VOICE_RE = re.compile(r"<v(?:\.[\w.-]+)?\s+(?P<speaker>[^>]+)>")
_MAX_ROLLING_LINES = 10  # lines a rolling cue may repeat (bounds the search: linear time)
INLINE_NAME_RE = re.compile(r"^(?P<speaker>[^\W_][^:\n]{0,40}?):\s+")


@dataclass
class Cue:
    speaker: str | None
    words: str
    start: float | None  # None only if a stamp does not parse, which TIMING_RE already rules out
    end: float | None
    lines: list[str] = field(default_factory=list)  # the words' lines, for rolling captions
    inline: list[str] | None = None  # ``Name: words`` cues: the lines as written, name included


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks as (first line number, lines).

    A line of spaces right after a timing line does not end the cue: rolling captions (YouTube)
    begin a cue with one where the line on screen is still empty."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    first = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not current:
                first = number
            current.append(line)
        elif current and line and "-->" in current[-1]:
            continue  # `` `` after the timing line: the cue's words are still to come
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


def _cue_words(lines: list[str]) -> tuple[str | None, list[str], list[str] | None]:
    """The cue's speaker, its lines of words (tags removed, entities decoded) and, when the speaker
    came from a ``Name:`` prefix, the lines as written (see ``_judge_inline_names``)."""
    payload = "\n".join(lines)
    speaker = None
    # Only up to the last '>': a voice tag cannot start after it, and trying each '<v' there would
    # scan to the end every time (quadratic time on crafted cues).
    voice = VOICE_RE.search(payload, 0, payload.rfind(">") + 1)
    if voice:
        speaker = html.unescape(voice.group("speaker")).strip()  # Teams: ``<v Carlos Far&#237;as>``
    parts = [part.strip() for part in html.unescape(strip_tags(payload)).split("\n") if part.strip()]
    written = None
    if speaker is None and parts:
        inline = INLINE_NAME_RE.match(parts[0])
        if inline:
            written = list(parts)
            speaker, parts[0] = inline.group("speaker").strip(), parts[0][inline.end() :].strip()
            parts = [part for part in parts if part]
    return speaker, parts, written


def _timed_cue(source: object, number: int, timing: str, lines: list[str]) -> Cue | None:
    m = TIMING_RE.match(timing)
    if not m:
        raise InputError(
            located(
                source, f"expected a cue timing like 00:00:01.000 --> 00:00:04.000, got {timing.strip()[:40]!r}", number
            )
        )
    speaker, parts, written = _cue_words(lines)
    if not parts and not written:
        return None
    return Cue(speaker, " ".join(parts), parse_seconds(m.group("start")), parse_seconds(m.group("end")), parts, written)


def _judge_inline_names(cues: list[Cue]) -> list[str]:
    """``Name:`` prefixes judged as text labels are (``speakers.label_strength``): a name stays a
    speaker; ``So the answer is: yes`` is words unless it recurs as a prefix. Returns the notes."""
    counts = Counter(cue.speaker for cue in cues if cue.inline is not None)
    rejected: list[str] = []
    for cue in cues:
        if cue.inline is None or cue.speaker is None:
            continue
        strength = label_strength(cue.speaker)
        if strength == 2 or (strength == 1 and counts[cue.speaker] >= 2):
            continue
        rejected.append(cue.speaker)
        cue.speaker, cue.lines = None, cue.inline
        cue.words = " ".join(cue.lines)
    if not rejected:
        return []
    shown = ", ".join(repr(name) for name in rejected[:3]) + (
        f" and {len(rejected) - 3} more" if len(rejected) > 3 else ""
    )
    return [f"{len(rejected)} cue(s) start like 'Name:' but were read as words: {shown}"]


def _split_at_timings(first: int, lines: list[str]) -> list[tuple[int, list[str]]]:
    """A block cut before every further timing line: a cue whose blank line is missing (rolling
    captions write them so) must not take the next cue's timing line as words."""
    pieces: list[tuple[int, list[str]]] = []
    start = 0
    seen_timing = False
    for index, line in enumerate(lines):
        if "-->" in line and TIMING_RE.match(line):
            if seen_timing:
                # an identifier line just before the timing belongs to the next cue
                cut = (
                    index - 1
                    if index - 1 > start and "-->" not in lines[index - 1] and _is_identifier(lines, index - 1)
                    else index
                )
                pieces.append((first + start, lines[start:cut]))
                start = cut
            seen_timing = True
    pieces.append((first + start, lines[start:]))
    return pieces


def _is_identifier(lines: list[str], index: int) -> bool:
    """A cue number (``12``) just before a timing line, with no blank line before it. Only digits:
    a one-word caption line (``okay``) there is words, not an identifier."""
    return lines[index].strip().isdigit()


def parse_vtt(text: str, source: object) -> ParsedTranscript:
    blocks = _blocks(text)
    if not blocks or not blocks[0][1][0].startswith("WEBVTT"):
        raise InputError(located(source, "not a WebVTT file: the first line must be WEBVTT", 1))
    cues: list[Cue] = []
    for block_first, block in blocks[1:]:
        if block[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        for first, lines in _split_at_timings(block_first, block):
            # An optional cue identifier precedes the timing line.
            timing_index = 1 if len(lines) > 1 and "-->" not in lines[0] and "-->" in lines[1] else 0
            cue = _timed_cue(source, first + timing_index, lines[timing_index], lines[timing_index + 1 :])
            if cue:
                cues.append(cue)
    cues = [cue for cue in cues if cue.lines or cue.inline]
    judged = _judge_inline_names(cues)
    cues = [cue for cue in cues if cue.lines]
    cues, notes = _unroll(cues)
    return _merge(cues, "vtt", source, judged + notes)


def _unroll(cues: list[Cue]) -> tuple[list[Cue], list[str]]:
    """Rolling captions read once: when most cues begin with the line the cue before ended with,
    each cue keeps only its lines that the cue before did not show."""
    if len(cues) < 3:
        return cues, []
    rolling = sum(
        1
        for before, cue in itertools.pairwise(cues)
        if before.speaker == cue.speaker and before.lines and cue.lines and cue.lines[0] == before.lines[-1]
    )
    if rolling * 2 < len(cues) - 1:
        return cues, []
    kept: list[Cue] = [cues[0]]
    dropped = 0
    previous = cues[0].lines
    for cue in cues[1:]:
        overlap = 0
        if cue.speaker == kept[-1].speaker:
            # the longest run of lines that ends the previous cue and begins this one
            for size in range(min(len(previous), len(cue.lines), _MAX_ROLLING_LINES), 0, -1):
                if previous[-size:] == cue.lines[:size]:
                    overlap = size
                    break
        dropped += overlap
        new_lines = cue.lines[overlap:]
        previous = cue.lines
        if new_lines:
            kept.append(Cue(cue.speaker, " ".join(new_lines), cue.start, cue.end, new_lines))
        else:  # nothing new: the cue only held the text on screen a moment longer
            kept[-1].end = cue.end
    note = f"rolling captions: {dropped} repeated line(s) read once"
    return kept, [note]


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
    judged = _judge_inline_names(cues)
    return _merge([cue for cue in cues if cue.lines], "srt", source, judged)


def _merge(cues: list[Cue], fmt: str, source: object, notes: list[str] | None = None) -> ParsedTranscript:
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
    notes = list(notes or [])
    if not any(c.speaker for c in cues):
        notes.append("no speaker names in the cues: one unknown speaker")
    return builder.result(fmt, notes)
