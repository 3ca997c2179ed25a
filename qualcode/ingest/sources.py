"""From a file on disk to parsed transcripts: pick the parser for its format."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..decoding import decode_bytes, read_bytes
from ..errors import InputError, located
from .csv_turns import parse_csv
from .docx_parser import parse_docx
from .markdown import parse_markdown
from .model import ParsedTranscript
from .qdpx import read_qdpx
from .speakers import SpeakerPattern
from .subtitles import parse_srt, parse_vtt
from .txt import drop_otter_footer, parse_text

FORMAT_BY_SUFFIX = {
    ".txt": "txt",
    ".text": "txt",
    ".vtt": "vtt",
    ".srt": "srt",
    ".docx": "docx",
    ".csv": "csv",
    ".qdpx": "qdpx",
    ".md": "md",
    ".markdown": "md",
    ".odt": "odt",
}
FORMATS = ("txt", "vtt", "srt", "docx", "csv", "qdpx", "md", "odt")


@dataclass
class Source:
    """One transcript read from a file (a .qdpx holds several)."""

    title: str
    name: str  # shown in messages and stored as the source file name
    parsed: ParsedTranscript


def detect_format(path: Path, requested: str = "auto") -> str:
    if requested != "auto":
        return requested
    fmt = FORMAT_BY_SUFFIX.get(path.suffix.casefold())
    if fmt is None:
        raise InputError(
            located(
                path,
                f"unsupported file type {path.suffix or '(none)'} "
                f"(use --format, or one of {', '.join(sorted(FORMAT_BY_SUFFIX))})",
            )
        )
    return fmt


def _decoded(data: bytes, path: Path, encoding: str | None = None) -> str:
    text = decode_bytes(data, path, encoding)
    if not text.strip():
        raise InputError(located(path, "empty file"))
    return text


def read_sources(
    path: Path, fmt: str, speaker_pattern: SpeakerPattern | None = None, encoding: str | None = None
) -> tuple[list[Source], list[str]]:
    """The transcripts in ``path`` and notes about anything left out."""
    data = read_bytes(path)
    if not data.strip():
        raise InputError(located(path, "empty file"))
    if fmt == "qdpx":
        found, notes = read_qdpx(data, path, encoding)
        if not found:
            raise InputError(
                located(
                    path,
                    "no plain-text sources with text in this project" + (f" ({'; '.join(notes)})" if notes else ""),
                )
            )
        return [
            Source(
                s.title, f"{path.name}:{s.member}", parse_text(s.text, speaker_pattern, "qdpx", f"{path}:{s.member}")
            )
            for s in found
        ], notes
    if fmt == "docx":
        parsed = parse_docx(data, path, speaker_pattern)
        # Otter's .docx ends with its footer paragraph too (the plain-text reading already drops it)
        parsed.turns = drop_otter_footer(parsed.text, parsed.turns, parsed.notes)
    elif fmt == "odt":
        from .odt import parse_odt  # odfpy is imported only for .odt files

        parsed = parse_odt(data, path, speaker_pattern)
    elif fmt == "md":
        parsed = parse_markdown(_decoded(data, path, encoding), speaker_pattern, path)
    elif fmt == "vtt":
        parsed = parse_vtt(_decoded(data, path, encoding), path)
    elif fmt == "srt":
        parsed = parse_srt(_decoded(data, path, encoding), path)
    elif fmt == "csv":
        parsed = parse_csv(_decoded(data, path, encoding), path)
    else:
        parsed = parse_text(_decoded(data, path, encoding), speaker_pattern, fmt, path)
    if not parsed.text.strip():
        raise InputError(located(path, "no text in this file"))
    return [Source(path.stem, path.name, parsed)], []
