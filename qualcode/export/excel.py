"""Excel (.xlsx): title in A1, bold header, values as real numbers at full precision, a note.

Floats keep every digit; only their display format is rounded (two decimals, or the
column's ``formats`` spec when it is a fixed-point or percent spec).
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..table import starts_formula
from .cells import DEFAULT_FLOAT_SPEC, PreparedTable, is_number

MAX_COLUMN_WIDTH = 60
SHEET_NAME_LIMIT = 31
_FIXED_SPEC = re.compile(r"^(,?)\.(\d+)([f%])$")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_RULE = Side(style="thin", color="000000")


def excel_number_format(spec: object) -> str | None:
    """Translate a Python format spec like ``".3f"``, ``",.1f"`` or ``".0%"`` to Excel's."""
    match = _FIXED_SPEC.match(spec) if isinstance(spec, str) else None
    if not match:
        return None
    grouping, decimals, kind = match.groups()
    number = ("#,##0" if grouping else "0") + ("." + "0" * int(decimals) if int(decimals) else "")
    return number + ("%" if kind == "%" else "")


def sheet_name(prepared: PreparedTable) -> str:
    name = prepared.heading or prepared.table.title or "Table"
    return _SHEET_FORBIDDEN.sub(" ", name)[:SHEET_NAME_LIMIT].strip() or "Table"


def _excel_value(value: object) -> object:
    # Excel has no time zones: store UTC wall-clock time.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def put(sheet: Worksheet, row: int, column: int, value: object) -> Cell:
    """Set one cell; text that would start a formula is stored as text, shown with Excel's quote
    prefix, so Excel displays it and never evaluates it (editing the cell keeps it text too)."""
    cell = sheet.cell(row, column, _excel_value(value))
    if starts_formula(value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def render_xlsx(prepared: PreparedTable) -> bytes:
    table = prepared.table
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name(prepared)

    row = 1
    if table.title:
        put(sheet, row, 1, table.title).font = Font(bold=True)
        row += 1
    if table.caption:
        put(sheet, row, 1, table.caption).font = Font(italic=True)
        row += 1
    if row > 1:
        row += 1  # a blank line between the words and the table
    header_row = row
    for j, name in enumerate(prepared.columns, start=1):
        cell = put(sheet, header_row, j, name)
        cell.font = Font(bold=True)
        cell.border = Border(top=_RULE, bottom=_RULE)
        cell.alignment = Alignment(horizontal="right" if prepared.numeric[j - 1] else "left")

    widths = [len(name) for name in prepared.columns]
    for i, (values, texts) in enumerate(zip(prepared.values, prepared.texts)):
        row = header_row + 1 + i
        # Once per row, not per cell: spans() reads the whole row.
        is_group, spans = prepared.is_group(i), prepared.spans(i)
        for j, (value, text) in enumerate(zip(values, texts)):
            cell = put(sheet, row, j + 1, value)
            if is_number(value):
                spec = prepared.format_for(j, value) or (DEFAULT_FLOAT_SPEC if isinstance(value, float) else None)
                number_format = excel_number_format(spec)
                if number_format:
                    cell.number_format = number_format
            elif "\n" in text or len(text) > MAX_COLUMN_WIDTH:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            if is_group:
                cell.font = Font(bold=True)
            if not spans:
                widths[j] = max(widths[j], *(len(line) for line in text.split("\n")))
    last_row = header_row + len(prepared.values)
    if prepared.values:
        for j in range(1, len(prepared.columns) + 1):
            sheet.cell(last_row, j).border = Border(bottom=_RULE)

    for j, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(j)].width = min(width + 2, MAX_COLUMN_WIDTH)
    sheet.freeze_panes = sheet.cell(header_row + 1, 1)

    if table.note:
        note = CellRichText(TextBlock(InlineFont(i=True), "Note."), f" {table.note}")
        sheet.cell(last_row + 2, 1, note)

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
