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
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from ..store.access import Access
from ..table import Table
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

    def __init__(self, rules: Sequence[TermRule]) -> None:
        self.rules = tuple(rules)
        self._index = TermIndex([(r.text, r.kind) for r in self.rules])

    @classmethod
    def for_session(cls, session: Session) -> Pseudonymizer:
        return cls(term_rules(session))

    @classmethod
    def for_project(cls, access: Access) -> Pseudonymizer:
        with access.read() as s:
            return cls.for_session(s)

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
