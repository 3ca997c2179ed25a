"""The plain-text sources inside a REFI-QDA project (.qdpx: ``project.qde`` + ``sources/``).

This module opens a project safely (no member path leaving the archive, no DTD or entity
declarations, size limits from ``decoding.Archive``) and reads each ``TextSource``'s text, from its
``plainTextPath`` member or its inline ``<PlainTextContent>``. A selection's offsets count code
points of the text as written; ``normalise_with_offsets`` normalises the text as every import does
(line ends, BOM, NFC) and says where each written offset lands in it.

``read_qdpx`` gives the sources only (``import_paths`` on a ``.qdpx``); the whole project, with its
codebook, users, codings, notes and cases, is ``qualcode.exchange.refi_read``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from itertools import islice
from pathlib import PurePosixPath

from lxml import etree

from ..decoding import Archive, first_line
from ..errors import InputError, located

NAMESPACE = "urn:QDA-XML:project:1.0"
NS = "{" + NAMESPACE + "}"
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


@dataclass
class QdpxSource:
    title: str
    member: str  # path inside the archive ("" for inline text)
    text: str  # decoded, normalised


def local_name(element: etree._Element) -> str:
    """The element's name without its namespace ("" for comments and processing instructions)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag[tag.index("}") + 1 :] if tag.startswith("{") else tag


def unsafe_member(name: str) -> bool:
    """A member path that would land outside a folder it is unpacked into (zip-slip)."""
    if not name or "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return True
    return ".." in PurePosixPath(name).parts


def open_project(data: bytes, source: object) -> tuple[Archive, etree._Element]:
    """The archive and the parsed ``project.qde`` root; InputError (one line) for anything unsafe."""
    archive = Archive(data, source, ".qdpx archive (REFI-QDA project)")
    for name in archive.names():
        if unsafe_member(name):
            raise InputError(located(source, f"member {name!r} points outside the archive (refused, nothing imported)"))
    qde = next((n for n in archive.names() if n == "project.qde"), None)
    qde = qde or next((n for n in archive.names() if n.lower().endswith(".qde") and "/" not in n), None)
    if qde is None:
        raise InputError(located(source, ".qdpx without project.qde"))
    return archive, parse_xml(archive.read(qde), f"{source}:{qde}")


def parse_xml(data: bytes, where: str) -> etree._Element:
    """Parse REFI XML refusing DTDs and entity declarations (never resolved, never fetched)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(located(where, f"malformed XML ({first_line(exc.msg)})", exc.lineno)) from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise InputError(located(where, "has a DOCTYPE (DTDs and entity declarations are refused)"))
    return root


def member_for(plain_path: str) -> str | None:
    """The archive member a ``plainTextPath`` names; None for a path outside the archive."""
    if plain_path.startswith("internal://"):
        plain_path = plain_path[len("internal://") :]
    elif "://" in plain_path or plain_path.startswith("/"):
        return None  # absolute or external paths point outside the archive
    member = "sources/" + plain_path
    return None if unsafe_member(member) else member


def decode_source(data: bytes, where: str) -> str:
    """A source's plain text as written (REFI-QDA: UTF-8; a BOM, or UTF-16 with one, is accepted)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            data, chosen = data[len(bom) :], encoding
            break
    else:
        chosen = "utf-8"
    try:
        return data.decode(chosen)
    except UnicodeDecodeError as exc:
        raise InputError(
            located(where, f"plain text is not {chosen.upper()} (byte offset {exc.start}); REFI-QDA text is UTF-8")
        ) from None


def normalise_with_offsets(raw: str) -> tuple[str, list[int] | None]:
    """``raw`` normalised as every import normalises text (CR LF and CR to LF, no BOM, NFC), and for
    each code point offset of ``raw`` (0..len) its offset in the result; ``None`` when nothing changed."""
    if "\r" not in raw and "\ufeff" not in raw and unicodedata.is_normalized("NFC", raw):
        return raw, None
    out: list[str] = []
    where = [0] * (len(raw) + 1)
    k = i = 0
    n = len(raw)
    while i < n:
        ch = raw[i]
        if ch == "\r":
            where[i] = k
            out.append("\n")
            k += 1
            if i + 1 < n and raw[i + 1] == "\n":
                where[i + 1] = k
                i += 1
            i += 1
            continue
        if ch == "\ufeff":
            where[i] = k
            i += 1
            continue
        j = i + 1
        while j < n and unicodedata.combining(raw[j]):
            j += 1
        piece = raw[i:j]
        composed = unicodedata.normalize("NFC", piece)
        for t in range(i, j):  # inside a cluster that composes, an offset lands on its start
            where[t] = k + (t - i) if composed == piece else k
        out.append(composed)
        k += len(composed)
        i = j
    where[n] = k
    return "".join(out), where


def source_text(archive: Archive, element: etree._Element, source: object) -> tuple[str | None, str, str]:
    """A ``TextSource``'s text as written, where it came from (member or ``inline``), and why not when
    it has none (the text is then None)."""
    # Description and PlainTextContent come first in every REFI element that has them: the rest of a
    # source (its selections, thousands of them) is not walked to find them.
    inline = next((c for c in islice(element, 3) if local_name(c) == "PlainTextContent"), None)
    plain_path = element.get("plainTextPath") or ""
    if plain_path:
        member = member_for(plain_path)
        if member is None:
            if "://" in plain_path and not plain_path.startswith("internal://"):
                return None, plain_path, f"plain text {plain_path!r} is outside the archive"
            raise InputError(
                located(f"{source}:project.qde", f"plainTextPath {plain_path!r} points outside the archive")
            )
        if member in set(archive.names()):
            return decode_source(archive.read(member), f"{source}:{member}"), member, ""
        if inline is None:
            return None, member, f"plain text {member!r} is missing from the archive"
    if inline is not None:
        return inline.text or "", "inline", ""
    return None, "", "no plain text (no plainTextPath, no PlainTextContent)"


def read_qdpx(data: bytes, source: object, encoding: str | None = None) -> tuple[list[QdpxSource], list[str]]:
    """The text sources with their text, and notes about sources that were left out.

    Damaged, encrypted or oversized members raise InputError (``decoding.Archive``); ``encoding`` is
    not used (REFI-QDA text is UTF-8) and stays for the callers' signature."""
    archive, root = open_project(data, source)
    sources: list[QdpxSource] = []
    notes: list[str] = []
    for element in root.iter(f"{NS}TextSource"):
        if local_name(element.getparent()) != "Sources":
            continue
        plain_path = element.get("plainTextPath") or ""
        title = element.get("name") or PurePosixPath(plain_path).stem or element.get("guid", "source")
        raw, member, why = source_text(archive, element, source)
        if raw is None:
            notes.append(f"{title}: {why}, left out")
            continue
        text, _ = normalise_with_offsets(raw)
        if not text.strip():
            notes.append(f"{title}: empty source {member}, left out")
            continue
        sources.append(QdpxSource(title, member, text))
    return sources, notes
