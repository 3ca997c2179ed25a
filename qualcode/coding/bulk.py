"""Bulk writers for codings, consensus decisions and done marks, audited row by row as before.

A bulk operation (``codings import``, ``reconcile accept-agreed``) first checks everything it
will write, then writes in chunks of ``CHUNK_ROWS``: each chunk is one short transaction of a
few multi-row statements (rows, then their audit events), so on SQLite a coder's key never
queues behind the whole import, only behind one chunk. Each chunk re-checks, under its lock,
what is already stored and skips it, so an interrupted run is completed by running it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, func, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from ..store.access import Access
from ..store.ids import require_id, table_of, wide_select
from ..store.models import AuditEvent, Coding, ConsensusDecision, Segment, SegmentStatus, utcnow

CHUNK_ROWS = 2_000  # about 30-60 ms of writing on SQLite: a coder's key waits at most that long
# A breath between chunks, so a coder waiting for the write lock (polling every millisecond,
# see store.engine) gets it before the next chunk does: 50 pauses per 100,000 rows.
CHUNK_PAUSE_S = 0.005

T = TypeVar("T")


def chunks(items: Sequence[T], size: int = CHUNK_ROWS) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write_in_chunks(access: Access, items: Sequence[T], write: Callable[[Session, Sequence[T]], int]) -> int:
    """``write`` each chunk of ``items`` in a transaction of its own; returns the sum of what it returns."""
    total = 0
    for number, part in enumerate(chunks(items)):
        if number:
            time.sleep(CHUNK_PAUSE_S)
        with access.transaction() as session:
            total += write(session, part)
    return total


def _iso(value: datetime) -> str:
    return value.isoformat()


def _insert_ignoring_duplicates(session: Session, table: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING: a row another process wrote meanwhile is skipped, not an error."""
    dialect = session.connection().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()


AUDIT_COLUMNS = ("at", "actor", "action", "entity", "entity_id", "before", "after")


def _audit(session: Session, events: list[dict[str, Any]]) -> None:
    if not events:
        return
    table = table_of(AuditEvent)
    if session.connection().dialect.name == "sqlite":
        _sqlite_insert_many(session, table, AUDIT_COLUMNS, [tuple(e[c] for c in AUDIT_COLUMNS) for e in events])
    else:
        session.connection().execute(table.insert(), events)


def _sqlite_insert_many(session: Session, table: Any, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """INSERT through the SQLite driver's executemany, each value through its column's bind processor
    (dates, JSON) exactly as SQLAlchemy stores it, without SQLAlchemy's per-parameter work: that work
    was half of a 100,000-row import's time."""
    conn = session.connection()
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    names = ", ".join(quote(name) for name in columns)
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join('?' * len(columns))})"
    if any(processors):
        columns_of_values = [
            values if p is None else _processed_once_each(p, values)
            for p, values in zip(processors, zip(*rows, strict=True), strict=True)
        ]
        rows = list(zip(*columns_of_values, strict=True))
    conn.exec_driver_sql(sql, rows)


def _processed_once_each(processor: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    """``processor`` over ``values``, once per distinct object: a chunk's rows share one timestamp,
    one actor and ``None`` "before"s, so only the JSON "after"s are serialized one by one."""
    done: dict[int, Any] = {}  # by id(): the values stay alive in ``values`` meanwhile
    out = []
    for value in values:
        key = id(value)
        if key not in done:
            done[key] = processor(value)
        out.append(done[key])
    return out


# -- codings ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewCoding:
    segment_id: int
    code_id: int
    coder_id: int
    round: int
    quote_start: int | None
    quote_end: int | None
    source: str | None = None  # a CodingSource: how the coding was made

    @property
    def key(self) -> tuple[int, int, int, int]:
        return (self.segment_id, self.code_id, self.coder_id, self.round)


CODING_COLUMNS = ("segment_id", "code_id", "coder_id", "round", "quote_start", "quote_end", "source", "created_at")


def insert_codings(session: Session, actor: str, rows: Sequence[NewCoding], action: str = "coding.import") -> int:
    """Insert the codings not stored yet (same segment, code, coder and round), each with its audit event."""
    wanted: dict[tuple[int, int, int, int], NewCoding] = {}
    for row in rows:
        wanted.setdefault(row.key, row)  # a repeated row in one file is written once, as before
    if not wanted:
        return 0
    segment_ids = {row.segment_id for row in wanted.values()}
    stored = set(
        session.exec(
            select(Coding.segment_id, Coding.code_id, Coding.coder_id, Coding.round).where(
                col(Coding.segment_id).in_(segment_ids)
            )
        ).all()
    )
    now = utcnow()
    params = [
        {
            "segment_id": r.segment_id,
            "code_id": r.code_id,
            "coder_id": r.coder_id,
            "round": r.round,
            "quote_start": r.quote_start,
            "quote_end": r.quote_end,
            "source": r.source,
            "created_at": now,
        }
        for key, r in wanted.items()
        if key not in stored
    ]
    if not params:
        return 0
    table = table_of(Coding)
    returned = (table.c.id, table.c.segment_id, table.c.code_id, table.c.coder_id, table.c.round)
    inserted: Sequence[Any]
    if session.connection().dialect.name == "sqlite":
        # The chunk holds the write lock (BEGIN IMMEDIATE) since it read what is stored: nobody else can
        # insert meanwhile, so every row goes in, and the new rows are those above the highest id before.
        highest = session.exec(select(func.max(col(Coding.id)))).one() or 0
        _sqlite_insert_many(session, table, CODING_COLUMNS, [tuple(p[c] for c in CODING_COLUMNS) for p in params])
        inserted = session.exec(wide_select(*returned).where(table.c.id > highest)).all()
    else:
        stmt = _insert_ignoring_duplicates(session, table).returning(*returned)
        inserted = session.connection().execute(stmt, params).all()
    by_key = {(p["segment_id"], p["code_id"], p["coder_id"], p["round"]): p for p in params}
    events = []
    for coding_id, segment_id, code_id, coder_id, round_ in inserted:
        p = by_key[(segment_id, code_id, coder_id, round_)]
        after = {"id": coding_id, **p, "created_at": _iso(now)}
        events.append(_event(actor, action, "qc_coding", coding_id, None, after, now))
    _audit(session, events)
    return len(inserted)


def _event(
    actor: str, action: str, entity: str, entity_id: int, before: Any, after: Any, at: datetime
) -> dict[str, Any]:
    return {
        "at": at,
        "actor": actor or "",
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "before": before,
        "after": after,
    }


# -- done marks -------------------------------------------------------------------------------


def mark_transcripts_done(session: Session, finished: Iterable[tuple[int, int, int]]) -> None:
    """Mark every segment of each ``(transcript id, coder id, round)`` done for that coder, where not yet."""
    now = utcnow()
    params: list[dict[str, Any]] = []
    for transcript_id, coder_id, round_ in sorted(finished):
        seg_ids = list(session.exec(select(Segment.id).where(Segment.transcript_id == transcript_id)).all())
        have = set(
            session.exec(
                select(SegmentStatus.segment_id)
                .join(Segment, col(Segment.id) == SegmentStatus.segment_id)
                .where(
                    SegmentStatus.coder_id == coder_id,
                    SegmentStatus.round == round_,
                    Segment.transcript_id == transcript_id,
                )
            ).all()
        )
        params += [
            {"segment_id": sid, "coder_id": coder_id, "round": round_, "done_at": now}
            for sid in seg_ids
            if sid not in have
        ]
    if params:
        session.connection().execute(_insert_ignoring_duplicates(session, table_of(SegmentStatus)), params)


# -- consensus decisions ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewDecision:
    segment_id: int
    code_id: int
    present: bool
    method: str
    round: int
    quote_start: int | None = None
    quote_end: int | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.segment_id, self.code_id)


DECISION_FIELDS = ("present", "method", "round", "decided_by", "quote_start", "quote_end", "decided_at")


def _decision_dict(row_id: int, segment_id: int, code_id: int, state: dict[str, Any]) -> dict[str, Any]:
    """As ``audit.row_dict`` writes a decision (its columns in model order, dates as ISO text)."""
    out: dict[str, Any] = {"id": row_id, "segment_id": segment_id, "code_id": code_id}
    for name in ("present", "method", "round", "decided_by", "quote_start", "quote_end"):
        out[name] = state[name]
    out["decided_at"] = _iso(state["decided_at"])
    return out


def stored_decisions(session: Session, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], ConsensusDecision]:
    keys = list(keys)
    if not keys:
        return {}
    rows = session.exec(
        select(ConsensusDecision).where(
            tuple_(col(ConsensusDecision.segment_id), col(ConsensusDecision.code_id)).in_(keys)
        )
    ).all()
    return {(r.segment_id, r.code_id): r for r in rows}


def write_decisions(
    session: Session,
    actor: str,
    decisions: Sequence[NewDecision],
    keep: Callable[[ConsensusDecision], bool] | None = None,
) -> int:
    """Set (or overwrite) each decision, audited one event per decision as ``write_decision`` does.

    ``keep(stored)`` true leaves a stored decision alone (``accept_agreed`` never overwrites a
    decision that is not "agreed"). Returns how many decisions were written.
    """
    if not decisions:
        return 0
    stored = stored_decisions(session, {d.key for d in decisions})
    chosen = [d for d in decisions if not (keep and d.key in stored and keep(stored[d.key]))]
    if not chosen:
        return 0
    now = utcnow()
    # Each key's state before this call, for the audit's "before" (read before the update below).
    previous: dict[tuple[int, int], dict[str, Any] | None] = {
        k: _decision_dict(require_id(r), k[0], k[1], _stored_state(r)) for k, r in stored.items()
    }
    final: dict[tuple[int, int], dict[str, Any]] = {}
    for d in chosen:  # the last decision on a key is the one that stays
        final[d.key] = _state(d, actor, now)
    new_keys = [k for k in final if k not in stored]
    ids = {k: require_id(r) for k, r in stored.items()}
    if new_keys:
        table = table_of(ConsensusDecision)
        stmt = table.insert().returning(table.c.id, table.c.segment_id, table.c.code_id, sort_by_parameter_order=True)
        params = [{"segment_id": k[0], "code_id": k[1], **final[k]} for k in new_keys]
        for row_id, segment_id, code_id in session.connection().execute(stmt, params).all():
            ids[(segment_id, code_id)] = row_id
    updates = [{"row_id": ids[k], **final[k]} for k in final if k in stored]
    if updates:
        table = table_of(ConsensusDecision)
        update = (
            table.update()
            .where(table.c.id == bindparam("row_id"))
            .values({name: bindparam(name) for name in DECISION_FIELDS})
        )
        session.connection().execute(update, updates)
        for k in final:
            if k in stored:
                session.expire(stored[k])
    # One event per decision, in order: each one's "before" is the previous state of its key.
    events = []
    for d in chosen:
        row_id = ids[d.key]
        after = _decision_dict(row_id, d.segment_id, d.code_id, _state(d, actor, now))
        events.append(_event(actor, "consensus.decide", "qc_consensus", row_id, previous.get(d.key), after, now))
        previous[d.key] = after
    _audit(session, events)
    return len(chosen)


def _state(d: NewDecision, actor: str, now: datetime) -> dict[str, Any]:
    return {
        "present": d.present,
        "method": d.method,
        "round": d.round,
        "decided_by": actor,
        "quote_start": d.quote_start,
        "quote_end": d.quote_end,
        "decided_at": now,
    }


def _stored_state(row: ConsensusDecision) -> dict[str, Any]:
    return {name: getattr(row, name) for name in DECISION_FIELDS}
