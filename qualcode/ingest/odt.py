"""OpenDocument text (``.odt``, from LibreOffice, Google Docs or Word's "Save as ODT").

Read with odfpy: every paragraph and heading of the body in document order (inside lists,
tables and sections too), joined by blank lines and then read as plain text, so speaker labels
are found as in a ``.txt`` file (``Name:``, Otter headers, ``[id1]``, Zoom headers). Bold is not
looked at: a name that is bold but has no colon is not a label (save such a file as ``.docx``).
Images, footnotes' positions, comments and tracked changes are not transcript text and are left
out; the text of a footnote stays where its mark is.
"""

from __future__ import annotations

import io
import lzma
import zipfile
import zlib
from xml.parsers.expat import ExpatError
from xml.sax import SAXException

from ..decoding import Archive, first_line
from ..errors import InputError, located
from .model import ParsedTranscript
from .speakers import SpeakerPattern
from .txt import parse_text

_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
# Elements whose text is not the document's running text.
_SKIPPED = {(_OFFICE_NS, "annotation"), (_TEXT_NS, "tracked-changes"), (_TEXT_NS, "note-citation")}


def odt_paragraphs(data: bytes, source: object) -> list[str]:
    """The text of every paragraph and heading of an ``.odt`` body, in order (blank ones too)."""
    from odf import teletype  # type: ignore[import-untyped]
    from odf.opendocument import load  # type: ignore[import-untyped]

    archive = Archive(data, source, ".odt document")
    archive.check()  # encrypted, oddly packed or oversized: refused before odfpy unpacks anything
    if "content.xml" not in archive.names():
        raise InputError(located(source, "not an OpenDocument text (no content.xml in the archive)"))
    try:
        document = load(io.BytesIO(data))
    except (
        SAXException,
        ExpatError,
        zipfile.BadZipFile,
        zlib.error,
        lzma.LZMAError,
        EOFError,
        OSError,
        KeyError,
        ValueError,
        AttributeError,
        IndexError,
        TypeError,
        NotImplementedError,
        RuntimeError,
    ) as exc:  # a damaged member fails inside odfpy in any of these ways
        raise InputError(located(source, f"not a readable .odt ({first_line(str(exc))})")) from None
    if not str(document.mimetype).startswith("application/vnd.oasis.opendocument.text"):
        raise InputError(located(source, f"not an OpenDocument text (it is {document.mimetype or 'unknown'})"))
    if getattr(document, "text", None) is None:  # odfpy finds content.xml through the manifest
        raise InputError(located(source, "not a readable .odt (no text body: its manifest does not list content.xml)"))
    paragraphs: list[str] = []
    # Depth first in document order, with a stack of its own (sections and lists nest without limit).
    stack = list(reversed(document.text.childNodes))
    while stack:
        node = stack.pop()
        qname = getattr(node, "qname", None)
        if qname in _SKIPPED:
            continue
        if qname in ((_TEXT_NS, "p"), (_TEXT_NS, "h")):
            try:
                paragraphs.append(teletype.extractText(node))
            except RecursionError:  # spans nested thousands deep inside one paragraph
                raise InputError(located(source, "not a readable .odt (text nested too deep)")) from None
        else:
            stack.extend(reversed(getattr(node, "childNodes", None) or []))
    return paragraphs


def parse_odt(data: bytes, source: object, speaker_pattern: SpeakerPattern | None = None) -> ParsedTranscript:
    paragraphs = [p.strip() for p in odt_paragraphs(data, source)]
    text = "\n\n".join(p for p in paragraphs if p)
    if not text:
        raise InputError(located(source, "no text in this document"))
    return parse_text(text, speaker_pattern, "odt", source)
