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
from typing import Any

from ..errors import InputError, located
from .markers import TIMESTAMP, is_marker_word
from .model import Turn

# A name: up to four words; the first starts with a capital or digit, or the label
# holds a digit (``admin-1``), which keeps ordinary sentences ending in a colon out.
_WORD = r"[^\W_][\w.'’&/-]*"
_NAME = rf"{_WORD}(?:[ \t]{_WORD}){{0,3}}"
# Otter headers and ``Name:`` labels share the name, so it is matched once and the two
# endings tried after it (a line cannot end both ways: the only colons in an Otter header
# sit inside its timestamp).
_LABEL = rf"""(?P<label>
        \[(?P<bracket>[\w.-]{{1,30}})\][ \t]*                                # [id1]
      | (?P<name>{_NAME})(?:
            [ \t]+(?P<otter_time>{TIMESTAMP})[ \t]*\n                       # Speaker 1  0:03
          | (?:[ \t]*[(\[](?P<name_time>{TIMESTAMP})[)\]])?[ \t]*:           # Name (00:01):
            (?:[ \t]+|(?=\n)|\Z)
        )
    )"""
BUILTIN_LABELS = re.compile(rf"^{_LABEL}", re.MULTILINE | re.VERBOSE)
# The same labels found by their newline: a pattern that starts with a literal lets the
# regex engine jump from newline to newline instead of trying ``^`` at every character.
# The label sits in a lookahead, so a label ending in a newline (Otter) never hides the next.
_LABEL_AFTER_NEWLINE = re.compile(rf"\n(?={_LABEL})", re.VERBOSE)


# A compiled ``--speaker-pattern``: a ``regex`` pattern (or a stdlib ``re`` one, given by code).
SpeakerPattern = Any
# How long a ``--speaker-pattern`` may search one file: a pattern that backtracks catastrophically
# (``(a+)+b``) would otherwise never end. The ``regex`` engine can be stopped; ``re`` cannot.
SPEAKER_PATTERN_SECONDS = 10.0


def compile_speaker_pattern(pattern: str | None) -> SpeakerPattern | None:
    """The user's ``--speaker-pattern``, matched at the start of each line (with the ``regex`` engine,
    whose searches can be given a time limit)."""
    if not pattern:
        return None
    import regex

    try:
        compiled = regex.compile(pattern, regex.MULTILINE)
    except (regex.error, re.error, ValueError, RecursionError, OverflowError) as exc:
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


def _builtin_labels(text: str) -> list[tuple[int, int, str, float | None]]:
    """``(label start, words start, speaker, time)`` for every built-in label, in order."""
    first = BUILTIN_LABELS.match(text)
    labels = []
    names: dict[str, str | None] = {}  # label as written -> speaker, or None when not a name
    for m in ([first] if first else []) + list(_LABEL_AFTER_NEWLINE.finditer(text)):
        _, bracket, name, otter_time, name_time = m.groups()
        if bracket is not None:
            speaker, time = (None if is_marker_word(bracket) else bracket), None
        elif otter_time is not None:
            speaker, time = name.strip(), parse_seconds(otter_time)
        else:
            speaker = names.get(name, "")
            if speaker == "":
                label = name.strip()
                speaker = names[name] = label if _plausible_name(label) else None
            time = parse_seconds(name_time)
        if speaker is not None:
            labels.append((m.start("label"), m.end("label"), speaker, time))
    return labels


def _custom_labels(text: str, pattern: SpeakerPattern, source: object) -> list[tuple[int, int, str, float | None]]:
    if isinstance(pattern, re.Pattern):
        matches = pattern.finditer(text)
    else:
        matches = pattern.finditer(text, timeout=SPEAKER_PATTERN_SECONDS)
    try:
        labels = _labels_from(matches, text, pattern)
    except TimeoutError:
        raise InputError(
            located(
                source,
                f"--speaker-pattern took more than {SPEAKER_PATTERN_SECONDS:g} s on this file and was stopped: "
                "simplify it (nested repeats such as (a+)+ backtrack without end)",
            )
        ) from None
    return labels


def _labels_from(matches, text: str, pattern: SpeakerPattern) -> list[tuple[int, int, str, float | None]]:
    labels: list[tuple[int, int, str, float | None]] = []
    for m in matches:
        if m.start() > 0 and text[m.start() - 1] != "\n":
            continue  # a custom pattern without ^ must still sit at a line start
        label = m.group("speaker") if "speaker" in pattern.groupindex else m.group(1)
        if label and label.strip() and m.end() > m.start():
            labels.append((m.start(), m.end(), label.strip(), None))
    return labels


def split_turns(text: str, pattern: SpeakerPattern | None = None, source: object = "") -> list[Turn]:
    """Turns found by speaker labels at line starts; ``[]`` when there are none."""
    labels = _custom_labels(text, pattern, source) if pattern else _builtin_labels(text)
    turns: list[Turn] = []
    ends = [start for start, *_ in labels[1:]] + [len(text)]
    for (_, start, speaker, time), end in zip(labels, ends):
        start, end = strip_span(text, start, end)
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
