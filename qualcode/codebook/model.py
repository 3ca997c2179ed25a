"""The in-memory codebook: a tree of dataclasses, independent of the store and of any file format.

Readers build a ``CodebookModel``; ``validate`` checks it; the store and the writers take it.
``origin`` on a code remembers where it came from (a YAML line, a spreadsheet row) so that
validation can point at it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from .lookup import PATH_SEP

KINDS = ("provisional", "cqr")

# The texts a code carries, in the order documents show them.
TEXT_FIELDS = ("brief", "definition", "inclusion", "exclusion", "example")
# Everything that makes two codes "the same" for round-trip purposes (besides children).
COMPARED_FIELDS = ("name", "key", *TEXT_FIELDS, "color", "hotkey", "applicable")


@dataclass
class Origin:
    """Where a code was written: a file and a line (YAML, CSV) or a row (XLSX)."""

    path: str
    number: int | None = None
    unit: str = "line"  # line | row

    def message(self, text: str) -> str:
        from ..errors import located

        if self.number is None:
            return located(self.path, text)
        if self.unit == "row":
            return located(self.path, f"row {self.number}: {text}")
        return located(self.path, text, self.number)


@dataclass
class CodeNode:
    name: str
    key: str | None = None
    brief: str = ""
    definition: str = ""
    inclusion: str = ""
    exclusion: str = ""
    example: str = ""
    color: str | None = None  # "#rrggbb" once validated
    hotkey: str | None = None
    applicable: bool = True
    guid: str | None = None
    children: list[CodeNode] = field(default_factory=list)
    origin: Origin | None = field(default=None, compare=False, repr=False)

    def signature(self) -> tuple:
        """The code's content and its subtree, without guids or origins: for round-trip checks."""
        return tuple(getattr(self, f) for f in COMPARED_FIELDS) + (tuple(c.signature() for c in self.children),)


@dataclass
class CodebookModel:
    name: str
    kind: str = "provisional"
    description: str = ""
    codes: list[CodeNode] = field(default_factory=list)
    source: str = ""
    warnings: list[str] = field(default_factory=list, compare=False)

    def walk(self) -> Iterator[tuple[CodeNode, CodeNode | None, int]]:
        """Every code depth-first in document order, with its parent and depth (0 = top level)."""

        def visit(nodes: list[CodeNode], parent: CodeNode | None, depth: int):
            for node in nodes:
                yield node, parent, depth
                yield from visit(node.children, node, depth + 1)

        yield from visit(self.codes, None, 0)

    def paths(self) -> Iterator[tuple[str, CodeNode, CodeNode | None, int]]:
        """Like ``walk`` but with each code's full path (``Domain > Category``)."""

        def visit(nodes: list[CodeNode], parent: CodeNode | None, prefix: str, depth: int):
            for node in nodes:
                path = f"{prefix}{PATH_SEP}{node.name}" if prefix else node.name
                yield path, node, parent, depth
                yield from visit(node.children, node, path, depth + 1)

        yield from visit(self.codes, None, "", 0)

    def count(self) -> int:
        return sum(1 for _ in self.walk())

    def signature(self) -> tuple:
        return (self.name, self.kind, self.description, tuple(c.signature() for c in self.codes))

    def ensure_guids(self) -> None:
        for node, _, _ in self.walk():
            if not node.guid:
                node.guid = new_guid()


def new_guid() -> str:
    return str(uuid.uuid4())


def normalise_guid(text: str) -> str:
    """REFI files write GUIDs bare or ``{braced}``, in either case: keep one spelling."""
    return text.strip().strip("{}").lower()


def parse_bool(value: object) -> bool | None:
    """A yes/no cell as people write it; ``None`` when it is not one."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().casefold()
    if text in ("yes", "y", "true", "t", "1", "x"):
        return True
    if text in ("no", "n", "false", "f", "0"):
        return False
    return None


def text_or_empty(value: object) -> str:
    """A text cell: ``None`` and NaN become empty, numbers their plain spelling, whitespace trimmed."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer():
            return str(int(value))
    return str(value).strip()


def optional_text(value: object) -> str | None:
    text = text_or_empty(value)
    return text or None
