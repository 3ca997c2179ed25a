"""Help: every key of every screen, as the settings file has set them."""

from __future__ import annotations

from collections.abc import Callable

from rich.cells import cell_len
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from .. import bindings
from ..typed import WorkbenchModalScreen


def key_display(keys: str, display: Callable[[Binding], str]) -> str:
    """``question_mark,f1`` -> ``? / f1``: keys as the footer shows them, alternatives joined."""
    return " / ".join(display(Binding(k.strip(), "")) for k in keys.split(",") if k.strip())


def help_text(keymap: dict[str, str], display: Callable[[Binding], str]) -> Group:
    parts: list = [
        Text.assemble(
            ("qualcode keys", "bold underline"), "  (change them by id in the [keys] table of the settings file)\n"
        )
    ]
    scoped = []
    for scope, title in bindings.SCOPE_TITLES.items():
        specs = bindings.specs(scope)
        rows = [(key_display(bindings.effective_key(s, keymap), display), s.description, s.id) for s in specs]
        if scope == "coding":
            rows.insert(0, (*bindings.CODE_HOTKEY_HELP, ""))
        scoped.append((title, rows))
    # The ids are what the settings file needs, so they are never cut: the Key and Id columns take
    # their widest entry (the same in every table, so they line up) and the description wraps.
    key_width = max(cell_len(row[0]) for _, rows in scoped for row in rows)
    id_width = max(cell_len(row[2]) for _, rows in scoped for row in rows)
    for title, rows in scoped:
        table = Table(title=title, title_style="bold", title_justify="left", box=None, expand=True, padding=(0, 1))
        table.add_column("Key", style="bold cyan", no_wrap=True, min_width=key_width)
        table.add_column("Does", ratio=1)
        table.add_column("Id", style="dim", no_wrap=True, min_width=id_width)
        for row in rows:
            table.add_row(*row)
        parts += [table, Text("")]
    parts.append(Text("Mouse: click a segment to select it; click a code in the codebook to toggle it."))
    return Group(*parts)


class HelpScreen(WorkbenchModalScreen[None]):
    BINDINGS = bindings.bindings("help")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(help_text(self.app.keymap_settings, self.app.get_key_display), id="help-text")
