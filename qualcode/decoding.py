"""Reading bytes as text: encodings Windows and transcription services produce, and hygiene.

UTF-8 (with or without BOM), UTF-16 with a BOM or without one (detected from its
zero bytes), then cp1252. Line endings become ``\\n`` and text is NFC-normalised
before any offset is taken, so offsets never depend on how a file was saved.
"""

from __future__ import annotations

import codecs
import hashlib
import unicodedata
from pathlib import Path

from .errors import InputError, located

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when every other byte is zero (ASCII-heavy UTF-16), else None."""
    sample = data[:4000]
    if len(sample) < 4 or len(sample) % 2:
        return None
    even_zeros = sample[0::2].count(0)
    odd_zeros = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_zeros > 0.4 * half and even_zeros < 0.05 * half:
        return "utf-16-le"
    if even_zeros > 0.4 * half and odd_zeros < 0.05 * half:
        return "utf-16-be"
    return None


def decode_bytes(data: bytes, source: object) -> str:
    """Decode ``data`` (from ``source``, named in errors) and normalise it."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return normalise(_decode(data, encoding, source))
    utf16 = _utf16_without_bom(data)
    if utf16:
        return normalise(_decode(data, utf16, source))
    if b"\x00" in data:
        raise InputError(located(source, "binary file, not text"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _decode(data, "cp1252", source)
    return normalise(text)


def _decode(data: bytes, encoding: str, source: object) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(located(source, "undecodable bytes (not UTF-8, UTF-16 or cp1252)", line)) from None


def normalise(text: str) -> str:
    # Look before replacing: a one-character search is far cheaper than a replace that finds nothing.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\ufeff" in text:
        text = text.replace("\ufeff", "")
    return unicodedata.normalize("NFC", text)


def read_text(path: Path) -> str:
    """The decoded, normalised text of ``path``; raises InputError for unreadable files."""
    return decode_bytes(read_bytes(path), path)


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(located(path, "no such file")) from None
    except IsADirectoryError:
        raise InputError(located(path, "is a directory")) from None
    except OSError as exc:
        raise InputError(located(path, f"cannot read ({exc.strerror})")) from None


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
