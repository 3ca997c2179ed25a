"""The coding workbench application and its factories: ``create_app`` (the terminal) and
``create_served_app`` (one browser session of ``qualcode serve``, which signs a coder in first)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App
from textual.command import Provider

from ..coding.queries import claim_viewer
from . import bindings
from .registry import screen_entry
from .screens.home import HomeScreen
from .settings import Settings, load_settings
from .widgets.transcript_view import transcript_theme_variables
from .writer import Writer

if TYPE_CHECKING:
    from ..coding.service import UndoHistory
    from ..project import Project
    from .screens.signin import Gate

# Start-up loads only what the home screen shows: the coding screen, help, the palette's jump
# commands and the lead's writes are imported when first used.


def jump_provider() -> type[Provider]:
    """The palette's jump commands, imported when the palette first opens."""
    from .commands import JumpProvider

    return JumpProvider


class QualcodeApp(App):
    CSS_PATH = str(Path(__file__).with_name("qualcode.tcss"))
    TITLE = "qualcode"
    COMMANDS = App.COMMANDS | {jump_provider}
    BINDINGS = bindings.bindings("app")

    project: Project
    coder_name: str

    def __init__(
        self,
        project: Project | None,
        coder: str | None,
        *,
        transcript_id: int | None = None,
        settings: Settings | None = None,
        side_by_side: bool | None = None,
        gate: Gate | None = None,
    ) -> None:
        super().__init__()
        if project is not None:
            self.project = project
        if coder is not None:
            self.coder_name = coder
        # In a browser (``qualcode serve``): the sign-in screen comes first, and until it accepts a
        # coder nothing of the project is read, neither the palette nor the help opens.
        self.gate = gate
        self.signed_in = gate is None
        self.use_command_palette = self.signed_in
        self.settings = settings or Settings()
        self.start_transcript_id = transcript_id
        self.side_by_side = self.settings.side_by_side if side_by_side is None else side_by_side
        self.writer = Writer()
        self.home: HomeScreen | None = None
        self.last_position: dict[int, int] = {}  # transcript id -> segment position the coder left at
        self.undo_histories: dict[int, UndoHistory] = {}  # transcript id -> its undo/redo, for the session

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """The transcript's colours for the current theme (see ``transcript_theme_variables``)."""
        theme = self.current_theme
        return transcript_theme_variables(theme.name, theme.to_color_system().generate())

    @property
    def keymap_settings(self) -> dict[str, str]:
        return dict(self.settings.keys)

    def on_mount(self) -> None:
        if self.settings.keys:
            self.set_keymap(self.settings.keys)
        if self.settings.theme:
            if self.settings.theme in self.available_themes:
                self.theme = self.settings.theme
            else:
                self.notify(
                    f"unknown theme {self.settings.theme!r} in the settings file", severity="warning", markup=False
                )
        if self.gate is not None:
            from .screens.signin import SignInScreen

            self.push_screen(SignInScreen(self.gate), callback=self._signed_in)
            return
        self._show_workbench()

    def _signed_in(self, result: tuple[Project, str] | None) -> None:
        if result is None:
            return
        self.project, self.coder_name = result
        self.signed_in = True
        self.use_command_palette = True
        self._show_workbench()

    def _show_workbench(self) -> None:
        self.home = HomeScreen()
        self.push_screen(self.home)
        if self.start_transcript_id is not None:
            self.open_transcript(self.start_transcript_id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.signed_in and action in _NEEDS_SIGN_IN:
            return False
        return super().check_action(action, parameters)

    # -- navigation (the palette and the screens call these) ------------------------------
    def open_transcript(
        self, transcript_id: int, segment_position: int | None = None, *, codebook: str | None = None
    ) -> None:
        """Open the coding screen; from a lead screen (evidence, queue) it opens on top, with every
        coder's codes shown, and escape returns there."""
        from .screens.coding import CodingScreen

        from_lead_screen = not isinstance(self.screen, (CodingScreen, HomeScreen))
        if segment_position is None:
            segment_position = self.last_position.get(transcript_id)  # back where you left off
        screen = CodingScreen(
            transcript_id,
            segment_position=segment_position,
            side_by_side=self.side_by_side or from_lead_screen,
            codebook=codebook,
            back_to_previous=from_lead_screen,
        )
        if isinstance(self.screen, CodingScreen):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def show_home(self, case: str | None = None) -> None:
        while len(self.screen_stack) > 2 and self.screen is not self.home:
            self.pop_screen()
        if case is not None and self.home is not None:
            self.home.select_case(case)

    def show_code(self, code_id: int) -> None:
        from .screens.coding import CodingScreen

        if isinstance(self.screen, CodingScreen):
            self.screen.show_code(code_id)
        else:
            self.notify("open a transcript to see the code beside it", severity="information")

    def open_screen(self, screen_id: str) -> None:
        if screen_id == "home":
            self.show_home()
            return
        self.push_screen(screen_entry(screen_id).factory())

    def action_open_screen(self, screen_id: str) -> None:
        """For key bindings (``app.open_screen('agreement')``)."""
        self.open_screen(screen_id)

    def action_show_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # -- lead actions (queued like every other write) -------------------------------------
    def set_blinding(self, blinded: bool, target=None) -> None:
        from ..coding.blinding import set_blinded

        def write() -> bool:
            with self.project.transaction() as s:
                set_blinded(s, self.coder_name, blinded)
            return blinded

        self.writer.submit(target or self.home, "blinding", write)

    def open_round(self, transcript_ids: list[int], note: str, target=None) -> None:
        from ..coding.rounds import open_round

        def write() -> int:
            with self.project.transaction() as s:
                return open_round(s, self.coder_name, transcript_ids, note)

        self.writer.submit(target or self.home, "round", write)

    # -- leaving ----------------------------------------------------------------------------
    async def wait_for_writes(self) -> None:
        """Return when every queued write has committed (or failed)."""
        await asyncio.to_thread(self.writer.drain)

    async def action_quit(self) -> None:
        await self.wait_for_writes()
        self.exit()

    def on_unmount(self) -> None:
        self.writer.close()
        if isinstance(self.gate, SignInGate):
            if self.signed_in:
                self.project.close()  # the session's own connection (a browser session opened it)
            self.gate.close()


# Before sign-in these app actions are refused: each would show project data.
_NEEDS_SIGN_IN = frozenset({"command_palette", "show_help", "open_screen"})


def create_app(
    project: Project,
    coder: str,
    *,
    transcript_id: int | None = None,
    settings: Settings | None = None,
    side_by_side: bool | None = None,
) -> QualcodeApp:
    """The workbench for ``coder`` on ``project`` (the CLI, the demo and the tests all use this).

    ``settings`` defaults to the user's settings file; ``transcript_id`` opens that transcript
    straight away; ``side_by_side`` starts a lead with every coder's codes shown.
    """
    claim_viewer(project, coder)  # an unknown name, or another login's coder, fails here, before the screen takes over
    if settings is None:
        settings = load_settings()
    return QualcodeApp(project, coder, transcript_id=transcript_id, settings=settings, side_by_side=side_by_side)


class SignInGate:
    """A browser session's check of a name and secret against the project at ``target``: the
    project is opened (with no viewer) at the first try; on PostgreSQL the signed-in session gets a
    connection of its own as the coder's login role, and the first connection is closed."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._project: Project | None = None

    def __call__(self, name: str, secret: str) -> tuple[Project, str]:
        from ..coding.access_tokens import sign_in
        from ..project import Project

        if self._project is None:
            self._project = Project(self.target)
        signed = sign_in(self._project, self.target, name, secret)
        if signed.target == self.target:  # SQLite: the session goes on with this connection
            own, self._project = self._project, None
            return own, signed.coder
        own = Project(signed.target)  # PostgreSQL: as the coder's own role
        self.close()
        return own, signed.coder

    def close(self) -> None:
        if self._project is not None:
            self._project.close()
            self._project = None


def create_served_app(target: str, *, settings: Settings | None = None) -> QualcodeApp:
    """The workbench for one browser session (``qualcode serve``): the sign-in screen first, then
    the workbench as the coder who signed in, exactly as ``create_app`` builds it for them."""
    if settings is None:
        settings = load_settings()
    return QualcodeApp(None, None, settings=settings, gate=SignInGate(target))


__all__ = ["QualcodeApp", "SignInGate", "create_app", "create_served_app"]
