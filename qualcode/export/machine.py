"""Machine-read formats: CSV and JSON, numbers at full precision, no title or note."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

from ..table import safe_csv_cell
from .cells import PreparedTable, machine_text


def render_csv(prepared: PreparedTable) -> str:
    """Text that a spreadsheet would run as a formula is marked as text (see ``safe_csv_cell``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([safe_csv_cell(name) for name in prepared.columns])
    for row in prepared.values:
        writer.writerow([safe_csv_cell(v) if isinstance(v, str) else machine_text(v) for v in row])
    return buffer.getvalue()


def _json_default(value: object) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def render_json(prepared: PreparedTable) -> str:
    records = [dict(zip(prepared.columns, row)) for row in prepared.values]
    return json.dumps(records, indent=2, ensure_ascii=False, default=_json_default) + "\n"
