"""Reading bytes as text: encodings Windows and transcription services produce, and hygiene.

UTF-8 (with or without BOM), UTF-16 with a BOM or without one (detected from its
zero bytes), then cp1252. A file that is UTF-8 except for a few bytes is refused with
where those bytes are, rather than read whole as cp1252 gibberish; ``encoding`` forces
one. Line endings become ``\\n`` and text is NFC-normalised before any offset is taken,
so offsets never depend on how a file was saved.

Also here, for every reader of archives and CSV files: members of zip archives read within
a size limit, and the CSV cell size limit.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
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


# A multi-byte UTF-8 sequence: a cp1252 file almost never holds one, a UTF-8 file with accents always does.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def check_encoding(encoding: str | None) -> str | None:
    """``encoding`` if Python knows it (``--encoding``); raises InputError otherwise."""
    if encoding is None:
        return None
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"--encoding: unknown encoding {encoding!r} (e.g. utf-8, cp1252, latin-1, utf-16)") from None


def decode_bytes(data: bytes, source: object, encoding: str | None = None) -> str:
    """Decode ``data`` (from ``source``, named in errors) and normalise it; ``encoding`` forces one."""
    if encoding is not None:
        return normalise(_decode(data, encoding, source))
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
    except UnicodeDecodeError as exc:
        if _UTF8_MULTIBYTE.search(data):  # UTF-8 with a few foreign bytes: say where, do not guess
            line, column = _position(data, exc.start)
            raise InputError(
                located(
                    source,
                    f"byte 0x{data[exc.start]:02x} at byte offset {exc.start} (column {column}) is not UTF-8, "
                    "though the rest of the file is: re-save it as UTF-8, or name its encoding (import --encoding)",
                    line,
                )
            ) from None
        text = _decode(data, "cp1252", source)
    return normalise(text)


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """(line, byte column), both counted from 1, of byte ``offset``."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def _decode(data: bytes, encoding: str, source: object) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line, _ = _position(data, exc.start)
        raise InputError(
            located(
                source,
                f"undecodable bytes at byte offset {exc.start} (not UTF-8, UTF-16 or cp1252)"
                if encoding in ("cp1252", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be")
                else f"undecodable bytes at byte offset {exc.start} (not {encoding})",
                line,
            )
        ) from None


def normalise(text: str) -> str:
    # Look before replacing: a one-character search is far cheaper than a replace that finds nothing.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\ufeff" in text:
        text = text.replace("\ufeff", "")
    return unicodedata.normalize("NFC", text)


def read_text(path: Path, encoding: str | None = None) -> str:
    """The decoded, normalised text of ``path``; raises InputError for unreadable files."""
    return decode_bytes(read_bytes(path), path, encoding)


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(located(path, "no such file")) from None
    except IsADirectoryError:
        raise InputError(located(path, "is a directory")) from None
    except OSError as exc:
        raise InputError(located(path, f"cannot read ({exc.strerror})")) from None


def first_line(text: str | None) -> str:
    """The first line of a library's message (lxml's and YAML's can span several), for a one-line error."""
    return (text or "").split("\n", 1)[0].strip()


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- CSV cells ----------------------------------------------------------------------------------------
# A whole interview may sit in one cell; the csv module's default limit (128 KB) is for other data.
MAX_CSV_CELL = 64 * 1024 * 1024


def csv_rows(text: str, source: object, **options: str) -> Iterator[list[str]]:
    """The rows of a CSV text, as ``csv.reader`` gives them, with cells up to ``MAX_CSV_CELL``;
    a malformed or larger cell raises InputError naming the line."""
    if csv.field_size_limit() != MAX_CSV_CELL:
        csv.field_size_limit(MAX_CSV_CELL)
    reader = csv.reader(io.StringIO(text), **options)  # type: ignore[arg-type]
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            reason = str(exc)
            if "field larger than field limit" in reason:
                reason = f"a cell longer than {MAX_CSV_CELL // (1024 * 1024)} MB"
            raise InputError(located(source, f"cannot read this CSV row: {reason}", reader.line_num)) from None
        yield row


# -- zip archives -------------------------------------------------------------------------------------
# Refused before they are unpacked (by their stated size) or while (by what they really unpack to).
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
_CHUNK = 1024 * 1024
_READABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


class Archive:
    """A zip archive (``.qdpx``, ``.docx``) whose members are read within ``MAX_UNPACKED_BYTES`` in all.

    Damaged, encrypted and oddly compressed members raise InputError naming the file and member.
    """

    def __init__(self, file: bytes | Path, source: object, what: str = "zip archive"):
        self.source = source
        self.left = MAX_UNPACKED_BYTES
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(file) if isinstance(file, bytes) else file)
        except zipfile.BadZipFile:
            raise InputError(located(source, f"not a {what} (not a zip file)")) from None
        except (OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise InputError(located(source, f"not a readable {what} ({exc})")) from None

    def names(self) -> list[str]:
        return self.zip.namelist()

    def check(self) -> None:
        """Refuse, before anything is unpacked, an archive another library (python-docx) will read:
        zipfile stops every member at its stated size, so the stated sizes bound what it unpacks."""
        total = 0
        for info in self.zip.infolist():
            self._check_member(info)
            total += info.file_size
            if total > MAX_UNPACKED_BYTES:
                raise InputError(located(self.source, f"unpacks to {self._limit()}"))

    def _limit(self) -> str:
        return f"more than the {MAX_UNPACKED_BYTES // (1024 * 1024)} MB qualcode unpacks from one archive"

    def _check_member(self, info: zipfile.ZipInfo) -> None:
        where = f"{self.source}:{info.filename}"
        if info.flag_bits & 0x1:
            raise InputError(located(where, "encrypted member: save the archive without a password"))
        if info.compress_type not in _READABLE_METHODS:
            raise InputError(located(where, f"unsupported compression method {info.compress_type}"))

    def read(self, name: str) -> bytes:
        """The bytes of member ``name``; KeyError when the archive has no such member."""
        import lzma
        import zlib

        info = self.zip.getinfo(name)
        where = f"{self.source}:{name}"
        self._check_member(info)
        limit = self._limit()
        if info.file_size > self.left:
            raise InputError(located(where, f"unpacks to {info.file_size} bytes, {limit}"))
        chunks: list[bytes] = []
        total = 0
        try:
            with self.zip.open(info) as member:
                while chunk := member.read(_CHUNK):
                    total += len(chunk)
                    if total > self.left:
                        raise InputError(located(where, f"unpacks to {limit}"))
                    chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError, RuntimeError) as exc:
            raise InputError(located(where, f"damaged archive member ({exc})")) from None
        except NotImplementedError as exc:
            raise InputError(located(where, f"cannot unpack this member ({exc})")) from None
        self.left -= total
        return b"".join(chunks)

    def close(self) -> None:
        self.zip.close()
