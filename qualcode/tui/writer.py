"""One writer thread per app: database writes run off the UI thread, in the order asked.

Coding actions depend on each other (toggle, then undo), so they go through a single
worker thread rather than Textual's concurrent thread workers. When a write has
committed (or failed) the result is posted back to the screen as a ``Written`` message.

A write refused with a ``QualcodeError`` is the user's to act on: the screen shows its one
line. Anything else is a bug: it is logged with its traceback (``qualcode.log``) and the
screen says so, and where the log is.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.message import Message
from textual.message_pump import MessagePump

from ..errors import QualcodeError, storage_full
from ..log import log_unexpected


class Written(Message):
    """A queued write finished: ``error`` is None when it committed; ``log`` is where an
    unexpected error's traceback went."""

    def __init__(
        self,
        ticket: int,
        kind: str,
        result: Any = None,
        error: BaseException | None = None,
        context: Any = None,
        log: Path | None = None,
    ):
        super().__init__()
        self.ticket = ticket
        self.kind = kind
        self.result = result
        self.error = error
        self.context = context
        self.log = log

    @property
    def failure(self) -> str | None:
        """What to tell the user when the write failed (None when it committed)."""
        if self.error is None:
            return None
        if isinstance(self.error, QualcodeError):
            return f"not saved: {self.error}"
        return (
            f"not saved: an unexpected error ({type(self.error).__name__}), a bug in qualcode;"
            f" the details are in {self.log}"
        )


@dataclass
class Ticket:
    number: int
    future: Future


class Writer:
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qualcode-writer")
        self._numbers = itertools.count(1)

    def submit(self, target: MessagePump, kind: str, fn: Callable[[], Any], context: Any = None) -> Ticket:
        """Run ``fn`` after every earlier write; post ``Written`` to ``target`` when done."""
        number = next(self._numbers)

        def run() -> Any:
            try:
                result = fn()
            except QualcodeError as exc:  # refused: the screen shows the one line
                target.post_message(Written(number, kind, error=exc, context=context))
                return None
            except Exception as exc:  # a bug: logged with its traceback, and the screen says where
                full = storage_full(exc)
                if full is not None:  # a full disk is the user's to act on, not a bug
                    target.post_message(Written(number, kind, error=full, context=context))
                    return None
                log = log_unexpected(exc, f"workbench write {kind!r}")
                target.post_message(Written(number, kind, error=exc, context=context, log=log))
                return None
            target.post_message(Written(number, kind, result=result, context=context))
            return result

        return Ticket(number, self._pool.submit(run))

    def drain(self, timeout: float | None = None) -> None:
        """Wait for every queued write (on quit, so nothing shown as pending is dropped)."""
        self._pool.submit(lambda: None).result(timeout=timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
