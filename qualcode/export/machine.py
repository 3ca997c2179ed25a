"""Machine-read formats: CSV and JSON, numbers at full precision, no title or note."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

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


def json_safe(value: Any) -> Any:
    """``value`` with every infinite or NaN float (in dicts, lists and tuples) as ``None``: JSON has no
    Infinity or NaN (Python would write them, and most JSON readers then refuse the file), so they are null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def json_text(data: Any, default: Callable[[Any], Any] = _json_default) -> str:
    """``data`` as the JSON every command writes: indented, UTF-8 as it is, non-finite numbers as null."""
    return json.dumps(json_safe(data), indent=2, ensure_ascii=False, allow_nan=False, default=default) + "\n"


def render_json(prepared: PreparedTable) -> str:
    return json_text([dict(zip(prepared.columns, row)) for row in prepared.values])
