"""The sign-in screen of the workbench in a browser (``qualcode serve``).

It is the first and only screen until a coder's name and secret are accepted: it shows nothing of
the project (no title, no transcript, no code), and a wrong secret leaves it as it was with one line
that does not say whether the name or the secret was wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label

from ...errors import QualcodeError

if TYPE_CHECKING:
    from ...project import Project

# Given (name, secret): the project opened for that coder and the coder's name, or a QualcodeError.
Gate = Callable[[str, str], "tuple[Project, str]"]


class SignInScreen(Screen["tuple[Project, str]"]):
    """Name and secret; dismissed with ``(project, coder)`` once they are accepted."""

    DEFAULT_CSS = """
    SignInScreen { align: center middle; }
    SignInScreen #signin-box { width: 60; max-width: 100%; height: auto; padding: 1 2; border: round $primary; }
    SignInScreen #signin-title { text-style: bold; margin-bottom: 1; }
    SignInScreen Input { margin-bottom: 1; }
    SignInScreen #signin-message { height: auto; min-height: 1; color: $error; }
    SignInScreen #signin-help { color: $text-muted; width: 100%; }
    SignInScreen #signin-message { width: 100%; }
    """

    def __init__(self, gate: Gate) -> None:
        super().__init__()
        self.gate = gate

    def compose(self) -> ComposeResult:
        with Vertical(id="signin-box"):
            yield Label("qualcode · sign in", id="signin-title")
            yield Input(placeholder="your coder name", id="signin-name")
            yield Input(placeholder="secret (token or database password)", password=True, id="signin-secret")
            yield Button("Sign in", id="signin-button", variant="primary")
            yield Label("", id="signin-message")
            yield Label(
                "Your lead gives you your coder name and a token (on a team server: your PostgreSQL password).",
                id="signin-help",
            )

    def on_mount(self) -> None:
        self.query_one("#signin-name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "signin-name":
            self.query_one("#signin-secret", Input).focus()
        else:
            self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.submit()

    def submit(self) -> None:
        name = self.query_one("#signin-name", Input).value.strip()
        secret = self.query_one("#signin-secret", Input).value
        if not name:
            self.say("type your coder name")
            self.query_one("#signin-name", Input).focus()
            return
        self.set_busy(True)
        self.say("checking…", error=False)
        self.check(name, secret)

    @work(thread=True, exclusive=True, group="signin")
    def check(self, name: str, secret: str) -> None:
        try:
            result = self.gate(name, secret)
        except QualcodeError as exc:
            self.app.call_from_thread(self.refused, str(exc))
            return
        except Exception as exc:  # a bug: logged, and the screen stays as it is (nothing shown)
            from ...log import log_unexpected

            log_unexpected(exc, "qualcode serve: sign-in")
            self.app.call_from_thread(self.refused, "sign-in failed: an unexpected error (the server's log has it)")
            return
        self.app.call_from_thread(self.dismiss, result)

    def refused(self, message: str) -> None:
        self.set_busy(False)
        secret = self.query_one("#signin-secret", Input)
        secret.value = ""
        secret.focus()
        self.say(message)

    def set_busy(self, busy: bool) -> None:
        for widget in self.query(Input):
            widget.disabled = busy
        self.query_one("#signin-button", Button).disabled = busy

    def say(self, message: str, *, error: bool = True) -> None:
        label = self.query_one("#signin-message", Label)
        label.update(Text(message))
        label.set_class(not error, "-info")


__all__ = ["Gate", "SignInScreen"]
