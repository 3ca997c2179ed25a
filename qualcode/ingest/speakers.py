"""Speaker labels at the start of a line, and splitting a text into turns by them.

Recognised out of the box (each at the start of a line):

* ``Name:`` / ``P1:`` / ``Interviewer:`` / ``Dr. Lee (00:01:02):``, and Rev style where the colon
  is followed by padding and the turn wraps over continuation lines;
* ``[id1]`` (QualCoder);
* Otter header lines ``Speaker 1  0:03`` with the words on the following lines.

A turn's words begin after the label and run to the next label. Text before the first
label (a title, say) stays in the transcript but is not part of any turn.
"""

from __future__ import annotations

import re

from ..errors import InputError
from .markers import TIMESTAMP, is_marker_word
from .model import Turn

# A name: up to four words; the first starts with a capital or digit, or the label
# holds a digit (``admin-1``), which keeps ordinary sentences ending in a colon out.
_WORD = r"[^\W_][\w.'’&/-]*"
_NAME = rf"{_WORD}(?:[ \t]{_WORD}){{0,3}}"
BUILTIN_LABELS = re.compile(
    rf"""^(?:
        \[(?P<bracket>[\w.-]{{1,30}})\][ \t]*                                  # [id1]
      | (?P<otter>{_NAME})[ \t]+(?P<otter_time>{TIMESTAMP})[ \t]*\n            # Speaker 1  0:03
      | (?P<name>{_NAME})(?:[ \t]*[(\[](?P<name_time>{TIMESTAMP})[)\]])?       # Name (00:01):
        [ \t]*:(?:[ \t]+|(?=\n)|\Z)
    )""",
    re.MULTILINE | re.VERBOSE,
)


def compile_speaker_pattern(pattern: str | None) -> re.Pattern[str] | None:
    """The user's ``--speaker-pattern``, matched at the start of each line."""
    if not pattern:
        return None
    try:
        compiled = re.compile(pattern, re.MULTILINE)
    except re.error as exc:
        raise InputError(f"--speaker-pattern: not a valid regular expression ({exc})") from None
    if "speaker" not in compiled.groupindex and compiled.groups == 0:
        raise InputError("--speaker-pattern: needs a group, named `speaker` or the first group, for the label")
    return compiled


def parse_seconds(stamp: str | None) -> float | None:
    """``1:02:03.5`` / ``02:03`` / ``00:00:01,000`` -> seconds."""
    if not stamp:
        return None
    parts = stamp.strip().replace(",", ".").split(":")
    seconds = 0.0
    try:
        for part in parts:
            seconds = seconds * 60 + float(part)
    except ValueError:
        return None
    return seconds


def _plausible_name(label: str) -> bool:
    return (label[0].isupper() or label[0].isdigit() or any(ch.isdigit() for ch in label)) and not is_marker_word(label)


def _builtin_label(m: re.Match[str]) -> tuple[str, float | None] | None:
    if m.group("bracket"):
        label = m.group("bracket")
        return None if is_marker_word(label) else (label, None)
    if m.group("otter"):
        return m.group("otter").strip(), parse_seconds(m.group("otter_time"))
    label = m.group("name").strip()
    return (label, parse_seconds(m.group("name_time"))) if _plausible_name(label) else None


def _custom_label(m: re.Match[str]) -> tuple[str, float | None] | None:
    label = m.group("speaker") if "speaker" in m.re.groupindex else m.group(1)
    return (label.strip(), None) if label and label.strip() else None


def split_turns(text: str, pattern: re.Pattern[str] | None = None) -> list[Turn]:
    """Turns found by speaker labels at line starts; ``[]`` when there are none."""
    regex = pattern or BUILTIN_LABELS
    read_label = _custom_label if pattern else _builtin_label
    labels: list[tuple[int, int, str, float | None]] = []  # label start, words start, speaker, time
    for m in regex.finditer(text):
        if m.start() > 0 and text[m.start() - 1] != "\n":
            continue  # a custom pattern without ^ must still sit at a line start
        found = read_label(m)
        if found is not None and m.end() > m.start():
            labels.append((m.start(), m.end(), found[0], found[1]))
    turns: list[Turn] = []
    for i, (_, words_start, speaker, time) in enumerate(labels):
        end = labels[i + 1][0] if i + 1 < len(labels) else len(text)
        start, end = strip_span(text, words_start, end)
        if end > start:
            turns.append(Turn(speaker, start, end, time))
    return turns


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Narrow ``[start, end)`` to exclude surrounding whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
