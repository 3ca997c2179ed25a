"""The one table model every command and export writer shares."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# A spreadsheet reads a cell starting with one of these as a formula (CSV injection): = + - @, and tab or
# carriage return, which some programs drop before looking at the next character.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_TEXT_MARK = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# Text that needs the mark: a formula start after any quote marks already there, so that text
# which itself began with a quote mark reads back unchanged (see ``unmark_csv_cell``).
_NEEDS_MARK = re.compile(r"'*[=+\-@\t\r]")

# C0 controls but tab and newline, DEL, and the C1 controls (CSI, OSC, ... as single characters).
_TERMINAL_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_text(text: str) -> str:
    """``text`` safe to print on a terminal: every control character but newline and tab is shown
    as ``\\xNN``, so an escape sequence in a transcript or a code name (ESC [, ESC ], CSI, OSC ...)
    is printed as the characters it is made of and never moves the cursor, recolours, retitles
    or rewrites the terminal."""
    return _TERMINAL_CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def starts_formula(value: object) -> bool:
    """Would a spreadsheet take this value for a formula? Only text can: a number (``-3``, or text
    that is just a number such as ``"-3"``) is a number to every spreadsheet, never a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value.strip())


def safe_csv_cell(value: Any) -> Any:
    """``value`` as a CSV writer should write it: text a spreadsheet would run as a formula gets a
    leading ``'`` (the usual CSV-injection advice), so Excel and LibreOffice show it as text.
    Text that already starts with quote marks before a formula start gets one more, so that
    :func:`unmark_csv_cell` gives back exactly what was written. Anything else is returned as it is."""
    if not isinstance(value, str) or not _NEEDS_MARK.match(value):
        return value
    if starts_formula(value.lstrip(CSV_TEXT_MARK)):
        return CSV_TEXT_MARK + value
    return value


def unmark_csv_cell(text: str) -> str:
    """The value :func:`safe_csv_cell` was given: readers of our own CSV exports call it on each cell."""
    if text.startswith(CSV_TEXT_MARK) and starts_formula(text.lstrip(CSV_TEXT_MARK)):
        return text[len(CSV_TEXT_MARK) :]
    return text


@dataclass
class Table:
    """A manuscript-ready table: a header row, body rows, and the words around them.

    ``title`` is the APA title ("Domains and Categories ..."), ``number`` the table
    number, ``caption`` an optional italic caption, ``note`` the table note, ``label``
    the LaTeX label. ``formats`` sets per-column number formats for the human formats.
    ``missing`` is shown for a missing value in the human formats.
    ``group_rows`` optionally marks rows that start a group (e.g. a CQR
    domain row) by index, for writers that set them apart.
    """

    columns: list[str]
    rows: list[list[Any]]
    title: str = ""
    number: int | None = None
    caption: str = ""
    note: str = ""
    label: str = ""
    group_rows: set[int] = field(default_factory=set)
    # column -> format spec (".3f") or a function from value to text; "*" for all floats
    formats: dict[str, Any] = field(default_factory=dict)
    missing: str = ""  # what the human formats show for a missing value (e.g. "n/a"); csv/json keep it empty
    landscape: bool = False  # LaTeX: set the table on a landscape page (wide tables go there anyway)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows, columns=self.columns)

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, **kw: Any) -> Table:
        import pandas as pd

        rows = [
            [None if (isinstance(v, float) and pd.isna(v)) else v for v in row] for row in frame.itertuples(index=False)
        ]
        return cls(columns=[str(c) for c in frame.columns], rows=rows, **kw)


def char_cells(char: str) -> int:
    """Terminal columns of one character: 2 for East Asian wide and full-width characters (CJK, most
    emoji), 0 for combining marks and format characters, else 1 (the stdlib's Unicode data, so a
    listing need not import a terminal library)."""
    if char < "\u0300":
        return 1
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cell_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: CJK characters and most emoji take two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(char_cells(char) for char in text)


def pad_cells(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` terminal columns (on the left when ``right``)."""
    fill = " " * max(0, width - cell_width(text))
    return fill + text if right else text + fill


def _split_cells(word: str, width: int) -> list[str]:
    """A word wider than ``width`` columns in pieces that each fit (never splitting a character)."""
    pieces, piece, used = [], "", 0
    for char in word:
        size = char_cells(char)
        if piece and used + size > width:
            pieces.append(piece)
            piece, used = "", 0
        piece += char
        used += size
    return [*pieces, piece] if piece else pieces


def wrap_cells(text: str, width: int) -> list[str]:
    """Wrap ``text`` into lines of at most ``width`` terminal columns, at spaces where it can, else
    inside a word (Chinese or Japanese text has no spaces). Each paragraph (``\\n``) starts a line."""
    width = max(1, width)
    lines: list[str] = []
    for paragraph in text.expandtabs(4).split("\n"):
        line, used = "", 0
        for word in paragraph.split():
            size = cell_width(word)
            if line and used + 1 + size <= width:
                line, used = f"{line} {word}", used + 1 + size
                continue
            if line:
                lines.append(line)
            if size <= width:
                line, used = word, size
                continue
            *full, line = _split_cells(word, width)
            lines.extend(full)
            used = cell_width(line)
        lines.append(line)
    return lines


def apa_statistic(value: float) -> str:
    """Two decimals without the leading zero, as APA style sets a statistic that cannot exceed 1
    (kappa, alpha, a proportion): ``.78``, ``-.12``, ``1.00``."""
    text = f"{value:.2f}"
    return text.replace("0.", ".", 1) if text.lstrip("-").startswith("0.") else text
