"""Table columns fitted to the terminal, and user text shown literally in cells.

At 80 columns (a lab server over SSH) a table's natural widths rarely fit; rather than
scroll sideways, the widest columns are cut to a common width and their text ends in "…".
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable


def literal(value: Any, style: str = "") -> Text:
    """User text (titles, names, segment text) for a table cell or label, shown as written:
    a plain string would be read as markup, so "[laughs]" would vanish and "[/laugh]" crash.
    Cut text ends in "…"."""
    return Text(str(value), style=style, no_wrap=True, overflow="ellipsis", end="")


def fit_widths(natural: list[int], minimum: list[int], available: int) -> list[int]:
    """Column widths that fit ``available`` cells: when the natural widths are too wide, the
    widest columns are cut to a common width (never below their minimum), so short columns
    keep their text whole and the spare width goes where the text is long."""
    natural = [max(n, m) for n, m in zip(natural, minimum)]
    if sum(natural) <= available:
        return natural

    def widths(cap: int) -> list[int]:
        return [min(n, max(cap, m)) for n, m in zip(natural, minimum)]

    low, high = 0, max(natural)
    while low < high:  # the largest cap that fits
        middle = (low + high + 1) // 2
        low, high = (middle, high) if sum(widths(middle)) <= available else (low, middle - 1)
    fitted = widths(low)
    spare = available - sum(fitted)
    for i, n in enumerate(natural):  # the cells left over go to the columns that were cut, one each
        if spare > 0 and fitted[i] < n:
            fitted[i] += 1
            spare -= 1
    return fitted


# Cells a table needs besides its columns: a vertical scrollbar.
SCROLLBAR = 2


def fit_columns(table: DataTable, columns: list[tuple[Any, int, int]], fallback_width: int = 80) -> None:
    """Add ``(label, natural width, minimum width)`` columns to ``table``, fitted to its width."""
    width = table.size.width or fallback_width
    available = width - SCROLLBAR - 2 * table.cell_padding * len(columns)
    fitted = fit_widths([n for _, n, _ in columns], [m for _, _, m in columns], available)
    for (label, _, _), w in zip(columns, fitted):
        table.add_column(label if isinstance(label, Text) else literal(label), width=w)


def text_width(values: Any, label: str = "") -> int:
    """The widest of ``values`` (and the column's label), in cells."""
    return max([len(label)] + [Text(str(v)).cell_len for v in values])
