"""The import manifest: ``file,title,case,kind,date,speaker_roles`` (one row per file).

``speaker_roles`` reads ``Label=role; Label=role``. File names are relative to the
manifest's folder. A manifest is checked whole before anything is imported.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, located
from ..store.models import SPEAKER_ROLES, TRANSCRIPT_KINDS
from .tables import read_rows

ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_iso_date(text: str) -> bool:
    """``YYYY-MM-DD`` naming a day that exists (not ``2024-02-30``)."""
    if not ISO_DATE_RE.match(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


KIND_ALIASES = {
    "focus group": "focus_group",
    "focus-group": "focus_group",
    "field notes": "field_notes",
    "field-notes": "field_notes",
}


@dataclass
class ManifestEntry:
    path: Path
    line: int
    title: str | None = None
    case: str | None = None
    kind: str | None = None
    date: str | None = None
    speaker_roles: dict[str, str] = field(default_factory=dict)


def normalise_kind(kind: str) -> str | None:
    kind = kind.strip().casefold()
    kind = KIND_ALIASES.get(kind, kind)
    return kind if kind in TRANSCRIPT_KINDS else None


def parse_speaker_roles(text: str, where: str, line: int) -> dict[str, str]:
    roles: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        label, sep, role = item.rpartition("=")
        role = role.strip().casefold()
        if not sep or not label.strip():
            raise InputError(located(where, f"speaker_roles entry {item!r} is not Label=role", line))
        if role not in SPEAKER_ROLES:
            raise InputError(located(where, f"unknown speaker role {role!r} (one of {', '.join(SPEAKER_ROLES)})", line))
        roles[label.strip()] = role
    return roles


def read_manifest(path: Path) -> dict[Path, ManifestEntry]:
    """Entries by resolved file path; every listed file must exist."""
    _, rows = read_rows(path, ("file", "case"), ("title", "kind", "date", "speaker_roles"))
    entries: dict[Path, ManifestEntry] = {}
    for line, row in rows:
        if not row["file"]:
            raise InputError(located(path, "row without a file name", line))
        if not row["case"]:
            raise InputError(located(path, f"no case for {row['file']}", line))
        file = (path.parent / row["file"]).resolve()
        if not file.is_file():
            raise InputError(located(path, f"listed file {row['file']} does not exist", line))
        if file in entries:
            raise InputError(located(path, f"{row['file']} is listed twice", line))
        kind = None
        if row.get("kind"):
            kind = normalise_kind(row["kind"])
            if kind is None:
                raise InputError(
                    located(path, f"unknown kind {row['kind']!r} (one of {', '.join(TRANSCRIPT_KINDS)})", line)
                )
        date = row.get("date") or None
        if date and not ISO_DATE_RE.match(date):
            raise InputError(located(path, f"date {date!r} is not YYYY-MM-DD", line))
        if date and not is_iso_date(date):
            raise InputError(located(path, f"date {date!r} is not a day of the calendar", line))
        entries[file] = ManifestEntry(
            file,
            line,
            row.get("title") or None,
            row["case"],
            kind,
            date,
            parse_speaker_roles(row.get("speaker_roles", ""), str(path), line),
        )
    return entries
