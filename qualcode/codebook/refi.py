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

A description without any label (as other tools write it) is read as the full definition, and a
code whose only text is its full definition is written back without a label: another tool's
description comes back verbatim. GUIDs are kept as written (case and braces); one that is not a
GUID (``code-001-aaaa``) is replaced by a valid one, with a warning, so that every file written
validates. Code Sets are kept (``CodebookModel.sets``).
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from ..decoding import Archive, first_line, read_bytes
from ..errors import InputError, located
from ..version import __version__
from .model import (
    CodebookModel,
    CodeNode,
    CodeSetNode,
    Origin,
    guid_key,
    is_guid,
    normalise_guid,
    parse_bool,
    replacement_guid,
)
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
    """Our fields as one REFI description (empty fields left out).

    A code whose only text is its full definition gets it unlabelled, as other tools write it."""
    alone = node.definition and not any(getattr(node, f) for f in DESCRIPTION_LABELS if f != "definition")
    if alone and _LABEL_LINE.match(node.definition.split("\n", 1)[0]) is None:
        return node.definition
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
    model, problems = read_codebook_element(book, source, path.stem)
    # A .qdc keeps its Sets inside the <CodeBook>; a project keeps them in its own <Sets>.
    sets = next((e for e in book if _local(e) == "Sets"), None)
    if sets is None and _local(root) == "Project":
        sets = next((e for e in root if _local(e) == "Sets"), None)
    if sets is not None:
        read_sets(sets, model, source)
    return model, problems


def read_codebook_element(book: etree._Element, source: str, name: str) -> tuple[CodebookModel, list[str]]:
    """The codes of a ``<CodeBook>`` element (from a ``.qdc`` or a project), with the problems found.

    GUIDs that are not GUIDs, or that repeat, are replaced by valid ones (``model.replaced_guids``)
    with a warning each."""
    model = CodebookModel(name=name, source=source)
    problems: list[str] = []
    codes = next((e for e in book if _local(e) == "Codes"), None)
    seen: set[str] = set()
    elements = [e for e in (codes if codes is not None else []) if _local(e) == "Code"]
    model.codes = [_read_code(e, source, problems, model, seen) for e in elements]
    return model, problems


def read_sets(sets: etree._Element, model: CodebookModel, source: str) -> None:
    """The ``<Set>``s of a ``.qdc`` (``MemberCode guid=``) or a project (``MemberCode targetGUID=``) into
    ``model.sets``: members that are not codes of the codebook are left out with a warning."""
    codes = {guid_key(n.guid): n.guid for n, _, _ in model.walk() if n.guid}
    replaced = {guid_key(old): new for old, new in model.replaced_guids.items()}
    for element in sets:
        if _local(element) != "Set":
            continue
        name = (element.get("name") or "").strip()
        guid = normalise_guid(element.get("guid") or "")
        if not is_guid(guid):
            fixed = replacement_guid(guid or name)
            model.warnings.append(
                located(source, f"set {name!r}: {guid!r} is not a GUID, replaced by {fixed}", element.sourceline)
            )
            guid = fixed
        code_set = CodeSetNode(name=name or guid, guid=guid)
        for child in element:
            kind = _local(child)
            if kind == "Description":
                code_set.description = (child.text or "").strip()
            elif kind == "MemberCode":
                target = normalise_guid(child.get("guid") or child.get("targetGUID") or "")
                key = guid_key(target)
                member = replaced.get(key) or codes.get(key)
                if member is None:
                    why = f"set {name!r}: member {target!r} is not a code here, left out"
                    model.warnings.append(located(source, why, child.sourceline))
                elif member not in code_set.members:
                    code_set.members.append(member)
        model.sets.append(code_set)


def _read_code(
    element: etree._Element,
    source: str,
    problems: list[str],
    model: CodebookModel,
    seen: set[str],
    depth: int = 1,
) -> CodeNode:
    origin = Origin(source, element.sourceline)
    node = CodeNode(name=(element.get("name") or "").strip(), origin=origin)
    guid = normalise_guid(element.get("guid") or "")
    if guid and (not is_guid(guid) or guid_key(guid) in seen):
        why = "is not a GUID" if not is_guid(guid) else "is already another code's GUID"
        fixed = replacement_guid(f"{guid}/{node.name}/{element.sourceline}") if guid_key(guid) in seen else None
        fixed = fixed or replacement_guid(guid)
        model.warnings.append(origin.message(f"code {node.name!r}: {guid!r} {why}, replaced by {fixed}"))
        model.replaced_guids.setdefault(guid, fixed)
        guid = fixed
    if guid:
        seen.add(guid_key(guid))
    node.guid = guid or None
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
            node.children.append(_read_code(child, source, problems, model, seen, depth + 1))
    return node


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` without the control characters XML 1.0 cannot hold (a file written stays readable)."""
    return _NOT_XML.sub("", text)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


# -- writing ------------------------------------------------------------------------------------------
def valid_guids(model: CodebookModel) -> dict[str, str]:
    """Every code's GUID as a file may carry it: ``{code's guid: valid guid}``. A GUID that is not one
    (``code-001-aaaa``, loaded from YAML or a spreadsheet) gets a valid stand-in, the same each time,
    and a warning in ``model.warnings``; a code without one gets a new GUID (``ensure_guids``)."""
    model.ensure_guids()
    out: dict[str, str] = {}
    for node, _, _ in model.walk():
        guid = node.guid or ""
        if is_guid(guid):
            out[guid] = guid
        elif guid not in out:
            out[guid] = replacement_guid(guid)
            warning = f"code {node.name!r}: {guid!r} is not a GUID, written as {out[guid]}"
            if warning not in model.warnings:
                model.warnings.append(warning)
    return out


def write_qdc(model: CodebookModel) -> bytes:
    """A ``.qdc`` document valid against the REFI-QDA Codebook schema (with the model's Sets)."""
    guids = valid_guids(model)
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS})
    root.set("origin", f"qualcode {__version__}")
    codes = etree.SubElement(root, f"{{{CODEBOOK_NS}}}Codes")
    for node in model.codes:
        write_code(codes, node, CODEBOOK_NS, guids)
    if model.sets:
        sets = etree.SubElement(root, f"{{{CODEBOOK_NS}}}Sets")
        for code_set in model.sets:
            element = etree.SubElement(sets, f"{{{CODEBOOK_NS}}}Set")
            element.set("guid", code_set.guid if is_guid(code_set.guid) else replacement_guid(code_set.guid))
            element.set("name", xml_text(code_set.name))
            if code_set.description:
                etree.SubElement(element, f"{{{CODEBOOK_NS}}}Description").text = xml_text(code_set.description)
            for member in code_set.members:
                etree.SubElement(element, f"{{{CODEBOOK_NS}}}MemberCode").set("guid", guids.get(member, member))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write_code(
    parent: etree._Element,
    node: CodeNode,
    namespace: str,
    guids: dict[str, str],
    before_children=None,
) -> etree._Element:
    """``node`` and its subtree as ``<Code>`` elements of ``namespace`` (a codebook's or a project's).

    ``before_children(element, node)`` may add elements between the description and the child codes
    (a project's ``<NoteRef>``s)."""
    element = etree.SubElement(parent, f"{{{namespace}}}Code")
    element.set("guid", guids.get(node.guid or "", node.guid or ""))
    element.set("name", xml_text(node.name))
    element.set("isCodable", "true" if node.applicable else "false")
    if node.color:
        element.set("color", node.color.upper())
    description = describe(node)
    if description:
        etree.SubElement(element, f"{{{namespace}}}Description").text = xml_text(description)
    if before_children is not None:
        before_children(element, node)
    for child in node.children:
        write_code(element, child, namespace, guids, before_children)
    return element
