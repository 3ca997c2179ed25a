"""GitHub-flavoured Markdown: **Table N**, *title*, a pipe table, and *Note.* below."""

from __future__ import annotations

import re

from .cells import PreparedTable

# Backslash-escape the ASCII punctuation that would otherwise start emphasis, code,
# links, HTML, strike-through or math, or end the cell.
_SPECIAL = re.compile(r"([\\`*_|<>\[\]~$])")


def escape_markdown(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text).replace("\n", "<br>")


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def render_markdown(prepared: PreparedTable) -> str:
    table = prepared.table
    out: list[str] = []
    if prepared.heading:
        out += [f"**{prepared.heading}**", ""]
    for text in (table.title, table.caption):
        if text:
            out += [f"*{escape_markdown(text)}*", ""]
    out.append(_row([escape_markdown(c) for c in prepared.columns]))
    out.append(_row(["---:" if numeric else "---" for numeric in prepared.numeric]))
    for i, texts in enumerate(prepared.texts):
        cells = [escape_markdown(t) for t in texts]
        if prepared.is_group(i):
            cells = [f"**{c}**" if c else c for c in cells]
        out.append(_row(cells))
    if table.note:
        out += ["", f"*Note.* {escape_markdown(table.note)}"]
    return "\n".join(out) + "\n"
