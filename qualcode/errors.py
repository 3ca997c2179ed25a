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


# A full disk, as drivers report it: SQLite's SQLITE_FULL, PostgreSQL's disk_full (SQLSTATE 53100).
_FULL_SQLITE = "SQLITE_FULL"
_FULL_SQLSTATE = "53100"


def storage_full(exc: BaseException) -> ProjectError | None:
    """A full disk behind ``exc`` (a driver error, possibly wrapped by SQLAlchemy) as one line the
    user can act on; None for any other error. The transaction was rolled back: nothing was saved."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "sqlite_errorname", None) == _FULL_SQLITE or (
            getattr(current, "sqlstate", None) == _FULL_SQLSTATE
        ):
            return ProjectError("the disk holding the project is full: nothing was saved (free some space, then retry)")
        if isinstance(current, OSError) and current.errno == 28:  # ENOSPC writing a file or a backup
            return ProjectError(
                f"no space left on the disk{f' for {current.filename}' if current.filename else ''}:"
                " nothing was saved (free some space, then retry)"
            )
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None
