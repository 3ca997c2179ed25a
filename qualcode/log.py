"""Where unexpected errors go: a log file under the user's state directory.

Errors the user can act on are ``QualcodeError``s, shown as one line. Anything else is a bug:
it is logged here with its traceback (never swallowed), and the user is told the file's path.
The CLI's ``--log-level`` (or ``$QUALCODE_LOG_LEVEL``) sets how much else is written.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

LOGGER_NAME = "qualcode"
LEVELS = ("debug", "info", "warning", "error")
DEFAULT_LEVEL = "warning"

logger = logging.getLogger(LOGGER_NAME)


def log_path() -> Path:
    """``$QUALCODE_LOG`` if set, else ``$XDG_STATE_HOME/qualcode/qualcode.log`` (``~/.local/state``)."""
    explicit = os.environ.get("QUALCODE_LOG")
    if explicit:
        return Path(explicit).expanduser()
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "qualcode" / "qualcode.log"


class _FileOrStderr(logging.FileHandler):
    """A log file opened at the first record; where it cannot be opened (a folder this user may not
    write), records go to stderr instead, so an unexpected error is never lost behind another."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8", delay=True)
        self.fell_back = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.stream is None and not self.fell_back:
            try:
                self.stream = self._open()
            except OSError:
                self.fell_back = True
        if self.fell_back:
            logging.StreamHandler.emit(_stderr_handler(self.formatter), record)
            return
        super().emit(record)


def _stderr_handler(formatter: logging.Formatter | None) -> logging.StreamHandler:
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    return handler


_handler: logging.Handler | None = None
_handler_path: Path | None = None  # where _handler writes (None: stderr)


def configure(level: str | None = None) -> Path:
    """Send qualcode's log records to :func:`log_path` at ``level`` (once per process; a later
    call only changes the level). Returns the log file's path."""
    global _handler, _handler_path
    name = (level or os.environ.get("QUALCODE_LOG_LEVEL") or DEFAULT_LEVEL).lower()
    if name not in LEVELS:
        from .errors import QualcodeError

        raise QualcodeError(f"unknown log level {name!r} (choose from {', '.join(LEVELS)})")
    if _handler is None:
        path = log_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _handler = _FileOrStderr(path)
            _handler_path = path
        except OSError:  # a read-only home: log to stderr rather than not at all
            _handler = logging.StreamHandler()
        _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(_handler)
        logger.propagate = False
    logger.setLevel(name.upper())
    return _handler_path or Path("<stderr>")


def log_unexpected(exc: BaseException, context: str) -> Path:
    """Log a programming error with its traceback; returns where it went (the file the handler
    really writes to, even if the environment changed since), to tell the user."""
    if _handler is None:
        configure()
    logger.error("%s: unexpected %s", context, type(exc).__name__, exc_info=(type(exc), exc, exc.__traceback__))
    if isinstance(_handler, _FileOrStderr) and _handler.fell_back:
        return Path("<stderr>")
    return _handler_path or Path("<stderr>")


def reset() -> None:
    """Forget the handler, so the next :func:`configure` reads the environment again (tests)."""
    global _handler, _handler_path
    if _handler is not None:
        logger.removeHandler(_handler)
        _handler.close()
    _handler, _handler_path = None, None
