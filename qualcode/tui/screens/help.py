"""Help: every key of every screen, as the settings file has set them."""

from __future__ import annotations

from collections.abc import Callable

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
    for scope, title in bindings.SCOPE_TITLES.items():
        table = Table(title=title, title_style="bold", title_justify="left", box=None, expand=True, padding=(0, 1))
        table.add_column("Key", style="bold cyan", no_wrap=True, ratio=2)
        table.add_column("Does", ratio=6)
        table.add_column("Id", style="dim", no_wrap=True, ratio=2)
        if scope == "coding":
            table.add_row(*bindings.CODE_HOTKEY_HELP, "")
        for spec in bindings.specs(scope):
            table.add_row(key_display(bindings.effective_key(spec, keymap), display), spec.description, spec.id)
        parts += [table, Text("")]
    parts.append(Text("Mouse: click a segment to select it; click a code in the codebook to toggle it."))
    return Group(*parts)


class HelpScreen(WorkbenchModalScreen[None]):
    BINDINGS = bindings.bindings("help")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(help_text(self.app.keymap_settings, self.app.get_key_display), id="help-text")
