"""LaTeX: a booktabs table environment with caption, label and note; needs only booktabs."""

from __future__ import annotations

from .cells import PreparedTable

_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    # Characters our tables use that pdfLaTeX's default fonts lack.
    "κ": r"$\kappa$",
    "α": r"$\alpha$",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
    "±": r"$\pm$",
    "×": r"$\times$",
    "−": r"$-$",
    "—": "---",
    "–": "--",
    "…": r"\ldots{}",
}

# Text columns longer than this wrap (tabularx X columns sharing the width left by the others).
WRAP_AFTER_CHARS = 40
# A wrapping column is given at least this many ems when judging whether a table fits.
MIN_WRAP_EMS = 8.0
# A standard article's text width and height (345pt and 550pt at 10pt), in ems of each type size
# the table may step down to; a column's padding (\tabcolsep on both sides) is 12pt.
TYPE_POINTS = {"normalsize": 10.0, "small": 9.0, "footnotesize": 8.0, "scriptsize": 7.0}
TEXT_WIDTH_PT, TEXT_HEIGHT_PT, PADDING_PT = 345.0, 550.0, 12.0
# Widths of Computer Modern characters in ems, roughly: lower case, capitals, figures, spaces.
_EMS = {"lower": 0.5, "upper": 0.75, "digit": 0.5, "space": 0.33, "other": 0.55}


def text_ems(text: str) -> float:
    """About how wide ``text`` sets in ems (a little over, so an estimate that fits does fit)."""
    total = 0.0
    for ch in text:
        kind = (
            "lower"
            if ch.islower()
            else "upper"
            if ch.isupper()
            else "digit"
            if ch.isdigit()
            else "space"
            if ch == " "
            else "other"
        )
        total += _EMS[kind]
    return total * 1.04


def escape_latex(text: str, newline: str = " ") -> str:
    return "".join(_SPECIALS.get(ch, ch) for ch in text).replace("\n", newline)


def _split_head(head: str, values_width: int) -> list[str]:
    """A head longer than its column's values, in two lines at the space nearest its middle."""
    if len(head) <= max(values_width, 6) or " " not in head:
        return [head]
    middle = len(head) / 2
    cut = min((i for i, ch in enumerate(head) if ch == " "), key=lambda i: abs(i - middle))
    return [head[:cut], head[cut + 1 :]]


class _Layout:
    """How the table is set: column specs, which wrap, the heads' lines, the font size, the page.

    The first arrangement that fits wins, in this order: a portrait page before a landscape one,
    larger type before smaller, only the long text columns wrapping before every text column
    wider than ``MIN_WRAP_EMS`` does, the usual column padding before half of it.
    """

    def __init__(self, prepared: PreparedTable, landscape: bool):
        values = [0.0] * len(prepared.columns)
        chars = [0] * len(prepared.columns)
        words = [max((text_ems(w) for w in head.split()), default=0.0) for head in prepared.columns]
        for i, row in enumerate(prepared.texts):
            if not prepared.spans(i):
                for j, text in enumerate(row):
                    for line in text.split("\n"):
                        values[j] = max(values[j], text_ems(line))
                        chars[j] = max(chars[j], len(line))
                        words[j] = max([words[j], *(text_ems(w) for w in line.split())])
        self.heads = [_split_head(h, n) for h, n in zip(prepared.columns, chars)]
        head_ems = [max(text_ems(line) for line in head) for head in self.heads]
        long_text = [not numeric and n > WRAP_AFTER_CHARS for numeric, n in zip(prepared.numeric, chars)]
        any_text = [not numeric and n > MIN_WRAP_EMS for numeric, n in zip(prepared.numeric, values)]
        arrangements = (
            (wraps, on_side, size, tight)
            for on_side in ((False, True) if not landscape else (True,))
            for size in TYPE_POINTS
            if on_side or size != "scriptsize"  # portrait pages keep footnote-size type or larger
            for wraps in (long_text, any_text)
            for tight in (False, True)
        )

        def fits(wraps: list[bool], on_side: bool, size: str, tight: bool) -> bool:
            """The fixed columns fit, and the X columns (equal widths) share what is left so that
            each is at least ``MIN_WRAP_EMS`` and as wide as the longest word any of them holds."""
            points = TYPE_POINTS[size]
            fixed = sum(max(n, head) for wrap, n, head in zip(wraps, values, head_ems) if not wrap) * points
            padding = (PADDING_PT / (2 if tight else 1)) * len(wraps)
            left = (TEXT_HEIGHT_PT if on_side else TEXT_WIDTH_PT) - fixed - padding
            wrapping = [max(MIN_WRAP_EMS, word) for wrap, word in zip(wraps, words) if wrap]
            if not wrapping:
                return left >= 0
            return left / len(wrapping) >= max(wrapping) * points

        # Nothing fits: the smallest arrangement, on its side, every text column wrapping.
        self.wraps, self.landscape, self.size, self.tight = next(
            (a for a in arrangements if fits(*a)), (any_text, True, "scriptsize", True)
        )
        self.tabularx = any(self.wraps)
        self.specs = [
            r">{\raggedright\arraybackslash}X" if wrap else ("r" if numeric else "l")
            for wrap, numeric in zip(self.wraps, prepared.numeric)
        ]

    def packages(self) -> list[str]:
        return ["booktabs"] + (["tabularx"] if self.tabularx else []) + (["rotating"] if self.landscape else [])


def _head_cell(lines: list[str], numeric: bool) -> str:
    if len(lines) == 1:
        return escape_latex(lines[0])
    joined = r" \\ ".join(escape_latex(line) for line in lines)
    return rf"\shortstack[{'r' if numeric else 'l'}]{{{joined}}}"


def render_latex(prepared: PreparedTable) -> str:
    """A booktabs table sized to fit the page: long text columns wrap (tabularx), heads longer than
    their numbers take two lines, the type steps down (small, footnotesize) only when needed, and a
    table too wide for a portrait page is set in landscape (``sidewaystable``; ``Table.landscape``
    asks for it). The packages it needs are named in its first line."""
    table = prepared.table
    layout = _Layout(prepared, bool(getattr(table, "landscape", False)))
    width = len(layout.specs)

    def cells(texts: list[str], bold: bool = False) -> str:
        escaped = [escape_latex(t, r" \newline " if wrap else " ") for t, wrap in zip(texts, layout.wraps)]
        if bold:
            escaped = [rf"\textbf{{{e}}}" if e else e for e in escaped]
        return " & ".join(escaped) + r" \\"

    title = table.title or table.caption
    label = table.label or (f"tab:{table.number}" if table.number is not None else "")
    environment = "sidewaystable" if layout.landscape else "table"
    out = [
        "% requires " + ", ".join(rf"\usepackage{{{name}}}" for name in layout.packages()),
        rf"\begin{{{environment}}}" + ("" if layout.landscape else "[htbp]"),
        r"\centering",
    ]
    if layout.size != "normalsize":
        out.append(rf"\{layout.size}")
    if layout.tight:
        out.append(r"\setlength{\tabcolsep}{3pt}")
    if title:
        out.append(rf"\caption{{{escape_latex(title)}}}")
    if label:
        out.append(rf"\label{{{label}}}")
    if table.caption and table.title:
        out.append(rf"{{\small\itshape {escape_latex(table.caption)}\par}}\medskip")
    spec = "".join(layout.specs)
    if layout.tabularx:
        out.append(rf"\begin{{tabularx}}{{\linewidth}}{{{spec}}}")
    else:
        out.append(rf"\begin{{tabular}}{{{spec}}}")
    heads = [
        escape_latex(name) if wrap else _head_cell(lines, numeric)  # an X column wraps its head itself
        for name, lines, numeric, wrap in zip(prepared.columns, layout.heads, prepared.numeric, layout.wraps)
    ]
    out += [r"\toprule", " & ".join(heads) + r" \\", r"\midrule"]
    for i, texts in enumerate(prepared.texts):
        if prepared.is_group(i) and i > 0:
            out.append(r"\addlinespace")
        if prepared.spans(i):
            out.append(rf"\multicolumn{{{width}}}{{l}}{{\textbf{{{escape_latex(texts[0])}}}}} \\")
        else:
            out.append(cells(texts, bold=prepared.is_group(i)))
    out += [r"\bottomrule", r"\end{tabularx}" if layout.tabularx else r"\end{tabular}"]
    if table.note:
        out.append(rf"\par\smallskip{{\raggedright\footnotesize\textit{{Note.}} {escape_latex(table.note)}\par}}")
    out.append(rf"\end{{{environment}}}")
    return "\n".join(out) + "\n"
