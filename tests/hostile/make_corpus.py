"""Write the hostile input files of issue 12 into a folder (run at test time: no binary blobs are checked in).

Each file is a way an input once ended in a traceback, a hang or silent damage. ``python -m
tests.hostile.make_corpus FOLDER`` writes them for a look by hand; the tests call ``make_corpus``.
"""

from __future__ import annotations

import io
import struct
import sys
import zipfile
from pathlib import Path

PROJECT_QDE = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<Project xmlns="urn:QDA-XML:project:1.0" name="p">\n'
    "  <Sources>\n"
    '    <TextSource guid="a" name="Interview A" plainTextPath="internal://a.txt"/>\n'
    "  </Sources>\n"
    "</Project>\n"
)
INTERVIEW = "Interviewer: Why did you join?\nP1: For the people, mostly.\n"


def qdpx_bytes(source_text: str = INTERVIEW, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("project.qde", PROJECT_QDE)
        archive.writestr("sources/a.txt", source_text)
    return buffer.getvalue()


def _patch_headers(data: bytes, member: str, offset_local: int, offset_central: int, value: int) -> bytes:
    """Set a 2-byte field of ``member``'s local and central headers (the flags, or the method)."""
    out = bytearray(data)
    name = member.encode()
    for signature, offset, name_at in ((b"PK\x03\x04", offset_local, 30), (b"PK\x01\x02", offset_central, 46)):
        start = 0
        while (start := out.find(signature, start)) >= 0:
            if out[start + name_at : start + name_at + len(name)] == name:
                struct.pack_into("<H", out, start + offset, value)
            start += 4
    return bytes(out)


def qdpx_with_bad_crc() -> bytes:
    data = qdpx_bytes(method=zipfile.ZIP_STORED)
    at = data.find(b"For the people")  # stored, so the text sits in the archive as written
    return data[:at] + b"X" + data[at + 1 :]


def qdpx_with_encrypted_member() -> bytes:
    return _patch_headers(qdpx_bytes(), "sources/a.txt", 6, 8, 0x1)


def qdpx_with_unsupported_method() -> bytes:
    return _patch_headers(qdpx_bytes(), "sources/a.txt", 8, 10, 99)  # 99: AES, which zipfile cannot unpack


def qdpx_bomb(unpacked: int) -> bytes:
    """A small archive whose source unpacks to ``unpacked`` bytes of text (written in chunks)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", PROJECT_QDE)
        with archive.open("sources/a.txt", "w", force_zip64=True) as member:
            chunk = b"a" * (1024 * 1024)
            for start in range(0, unpacked, len(chunk)):
                member.write(chunk[: unpacked - start])
    return buffer.getvalue()


def qdpx_claiming_huge_size(claimed: int = 1 << 30) -> bytes:
    """A small archive whose source says it unpacks to ``claimed`` bytes: refused before any is unpacked."""
    data = bytearray(qdpx_bytes())
    name = b"sources/a.txt"
    for signature, offset, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = data.find(signature)
        while start >= 0:
            if data[start + name_at : start + name_at + len(name)] == name:
                struct.pack_into("<I", data, start + offset, claimed)
            start = data.find(signature, start + 4)
    return bytes(data)


def docx_with_malformed_xml() -> bytes:
    import docx

    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Interviewer: Why?")
    document.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                data = data[: len(data) // 2]  # cut off mid-element
            archive.writestr(info, data)
    return out.getvalue()


def docx_with_long_blank_label(blanks: int = 20_000) -> bytes:
    """A bold label with a long run of blanks inside: the label regex once backtracked on it for minutes."""
    import docx

    document = docx.Document()
    paragraph = document.add_paragraph()
    paragraph.add_run("Ana" + " " * blanks + "x").bold = True
    paragraph.add_run(" words")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def vtt_quadratic(size: int = 150_000) -> str:
    """Cues of '<' and '<v ' without a closing '>': each tried as a tag to the end of the cue."""
    return "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n" + "<v " * (size // 6) + "<" * (size // 2) + "\n"


def yaml_alias_bomb() -> str:
    lines = [
        "name: bomb",
        "kind: provisional",
        'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    ]
    for level in range(1, 9):
        items = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{items}]")
    lines += ["codes:", "  - name: A", "    codes: [*a8]"]
    return "\n".join(lines) + "\n"


def yaml_recursive_alias() -> str:
    return "name: loop\ncodes: &codes\n  - name: A\n    codes: *codes\n"


def yaml_deep(levels: int = 3000) -> str:
    return "name: deep\ncodes: " + "[" * levels + "]" * levels + "\n"


def yaml_deep_codes(levels: int = 150) -> str:
    lines = ["name: deep", "codes:"]
    for level in range(levels):
        indent = "  " * (2 * level)
        lines += [f"{indent}  - name: c{level}", f"{indent}    codes:"]
    return "\n".join(lines) + "\n"


def csv_parent_chain(levels: int = 3000) -> str:
    return "code,parent\nc0,\n" + "".join(f"c{i},c{i - 1}\n" for i in range(1, levels))


def qdc_deep(levels: int) -> str:
    opening = "".join(
        f'<Code guid="{i:08d}-0000-0000-0000-000000000000" name="c{i}" isCodable="true">' for i in range(levels)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
        + opening
        + "</Code>" * levels
        + "</Codes></CodeBook>\n"
    )


def mixed_utf8() -> bytes:
    return "Ana: café\n".encode() + "Bo: été\n".encode("cp1252")


CELL = 200_000  # over the csv module's default limit of 128 KB


def make_corpus(folder: Path, bomb_size: int = 2 * 1024 * 1024) -> dict[str, Path]:
    """Write every hostile file into ``folder``; returns them by name.

    ``bomb.qdpx`` unpacks to ``bomb_size`` bytes: tests lower the limit (``decoding.MAX_UNPACKED_BYTES``)
    below it rather than write hundreds of MB; ``claims_huge.qdpx`` meets the real limit by its stated size."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, str | bytes] = {
        "crc.qdpx": qdpx_with_bad_crc(),
        "encrypted.qdpx": qdpx_with_encrypted_member(),
        "method.qdpx": qdpx_with_unsupported_method(),
        "bomb.qdpx": qdpx_bomb(bomb_size),
        "claims_huge.qdpx": qdpx_claiming_huge_size(),
        "malformed.docx": docx_with_malformed_xml(),
        "blank_label.docx": docx_with_long_blank_label(),
        "big_cell.csv": "speaker,text\nAna," + "w" * CELL + "\nBo,ok\n",
        "big_cell_attributes.csv": "case,note\nLincoln," + "n" * CELL + "\n",
        "big_cell_codebook.csv": "code,definition\nA," + "d" * CELL + "\n",
        "quadratic.vtt": vtt_quadratic(),
        "bomb.yaml": yaml_alias_bomb(),
        "recursive.yaml": yaml_recursive_alias(),
        "deep.yaml": yaml_deep(),
        "deep_codes.yaml": yaml_deep_codes(),
        "deep_chain.csv": csv_parent_chain(),
        "deep.qdc": qdc_deep(2000),
        "deep_codes.qdc": qdc_deep(200),
        "mixed_utf8.txt": mixed_utf8(),
        "bad_date.csv": "case,started\nLincoln,2024-01-31\nHarbor,2024-02-30\n",
        "duplicate_column.csv": "case,level,level\nLincoln,primary,secondary\n",
        "backtracking.txt": ("a" * 40 + "!\n") * 20,
    }
    written = {}
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        written[name] = path
    return written


if __name__ == "__main__":
    for path in make_corpus(Path(sys.argv[1] if len(sys.argv) > 1 else "hostile")).values():
        print(path)
