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

# Text columns longer than this become paragraph columns that wrap within the page.
WRAP_AFTER_CHARS = 40
TEXT_WIDTH_SHARE = 0.8


def escape_latex(text: str, newline: str = " ") -> str:
    return "".join(_SPECIALS.get(ch, ch) for ch in text).replace("\n", newline)


def _column_specs(prepared: PreparedTable) -> tuple[list[str], list[bool]]:
    longest = [len(c) for c in prepared.columns]
    for i, row in enumerate(prepared.texts):
        if not prepared.spans(i):
            longest = [max(n, len(t)) for n, t in zip(longest, row)]
    wraps = [not numeric and n > WRAP_AFTER_CHARS for numeric, n in zip(prepared.numeric, longest)]
    share = TEXT_WIDTH_SHARE / max(sum(wraps), 1)
    specs = [
        f"p{{{share:.2f}\\linewidth}}" if wrap else ("r" if numeric else "l")
        for wrap, numeric in zip(wraps, prepared.numeric)
    ]
    return specs, wraps


def render_latex(prepared: PreparedTable) -> str:
    table = prepared.table
    specs, wraps = _column_specs(prepared)
    width = len(specs)

    def cells(texts: list[str], bold: bool = False) -> str:
        escaped = [escape_latex(t, r" \newline " if wrap else " ") for t, wrap in zip(texts, wraps)]
        if bold:
            escaped = [rf"\textbf{{{e}}}" if e else e for e in escaped]
        return " & ".join(escaped) + r" \\"

    title = table.title or table.caption
    label = table.label or (f"tab:{table.number}" if table.number is not None else "")
    out = ["% requires \\usepackage{booktabs}", r"\begin{table}[htbp]", r"\centering"]
    if title:
        out.append(rf"\caption{{{escape_latex(title)}}}")
    if label:
        out.append(rf"\label{{{label}}}")
    if table.caption and table.title:
        out.append(rf"{{\small\itshape {escape_latex(table.caption)}\par}}\medskip")
    out += [rf"\begin{{tabular}}{{{''.join(specs)}}}", r"\toprule", cells(prepared.columns), r"\midrule"]
    for i, texts in enumerate(prepared.texts):
        if prepared.is_group(i) and i > 0:
            out.append(r"\addlinespace")
        if prepared.spans(i):
            out.append(rf"\multicolumn{{{width}}}{{l}}{{\textbf{{{escape_latex(texts[0])}}}}} \\")
        else:
            out.append(cells(texts, bold=prepared.is_group(i)))
    out += [r"\bottomrule", r"\end{tabular}"]
    if table.note:
        out.append(rf"\par\smallskip{{\raggedright\footnotesize\textit{{Note.}} {escape_latex(table.note)}\par}}")
    out.append(r"\end{table}")
    return "\n".join(out) + "\n"
