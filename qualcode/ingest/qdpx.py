"""The plain-text sources inside a REFI-QDA project (.qdpx: ``project.qde`` + ``sources/``).

Codes and codings in the project are not imported here; each ``TextSource`` becomes a
transcript titled by its ``name`` (or its file name), read as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from ..decoding import Archive, decode_bytes, first_line
from ..errors import InputError, located

NS = "{urn:QDA-XML:project:1.0}"


@dataclass
class QdpxSource:
    title: str
    member: str  # path inside the archive
    text: str  # decoded, normalised


def _member_for(plain_path: str) -> str | None:
    if plain_path.startswith("internal://"):
        return "sources/" + plain_path[len("internal://") :]
    if "://" in plain_path or plain_path.startswith("/"):
        return None  # absolute or external paths point outside the archive
    return "sources/" + plain_path


def read_qdpx(data: bytes, source: object, encoding: str | None = None) -> tuple[list[QdpxSource], list[str]]:
    """The text sources with their text, and notes about sources that were left out.

    Damaged, encrypted or oversized members raise InputError (``decoding.Archive``)."""
    from lxml import etree

    archive = Archive(data, source, ".qdpx archive")
    try:
        project = archive.read("project.qde")
    except KeyError:
        raise InputError(located(source, ".qdpx without project.qde")) from None
    try:
        root = etree.fromstring(project, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise InputError(
            located(f"{source}:project.qde", f"malformed XML ({first_line(exc.msg)})", exc.lineno)
        ) from None
    names = set(archive.names())
    sources: list[QdpxSource] = []
    notes: list[str] = []
    for element in root.iter(f"{NS}TextSource"):
        plain_path = element.get("plainTextPath") or ""
        member = _member_for(plain_path)
        title = element.get("name") or PurePosixPath(plain_path).stem or element.get("guid", "source")
        if member is None or member not in names:
            notes.append(f"{title}: plain text {plain_path!r} is not inside the archive, left out")
            continue
        text = decode_bytes(archive.read(member), f"{source}:{member}", encoding)
        if not text.strip():
            notes.append(f"{title}: empty source {member}, left out")
            continue
        sources.append(QdpxSource(title, member, text))
    return sources, notes
