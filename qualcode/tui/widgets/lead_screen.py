"""Base of the lead analyst's screens: the role check, reading in a worker, queued writes.

Every lead screen reads only after the viewer's role has been checked (lead or auditor;
a coder's screen closes at once with a message), and every write goes through the app's
single writer thread, so decisions stay ordered and off the UI thread.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from rich.text import Text
from sqlmodel import Session
from textual import work
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable

from ...coding.blinding import find_coder
from ...errors import BlindingError, QualcodeError
from ..writer import Written

ANALYST_ROLES = ("lead", "auditor")


def next_in(options: list, current: Any) -> Any:
    """The option after ``current`` (wrapping round), for keys that cycle a choice."""
    return options[(options.index(current) + 1) % len(options)] if current in options else options[0]


def literal(value: Any, style: str = "") -> Text:
    """User text (titles, names, segment text) for a table cell or label, shown as written:
    a plain string would be read as markup, so "[laughs]" would vanish and "[/laugh]" crash.
    Cut text ends in "…"."""
    return Text(str(value), style=style, no_wrap=True, overflow="ellipsis", end="")


def fit_widths(natural: list[int], minimum: list[int], available: int) -> list[int]:
    """Column widths that fit ``available`` cells: when the natural widths are too wide, the
    widest columns are cut to a common width (never below their minimum), so short columns
    keep their text whole and the spare width goes where the text is long."""
    natural = [max(n, m) for n, m in zip(natural, minimum)]
    if sum(natural) <= available:
        return natural

    def widths(cap: int) -> list[int]:
        return [min(n, max(cap, m)) for n, m in zip(natural, minimum)]

    low, high = 0, max(natural)
    while low < high:  # the largest cap that fits
        middle = (low + high + 1) // 2
        low, high = (middle, high) if sum(widths(middle)) <= available else (low, middle - 1)
    fitted = widths(low)
    spare = available - sum(fitted)
    for i, n in enumerate(natural):  # the cells left over go to the columns that were cut, one each
        if spare > 0 and fitted[i] < n:
            fitted[i] += 1
            spare -= 1
    return fitted


# Cells a table needs besides its columns: a vertical scrollbar.
SCROLLBAR = 2


def fit_columns(table: DataTable, columns: list[tuple[Any, int, int]], fallback_width: int = 80) -> None:
    """Add ``(label, natural width, minimum width)`` columns to ``table``, fitted to its width."""
    width = table.size.width or fallback_width
    available = width - SCROLLBAR - 2 * table.cell_padding * len(columns)
    fitted = fit_widths([n for _, n, _ in columns], [m for _, _, m in columns], available)
    for (label, _, _), w in zip(columns, fitted):
        table.add_column(label if isinstance(label, Text) else literal(label), width=w)


def text_width(values: Any, label: str = "") -> int:
    """The widest of ``values`` (and the column's label), in cells."""
    return max([len(label)] + [Text(str(v)).cell_len for v in values])


class LeadScreen(Screen):
    """Subclasses implement ``read(session)`` (in a worker thread) and ``show(content)``;
    what they show is decided by ``choice``, a frozen dataclass that ``rechoose`` changes."""

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

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"

    def on_mount(self) -> None:
        self.load()

    def read(self, session: Session) -> Any:
        raise NotImplementedError

    def show(self, content: Any) -> None:
        raise NotImplementedError

    @work(thread=True, exclusive=True, group="lead-load")
    def load(self) -> None:
        app = self.app
        role = None
        try:
            with app.project.read() as s:
                role = find_coder(s, app.coder_name).role
                if role not in ANALYST_ROLES:
                    raise BlindingError(f"{self.what} is for the lead analyst (and auditors); {app.coder_name} is a {role}")
                content = self.read(s)
        except QualcodeError as exc:
            self.post_message(self.Loaded(None, role, str(exc)))
            return
        self.post_message(self.Loaded(content, role))

    def on_lead_screen_loaded(self, message: Loaded) -> None:
        message.stop()
        self.role = message.role
        if message.role not in ANALYST_ROLES:
            self.notify(message.error or f"{self.what} is for the lead analyst", severity="error", timeout=8, markup=False)
            if self.is_current:
                self.dismiss()
            return
        if message.error is not None:
            self.notify(message.error, severity="error", timeout=8, markup=False)
            self.show_error(message.error)
            return
        self.loaded = True
        self.show(message.content)
        self.refresh_bindings()

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
    def submit(self, kind: str, write: Callable[[Session], Any], context: Any = None) -> None:
        """Queue ``write(session)`` as one transaction; ``written(kind, result, context)`` follows."""
        project = self.app.project

        def run() -> Any:
            with project.transaction() as s:
                return write(s)

        self.writes_pending += 1
        self.app.writer.submit(self, kind, run, context)

    def on_written(self, message: Written) -> None:
        message.stop()
        self.writes_pending -= 1
        if message.error is not None:
            self.notify(f"not saved: {message.error}", severity="error", timeout=8, markup=False)
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
