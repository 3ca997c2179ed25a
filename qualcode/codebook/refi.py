"""REFI-QDA codebooks: ``.qdc`` files, and the ``<CodeBook>`` inside ``.qde``/``.qdpx`` projects.

REFI gives a code only a name, a colour, ``isCodable`` and one free-text ``<Description>``. Our
other fields travel inside the description as labelled sections, one label per line start::

    Brief definition: ...
    Full definition: ...
    When to use: ...
    When not to use: ...
    Example: ...
    Key: SV
    Hotkey: 1

A description without any label (as other tools write it) is read as the full definition.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from ..decoding import Archive, first_line, read_bytes
from ..errors import InputError, located
from ..version import __version__
from .model import CodebookModel, CodeNode, Origin, normalise_guid, parse_bool
from .tree import MAX_DEPTH

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
# field -> label, in the order they are written
DESCRIPTION_LABELS = {
    "brief": "Brief definition",
    "definition": "Full definition",
    "inclusion": "When to use",
    "exclusion": "When not to use",
    "example": "Example",
    "key": "Key",
    "hotkey": "Hotkey",
}
_LABEL_LINE = re.compile(
    r"^(" + "|".join(re.escape(label) for label in DESCRIPTION_LABELS.values()) + r"):[ \t]?(.*)$", re.IGNORECASE
)
_FIELD_BY_LABEL = {label.casefold(): field for field, label in DESCRIPTION_LABELS.items()}


def describe(node: CodeNode) -> str:
    """Our fields as one REFI description (empty fields left out)."""
    parts = []
    for field, label in DESCRIPTION_LABELS.items():
        value = getattr(node, field)
        if value:
            parts.append(f"{label}: {value}")
    return "\n".join(parts)


def parse_description(text: str) -> dict[str, str]:
    """Invert ``describe``; unlabelled text becomes the full definition."""
    sections: dict[str, list[str]] = {}
    current = "definition"
    for line in text.replace("\r\n", "\n").split("\n"):
        match = _LABEL_LINE.match(line)
        if match:
            current = _FIELD_BY_LABEL[match.group(1).casefold()]
            sections[current] = [match.group(2)]
        else:
            sections.setdefault(current, []).append(line)
    return {field: "\n".join(lines).strip() for field, lines in sections.items() if "\n".join(lines).strip()}


# -- reading ------------------------------------------------------------------------------------------
def read_refi(path: str | Path) -> tuple[CodebookModel, list[str]]:
    """A codebook from a ``.qdc``, a ``.qde`` or the ``project.qde`` inside a ``.qdpx``."""
    path = Path(path)
    source = str(path)
    if path.suffix.lower() == ".qdpx":
        archive = Archive(read_bytes(path), source, ".qdpx (zip) file")
        try:
            name = next((n for n in archive.names() if n.lower().endswith(".qde")), None)
            if name is None:
                raise InputError(located(source, "no project.qde inside this .qdpx"))
            data = archive.read(name)
        finally:
            archive.close()
        source = f"{path}!{name}"
    else:
        data = read_bytes(path)
    try:
        # libxml2's own depth limit (256) stands: huge_tree would lift it along with the size limits.
        root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        if "Excessive depth" in (exc.msg or ""):  # libxml2's limit, named in its own terms
            raise InputError(
                located(source, f"nested deeper than a codebook can be ({MAX_DEPTH} levels of codes)", exc.lineno)
            ) from None
        raise InputError(located(source, f"not well-formed XML: {first_line(exc.msg)}", exc.lineno)) from exc

    book = root if _local(root) == "CodeBook" else next((e for e in root.iter() if _local(e) == "CodeBook"), None)
    if book is None:
        raise InputError(located(source, "no <CodeBook> element"))
    model = CodebookModel(name=path.stem, source=source)
    problems: list[str] = []
    codes = next((e for e in book if _local(e) == "Codes"), None)
    model.codes = [_read_code(e, source, problems) for e in (codes if codes is not None else []) if _local(e) == "Code"]
    sets = next((e for e in book if _local(e) == "Sets"), None)
    if sets is not None and any(_local(e) == "Set" for e in sets):
        model.warnings.append(located(source, "code sets are not kept (qualcode has no sets)", sets.sourceline))
    return model, problems


def _read_code(element: etree._Element, source: str, problems: list[str], depth: int = 1) -> CodeNode:
    origin = Origin(source, element.sourceline)
    node = CodeNode(name=(element.get("name") or "").strip(), origin=origin)
    guid = element.get("guid")
    node.guid = normalise_guid(guid) if guid else None
    node.color = element.get("color") or None
    codable = element.get("isCodable")
    if codable is not None:
        value = parse_bool(codable)
        if value is None:
            problems.append(origin.message(f"isCodable of {node.name!r} must be true or false"))
        else:
            node.applicable = value
    for child in element:
        kind = _local(child)
        if kind == "Description":
            for field, text in parse_description(child.text or "").items():
                setattr(node, field, text)
        elif kind == "Code":
            if depth >= MAX_DEPTH:
                problems.append(Origin(source, child.sourceline).message(f"codes nest deeper than {MAX_DEPTH} levels"))
                break
            node.children.append(_read_code(child, source, problems, depth + 1))
    return node


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


# -- writing ------------------------------------------------------------------------------------------
def write_qdc(model: CodebookModel) -> bytes:
    """A ``.qdc`` document valid against the REFI-QDA Codebook schema."""
    model.ensure_guids()
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS})
    root.set("origin", f"qualcode {__version__}")
    codes = etree.SubElement(root, f"{{{CODEBOOK_NS}}}Codes")
    for node in model.codes:
        _write_code(codes, node)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _write_code(parent: etree._Element, node: CodeNode) -> None:
    element = etree.SubElement(parent, f"{{{CODEBOOK_NS}}}Code")
    element.set("guid", node.guid)
    element.set("name", node.name)
    element.set("isCodable", "true" if node.applicable else "false")
    if node.color:
        element.set("color", node.color.upper())
    description = describe(node)
    if description:
        etree.SubElement(element, f"{{{CODEBOOK_NS}}}Description").text = description
    for child in node.children:
        _write_code(element, child)
