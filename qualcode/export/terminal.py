"""Plain-text table for the terminal: title above, aligned columns between rules, note below.

Every text (cells, heads, title, note) goes through ``terminal_text``: control characters in
user text are shown escaped rather than sent to the terminal."""

from __future__ import annotations

from itertools import zip_longest

from ..table import cell_width, pad_cells, terminal_text, wrap_cells
from .cells import PreparedTable

# Long memos and quotes wrap inside their column rather than pushing the table off screen.
MAX_CELL_WIDTH = 48
MIN_NOTE_WIDTH = 60
# When the table must fit a narrower terminal, text columns give up width down to this many cells.
MIN_COLUMN_WIDTH = 8
GAP = "  "
RULE = "─"


def cell_lines(text: str, width: int = MAX_CELL_WIDTH) -> list[str]:
    return wrap_cells(text, width)


def _natural_widths(columns: list[str], texts: list[list[str]], prepared: PreparedTable) -> list[int]:
    """Each column's width in terminal cells: its widest line, text wrapped at ``MAX_CELL_WIDTH``."""
    widths = [cell_width(name) for name in columns]  # a head wraps only when the table must fit a terminal
    for i, row in enumerate(texts):
        if prepared.spans(i):
            continue
        for j, text in enumerate(row):
            limit = 10**6 if prepared.numeric[j] else MAX_CELL_WIDTH
            widths[j] = max(widths[j], *(cell_width(line) for line in wrap_cells(text, limit)))
    return [max(w, 1) for w in widths]


def _fit(widths: list[int], numeric: list[bool], width: int) -> list[int] | None:
    """Narrow the widest text columns, one cell at a time, until the table fits ``width`` columns;
    None when it cannot without cutting a column below ``MIN_COLUMN_WIDTH`` (numbers never wrap)."""
    widths = list(widths)
    budget = width - len(GAP) * max(len(widths) - 1, 0)
    while sum(widths) > budget:
        candidates = [j for j, w in enumerate(widths) if not numeric[j] and w > MIN_COLUMN_WIDTH]
        if not candidates:
            return None
        widest = max(candidates, key=lambda j: widths[j])
        widths[widest] -= 1
    return widths


def _panels(widths: list[int], width: int) -> list[list[int]]:
    """Columns 1.. grouped so that each group, after the first column, fits ``width``."""
    panels: list[list[int]] = [[]]
    used = widths[0]
    for j in range(1, len(widths)):
        if panels[-1] and used + len(GAP) + widths[j] > width:
            panels.append([])
            used = widths[0]
        panels[-1].append(j)
        used += len(GAP) + widths[j]
    return panels


def render_terminal(prepared: PreparedTable, width: int | None = None) -> str:
    """The table as terminal text, columns measured in terminal cells (wide characters count two).

    ``width``: the terminal's columns. A table wider than that first wraps its text columns
    narrower; one that still cannot fit is printed in panels, each repeating the first column
    (the row labels) with as many of the other columns as fit.
    """
    table = prepared.table
    columns = [terminal_text(name) for name in prepared.columns]
    texts = [[terminal_text(text) for text in row] for row in prepared.texts]
    widths = _natural_widths(columns, texts, prepared)
    panels = [list(range(1, len(widths)))]
    if width is not None and sum(widths) + len(GAP) * max(len(widths) - 1, 0) > width:
        fitted = _fit(widths, prepared.numeric, width)
        if fitted is not None:
            widths = fitted
        else:
            widths[0] = min(widths[0], max(MIN_COLUMN_WIDTH, width // 3))
            panels = _panels(widths, width)
    out = [terminal_text(text) for text in (prepared.heading, table.title, table.caption) if text]
    for n, panel in enumerate(panels):
        if n:
            out.append("")
        out.extend(_panel_lines(prepared, columns, texts, widths, [0, *panel]))
    rule_width = max(_rule_width(widths, [0, *panel]) for panel in panels)
    if table.note:
        note_width = max(rule_width, MIN_NOTE_WIDTH)
        if width is not None:
            note_width = min(note_width, width)
        out.extend(wrap_cells(f"Note. {terminal_text(table.note)}", note_width))
    return "\n".join(out) + "\n"


def _rule_width(widths: list[int], shown: list[int]) -> int:
    return sum(widths[j] for j in shown) + len(GAP) * max(len(shown) - 1, 0)


def _panel_lines(
    prepared: PreparedTable, columns: list[str], texts: list[list[str]], widths: list[int], shown: list[int]
) -> list[str]:
    """The rules, heads and rows of the columns ``shown``."""
    rule = RULE * _rule_width(widths, shown)

    def line(cells: list[str]) -> str:
        padded = [pad_cells(cell, widths[j], right=prepared.numeric[j]) for j, cell in zip(shown, cells, strict=True)]
        return GAP.join(padded).rstrip()

    def wrapped(j: int, text: str) -> list[str]:
        return [text] if prepared.numeric[j] else wrap_cells(text, widths[j])

    out = [rule]
    heads = [wrap_cells(columns[j], widths[j]) for j in shown]
    out += [line(list(cells)) for cells in zip_longest(*heads, fillvalue="")]
    out.append(rule)
    for i, row in enumerate(texts):
        if prepared.spans(i):
            out.extend(row[0].split("\n"))  # a spanning row is not wrapped
            continue
        for cells in zip_longest(*(wrapped(j, row[j]) for j in shown), fillvalue=""):
            out.append(line(list(cells)))
    out.append(rule)
    return out
