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


_handler: logging.Handler | None = None


def configure(level: str | None = None) -> Path:
    """Send qualcode's log records to :func:`log_path` at ``level`` (once per process; a later
    call only changes the level). Returns the log file's path."""
    global _handler
    name = (level or os.environ.get("QUALCODE_LOG_LEVEL") or DEFAULT_LEVEL).lower()
    if name not in LEVELS:
        from .errors import QualcodeError

        raise QualcodeError(f"unknown log level {name!r} (choose from {', '.join(LEVELS)})")
    path = log_path()
    if _handler is None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _handler = logging.FileHandler(path, encoding="utf-8", delay=True)
        except OSError:  # a read-only home: log to stderr rather than not at all
            _handler = logging.StreamHandler()
        _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(_handler)
        logger.propagate = False
    logger.setLevel(name.upper())
    return path


def log_unexpected(exc: BaseException, context: str) -> Path:
    """Log a programming error with its traceback; returns where, to tell the user."""
    path = configure() if _handler is None else log_path()
    logger.error("%s: unexpected %s", context, type(exc).__name__, exc_info=(type(exc), exc, exc.__traceback__))
    return path
