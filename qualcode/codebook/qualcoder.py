"""QualCoder's plain-text code list ("Import plain text codes"): one code a line.

A line is a code's path, its categories first, joined by ``>>``, then optionally a tab and the
code's memo::

    Barriers>>Time>>Too little time<TAB>Talk of schedules that leave no room
    Leadership

QualCoder reads the same list from a ``.csv`` (path, memo) without a header row. Categories that
no line names as a code are QualCoder categories: groupings that are not applied to text, so they
arrive as codes with ``applicable: false``. The memo becomes the full definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from ..decoding import csv_rows, read_text
from ..errors import located
from .model import CodebookModel, CodeNode, Origin, text_or_empty

SEPARATOR = ">>"


def looks_like_code_list(text: str, path: str | Path, delimiter: str, header_fields: set[str]) -> bool:
    """A CSV with no header we know whose rows hold a path and at most a memo, one of them a path."""
    if header_fields:
        return False
    rows = [row for _, row in zip(range(200), csv_rows(text, path, delimiter=delimiter)) if any(c.strip() for c in row)]
    return bool(rows) and all(len(row) <= 2 for row in rows) and any(SEPARATOR in row[0] for row in rows)


def read_code_list(path: str | Path) -> tuple[CodebookModel, list[str]]:
    """A ``.txt`` code list (tab between the path and the memo)."""
    text = read_text(Path(path))
    return read_code_list_rows(str(path), csv_rows(text, path, delimiter="\t"))


def read_code_list_rows(source: str, rows: Iterable[Sequence[str]]) -> tuple[CodebookModel, list[str]]:
    model = CodebookModel(name=Path(source).stem, source=source)
    problems: list[str] = []
    nodes: dict[tuple[str, ...], CodeNode] = {}
    named: dict[tuple[str, ...], int] = {}  # a code's path -> the line that names it
    extra_cells = 0
    for number, row in enumerate(rows, start=1):
        if not any(text_or_empty(cell) for cell in row):
            continue
        origin = Origin(source, number)
        parts = [part.strip() for part in text_or_empty(row[0]).split(SEPARATOR) if part.strip()]
        if not parts:
            problems.append(
                origin.message(f"no code name before the memo (a line is CATEGORY{SEPARATOR}CODE<TAB>MEMO)")
            )
            continue
        if len(row) > 2 and any(text_or_empty(cell) for cell in row[2:]):
            extra_cells += 1
        siblings = model.codes
        key: tuple[str, ...] = ()
        node = CodeNode(name="")
        for part in parts:
            key = key + (part.casefold(),)
            if key not in nodes:
                # a category until a line names it as a code
                nodes[key] = CodeNode(name=part, applicable=False, origin=origin)
                siblings.append(nodes[key])
            node = nodes[key]
            siblings = node.children
        if key in named:
            model.warnings.append(
                origin.message(f"{SEPARATOR.join(parts)!r} is named again (first at line {named[key]}): left out")
            )
            continue
        named[key] = number
        node.applicable = True
        node.origin = origin
        node.definition = text_or_empty(row[1]) if len(row) > 1 else ""
    if extra_cells:
        model.warnings.append(
            located(source, f"{extra_cells} line(s) have cells after the memo: left out (a line is path, tab, memo)")
        )
    categories = len(nodes) - len(named)
    if categories:
        model.warnings.append(
            located(
                source,
                f"{categories} QualCoder categor{'y' if categories == 1 else 'ies'} (named only as part of a "
                "path) kept as grouping codes, not applied to text (applicable: no)",
            )
        )
    return model, problems
