"""What changed between two codebook versions, compared code by code through their guids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .lookup import PATH_SEP
from .model import TEXT_FIELDS

OTHER_FIELDS = ("key", "hotkey", "color", "applicable")


@dataclass
class Change:
    kind: str  # added | retired | removed | merged | renamed | moved | definition changed | changed
    code: str  # the code's path in the later version (the earlier one when it is gone)
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"change": self.kind, "code": self.code, "detail": self.detail}


def _paths(snapshot: list[dict[str, Any]]) -> dict[str, str]:
    by_guid = {c["guid"]: c for c in snapshot}
    paths: dict[str, str] = {}

    def path(guid: str, depth: int = 0) -> str:
        if guid not in paths:
            code = by_guid[guid]
            parent = code.get("parent")
            up = (
                path(parent, depth + 1) + PATH_SEP
                if parent is not None and parent in by_guid and depth < len(by_guid)
                else ""
            )
            paths[guid] = up + code["name"]
        return paths[guid]

    for guid in by_guid:
        path(guid)
    return paths


def _parent_path(paths: dict[str, str], code: dict[str, Any]) -> str:
    parent = code.get("parent")
    return paths.get(parent, "the top level") if parent is not None else "the top level"


def diff_snapshots(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[Change]:
    """Changes from ``before`` to ``after``, in the later version's order."""
    old = {c["guid"]: c for c in before}
    new = {c["guid"]: c for c in after}
    old_paths, new_paths = _paths(before), _paths(after)
    changes: list[Change] = []
    for guid, code in new.items():
        path = new_paths[guid]
        was = old.get(guid)
        live = code.get("status", "active") == "active"
        if was is None or was.get("status", "active") != "active":
            if live:
                changes.append(Change("added", path))
            continue
        if not live:
            target = code.get("merged_into")
            if target:
                changes.append(Change("merged", old_paths[guid], f"into {new_paths.get(target, target)}"))
            else:
                changes.append(Change("retired", old_paths[guid]))
            continue
        if was["name"] != code["name"]:
            changes.append(Change("renamed", path, f"from {was['name']!r}"))
        if was.get("parent") != code.get("parent"):
            old_parent, new_parent = _parent_path(old_paths, was), _parent_path(new_paths, code)
            changes.append(Change("moved", path, f"from {old_parent} to {new_parent}"))
        texts = [f for f in TEXT_FIELDS if (was.get(f) or "") != (code.get(f) or "")]
        if texts:
            changes.append(Change("definition changed", path, ", ".join(texts)))
        others = [f"{f} {was.get(f)!r} -> {code.get(f)!r}" for f in OTHER_FIELDS if was.get(f) != code.get(f)]
        if others:
            changes.append(Change("changed", path, "; ".join(others)))
    for guid, was in old.items():
        if guid not in new and was.get("status", "active") == "active":
            changes.append(Change("removed", old_paths[guid]))
    return changes
