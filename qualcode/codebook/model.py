"""The in-memory codebook: a tree of dataclasses, independent of the store and of any file format.

Readers build a ``CodebookModel``; ``validate`` checks it; the store and the writers take it.
``origin`` on a code remembers where it came from (a YAML line, a spreadsheet row) so that
validation can point at it.
"""

from __future__ import annotations

import re
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
class CodeSetNode:
    """A REFI-QDA code Set: a named group of codes from anywhere in the tree, by their GUIDs."""

    name: str
    guid: str
    description: str = ""
    members: list[str] = field(default_factory=list)  # code GUIDs, as the codes spell them


@dataclass
class CodebookModel:
    name: str
    kind: str = "provisional"
    description: str = ""
    codes: list[CodeNode] = field(default_factory=list)
    source: str = ""
    warnings: list[str] = field(default_factory=list, compare=False)
    sets: list[CodeSetNode] = field(default_factory=list, compare=False)
    # GUIDs a reader replaced because they were not GUIDs: {as written: the valid one used instead}
    replaced_guids: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

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


_GUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}"
)
# Replacement GUIDs derive from what was written, so the same file gets the same GUIDs each time.
_REPLACEMENT_NAMESPACE = uuid.UUID("5b0f3c4e-6a51-4d8e-9a77-2f1c0d9e4b21")


def normalise_guid(text: str) -> str:
    """A GUID as written, only the surrounding whitespace trimmed: REFI files write GUIDs bare or
    ``{braced}``, in either case, and another tool must find its own spelling again on the way back."""
    return text.strip()


def is_guid(text: str | None) -> bool:
    """Whether ``text`` is a GUID the REFI-QDA schemas accept (bare or braced, any case)."""
    return bool(text) and _GUID.fullmatch(str(text)) is not None


def guid_key(text: str) -> str:
    """One key for every spelling of a GUID (braces, case): for matching references, never stored."""
    return text.strip().strip("{}").lower()


def replacement_guid(text: str) -> str:
    """A valid GUID standing for ``text``, which is not one (the same ``text`` always gets the same GUID)."""
    return str(uuid.uuid5(_REPLACEMENT_NAMESPACE, text))


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
