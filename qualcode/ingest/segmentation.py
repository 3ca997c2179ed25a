"""Units of analysis from parsed turns: the turn itself, its paragraphs, or its sentences.

Sentences come from spaCy's rule-based sentencizer on a blank English pipeline (no
model download, works offline). Every unit satisfies ``text[start:end] == unit text``
and never starts or ends with whitespace.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .model import ParsedTranscript, Turn
from .speakers import strip_span

UNITS = ("turn", "paragraph", "sentence")
PARAGRAPH_BREAK_RE = re.compile(r"\n[ \t]*\n\s*")


@dataclass(slots=True)
class Unit:
    start: int
    end: int
    speaker: str | None
    unit: str
    time_start: float | None = None
    time_end: float | None = None


@lru_cache(maxsize=1)
def sentencizer():
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def paragraph_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    cursor = start
    for m in PARAGRAPH_BREAK_RE.finditer(text, start, end):
        spans.append(strip_span(text, cursor, m.start()))
        cursor = m.end()
    spans.append(strip_span(text, cursor, end))
    return [(a, b) for a, b in spans if b > a]


def sentence_spans(text: str, spans: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Sentences of each span (offsets absolute), in one pass through spaCy."""
    nlp = sentencizer()
    out: list[list[tuple[int, int]]] = []
    for (base, _), doc in zip(spans, nlp.pipe(text[a:b] for a, b in spans)):
        sentences = [strip_span(text, base + s.start_char, base + s.end_char) for s in doc.sents]
        out.append([(a, b) for a, b in sentences if b > a])
    return out


def segment(parsed: ParsedTranscript, unit: str = "turn") -> Sequence[Unit | Turn]:
    """Units of ``parsed``; without speaker turns, paragraphs (or sentences) of the whole text.

    Turns are returned as they are (a ``Turn`` reads like a ``Unit`` of kind ``turn``).
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}")
    turns = parsed.turns or [Turn(None, 0, len(parsed.text))]
    if unit == "turn" and not parsed.turns:
        unit = "paragraph"
    if unit == "turn":
        return list(turns)
    pieces: list[tuple[Turn, int, int]] = [
        (t, a, b) for t in turns for a, b in paragraph_spans(parsed.text, t.start, t.end)
    ]
    if unit == "paragraph":
        return [Unit(a, b, t.speaker, "paragraph", t.time_start if a == t.start else None) for t, a, b in pieces]
    units: list[Unit] = []
    for (t, _, _), sentences in zip(pieces, sentence_spans(parsed.text, [(a, b) for _, a, b in pieces])):
        units.extend(Unit(s, e, t.speaker, "sentence", t.time_start if s == t.start else None) for s, e in sentences)
    return units
