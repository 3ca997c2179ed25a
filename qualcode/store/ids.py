"""Small typed helpers where SQLModel's static types and the code's knowledge of the data part ways.

They exist so that mypy checks the core honestly without `# type: ignore` or casts scattered through it:
one place says why each gap exists and how it is bridged.
"""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy
from sqlalchemy.sql._typing import _ColumnsClauseArgument
from sqlmodel import SQLModel
from sqlmodel.sql.expression import Select


class _HasOptionalId(Protocol):
    @property
    def id(self) -> int | None: ...


def require_id(row: _HasOptionalId | int | None) -> int:
    """The primary key of a row known to be persisted (read from the database, or after `session.flush()`).

    SQLModel types every autoincrement primary key `int | None` because a new, unsaved object has none.
    Where the code knows the row is saved, a None id is a programming error, never bad user input,
    so this raises AssertionError instead of a QualcodeError. Also takes the id itself, as a query
    selecting the column (`select(Transcript.id, ...)`) returns it, typed `int | None` for the same reason.
    """
    row_id = row if row is None or isinstance(row, int) else row.id
    if row_id is None:
        raise AssertionError("a row has no id: it was never flushed to the database")
    return row_id


def wide_select(*columns: _ColumnsClauseArgument[Any]) -> Select[*tuple[Any, ...]]:
    """A SELECT of more than four columns, in one round trip, executed with `session.exec(...)`.

    `sqlmodel.select` has typed overloads for at most four columns, so mypy rejects a fifth. This builds the
    same object `sqlmodel.select` builds for several columns (sqlmodel's `Select`, which its `Session.exec`
    accepts) with rows typed as tuples of `Any` of any length; a plain `sqlalchemy.select` would run but does
    not match `Session.exec`'s typed overloads. Use this instead of splitting one query into several to please
    the type checker.
    """
    return Select(*columns)


def table_of(model: type[SQLModel]) -> sqlalchemy.Table:
    """The SQLAlchemy `Table` behind a table model (`Model.__table__`).

    SQLModel's class declares no `__table__` (the declarative machinery adds it at run time), so mypy rejects
    `Model.__table__`. The mapper's `local_table` is the same object, typed loosely as `FromClause`; a model
    defined with `table=True` always has a real `Table`, which this checks.
    """
    table = sqlalchemy.inspect(model).local_table
    if not isinstance(table, sqlalchemy.Table):
        raise AssertionError(f"{model.__name__} is not a table model (defined without table=True)")
    return table
