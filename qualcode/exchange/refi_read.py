"""Reading a whole REFI-QDA project (``.qdpx``) into plain dataclasses, checked, before any write.

Everything qualcode has a place for is read: text sources (from ``plainTextPath`` or inline
``<PlainTextContent>``), the codebook with its Sets, users, the codings of each
``PlainTextSelection``, notes, cases and their variables. What has no place here (PDF, picture,
audio and video sources, links, graphs, variables of sources) is counted in ``left_out`` so the
import can name it. A project that cannot be read faithfully raises ``InputError`` with one line:
not a zip, a member path leaving the archive, a DTD or entity declaration, a missing source text,
a selection outside its source's text, a coding of an unknown code.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path, PurePosixPath

from lxml import etree

from ..codebook.model import CodebookModel, guid_key, normalise_guid, replacement_guid
from ..codebook.refi import read_codebook_element, read_sets
from ..decoding import read_bytes
from ..errors import InputError, located
from ..ingest.qdpx import local_name, normalise_with_offsets, open_project, source_text

# A REFI project has one codebook: our export wraps the project's other codebooks in grouping codes
# whose description starts so, and carries the coders' done marks in a note of this name.
CODEBOOK_MARKER = "qualcode codebook"
PROGRESS_NOTE = "qualcode project data"
NS = "{urn:QDA-XML:project:1.0}"
# Tags as lxml spells them, with the project namespace and without (some tools write none).
_SELECTION = frozenset((NS + "PlainTextSelection", "PlainTextSelection"))
_CODING = frozenset((NS + "Coding", "Coding"))
_CODE_REF = frozenset((NS + "CodeRef", "CodeRef"))
_NOTE_REF = frozenset((NS + "NoteRef", "NoteRef"))
_DESCRIPTION = frozenset((NS + "Description", "Description"))
NON_TEXT_SOURCES = {
    "PDFSource": "PDF",
    "PictureSource": "picture",
    "AudioSource": "audio",
    "VideoSource": "video",
}


@dataclass
class RefiUser:
    guid: str
    name: str


@dataclass
class RefiCoding:
    guid: str
    user: str | None  # user GUID key (lower case, no braces), None when the file names no one
    code: str  # the code's GUID as the codebook spells it (after replacement of invalid ones)
    notes: list[str] = field(default_factory=list)  # note GUID keys


@dataclass
class RefiSelection:
    guid: str
    name: str
    start: int  # offsets into the stored (normalised) text
    end: int
    user: str | None
    codings: list[RefiCoding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    line: int | None = None  # source line of the element, for messages


@dataclass
class RefiSource:
    guid: str
    name: str
    text: str  # normalised as every import normalises
    origin: str  # member path or "inline"
    selections: list[RefiSelection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    codings: int = 0  # REFI codings in this source's selections


@dataclass
class RefiNote:
    guid: str
    name: str
    text: str
    user: str | None


@dataclass
class RefiValue:
    variable: str  # the variable's name
    type: str  # REFI typeOfVariable: Text, Boolean, Integer, Float, Date, DateTime
    value: str


@dataclass
class RefiCase:
    guid: str
    name: str
    description: str = ""
    values: list[RefiValue] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # source GUID keys


@dataclass
class RefiProject:
    path: str
    name: str
    origin: str
    users: list[RefiUser]
    codebook: CodebookModel
    sources: list[RefiSource]
    notes: dict[str, RefiNote]  # by GUID key
    cases: list[RefiCase]
    project_notes: list[str]  # note GUID keys the project itself refers to
    code_notes: dict[str, list[str]]  # code GUID (as spelled) -> note GUID keys
    left_out: Counter[str] = field(default_factory=Counter)  # "PDF sources skipped: no text" -> count
    warnings: list[str] = field(default_factory=list)

    @property
    def codings(self) -> int:
        return sum(s.codings for s in self.sources)


def _int(value: str | None, what: str, where: str, line: int | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise InputError(located(where, f"{what} {value!r} is not a whole number", line)) from None


def _text_of(element: etree._Element, name: str) -> str:
    """The text of a leading child (Description, PlainTextContent: first in every REFI element)."""
    child = next((c for c in islice(element, 3) if local_name(c) == name), None)
    return (child.text or "") if child is not None else ""


def _note_refs(element: etree._Element) -> list[str]:
    return [guid_key(c.get("targetGUID") or "") for c in element if c.tag in _NOTE_REF]


def read_refi_project(path: str | Path) -> RefiProject:
    """Read and check ``path``; raises ``InputError`` (one line) where it cannot be read faithfully."""
    path = Path(path)
    data = read_bytes(path)
    archive, root = open_project(data, path)
    try:
        return _read(path, archive, root)
    finally:
        archive.close()


def _read(path: Path, archive, root: etree._Element) -> RefiProject:
    where = f"{path}:project.qde"
    if local_name(root) != "Project":
        raise InputError(located(where, f"root element is <{local_name(root)}>, not a REFI-QDA <Project>"))
    sections = {local_name(e): e for e in root}
    left_out: Counter[str] = Counter()

    users: list[RefiUser] = []
    seen_users: set[str] = set()
    for element in sections.get("Users", []):
        if local_name(element) != "User":
            continue
        guid = normalise_guid(element.get("guid") or "")
        if not guid or guid_key(guid) in seen_users:
            raise InputError(located(where, f"a user without a GUID of its own ({guid!r})", element.sourceline))
        seen_users.add(guid_key(guid))
        users.append(RefiUser(guid, (element.get("name") or element.get("id") or "").strip()))

    book = sections.get("CodeBook")
    if book is not None:
        codebook, problems = read_codebook_element(book, where, root.get("name") or path.stem)
        if problems:
            raise InputError(problems[0])
    else:
        codebook = CodebookModel(name=root.get("name") or path.stem, source=where)
    code_notes: dict[str, list[str]] = {}
    if book is not None:
        for element in book.iter():
            if local_name(element) == "Code" and _note_refs(element):
                guid = normalise_guid(element.get("guid") or "")
                code_notes[codebook.replaced_guids.get(guid, guid)] = _note_refs(element)
    if "Sets" in sections:
        read_sets(sections["Sets"], codebook, where)
        for element in sections["Sets"]:
            if any(local_name(c) in ("MemberSource", "MemberNote") for c in element):
                left_out["members of sets that are sources or notes skipped: qualcode's sets hold codes"] += 1
    codes = {guid_key(n.guid): n.guid for n, _, _ in codebook.walk() if n.guid}
    for old, new in codebook.replaced_guids.items():
        codes.setdefault(guid_key(old), new)

    notes: dict[str, RefiNote] = {}
    for element in sections.get("Notes", []):
        if local_name(element) != "Note":
            continue
        raw, _member, _why = source_text(archive, element, path)
        text = normalise_with_offsets(raw)[0] if raw is not None else _text_of(element, "Description")
        creator = element.get("creatingUser")
        notes[guid_key(element.get("guid") or "")] = RefiNote(
            element.get("guid") or "", element.get("name") or "", text, guid_key(creator) if creator else None
        )

    sources: list[RefiSource] = []
    for element in sections.get("Sources", []):
        kind = local_name(element)
        if kind in NON_TEXT_SOURCES:
            left_out[f"{NON_TEXT_SOURCES[kind]} sources skipped: no text"] += 1
            continue
        if kind != "TextSource":
            continue
        sources.append(_read_source(element, archive, path, where, codes, left_out))

    variables: dict[str, tuple[str, str]] = {}
    for element in sections.get("Variables", []):
        if local_name(element) == "Variable":
            variables[guid_key(element.get("guid") or "")] = (
                element.get("name") or "",
                element.get("typeOfVariable") or "Text",
            )
    cases: list[RefiCase] = []
    for element in sections.get("Cases", []):
        if local_name(element) != "Case":
            continue
        guid = normalise_guid(element.get("guid") or "")
        case = RefiCase(guid, (element.get("name") or guid).strip(), _text_of(element, "Description").strip())
        for child in element:
            kind = local_name(child)
            if kind == "VariableValue":
                value = _variable_value(child, variables, where)
                if value is not None:
                    case.values.append(value)
            elif kind == "SourceRef":
                case.sources.append(guid_key(child.get("targetGUID") or ""))
            elif kind == "CodeRef":
                left_out["codes of cases skipped: qualcode's cases hold transcripts and attributes"] += 1
            elif kind == "SelectionRef":
                left_out["selections of cases skipped: qualcode's cases hold whole transcripts"] += 1
        cases.append(case)

    if "Description" in sections and (sections["Description"].text or "").strip():
        left_out["project description skipped: qualcode keeps no description of a project"] += 1
    for name in ("Links", "Graphs"):
        count = sum(1 for e in sections.get(name, []) if isinstance(e.tag, str))
        if count:
            left_out[f"{name.lower()} skipped: qualcode has no place for them"] += count
    project_notes = _note_refs(root)
    return RefiProject(
        path=str(path),
        name=(root.get("name") or path.stem).strip() or path.stem,
        origin=root.get("origin") or "",
        users=users,
        codebook=codebook,
        sources=sources,
        notes=notes,
        cases=cases,
        project_notes=project_notes,
        code_notes=code_notes,
        left_out=left_out,
        warnings=list(codebook.warnings),
    )


def _variable_value(element: etree._Element, variables: dict[str, tuple[str, str]], where: str) -> RefiValue | None:
    ref = next((c for c in element if local_name(c) == "VariableRef"), None)
    target = guid_key(ref.get("targetGUID") or "") if ref is not None else ""
    if target not in variables:
        raise InputError(located(where, f"a case's value refers to an unknown variable {target!r}", element.sourceline))
    name, kind = variables[target]
    value = next((c for c in element if local_name(c).endswith("Value") and local_name(c) != "VariableValue"), None)
    if value is None:
        return None
    return RefiValue(name, kind, (value.text or "").strip())


def _read_source(
    element: etree._Element, archive, path: Path, where: str, codes: dict[str, str], left_out: Counter[str]
) -> RefiSource:
    guid = normalise_guid(element.get("guid") or "")
    plain_path = element.get("plainTextPath") or ""
    name = (element.get("name") or PurePosixPath(plain_path.replace("internal://", "")).stem or guid).strip()
    raw, origin, why = source_text(archive, element, path)
    if raw is None:
        raise InputError(located(where, f"source {name!r}: {why}", element.sourceline))
    text, offsets = normalise_with_offsets(raw)
    source = RefiSource(guid or replacement_guid(name), name, text, origin, notes=_note_refs(element))
    if _text_of(element, "Description").strip():
        left_out["source descriptions skipped: a transcript has no description"] += 1
    users: dict[str, str] = {}  # creatingUser as written -> its key (a few users, many codings)

    def user_key(value: str | None) -> str | None:
        if not value:
            return None
        if value not in users:
            users[value] = guid_key(value)
        return users[value]

    length = len(raw)
    for child in element:
        tag = child.tag
        if tag not in _SELECTION:
            kind = local_name(child)
            if kind == "Coding":
                left_out["codings of whole sources skipped: qualcode codes segments, not whole documents"] += 1
            elif kind == "VariableValue":
                left_out["variable values of sources skipped: qualcode keeps attributes on cases"] += 1
            continue
        start = _int(child.get("startPosition"), "startPosition", where, child.sourceline)
        end = _int(child.get("endPosition"), "endPosition", where, child.sourceline)
        if not (0 <= start <= end <= length):
            raise InputError(
                located(
                    where,
                    f"selection {start}-{end} in {name!r} lies outside its source's text (0-{length})",
                    child.sourceline,
                )
            )
        if offsets is not None:
            start, end = offsets[start], offsets[end]
        selection_user = user_key(child.get("creatingUser"))
        selection = RefiSelection(
            guid=child.get("guid") or "",
            name=child.get("name") or "",
            start=start,
            end=end,
            user=selection_user,
            line=child.sourceline,
        )
        for part in child:  # one pass over the selection's children, tags compared as written
            tag = part.tag
            if tag in _CODING:
                target = ""
                notes: list[str] = []
                for ref in part:
                    if ref.tag in _CODE_REF:
                        target = ref.get("targetGUID") or ""
                    elif ref.tag in _NOTE_REF:
                        notes.append(guid_key(ref.get("targetGUID") or ""))
                code = codes.get(target) or codes.get(guid_key(target))
                if code is None:
                    raise InputError(
                        located(where, f"a coding in {name!r} refers to an unknown code {target!r}", part.sourceline)
                    )
                user = part.get("creatingUser")
                selection.codings.append(
                    RefiCoding(part.get("guid") or "", user_key(user) if user else selection_user, code, notes)
                )
            elif tag in _NOTE_REF:
                selection.notes.append(guid_key(part.get("targetGUID") or ""))
            elif tag in _DESCRIPTION and (part.text or "").strip():
                left_out["selection descriptions skipped: a coding has no description"] += 1
        source.codings += len(selection.codings)
        source.selections.append(selection)
    return source
