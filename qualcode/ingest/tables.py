"""Reading small CSV tables (manifests, case attributes) with line numbers for errors."""

from __future__ import annotations

from pathlib import Path

from ..decoding import csv_rows, read_text
from ..errors import InputError, located


def read_rows(
    path: Path, required: tuple[str, ...], known: tuple[str, ...] = ()
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(header, [(line, row)]) with trimmed column names; checks ``required``.

    Required and ``known`` columns match in any letter case and come back lower-case;
    other names (attribute names such as ``survey_SV``) keep their spelling.
    """
    text = read_text(path)
    reader = csv_rows(text, path)
    fixed = {c.casefold() for c in required + known}
    header = [h.strip().casefold() if h.strip().casefold() in fixed else h.strip() for h in next(reader, [])]
    if not header:
        raise InputError(located(path, "empty CSV", 1))
    first_column: dict[str, int] = {}
    for number, name in enumerate(header, start=1):
        if name and first_column.setdefault(name, number) != number:  # a dict of cells would keep only the last
            raise InputError(
                located(path, f"column {name!r} appears twice (columns {first_column[name]} and {number})", 1)
            )
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(located(path, f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}", 1))
    rows: list[tuple[int, dict[str, str]]] = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            raise InputError(located(path, f"{len(cells)} cells but {len(header)} columns", line))
        rows.append((line, {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)}))
    return header, rows
