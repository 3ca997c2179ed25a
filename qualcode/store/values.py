"""User text checked once before it is stored, the same way on every engine.

SQLite stores a NUL character or a value longer than its column as given; PostgreSQL refuses both
with a driver error. Checking here first gives one clear line on both engines and keeps them alike.
"""

from __future__ import annotations

from ..errors import InputError, located
from .ids import table_of
from .models import TableModel


def column_length(model: type[TableModel], column: str) -> int | None:
    """The declared maximum length of ``model.column``, or None for unbounded text."""
    length = getattr(table_of(model).c[column].type, "length", None)  # String, and sqlmodel's AutoString
    return length if isinstance(length, int) else None


def text_problem(
    value: str | None, what: str, model: type[TableModel] | None = None, column: str | None = None
) -> str | None:
    """What is wrong with ``value`` for the column ``model.column`` (a NUL character, too long), or None."""
    if value is None:
        return None
    if "\x00" in value:
        return f"NUL character in {what}"
    if model is not None and column is not None:
        limit = column_length(model, column)
        if limit is not None and len(value) > limit:
            return f"{what} longer than {limit} characters"
    return None


def check_text(
    value: str | None,
    what: str,
    model: type[TableModel] | None = None,
    column: str | None = None,
    *,
    path: object = None,
    line: int | None = None,
) -> None:
    """Raise ``InputError`` naming ``what`` (and ``path:line`` where given) for a NUL character or a
    value longer than the column ``model.column``; ``None`` passes."""
    problem = text_problem(value, what, model, column)
    if problem is not None:
        raise InputError(located(path, problem, line) if path is not None else problem)
