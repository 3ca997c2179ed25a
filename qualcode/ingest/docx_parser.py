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

# A label and an optional time at its end: ``Speaker 1 00:03``, ``Ana (00:01:02):``. Read from the end
# by ``split_label_time``; the equivalent regular expression
# ``^(?P<label>.*?)[\s(\[]*(?P<time>TIMESTAMP)?[)\]]?\s*:?\s*$`` backtracks for minutes on long blank runs.
_TIME_RE = re.compile(TIMESTAMP)
_LONGEST_TIME = 8  # "12:34:56" before any fraction


def split_label_time(text: str) -> tuple[str, str | None] | None:
    """(label, time or None) of a bold prefix, in linear time; None for a label across lines."""
    end = len(text)
    while end and text[end - 1].isspace():
        end -= 1
    if end and text[end - 1] == ":":
        end -= 1
    while end and text[end - 1].isspace():
        end -= 1
    if end and text[end - 1] in ")]":
        end -= 1
    fraction = end
    while fraction and text[fraction - 1].isdecimal():
        fraction -= 1
    if not (fraction and text[fraction - 1] in ".," and fraction < end):
        fraction = end  # no fraction: the time, if any, ends at ``end``
    else:
        fraction -= 1
    time_start = next(
        (q for q in range(max(0, fraction - _LONGEST_TIME), end) if _TIME_RE.fullmatch(text, q, end)),
        None,
    )
    label_end = time_start if time_start is not None else end
    while label_end and (text[label_end - 1].isspace() or text[label_end - 1] in "(["):
        label_end -= 1
    label = text[:label_end]
    if "\n" in label:
        return None
    return label, (text[time_start:end] if time_start is not None else None)


def _is_bold(run, style_bold: dict[str | None, bool]) -> bool:
    """Bold by the run's own formatting, else by its character style. python-docx looks a style up
    by scanning every style in the document (the default one too) on each ``run.style``: 7 ms a run,
    seconds for a long transcript. So each style id is asked once per document (``style_bold``)."""
    if run.bold is not None:
        return bool(run.bold)
    style_id = run._r.style  # the run's rStyle id, None for the default character style
    if style_id not in style_bold:
        style = run.style
        style_bold[style_id] = bool(style is not None and style.font.bold)
    return style_bold[style_id]


def _split_paragraph(paragraph, style_bold: dict[str | None, bool]) -> tuple[str, str]:
    """(bold prefix, rest) of a paragraph's text."""
    runs = list(paragraph.runs)
    label_end = 0
    for i, run in enumerate(runs):
        if not run.text.strip():
            continue  # whitespace runs may sit between the bold pieces of a name
        if not _is_bold(run, style_bold):
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
        style_bold: dict[str | None, bool] = {}
        split = [_split_paragraph(p, style_bold) for p in paragraphs]
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
            found = split_label_time(prefix.strip())
            speaker = (found[0] if found else prefix).strip().rstrip(":").strip() or prefix.strip()
            time = parse_seconds(found[1]) if found else None
            words = []
        rest = rest.strip().lstrip(":").strip()
        if rest:
            words.append(rest)
    builder.add_turn(speaker, "\n\n".join(words), time)
    if not builder.turns:
        raise InputError(located(source, "no text in this document"))
    return builder.result("docx")
