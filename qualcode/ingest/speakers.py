"""Speaker labels at the start of a line, and splitting a text into turns by them.

Recognised out of the box (each at the start of a line):

* ``Name:`` / ``P1:`` / ``Interviewer:`` / ``Dr. Lee (00:01:02):``, and Rev style where the colon
  is followed by padding and the turn wraps over continuation lines; the full-width colon of
  Chinese and Japanese text (``张伟：``) too;
* ``[id1]`` (QualCoder);
* Otter header lines ``Speaker 1  0:03`` with the words on the following lines;
* Zoom "Save transcript" header lines ``[Carlos Farías] 11:02:09`` with the words on the following
  lines (the clock times become seconds from the first header).

Whether a label is a speaker or a sentence that happens to hold a colon is decided per label
(see ``_accepted``): a capitalised name is a speaker; a label in lower case (``interviewer:``) or
in a script without capitals (Arabic, Hebrew, Chinese names) is a speaker when it is a role word
or recurs as a label in the file; words such as ``Note:`` or ``Date:`` never are.

A turn's words begin after the label and run to the next label. Text before the first
label (a title, say) stays in the transcript but is not part of any turn.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from ..errors import InputError, located
from .markers import MARKER_RE, TIMESTAMP, is_marker_word
from .model import Turn

# A word of a name: a letter or digit, then letters, digits, combining marks (Hebrew points,
# Arabic vowel marks, Devanagari vowel signs: not ``\w`` in Python) and name punctuation.
_MARKS = "\u0300-\u036f\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0900-\u0903\u093a-\u094f"
_WORD = rf"[^\W_][\w{_MARKS}.'’&/-]*"
_NAME = rf"{_WORD}(?:[ \t]{_WORD}){{0,3}}"
_CLOCK = r"\d{1,2}:\d{2}:\d{2}"
# Otter headers and ``Name:`` labels share the name, so it is matched once and the two
# endings tried after it (a line cannot end both ways: the only colons in an Otter header
# sit inside its timestamp). After an ASCII colon comes white space (``10:30``, ``http://`` are
# not labels); after a full-width colon (Chinese, Japanese) the words may follow at once.
_LABEL = rf"""(?P<label>
        \[(?P<zoom>[^\[\]\n]{{1,80}})\][ \t]+(?P<zoom_time>{_CLOCK})                  # [Ana Lee] 11:02:09
        (?:[ \t]*(?P<ampm>[AaPp]\.?[Mm]\.?))?[ \t]*(?:\n|\Z)                      # ... PM
      | \[(?P<bracket>[\w.-]{{1,30}})\][ \t]*                                # [id1]
      | (?P<name>{_NAME})(?:
            [ \t]+(?P<otter_time>{TIMESTAMP})[ \t]*\n                       # Speaker 1  0:03
          | (?:[ \t]*[(\[](?P<name_time>{TIMESTAMP})[)\]])?[ \t]*            # Name (00:01):
            (?::(?:[ \t]+|(?=\n)|\Z)|：[ \t]*)
        )
    )"""
BUILTIN_LABELS = re.compile(rf"^{_LABEL}", re.MULTILINE | re.VERBOSE)
# The same labels found by their newline: a pattern that starts with a literal lets the
# regex engine jump from newline to newline instead of trying ``^`` at every character.
# The label sits in a lookahead, so a label ending in a newline (Otter) never hides the next.
_LABEL_AFTER_NEWLINE = re.compile(rf"\n(?={_LABEL})", re.VERBOSE)

# Words that start lines of headers and notes, never speakers (``Date: 2024-05-01``).
NOT_SPEAKERS = frozenset(
    [
        "note",
        "notes",
        "nb",
        "n.b.",
        "example",
        "examples",
        "e.g.",
        "eg",
        "i.e.",
        "ie",
        "ps",
        "p.s.",
        "edit",
        "update",
        "source",
        "sources",
        "summary",
        "location",
        "date",
        "time",
        "title",
        "subject",
        "re",
        "attendees",
        "present",
        "absent",
        "agenda",
        "keywords",
        "tags",
        "duration",
        "recorded",
        "transcript",
        "transcribed",
        "transcription",
        "file",
        "link",
        "url",
        "warning",
        "caution",
        "tip",
        "important",
        "reminder",
        "so",
        "and",
        "but",
        "or",
        "well",
        "then",
        "because",
        "also",
        "yes",
        "no",
        "okay",
        "ok",
        "oh",
        "um",
        "uh",
        "like",
        "see",
        "said",
        "says",
    ]
)
# Role words: a speaker in any case, alone or numbered (``interviewer:``, ``Moderator 2:``).
ROLE_WORDS = frozenset(
    [
        "interviewer",
        "interviewee",
        "moderator",
        "facilitator",
        "participant",
        "respondent",
        "teacher",
        "coach",
        "administrator",
        "principal",
        "student",
        "parent",
        "speaker",
        "researcher",
        "observer",
        "host",
        "guest",
        "q",
        "a",
        "i",
        "r",
        "p",
        "int",
        "resp",
        "mod",
    ]
)
_NUMBERED = re.compile(r"^(?P<base>.*?)[ \t_-]*\d+$")
# Name particles written in lower case inside a capitalised name (``Maria de la Cruz``).
_PARTICLES = frozenset(
    [
        "de",
        "da",
        "del",
        "della",
        "di",
        "do",
        "dos",
        "das",
        "du",
        "la",
        "le",
        "van",
        "von",
        "der",
        "den",
        "ten",
        "ter",
        "bin",
        "ibn",
        "al",
        "el",
        "y",
        "e",
    ]
)
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


def role_base(label: str) -> str:
    """A label without a trailing number, case-folded: ``Interviewer 1`` -> ``interviewer``."""
    m = _NUMBERED.match(label.strip())
    return (m.group("base") if m and m.group("base") else label.strip()).casefold()


def _caseless(ch: str) -> bool:
    """A letter of a script without capitals (Arabic, Hebrew, Chinese, Devanagari, ...)."""
    return ch.isalpha() and not ch.isupper() and not ch.islower()


def _name_word(word: str) -> bool:
    ch = word[0]
    return ch.isupper() or ch.isdigit() or _caseless(ch) or word.casefold() in _PARTICLES


def label_strength(label: str) -> int:
    """2: a speaker wherever it stands; 1: a speaker only if it recurs; 0: never a speaker."""
    folded = label.casefold()
    if is_marker_word(label) or folded in NOT_SPEAKERS or folded.rstrip(".") in NOT_SPEAKERS:
        return 0
    if role_base(label) in ROLE_WORDS:
        return 2
    words = label.split()
    first = label[0]
    if first.isupper() or first.isdigit() or any(ch.isdigit() for ch in label):
        # ``Ms. Diaz``, ``P1``, ``admin-1``; ``The reasons were`` only if it comes back
        return 2 if all(_name_word(w) for w in words[1:]) or any(ch.isdigit() for ch in label) else 1
    if _caseless(first):
        return 1  # a script without capitals gives no hint: a name recurs, a sentence does not
    return 1 if len(words) <= 2 else 0  # lower case: ``ana:``, ``dr lee:`` if they come back


def _script_class(label: str) -> str:
    first = label[0]
    return "caseless" if _caseless(first) else "lower" if first.islower() else "other"


def _accepted(
    found: list[tuple[int, int, str, float | None]],
    weak: set[str],
    counts: Counter[str],
    rejected: list[tuple[int, str]] | None = None,
) -> list[tuple[int, int, str, float | None]]:
    """Labels of strength 2, and those of strength 1 (``weak``) written as a label at least twice.

    Once a file shows itself a transcript with labels in lower case or in a script without capitals
    (such a label is sure), a one-word label written the same way counts even if it comes once: a
    participant who speaks once is still a speaker."""
    sure = {speaker for _, _, speaker, _ in found if speaker not in weak or counts[speaker] >= 2}
    classes = {_script_class(speaker) for speaker in sure} - {"other"}
    accepted = []
    for label in found:
        if label[2] in sure or (" " not in label[2] and len(label[2]) <= 12 and _script_class(label[2]) in classes):
            accepted.append(label)
        elif rejected is not None:
            rejected.append((label[0], label[2]))
    return accepted


def _builtin_labels(
    text: str, rejected: list[tuple[int, str]] | None = None
) -> list[tuple[int, int, str, float | None]]:
    """``(label start, words start, speaker, time)`` for every built-in label, in order; ``rejected``
    gets ``(start, label)`` of each line that looks like a label but was judged words."""
    first = BUILTIN_LABELS.match(text)
    found: list[tuple[int, int, str, float | None]] = []
    strengths: dict[str, int] = {}  # label as written -> strength
    weak: Counter[str] = Counter()  # labels of strength 1 -> how often they are written
    clock_zero: float | None = None  # the first Zoom header's clock time
    for m in ([first] if first else []) + list(_LABEL_AFTER_NEWLINE.finditer(text)):
        _, zoom, zoom_time, ampm, bracket, name, otter_time, name_time = m.groups()
        time: float | None
        if name is not None:
            speaker = name.strip()
            strength = strengths.get(speaker, -1)
            if strength < 0:
                strength = strengths[speaker] = label_strength(speaker)
            if strength == 1:
                weak[speaker] += 1
            elif not strength:
                continue
            time = parse_seconds(otter_time if otter_time is not None else name_time)
        elif bracket is not None:
            if is_marker_word(bracket):
                continue
            speaker, time = bracket, None
        else:
            if MARKER_RE.fullmatch(f"[{zoom}]") or not zoom.strip():
                continue
            clock = parse_seconds(zoom_time) or 0.0
            if ampm:  # 12:05:00 AM is just after midnight, 12:05:00 PM just after noon
                clock = clock % 43200.0 + (43200.0 if ampm[0] in "Pp" else 0.0)
            if clock_zero is None:
                clock_zero = clock
            # a meeting that runs past midnight goes on counting
            time, speaker = (clock - clock_zero) % 86400.0, zoom.strip()
        found.append((m.start("label"), m.end("label"), speaker, time))
    return _accepted(found, set(weak), weak, rejected) if weak else found


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


def split_turns(
    text: str, pattern: SpeakerPattern | None = None, source: object = "", rejected: list[tuple[int, str]] | None = None
) -> list[Turn]:
    """Turns found by speaker labels at line starts; ``[]`` when there are none. ``rejected`` (built-in
    labels only) gets ``(offset, label)`` of lines that look like a label but were judged words."""
    labels = _custom_labels(text, pattern, source) if pattern else _builtin_labels(text, rejected)
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
