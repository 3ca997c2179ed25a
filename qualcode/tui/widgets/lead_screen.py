"""Base of the lead analyst's screens: the role check, reading in a worker, queued writes.

Every lead screen reads only after the viewer's role has been checked (lead or auditor;
a coder's screen closes at once with a message), and every write goes through the app's
single writer thread, so decisions stay ordered and off the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from textual import events, work
from textual.message import Message
from textual.widgets import DataTable

from ...coding.queries import look_up_viewer
from ...errors import BlindingError, QualcodeError
from ...store.enums import ANALYST_ROLES
from ..typed import WorkbenchScreen
from ..writer import Written


def next_in(options: list, current: Any) -> Any:
    """The option after ``current`` (wrapping round), for keys that cycle a choice."""
    return options[(options.index(current) + 1) % len(options)] if current in options else options[0]


class LeadScreen(WorkbenchScreen[None]):
    """Subclasses implement ``read()`` (in a worker thread: it asks the core's query functions,
    given ``self.app.project``) and ``show(content)``; what they show is decided by ``choice``,
    a frozen dataclass that ``rechoose`` changes."""

    choice: Any = None
    previous_choice: Any = None

    # what the screen is, for the refusal message ("the agreement dashboard")
    what = "this screen"

    class Loaded(Message):
        def __init__(self, content: Any, role: str | None, error: str | None = None) -> None:
            super().__init__()
            self.content = content
            self.role = role
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.role: str | None = None
        self.loaded = False
        self.writes_pending = 0
        self.last_content: Any = None

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"

    def on_mount(self) -> None:
        self.load()

    def read(self) -> Any:
        raise NotImplementedError

    def show(self, content: Any) -> None:
        raise NotImplementedError

    @work(thread=True, exclusive=True, group="lead-load")
    def load(self) -> None:
        app = self.app
        role = None
        try:
            role = look_up_viewer(app.project, app.coder_name).role
            if role not in ANALYST_ROLES:
                raise BlindingError(f"{self.what} is for the lead analyst (and auditors); {app.coder_name} is a {role}")
            content = self.read()
        except QualcodeError as exc:
            self.post_message(self.Loaded(None, role, str(exc)))
            return
        self.post_message(self.Loaded(content, role))

    def on_lead_screen_loaded(self, message: Loaded) -> None:
        message.stop()
        self.role = message.role
        if message.role not in ANALYST_ROLES:
            self.notify(
                message.error or f"{self.what} is for the lead analyst", severity="error", timeout=8, markup=False
            )
            if self.is_current:
                self.dismiss()
            return
        if message.error is not None:
            self.notify(message.error, severity="error", timeout=8, markup=False)
            self.show_error(message.error)
            return
        self.loaded = True
        self.last_content = message.content
        self.show(message.content)
        self.refresh_bindings()

    def on_resize(self, event: events.Resize) -> None:
        if self.loaded:
            self.call_after_refresh(self.refit)  # after layout, so the table has its new width

    def refit(self) -> None:
        """Show the last content again, columns fitted to the new width, the cursor kept."""
        table = self.query_one(DataTable)
        row = table.cursor_row
        self.show(self.last_content)
        if table.row_count and table.cursor_row != row:
            table.move_cursor(row=min(row, table.row_count - 1))

    def rechoose(self, **changes: Any) -> None:
        """Change what the screen shows and read it again (a choice that fails is undone)."""
        self.previous_choice = self.choice
        self.choice = replace(self.choice, **changes)
        self.load()

    def at_cursor(self, rows: list) -> Any:
        """The item of ``rows`` under the cursor of the screen's table (None when empty)."""
        row = self.query_one(DataTable).cursor_row
        return rows[row] if rows and row is not None and 0 <= row < len(rows) else None

    def show_error(self, error: str) -> None:
        """A choice that cannot be shown (an unknown code, an empty layer): back to the last one."""
        if self.previous_choice is not None:
            self.choice, self.previous_choice = self.previous_choice, None

    # -- writes -------------------------------------------------------------------------------
    def submit(self, kind: str, write: Callable[..., Any], *args: Any, context: Any = None, **options: Any) -> None:
        """Queue the core's ``write(session, *args, **options)`` as one transaction;
        ``written(kind, result, context)`` follows."""
        project = self.app.project

        def run() -> Any:
            with project.transaction() as s:
                return write(s, *args, **options)

        self.writes_pending += 1
        self.app.writer.submit(self, kind, run, context)

    def on_written(self, message: Written) -> None:
        message.stop()
        self.writes_pending -= 1
        if (failure := message.failure) is not None:
            self.notify(failure, severity="error", timeout=8, markup=False)
            return
        self.written(message.kind, message.result, message.context)

    def written(self, kind: str, result: Any, context: Any) -> None:
        """A queued write committed."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.LEAD_ACTIONS:
            return self.is_lead
        return True

    # actions only the lead may take (auditors see the screen without them)
    LEAD_ACTIONS: frozenset[str] = frozenset()

    def action_back(self) -> None:
        if self.is_current:
            self.dismiss()
