"""A standalone HTML page: an APA-looking <table> with caption, thead/tbody and note."""

from __future__ import annotations

from html import escape

from .cells import PreparedTable

STYLE = """
body { font-family: "Times New Roman", Times, serif; margin: 2em; }
table { border-collapse: collapse; border-top: 2px solid #000; border-bottom: 2px solid #000; }
caption { text-align: left; padding-bottom: 0.6em; }
caption .title { display: block; font-style: italic; margin-top: 0.4em; }
caption .subtitle { display: block; font-style: italic; font-size: 0.9em; }
thead th { border-bottom: 1px solid #000; font-weight: normal; }
th, td { padding: 0.25em 0.8em; text-align: left; vertical-align: top; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.group th, tr.group td { font-weight: bold; padding-top: 0.6em; }
p.note { max-width: 50em; }
""".strip()


def _text(value: str) -> str:
    return escape(value).replace("\n", "<br>")


def _caption(prepared: PreparedTable) -> str:
    table = prepared.table
    parts = []
    if prepared.heading:
        parts.append(f"<strong>{escape(prepared.heading)}</strong>")
    if table.title:
        parts.append(f'<span class="title">{_text(table.title)}</span>')
    if table.caption:
        parts.append(f'<span class="subtitle">{_text(table.caption)}</span>')
    return f"<caption>{''.join(parts)}</caption>" if parts else ""


def _cell(tag: str, text: str, numeric: bool, extra: str = "") -> str:
    css = ' class="num"' if numeric else ""
    return f"<{tag}{css}{extra}>{_text(text)}</{tag}>"


def render_html(prepared: PreparedTable) -> str:
    table = prepared.table
    page_title = " ".join(t for t in (prepared.heading, table.title) if t) or "Table"
    head = "".join(_cell("th", c, n, ' scope="col"') for c, n in zip(prepared.columns, prepared.numeric))
    body = []
    for i, texts in enumerate(prepared.texts):
        if prepared.spans(i):
            cells = _cell("th", texts[0], False, f' colspan="{len(texts)}" scope="rowgroup"')
        else:
            cells = "".join(_cell("td", t, n) for t, n in zip(texts, prepared.numeric))
        css = ' class="group"' if prepared.is_group(i) else ""
        body.append(f"<tr{css}>{cells}</tr>")
    note = f'<p class="note"><em>Note.</em> {_text(table.note)}</p>\n' if table.note else ""
    rows = "\n".join(body)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(page_title)}</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n"
        f"<table>\n{_caption(prepared)}\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n"
        f"{note}</body>\n</html>\n"
    )
