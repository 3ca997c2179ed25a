"""One writer thread per app: database writes run off the UI thread, in the order asked.

Coding actions depend on each other (toggle, then undo), so they go through a single
worker thread rather than Textual's concurrent thread workers. When a write has
committed (or failed) the result is posted back to the screen as a ``Written`` message.
"""

from __future__ import annotations

import itertools
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from textual.message import Message
from textual.message_pump import MessagePump


class Written(Message):
    """A queued write finished: ``error`` is None when it committed."""

    def __init__(self, ticket: int, kind: str, result: Any = None, error: BaseException | None = None, context: Any = None):
        super().__init__()
        self.ticket = ticket
        self.kind = kind
        self.result = result
        self.error = error
        self.context = context


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
            except BaseException as exc:  # reported to the screen, which tells the user
                target.post_message(Written(number, kind, error=exc, context=context))
                return None
            target.post_message(Written(number, kind, result=result, context=context))
            return result

        return Ticket(number, self._pool.submit(run))

    def drain(self, timeout: float | None = None) -> None:
        """Wait for every queued write (on quit, so nothing shown as pending is dropped)."""
        self._pool.submit(lambda: None).result(timeout=timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
