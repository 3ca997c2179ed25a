"""The user's settings file: ``$QUALCODE_SETTINGS`` or ``~/.config/qualcode/settings.toml``.

[keys]                 # binding id = key(s), see `qualcode code --help` and docs/workbench.md
toggle_done = "x"
undo = "u,ctrl+z"

[display]
theme = "textual-dark"
side_by_side = false   # the lead starts with every coder's codes shown
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, located
from .bindings import KNOWN_IDS

DISPLAY_OPTIONS = {"theme": str, "side_by_side": bool}


@dataclass
class Settings:
    keys: dict[str, str] = field(default_factory=dict)
    theme: str | None = None
    side_by_side: bool = False
    source: Path | None = None


def settings_path() -> Path:
    env = os.environ.get("QUALCODE_SETTINGS")
    if env:
        return Path(env).expanduser()
    return Path("~/.config/qualcode/settings.toml").expanduser()


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file; a missing file means defaults, a wrong one is an ``InputError``."""
    path = path or settings_path()
    if not path.is_file():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(located(path, f"not valid TOML ({exc})")) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(located(path, f"cannot read settings ({exc})")) from exc
    unknown_tables = sorted(set(data) - {"keys", "display"})
    if unknown_tables:
        raise InputError(located(path, f"unknown section [{unknown_tables[0]}] (known: [keys], [display])"))
    keys = data.get("keys", {})
    for binding_id, key in keys.items():
        if binding_id not in KNOWN_IDS:
            raise InputError(
                located(path, f"[keys] {binding_id}: no such binding (known: {', '.join(sorted(KNOWN_IDS))})")
            )
        if not isinstance(key, str) or not key.strip():
            raise InputError(located(path, f'[keys] {binding_id}: give the key as a string, e.g. "x" or "u,ctrl+z"'))
    display = data.get("display", {})
    for name, value in display.items():
        expected = DISPLAY_OPTIONS.get(name)
        if expected is None:
            raise InputError(located(path, f"[display] {name}: unknown option (known: {', '.join(DISPLAY_OPTIONS)})"))
        if not isinstance(value, expected):
            raise InputError(located(path, f"[display] {name}: expected {expected.__name__}"))
    return Settings(
        keys={k: v.strip() for k, v in keys.items()},
        theme=display.get("theme"),
        side_by_side=display.get("side_by_side", False),
        source=path,
    )
