"""Markdown transcripts (``.md``): speakers as headings or as bold names at a line start.

Recognised, each at the start of a line:

* a heading naming the speaker, the words on the lines below (``### Moderator``,
  ``## Ana Lee (00:01:02)``);
* a bold name with a time, the words below (``**Ana Lee**  0:00``, as Otter and others write);
* a bold name with a colon, the words after it (``**Interviewer:** So how ...``, ``**P1**: Yes``).

Which headings are speakers: those whose text is a name (see ``speakers``) at a heading level where
a name comes back, or where a role word (``Interviewer``) stands. Other headings (a title, a section
such as ``## Part two``) end the turn before them and belong to no turn. The stored text is the file
as it reads, Markdown included; a turn is the words between its label and the next label or heading.
A file with none of these is read as plain text (``Name:`` labels and the rest).
"""

from __future__ import annotations

import re
from collections import Counter

from .markers import TIMESTAMP
from .model import ParsedTranscript, Turn
from .speakers import ROLE_WORDS, SpeakerPattern, label_strength, parse_seconds, role_base, strip_span
from .txt import drop_otter_footer, parse_text

_TIME = rf"[(\[]?(?P<time>{TIMESTAMP})[)\]]?"
# The heading's text is taken apart in Python (``heading_name``): one regular expression for a name,
# an optional time and closing hashes backtracks in quadratic time on long runs of blanks and hashes.
HEADING_RE = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<text>[^\n]*)$", re.MULTILINE)
_TRAILING_TIME_RE = re.compile(rf"[ \t]+{_TIME}$")
# ``**Name**  0:00`` (words below), ``**Name:** words``, ``**Name**: words``.
BOLD_RE = re.compile(
    rf"""^\*\*(?P<name>[^*\n]{{1,80}}?)(?P<inner>[ \t]*:)?\*\*
        (?:[ \t]*(?P<outer>:))?
        (?:[ \t]*{_TIME})?
        [ \t]*(?P<rest>[^\n]?)""",
    re.MULTILINE | re.VERBOSE,
)
# A thematic break (``---``) at the end of a turn separates turns; it is not speech.
_RULE_AT_END = re.compile(r"(?:\n[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*)+\s*\Z")


def heading_name(text: str) -> tuple[str, float | None]:
    """A heading's name and time: ``Ana Lee (00:01:02) ##`` -> ``("Ana Lee", 62.0)``."""
    text = text.rstrip(" \t#")
    time = None
    # a time with its parentheses fits in the last characters: searching only them keeps this linear
    m = _TRAILING_TIME_RE.search(text, max(0, len(text) - 24))
    if m:
        text, time = text[: m.start()], parse_seconds(m.group("time"))
    return text.strip().strip("*_").strip().rstrip(":").strip(), time


def parse_markdown(text: str, speaker_pattern: SpeakerPattern | None = None, source: object = "") -> ParsedTranscript:
    """``text`` is already decoded and normalised; ``source`` is named in errors."""
    if speaker_pattern is not None:
        return parse_text(text, speaker_pattern, "md", source)
    # (label start, words start, speaker or None for a heading that only ends a turn, time)
    marks: list[tuple[int, int, str | None, float | None]] = []
    headings = []
    for m in HEADING_RE.finditer(text):
        name, time = heading_name(m.group("text"))
        headings.append((m, name, time))
    recurring = Counter((len(m.group("hashes")), name) for m, name, _ in headings if name)
    speaker_levels = {
        level
        for (level, name), count in recurring.items()
        if (count >= 2 and label_strength(name)) or role_base(name) in ROLE_WORDS
    }
    for m, name, time in headings:
        level = len(m.group("hashes"))
        is_speaker = level in speaker_levels and name and label_strength(name) > 0
        marks.append((m.start(), m.end(), name if is_speaker else None, time))
    for m in BOLD_RE.finditer(text):
        name = m.group("name").strip()
        colon = m.group("inner") or m.group("outer")
        # a bold phrase that is not a label: no colon, no time, words go on (``**Important** point``)
        if not name or not (colon or m.group("time") or not m.group("rest")) or not label_strength(name):
            continue
        marks.append((m.start(), m.start("rest"), name, parse_seconds(m.group("time"))))
    if not any(speaker for _, _, speaker, _ in marks):
        return parse_text(text, None, "md", source)
    marks.sort()
    turns: list[Turn] = []
    ends = [start for start, *_ in marks[1:]] + [len(text)]
    for (_, start, speaker, time), end in zip(marks, ends):
        if speaker is None:
            continue
        rule = _RULE_AT_END.search(text, start, end)
        start, end = strip_span(text, start, rule.start() if rule else end)
        if end > start:
            turns.append(Turn(speaker, start, end, time))
    notes: list[str] = []
    turns = drop_otter_footer(text, turns, notes)
    return ParsedTranscript(text, turns, notes, "md")
