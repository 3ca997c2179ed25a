"""Every key of the workbench as data: (id, key, action, description) per screen.

Screens build their Textual ``BINDINGS`` from this table, the help screen lists it, and
``[keys]`` in the settings file overrides keys by id (Textual's keymap). A new screen joins
by adding its own rows under a new scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class KeySpec:
    id: str
    key: str  # Textual key names, comma-separated alternatives ("u,ctrl+z")
    action: str
    description: str
    scope: str  # "app", "home", "coding", "picker", "editor"
    show: bool = True  # shown in the footer (all are in the help screen)


KEY_TABLE: tuple[KeySpec, ...] = (
    # everywhere
    KeySpec("help", "question_mark,f1", "app.show_help", "Help", "app"),
    KeySpec("palette", "ctrl+p", "app.command_palette", "Commands", "app"),
    KeySpec("quit", "ctrl+q", "app.quit", "Quit", "app"),
    # home
    KeySpec("open_transcript", "enter", "open_selected", "Code", "home"),
    KeySpec("refresh", "ctrl+r", "refresh", "Refresh", "home", show=False),
    KeySpec("open_round", "R", "open_round", "New round", "home"),
    KeySpec("toggle_blinding", "B", "toggle_blinding", "Blind/unblind", "home"),
    # coding: moving
    KeySpec("next_segment", "down,j", "move(1)", "Next", "coding", show=False),
    KeySpec("previous_segment", "up,k", "move(-1)", "Previous", "coding", show=False),
    KeySpec("page_down", "pagedown", "page(1)", "Page down", "coding", show=False),
    KeySpec("page_up", "pageup", "page(-1)", "Page up", "coding", show=False),
    KeySpec("first_segment", "home,g", "jump_first", "First", "coding", show=False),
    KeySpec("last_segment", "end,G", "jump_last", "Last", "coding", show=False),
    KeySpec("next_uncoded", "f", "next_uncoded", "Next uncoded", "coding"),
    KeySpec("search", "slash", "search", "Search", "coding"),
    KeySpec("search_next", "n", "search_again(1)", "Next match", "coding", show=False),
    KeySpec("search_previous", "N", "search_again(-1)", "Previous match", "coding", show=False),
    # coding: coding
    KeySpec("toggle_done", "d", "toggle_done", "Done", "coding"),
    KeySpec("pick_code", "a", "pick_code", "Pick code", "coding"),
    KeySpec("segment_memo", "m", "segment_memo", "Memo", "coding"),
    KeySpec("code_memo", "M", "code_memo", "Code memo", "coding", show=False),
    KeySpec("core_idea", "c", "core_idea", "Core idea", "coding"),
    KeySpec("quote", "q", "quote", "Quote span", "coding"),
    KeySpec("undo", "u,ctrl+z", "undo", "Undo", "coding"),
    KeySpec("redo", "U,ctrl+y", "redo", "Redo", "coding", show=False),
    KeySpec("code_details", "i", "toggle_details", "Definition", "coding"),
    KeySpec("side_by_side", "s", "toggle_side_by_side", "All coders", "coding"),
    KeySpec("back", "escape", "back", "Home", "coding"),
    # modal dialogs
    KeySpec("picker_down", "down", "cursor(1)", "Next code", "picker", show=False),
    KeySpec("picker_up", "up", "cursor(-1)", "Previous code", "picker", show=False),
    KeySpec("picker_toggle", "enter", "choose", "Toggle code", "picker"),
    KeySpec("editor_save", "ctrl+s", "save", "Save", "editor"),
    KeySpec("editor_cancel", "escape", "cancel", "Cancel", "editor"),
    KeySpec("help_close", "escape,question_mark", "dismiss", "Close", "help"),
    KeySpec("confirm_yes", "y", "answer(True)", "Yes", "confirm"),
    KeySpec("confirm_no", "n,escape", "answer(False)", "No", "confirm"),
)

SCOPE_TITLES = {
    "app": "Everywhere",
    "home": "Home",
    "coding": "Coding screen",
    "picker": "Code picker",
    "editor": "Memo, core idea, search and quote dialogs",
    "confirm": "Questions (lead actions)",
    "help": "This help",
}

CODE_HOTKEY_HELP = ("1 … 9, 0", "Toggle the code with that hotkey (set in the codebook) on the current segment")

KNOWN_IDS = frozenset(spec.id for spec in KEY_TABLE)


def specs(scope: str) -> list[KeySpec]:
    return [spec for spec in KEY_TABLE if spec.scope == scope]


def bindings(scope: str) -> list[Binding]:
    """Textual bindings for one scope; ids let the settings file's keymap replace keys."""
    return [Binding(s.key, s.action, s.description, show=s.show, id=s.id) for s in specs(scope)]


def effective_key(spec: KeySpec, keymap: dict[str, str]) -> str:
    return keymap.get(spec.id, spec.key)
