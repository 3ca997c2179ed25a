"""One entry point for every table export: ``render(table, fmt)``.

Formats: table (terminal text), csv, json, md, latex, docx (bytes), xlsx (bytes), html.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from pathlib import Path

from ..errors import QualcodeError
from ..table import Table
from .cells import Formats, PreparedTable, prepare

# format -> (module in this package, its render function); a writer's module (python-docx,
# openpyxl) is imported only when a table is written in its format.
WRITERS: dict[str, tuple[str, str]] = {
    "table": ("terminal", "render_terminal"),
    "csv": ("machine", "render_csv"),
    "json": ("machine", "render_json"),
    "md": ("markdown", "render_markdown"),
    "latex": ("latex", "render_latex"),
    "docx": ("word", "render_docx"),
    "xlsx": ("excel", "render_xlsx"),
    "html": ("html_page", "render_html"),
}
FORMATS = tuple(WRITERS)
BINARY_FORMATS = ("docx", "xlsx")

FORMAT_BY_SUFFIX = {
    ".txt": "table",
    ".csv": "csv",
    ".json": "json",
    ".md": "md",
    ".tex": "latex",
    ".docx": "docx",
    ".xlsx": "xlsx",
    ".html": "html",
    ".htm": "html",
}


def render(table: Table, fmt: str, formats: Formats | None = None, *, width: int | None = None) -> str | bytes:
    """Render ``table`` as ``fmt``; docx and xlsx come back as bytes, the rest as text.

    ``formats`` maps a column name to a format spec (``".3f"``, ``".0%"``) or a callable
    for the human formats; key ``"*"`` sets the default for all floats. Without it the
    table's own ``formats`` attribute is used when it has one. ``width``: the terminal's
    columns, which the terminal table (``table``) fits where it can.
    """
    if fmt not in WRITERS:
        raise QualcodeError(f"unknown table format {fmt!r}: choose one of {', '.join(FORMATS)}")
    module, name = WRITERS[fmt]
    writer: Callable[[PreparedTable], str | bytes] = getattr(import_module(f"{__package__}.{module}"), name)
    if formats is None:
        formats = getattr(table, "formats", None)
    if fmt == "table" and width is not None:
        from .terminal import render_terminal

        return render_terminal(prepare(table, formats), width)
    return writer(prepare(table, formats))


def format_for_path(path: str | Path) -> str:
    """The format a file name asks for by its suffix (``tables/cqr.docx`` gives ``docx``)."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMAT_BY_SUFFIX:
        known = ", ".join(FORMAT_BY_SUFFIX)
        raise QualcodeError(f"{path}: cannot tell the table format from {suffix or 'no suffix'!r} (use {known})")
    return FORMAT_BY_SUFFIX[suffix]


def output_path(path: str | Path) -> Path:
    """``path`` as a file to write, checked first: a folder that does not exist is one line naming it."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist (create it first)"
        raise QualcodeError(f"{path}: cannot write there: the folder {folder} {problem}")
    return path


def write(table: Table, path: str | Path, fmt: str | None = None, formats: Formats | None = None) -> Path:
    """Render ``table`` to ``path`` (format from ``fmt`` or the suffix); nothing is written on error."""
    path = output_path(path)
    data = render(table, fmt or format_for_path(path), formats)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path
