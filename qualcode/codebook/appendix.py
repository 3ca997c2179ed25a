"""The codebook as a manuscript appendix (Markdown or .docx): a heading per code, then its rules."""

from __future__ import annotations

import io

from .model import CodebookModel, CodeNode

# (field, label) in the order an appendix shows them; the brief definition opens each entry.
RULES = (
    ("definition", "Definition"),
    ("inclusion", "When to use"),
    ("exclusion", "When not to use"),
    ("example", "Example"),
)
KIND_NOTE = {
    "provisional": "A provisional codebook: more than one code may apply to a segment.",
    "cqr": "A Consensual Qualitative Research codebook: domains, with categories inside them.",
}


def heading_for(node: CodeNode) -> str:
    return f"{node.key}: {node.name}" if node.key else node.name


def _facts(node: CodeNode, kind: str) -> str:
    facts = []
    if node.hotkey:
        facts.append(f"hotkey {node.hotkey}")
    if not node.applicable:
        facts.append("a grouping, not applied to text")
    elif node.children and kind == "cqr":
        facts.append("a domain, also applied to text")
    return "; ".join(facts)


def write_markdown(model: CodebookModel) -> str:
    lines = [f"# Appendix: {model.name}", ""]
    if model.description:
        lines += [model.description, ""]
    lines += [KIND_NOTE.get(model.kind, ""), ""]
    for node, _, depth in model.walk():
        lines += [f"{'#' * min(depth + 2, 6)} {heading_for(node)}", ""]
        if node.brief:
            lines += [f"*{node.brief}*", ""]
        facts = _facts(node, model.kind)
        if facts:
            lines += [f"({facts})", ""]
        for field, label in RULES:
            value = getattr(node, field)
            if not value:
                continue
            if field == "example":
                lines += [f"**{label}.**", "", "\n".join(f"> {line}" for line in value.split("\n")), ""]
            else:
                lines += [f"**{label}.** " + value.replace("\n", "  \n"), ""]
    return "\n".join(lines).rstrip() + "\n"


def write_docx(model: CodebookModel) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading(f"Appendix: {model.name}", level=0)
    if model.description:
        document.add_paragraph(model.description)
    document.add_paragraph(KIND_NOTE.get(model.kind, ""))
    for node, _, depth in model.walk():
        document.add_heading(heading_for(node), level=min(depth + 1, 9))
        if node.brief:
            document.add_paragraph().add_run(node.brief).italic = True
        facts = _facts(node, model.kind)
        if facts:
            document.add_paragraph(f"({facts})")
        for field, label in RULES:
            value = getattr(node, field)
            if value:
                paragraph = document.add_paragraph(style="Quote" if field == "example" else None)
                paragraph.add_run(f"{label}. ").bold = True
                paragraph.add_run(value)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
