"""What a lead screen shows when the project lacks what its table needs (no transcripts, no
codebook): one plain sentence naming the command that fixes it, in place of the table, instead
of "loading…" for ever and a toast each time the screen is opened or a choice changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from rich.text import Text

from ...coding.queries import missing_for_analysis
from ...errors import QualcodeError
from ...store.access import Access

T = TypeVar("T")


@dataclass(frozen=True)
class Missing:
    """The screen's content when there is nothing to show: why, and how to fix it."""

    message: str


def read_or_missing(project: Access, read: Callable[[], T], first: bool) -> T | Missing:
    """``read()``; when it fails because the project lacks transcripts or a codebook, what is
    missing. On the screen's ``first`` read any other refusal is shown in place too (there is
    nothing else to show); later, a choice that fails raises as before (and is undone)."""
    try:
        return read()
    except QualcodeError as exc:
        missing = missing_for_analysis(project)
        if missing is not None:
            return Missing(missing)
        if first:
            return Missing(str(exc))
        raise


def missing_title(screen_name: str, missing: Missing) -> Text:
    text = Text()
    text.append(f"{screen_name} · ", style="bold")
    text.append(missing.message)
    return text
