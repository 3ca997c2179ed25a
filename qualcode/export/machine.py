"""Machine-read formats: CSV and JSON, numbers at full precision, no title or note."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

from .cells import PreparedTable, machine_text


def render_csv(prepared: PreparedTable) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(prepared.columns)
    for row in prepared.values:
        writer.writerow([machine_text(v) for v in row])
    return buffer.getvalue()


def _json_default(value: object) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def render_json(prepared: PreparedTable) -> str:
    records = [dict(zip(prepared.columns, row)) for row in prepared.values]
    return json.dumps(records, indent=2, ensure_ascii=False, default=_json_default) + "\n"
