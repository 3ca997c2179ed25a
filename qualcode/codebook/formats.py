"""Every codebook format in one place: which reader or writer a file name or format asks for.

Other tools' codebooks: Taguette's and requal's CSV exports and spreadsheets named the ways guides
name their columns are read by ``spreadsheet`` (by their headers); QualCoder's plain-text code list
(``.txt``, or a ``.csv`` without a header) by ``qualcoder``; NVivo, ATLAS.ti, MAXQDA and QualCoder
``.qdc``/``.qdpx`` by ``refi``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from ..errors import InputError, located
from .model import CodebookModel
from .validate import validate

READ_FORMATS = ("yaml", "csv", "xlsx", "qdc", "qualcoder")
WRITE_FORMATS = ("yaml", "csv", "xlsx", "qdc", "md", "docx")
_READERS = {
    "yaml": ".yaml_format.read_yaml",
    "csv": ".spreadsheet.read_csv",
    "xlsx": ".spreadsheet.read_xlsx",
    "qdc": ".refi.read_refi",
    "qualcoder": ".qualcoder.read_code_list",
}
_WRITERS = {
    "yaml": ".yaml_format.write_yaml",
    "csv": ".spreadsheet.write_csv",
    "xlsx": ".spreadsheet.write_xlsx",
    "qdc": ".refi.write_qdc",
    "md": ".appendix.write_markdown",
    "docx": ".appendix.write_docx",
}
_SUFFIXES = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".qdc": "qdc",
    ".qde": "qdc",
    ".qdpx": "qdc",
    ".md": "md",
    ".markdown": "md",
    ".docx": "docx",
    ".txt": "qualcoder",  # QualCoder's plain-text code list (CATEGORY>>CODE, tab, memo)
}


def format_for(path: str | Path, given: str | None = None) -> str:
    """The format named by ``given`` or by the file's suffix."""
    if given:
        return given
    found = _SUFFIXES.get(Path(path).suffix.lower())
    if found is None:
        raise InputError(
            located(path, f"cannot tell the codebook format from the name: use --format ({', '.join(READ_FORMATS)})")
        )
    return found


def read_codebook(
    path: str | Path, fmt: str | None = None, *, name: str | None = None, kind: str | None = None
) -> CodebookModel:
    """Read and validate a codebook file; raises ``CodebookInvalid`` listing every problem."""
    path = Path(path)
    if not path.is_file():
        raise InputError(located(path, "no such file"))
    fmt = format_for(path, fmt)
    if fmt not in READ_FORMATS:
        raise InputError(located(path, f"{fmt} is an output format only; read one of {', '.join(READ_FORMATS)}"))
    reader = _function(_READERS[fmt])
    model, problems = reader(path)
    if name:
        model.name = name
    if kind:
        model.kind = kind
    return validate(model, problems)


def write_codebook(model: CodebookModel, fmt: str) -> str | bytes:
    if fmt not in _WRITERS:
        raise InputError(f"unknown codebook format {fmt!r} (use one of {', '.join(WRITE_FORMATS)})")
    return _function(_WRITERS[fmt])(model)


def _function(dotted: str):
    """Import a reader or writer only when used (python-docx and openpyxl are slow to import)."""
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module, __package__), name)
