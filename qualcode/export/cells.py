"""Cell values as every writer sees them: normalised, classified, and formatted for people.

Machine formats (csv, json, xlsx) keep numbers at full precision. Human formats
(table, md, latex, docx, html) show floats with two decimals unless the caller passes
``formats``: a mapping from column name to a format spec (``".3f"``, ``".1%"``) or a
callable, with the key ``"*"`` setting the default for every float.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..table import Table

DEFAULT_FLOAT_SPEC = ".2f"
ALL_COLUMNS = "*"

CellFormat = str | Callable[[Any], str]
Formats = Mapping[str, CellFormat]


def normalize(value: Any) -> Any:
    """One plain Python value per cell: numpy/pandas scalars unwrapped, missing values as None."""
    if value is None:
        return None
    # A numpy or pandas value can reach here only once its library is loaded: a listing need not load either.
    pd = sys.modules.get("pandas")
    if pd is not None:
        if value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (set, frozenset)):
        value = sorted(value, key=str)
    if isinstance(value, (list, tuple)):
        parts = [normalize(item) for item in value]
        return "; ".join(str(part) for part in parts if part is not None)
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def machine_text(value: Any) -> str:
    """Text for machine-read formats: numbers unrounded (shortest round-trip repr)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def human_text(value: Any, cell_format: CellFormat | None = None) -> str:
    """Text for people: floats rounded (two decimals unless ``cell_format`` says otherwise)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if callable(cell_format):
        return cell_format(value)
    if is_number(value):
        if cell_format:
            return format(value, cell_format)
        return format(value, DEFAULT_FLOAT_SPEC) if isinstance(value, float) else str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def column_format(formats: Formats | None, column: str, value: Any) -> CellFormat | None:
    """The format for one cell: the column's own, else the ``"*"`` default for floats."""
    if not formats:
        return None
    if column in formats:
        return formats[column]
    if isinstance(value, float):
        return formats.get(ALL_COLUMNS)
    return None


@dataclass
class PreparedTable:
    """A table ready to write: normalised values, their human text, and column kinds."""

    table: Table
    values: list[list[Any]]
    texts: list[list[str]]
    numeric: list[bool]
    formats: Formats | None

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.table.columns]

    @property
    def heading(self) -> str:
        """``"Table N"`` when the table is numbered, else empty."""
        return f"Table {self.table.number}" if self.table.number is not None else ""

    def is_group(self, index: int) -> bool:
        return index in self.table.group_rows

    def spans(self, index: int) -> bool:
        """A group row with text in its first cell only: writers let it span the row."""
        row = self.values[index]
        return self.is_group(index) and all(v is None or v == "" for v in row[1:])

    def format_for(self, column_index: int, value: Any) -> CellFormat | None:
        return column_format(self.formats, str(self.table.columns[column_index]), value)


def prepare(table: Table, formats: Formats | None = None) -> PreparedTable:
    width = len(table.columns)
    values: list[list[Any]] = []
    for number, row in enumerate(table.rows):
        cells = [normalize(v) for v in row]
        if len(cells) > width:
            raise ValueError(f"row {number} has {len(cells)} cells for {width} columns")
        values.append(cells + [None] * (width - len(cells)))
    missing = getattr(table, "missing", "")
    texts = [
        [
            missing if v is None else human_text(v, column_format(formats, str(table.columns[j]), v))
            for j, v in enumerate(row)
        ]
        for row in values
    ]
    prepared = PreparedTable(table, values, texts, [False] * width, formats)
    body = [row for i, row in enumerate(values) if not prepared.spans(i)]
    for j in range(width):
        present = [row[j] for row in body if row[j] is not None and row[j] != ""]
        prepared.numeric[j] = bool(present) and all(is_number(v) for v in present)
    return prepared
