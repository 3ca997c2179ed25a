"""User-facing errors: one line, a non-zero exit status, nothing half-written."""

from __future__ import annotations


class QualcodeError(Exception):
    """An error the user can fix. ``str(err)`` is the one-line message shown by the CLI."""

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InputError(QualcodeError):
    """Bad input file or argument: names the file (and line) where there is one."""


class ProjectError(QualcodeError):
    """The project cannot be opened or is of an unsupported schema version."""


class BlindingError(QualcodeError):
    """A coder asked to see what blinding hides."""


def located(path: object, message: str, line: int | None = None) -> str:
    """Format ``file:line: message`` consistently for every parser."""
    where = f"{path}:{line}" if line is not None else f"{path}"
    return f"{where}: {message}"
