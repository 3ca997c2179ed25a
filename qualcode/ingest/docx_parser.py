"""Word documents from transcription services: speaker names in bold at a paragraph start.

Runs are split at arbitrary points, so consecutive bold runs at the start of a paragraph
are joined into one label. A bold-only paragraph (``Speaker 1 00:03``) labels the
paragraphs that follow it. Documents without bold labels are read as plain text.
"""

from __future__ import annotations

import io
import re
import zipfile

from ..decoding import Archive, first_line
from ..errors import InputError, located
from .markers import TIMESTAMP
from .model import ParsedTranscript, TextBuilder
from .speakers import parse_seconds
from .txt import parse_text

_LABEL_TIME_RE = re.compile(rf"^(?P<label>.*?)[\s(\[]*(?P<time>{TIMESTAMP})?[)\]]?\s*:?\s*$")


def _is_bold(run) -> bool:
    if run.bold is not None:
        return bool(run.bold)
    return bool(run.style is not None and run.style.font.bold)


def _split_paragraph(paragraph) -> tuple[str, str]:
    """(bold prefix, rest) of a paragraph's text."""
    runs = list(paragraph.runs)
    label_end = 0
    for i, run in enumerate(runs):
        if not run.text.strip():
            continue  # whitespace runs may sit between the bold pieces of a name
        if not _is_bold(run):
            break
        label_end = i + 1
    prefix = "".join(r.text for r in runs[:label_end])
    rest = "".join(r.text for r in runs[label_end:])
    return prefix, rest


def parse_docx(data: bytes, source: object, speaker_pattern=None) -> ParsedTranscript:
    import lzma
    import zlib

    import docx
    from docx.exceptions import PythonDocxError
    from docx.opc.exceptions import OpcError
    from lxml import etree

    Archive(data, source, ".docx").check()  # encrypted, oddly packed or oversized: refused before unpacking
    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs = [p for p in document.paragraphs if p.text.strip()]
        split = [_split_paragraph(p) for p in paragraphs]
    except etree.XMLSyntaxError as exc:
        raise InputError(located(source, f"not a readable .docx (malformed XML: {first_line(exc.msg)})")) from None
    except (
        PythonDocxError,
        OpcError,
        zipfile.BadZipFile,
        zlib.error,
        lzma.LZMAError,
        EOFError,
        OSError,
        KeyError,
        ValueError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        raise InputError(located(source, f"not a readable .docx ({exc})")) from None
    if speaker_pattern is not None or not any(prefix.strip() for prefix, _ in split):
        return parse_text("\n\n".join(p.text.strip() for p in paragraphs), speaker_pattern, "docx", source)

    builder = TextBuilder()
    speaker: str | None = None
    time: float | None = None
    words: list[str] = []
    for prefix, rest in split:
        if prefix.strip():
            builder.add_turn(speaker, "\n\n".join(words), time)
            m = _LABEL_TIME_RE.match(prefix.strip())
            speaker = (m.group("label") if m else prefix).strip().rstrip(":").strip() or prefix.strip()
            time = parse_seconds(m.group("time")) if m else None
            words = []
        rest = rest.strip().lstrip(":").strip()
        if rest:
            words.append(rest)
    builder.add_turn(speaker, "\n\n".join(words), time)
    if not builder.turns:
        raise InputError(located(source, "no text in this document"))
    return builder.result("docx")
