"""Pseudonymized exports: the lead's ACCEPTED de-identification terms replaced by their pseudonyms.

``Pseudonymizer.for_project(access)`` reads the accepted terms once; ``apply(text)`` returns the new
text and an offset map, so an export that carries character offsets (the codings CSV, a REFI-QDA
project) gives offsets into the pseudonymized text:

    p = Pseudonymizer.for_project(project)
    done = p.apply(transcript.text)
    done.text                                     # the pseudonymized transcript
    done.start(coding.quote_start), done.end(coding.quote_end)   # the same span in done.text
    done.span(segment.start, segment.end)

Matching: longest term first, whole words (a term inside a longer word is left alone), any run
of white space between a term's words; names, places, schools and other terms as written (so the
teacher "Grant" leaves "a grant" alone), emails, phone numbers and dates whatever their case.

Offsets: outside a replaced term an offset moves by what the replacements before it added or
removed; a start inside a replaced term moves to the start of its pseudonym and an end inside
one to the end of its pseudonym, so a span never cuts a pseudonym in half.

Applying pseudonyms hides identifiers and shows none, so anyone may pseudonymize an export; only
the lead may read or change the mapping (``assist.deid``).
"""

from __future__ import annotations

import bisect
import csv
import dataclasses
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from ..store.access import Access
from ..table import Table, safe_csv_cell, unmark_csv_cell
from .deid import TermIndex, TermRule, term_rules


@dataclass(frozen=True, slots=True)
class Replacement:
    """``original[start:end]`` became ``text[new_start:new_end]`` (the pseudonym of term ``term_id``)."""

    start: int
    end: int
    new_start: int
    new_end: int
    term_id: int


@dataclass(frozen=True, slots=True)
class Pseudonymized:
    """A pseudonymized text and the map from offsets in the original to offsets in it."""

    text: str
    replacements: tuple[Replacement, ...]
    starts: tuple[int, ...] = ()  # the replacements' starts in the original, for bisect

    def _shift(self, r: Replacement) -> int:
        return r.new_end - r.end

    def start(self, offset: int) -> int:
        """Where a span starting at ``offset`` of the original starts in ``text``."""
        i = bisect.bisect_right(self.starts, offset) - 1
        if i < 0:
            return offset
        r = self.replacements[i]
        return r.new_start if offset < r.end else offset + self._shift(r)

    def end(self, offset: int) -> int:
        """Where a span ending (exclusive) at ``offset`` of the original ends in ``text``."""
        i = bisect.bisect_left(self.starts, offset) - 1
        if i < 0:
            return offset
        r = self.replacements[i]
        return r.new_end if offset <= r.end else offset + self._shift(r)

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.start(start), self.end(end)


class Pseudonymizer:
    """Replaces accepted terms by their pseudonyms in texts, tables and JSON-like data."""

    def __init__(self, rules: Sequence[TermRule], access: Access | None = None) -> None:
        self.rules = tuple(rules)
        self.access = access  # where ``frame`` reads transcripts to move offsets
        self._index = TermIndex([(r.text, r.kind) for r in self.rules])

    @classmethod
    def for_session(cls, session: Session) -> Pseudonymizer:
        return cls(term_rules(session))

    @classmethod
    def for_project(cls, access: Access) -> Pseudonymizer:
        with access.read() as s:
            return cls(term_rules(s), access)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def apply(self, text: str) -> Pseudonymized:
        """The pseudonymized text and its offset map."""
        parts: list[str] = []
        replacements: list[Replacement] = []
        last = 0
        length = 0
        for start, end, i in self._index.finditer(text):
            parts.append(text[last:start])
            length += start - last
            pseudonym = self.rules[i].pseudonym
            parts.append(pseudonym)
            replacements.append(Replacement(start, end, length, length + len(pseudonym), self.rules[i].id))
            length += len(pseudonym)
            last = end
        if not replacements:
            return Pseudonymized(text, ())
        parts.append(text[last:])
        return Pseudonymized("".join(parts), tuple(replacements), tuple(r.start for r in replacements))

    def text(self, text: str) -> str:
        return self.apply(text).text if text else text

    def value(self, value: Any) -> Any:
        """Strings pseudonymized inside any nesting of dicts, lists and tuples (keys too); the rest as is."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.value(v) for v in value)
        return value

    def frame(self, frame: Any) -> Any:
        """An evidence frame (columns ``transcript``, ``start``, ``end``, and ``case`` when titles repeat
        across cases) with ``start``/``end`` moved into the pseudonymized transcripts; its texts are
        left for ``table``/``value``. Needs the project (``for_project``)."""
        columns = set(frame.columns)
        if not self.rules or self.access is None or not {"transcript", "start", "end"} <= columns:
            return frame
        out = frame.copy()
        cases = list(frame["case"]) if "case" in columns else [""] * len(frame)
        with self.access.read() as s:
            texts = TranscriptTexts(s, self)
            spans = []
            for case, title, start, end in zip(cases, frame["transcript"], frame["start"], frame["end"], strict=True):
                done = texts.by_title(case or "", title)
                spans.append((start, end) if done is None else done.span(int(start), int(end)))
        out["start"] = [a for a, _ in spans]
        out["end"] = [b for _, b in spans]
        return out

    def table(self, table: Table) -> Table:
        """Every text of a table (cells, column heads, title, caption, note) pseudonymized."""
        if not self.rules:
            return table
        columns = [self.text(c) for c in table.columns]
        renamed = dict(zip(table.columns, columns))
        return dataclasses.replace(
            table,
            columns=columns,
            rows=[[self.value(v) for v in row] for row in table.rows],
            title=self.text(table.title),
            caption=self.text(table.caption),
            note=self.text(table.note),
            formats={renamed.get(k, k): v for k, v in table.formats.items()},
        )


class TranscriptTexts:
    """Pseudonymized transcripts by (case name, title), made once each, for exports with offsets."""

    def __init__(self, session: Session, pseudonymizer: Pseudonymizer) -> None:
        self.session = session
        self.pseudonymizer = pseudonymizer
        self._done: dict[int, Pseudonymized] = {}
        self._ids: dict[tuple[str, str], int] | None = None

    def by_id(self, transcript_id: int) -> Pseudonymized:
        if transcript_id not in self._done:
            from ..store.models import Transcript

            text = self.session.exec(select(Transcript.text).where(Transcript.id == transcript_id)).one()
            self._done[transcript_id] = self.pseudonymizer.apply(text)
        return self._done[transcript_id]

    def by_title(self, case: str, title: str) -> Pseudonymized | None:
        if self._ids is None:
            from ..store.models import Case, Transcript

            cases = {c.id: c.name for c in self.session.exec(select(Case))}
            self._ids = {
                (cases.get(case_id, "") if case_id is not None else "", t): tid
                for tid, t, case_id in self.session.exec(select(Transcript.id, Transcript.title, Transcript.case_id))
                if tid is not None
            }
        tid = self._ids.get((case, title))
        return None if tid is None else self.by_id(tid)


def _offset(value: str) -> int | None:
    """An offset cell (``648``, or ``648.0`` as the consensus export writes it); None when empty or not a number."""
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) else None


def pseudonymize_codings_csv(session: Session, csv_text: str, pseudonymizer: Pseudonymizer) -> str:
    """A codings CSV (``coding.exchange.export_codings``) with every text cell pseudonymized and the
    ``start``/``end`` offsets moved into the pseudonymized transcript text."""
    reader = csv.reader(io.StringIO(csv_text))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = next(reader, None)
    if header is None:
        return csv_text
    writer.writerow(header)
    at = {name: i for i, name in enumerate(header)}
    texts = TranscriptTexts(session, pseudonymizer)
    offsets = [at[c] for c in ("start", "end") if c in at]
    for row in reader:
        values = [unmark_csv_cell(v) for v in row]
        done = None
        if offsets and any(values[i] for i in offsets) and "transcript" in at:
            done = texts.by_title(values[at["case"]] if "case" in at else "", values[at["transcript"]])
        new = [pseudonymizer.text(v) if i not in offsets else v for i, v in enumerate(values)]
        if done is not None:
            if "start" in at and (a := _offset(values[at["start"]])) is not None:
                new[at["start"]] = str(done.start(a))
            if "end" in at and (b := _offset(values[at["end"]])) is not None:
                new[at["end"]] = str(done.end(b))
        writer.writerow([safe_csv_cell(v) for v in new])
    return out.getvalue()
