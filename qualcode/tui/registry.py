"""Screens the app can open by name: the home and coding screens register here, and so
does any later screen (agreement dashboard, reconciliation queue, matrices) by adding a
module under ``qualcode/tui/screens/`` that calls ``register_screen`` at import.

The command palette lists every registered screen the viewer may open.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from textual.screen import Screen

if TYPE_CHECKING:
    from .app import QualcodeApp


@dataclass(frozen=True)
class ScreenEntry:
    id: str
    title: str
    help: str
    factory: Callable[["QualcodeApp"], Screen]
    lead_only: bool = False  # listed only for a lead (or an auditor)


_SCREENS: dict[str, ScreenEntry] = {}

# Lines the home screen shows a lead under the title, e.g. the current agreement:
# each takes (project, viewer) and returns a line or None; runs in a worker thread.
Headline = Callable[[Any, str], "str | None"]
_HEADLINES: list[Headline] = []


def register_headline(headline: Headline) -> Headline:
    _HEADLINES.append(headline)
    return headline


def headlines() -> list[Headline]:
    load_screen_modules()
    return list(_HEADLINES)


def register_screen(entry: ScreenEntry) -> ScreenEntry:
    _SCREENS[entry.id] = entry
    return entry


def registered_screens() -> list[ScreenEntry]:
    load_screen_modules()
    return list(_SCREENS.values())


def screen_entry(screen_id: str) -> ScreenEntry:
    load_screen_modules()
    return _SCREENS[screen_id]


_loaded = False


def load_screen_modules() -> None:
    """Import every module of ``qualcode.tui.screens`` once, so each can register itself."""
    global _loaded
    if _loaded:
        return
    from . import screens

    for module in pkgutil.iter_modules(screens.__path__):
        importlib.import_module(f"{screens.__name__}.{module.name}")
    _loaded = True
