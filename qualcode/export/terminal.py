"""Plain-text table for the terminal: title above, aligned columns between rules, note below.

Every text (cells, heads, title, note) goes through ``terminal_text``: control characters in
user text are shown escaped rather than sent to the terminal."""

from __future__ import annotations

import textwrap
from itertools import zip_longest

from ..table import terminal_text
from .cells import PreparedTable

# Long memos and quotes wrap inside their column rather than pushing the table off screen.
MAX_CELL_WIDTH = 48
MIN_NOTE_WIDTH = 60
GAP = "  "
RULE = "─"


def cell_lines(text: str, width: int = MAX_CELL_WIDTH) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(textwrap.wrap(paragraph, width) or [""])
    return lines


def render_terminal(prepared: PreparedTable) -> str:
    table = prepared.table
    columns = [terminal_text(name) for name in prepared.columns]
    texts = [[terminal_text(text) for text in row] for row in prepared.texts]
    wrapped = [[cell_lines(text) for text in row] for row in texts]
    widths = [len(name) for name in columns]
    for i, row in enumerate(wrapped):
        if prepared.spans(i):
            continue
        for j, lines in enumerate(row):
            widths[j] = max(widths[j], *(len(line) for line in lines))
    rule = RULE * (sum(widths) + len(GAP) * max(len(widths) - 1, 0))

    def line(cells: list[str]) -> str:
        padded = [
            cell.rjust(widths[j]) if prepared.numeric[j] else cell.ljust(widths[j]) for j, cell in enumerate(cells)
        ]
        return GAP.join(padded).rstrip()

    out = [terminal_text(text) for text in (prepared.heading, table.title, table.caption) if text]
    out += [rule, line(columns), rule]
    for i, row in enumerate(wrapped):
        if prepared.spans(i):
            out.extend(texts[i][0].split("\n"))  # a spanning row is not wrapped
            continue
        for cells in zip_longest(*row, fillvalue=""):
            out.append(line(list(cells)))
    out.append(rule)
    if table.note:
        out.append(textwrap.fill(f"Note. {terminal_text(table.note)}", max(len(rule), MIN_NOTE_WIDTH)))
    return "\n".join(out) + "\n"
