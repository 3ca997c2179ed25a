"""The audit trail: every change to codings, codebooks and consensus leaves an event."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, overload

from sqlmodel import Session, SQLModel

from .models import AuditEvent


@overload
def row_dict(row: SQLModel) -> dict[str, Any]: ...
@overload
def row_dict(row: None) -> None: ...
@overload
def row_dict(row: SQLModel | None) -> dict[str, Any] | None: ...


def row_dict(row: SQLModel | None) -> dict[str, Any] | None:
    """A JSON-safe copy of a row's columns, for the before/after of an event."""
    if row is None:
        return None
    out: dict[str, Any] = {}
    for name in row.__class__.model_fields:
        value = getattr(row, name, None)
        if isinstance(value, (datetime, date)):
            value = value.isoformat()
        out[name] = value
    return out


def record(
    session: Session,
    actor: str,
    action: str,
    row: SQLModel | None = None,
    *,
    before: dict[str, Any] | SQLModel | None = None,
    after: dict[str, Any] | SQLModel | None = None,
    entity: str | None = None,
    entity_id: int | None = None,
) -> AuditEvent:
    """Add an event to ``session`` (committed with the change it describes).

    ``row`` is the changed row; ``after`` defaults to its current state.
    """
    if isinstance(before, SQLModel):
        before = row_dict(before)
    if isinstance(after, SQLModel):
        after = row_dict(after)
    if row is not None:
        entity = entity or getattr(row, "__tablename__", row.__class__.__name__)
        entity_id = entity_id if entity_id is not None else getattr(row, "id", None)
        if after is None and before is None:
            after = row_dict(row)
    event = AuditEvent(
        actor=actor or "", action=action, entity=entity or "", entity_id=entity_id, before=before, after=after
    )
    session.add(event)
    return event
