"""Bulk writers for codings, consensus decisions and done marks, audited row by row as before.

A bulk operation (``codings import``, ``reconcile accept-agreed``) first checks everything it
will write, then writes in chunks: each chunk is one short transaction of a few multi-row
statements (rows, then their audit events), so on SQLite a coder's key never queues behind the
whole import, only behind one chunk. On SQLite chunks are bounded in time, not rows: each one aims
at ``TARGET_CHUNK_S`` of work under the write lock, sized from how long the previous one took, so a
slow or loaded machine writes smaller chunks instead of making coders wait longer. (PostgreSQL has
no such lock: ``SERVER_CHUNK_ROWS`` rows a chunk.) What can be
prepared without the lock (the rows' values, their audit JSON) is prepared between chunks. Each
chunk re-checks, under its lock, what is already stored and skips it, so an interrupted run is
completed by running it again.

On SQLite the rows go through the driver's ``executemany`` with every value converted once the
way SQLAlchemy's column types store it (dates, JSON), and each audit event's JSON is the text
``json.dumps`` writes for it (tests/test_bulk_speed_semantics.py holds both to that).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol, TypeVar

from sqlalchemy import bindparam, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from ..store.access import Access
from ..store.ids import require_id, table_of
from ..store.models import AuditEvent, Coding, ConsensusDecision, Segment, SegmentStatus, utcnow

# Each chunk aims at this much work while holding the write lock: a coder's key that arrives
# during a chunk waits at most about that long (plus its own transaction).
TARGET_CHUNK_S = 0.02
FIRST_CHUNK_ROWS = 250  # the first chunk measures the machine; the next ones follow from it
MIN_CHUNK_ROWS = 25
MAX_CHUNK_ROWS = 5_000
CHUNK_ROWS = MAX_CHUNK_ROWS  # the most rows one chunk ever writes
SERVER_CHUNK_ROWS = 2_000  # PostgreSQL: chunks of rows, not of time (see write_in_chunks)
# A breath between chunks, so a coder waiting for the write lock (polling every millisecond,
# see store.engine) gets it before the next chunk does.
CHUNK_PAUSE_S = 0.002

T = TypeVar("T")
_clock, _pause = time.perf_counter, time.sleep  # (tests replace them)


def chunks(items: Sequence[T], size: int = CHUNK_ROWS) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def next_chunk_rows(rows: int, seconds: float) -> int:
    """How many rows the next chunk writes, after ``rows`` took ``seconds``: about ``TARGET_CHUNK_S``
    of work at the rate just measured, growing at most twofold at a time."""
    if seconds <= 0:
        return min(MAX_CHUNK_ROWS, rows * 2)
    wanted = int(rows * TARGET_CHUNK_S / seconds)
    return max(MIN_CHUNK_ROWS, min(MAX_CHUNK_ROWS, rows * 2, wanted))


def write_in_chunks(
    access: Access,
    items: Sequence[T],
    write: Callable[[Session, Any], int],
    prepare: Callable[[Sequence[T]], Any] | None = None,
) -> int:
    """``write`` each chunk of ``items`` in a transaction of its own; returns the sum of what it returns.

    ``prepare(part)``, when given, runs before the chunk's transaction (without the lock) and
    ``write`` gets what it returns instead of the part itself.
    """
    total = 0
    start = 0
    size = FIRST_CHUNK_ROWS
    while start < len(items):
        part = items[start : start + size]
        work = prepare(part) if prepare is not None else part
        if start:
            _pause(CHUNK_PAUSE_S)
        with access.transaction() as session:
            session.connection()  # takes the write lock (BEGIN IMMEDIATE on SQLite): waiting for it is not work
            began = _clock()
            total += write(session, work)
            bounded = _is_sqlite(session)
        if bounded:
            size = next_chunk_rows(len(part), _clock() - began)  # the chunk's work and its commit
        else:
            # PostgreSQL has no database-wide write lock for a coder's key to wait behind (rows are
            # locked, not the file), and each commit waits for the server's log flush: larger chunks.
            size = SERVER_CHUNK_ROWS
        start += len(part)
    return total


def _iso(value: datetime) -> str:
    return value.isoformat()


def _is_sqlite(session: Session) -> bool:
    return session.connection().dialect.name == "sqlite"


def _insert_ignoring_duplicates(session: Session, table: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING: a row another process wrote meanwhile is skipped, not an error."""
    dialect = session.connection().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()


AUDIT_COLUMNS = ("at", "actor", "action", "entity", "entity_id", "before", "after")


def _audit(session: Session, events: list[dict[str, Any]]) -> None:
    """Audit events given as dicts (the PostgreSQL paths; SQLite's bulk writers use ``_sqlite_audit_rows``)."""
    if not events:
        return
    table = table_of(AuditEvent)
    if _is_sqlite(session):
        _sqlite_insert_many(session, table, AUDIT_COLUMNS, [tuple(e[c] for c in AUDIT_COLUMNS) for e in events])
    else:
        session.connection().execute(table.insert(), events)


def _sqlite_insert_many(session: Session, table: Any, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """INSERT through the SQLite driver's executemany, each value through its column's bind processor
    (dates, JSON) exactly as SQLAlchemy stores it, without SQLAlchemy's per-parameter work."""
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
    """``processor`` over ``values``, once per distinct object (a shared timestamp, actor, ``None``)."""
    done: dict[int, Any] = {}  # by id(): the values stay alive in ``values`` meanwhile
    out = []
    for value in values:
        key = id(value)
        if key not in done:
            done[key] = processor(value)
        out.append(done[key])
    return out


def _bind(session: Session, table: Any, column: str) -> Callable[[Any], Any]:
    """The function SQLAlchemy stores a value of ``table.column`` with (identity where it has none)."""
    dialect = session.connection().dialect
    processor = table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    return processor if processor is not None else (lambda value: value)


def _result(session: Session, table: Any, column: str) -> Callable[[Any], Any]:
    """The function SQLAlchemy reads a stored value of ``table.column`` back with."""
    dialect = session.connection().dialect
    processor = table.c[column].type.dialect_impl(dialect).result_processor(dialect, None)
    return processor if processor is not None else (lambda value: value)


def _sqlite_audit_rows(
    session: Session, at: datetime, actor: str, action: str, entity: str, rows: list[tuple[int, Any, str]]
) -> None:
    """Audit events ``(entity id, before, after JSON text)`` sharing one time, actor and action, on SQLite:
    ``before`` is JSON text or None (stored as JSON ``null``, as SQLAlchemy stores a None)."""
    if not rows:
        return
    table = table_of(AuditEvent)
    at_text = _bind(session, table, "at")(at)
    null = _bind(session, table, "before")(None)
    head = (at_text, actor or "", action, entity)
    session.connection().exec_driver_sql(
        'INSERT INTO qc_audit (at, actor, action, entity, entity_id, "before", "after") VALUES (?, ?, ?, ?, ?, ?, ?)',
        [(*head, entity_id, null if before is None else before, after) for entity_id, before, after in rows],
    )


def _json_value(value: Any) -> str:
    """``value`` as ``json.dumps`` writes it, quicker for the whole numbers and None a row holds."""
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    return json.dumps(value)


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


# A coding to write as a plain tuple, in this order (the first four are its key).
CodingRow = tuple[int, int, int, int, int | None, int | None, str | None]
CODING_COLUMNS = ("segment_id", "code_id", "coder_id", "round", "quote_start", "quote_end", "source", "created_at")


@dataclass(frozen=True, slots=True)
class PreparedCodings:
    """A chunk of codings made ready to write without the lock: each distinct key once, with the
    text of its audit event's JSON after the id (``{"id": `` + id + ``tail``)."""

    actor: str
    action: str
    now: datetime
    rows: list[CodingRow]
    tails: list[str]


def prepare_codings(actor: str, rows: Sequence[CodingRow], action: str = "coding.import") -> PreparedCodings:
    wanted: dict[tuple[int, int, int, int], CodingRow] = {}
    for row in rows:
        wanted.setdefault(row[:4], row)  # a repeated row in one file is written once, as before
    now = utcnow()
    created = json.dumps(_iso(now))
    sources: dict[str | None, str] = {}
    tails = []
    for segment_id, code_id, coder_id, round_, quote_start, quote_end, source in wanted.values():
        if source not in sources:
            sources[source] = json.dumps(None if source is None else str(source))
        tails.append(
            f', "segment_id": {_json_value(segment_id)}, "code_id": {_json_value(code_id)}, '
            f'"coder_id": {_json_value(coder_id)}, "round": {_json_value(round_)}, '
            f'"quote_start": {_json_value(quote_start)}, "quote_end": {_json_value(quote_end)}, '
            f'"source": {sources[source]}, "created_at": {created}}}'
        )
    return PreparedCodings(actor, action, now, list(wanted.values()), tails)


def insert_codings(session: Session, actor: str, rows: Sequence[NewCoding], action: str = "coding.import") -> int:
    """Insert the codings not stored yet (same segment, code, coder and round), each with its audit event."""
    plain = [(r.segment_id, r.code_id, r.coder_id, r.round, r.quote_start, r.quote_end, r.source) for r in rows]
    return write_codings(session, prepare_codings(actor, plain, action))


def write_codings(session: Session, prepared: PreparedCodings) -> int:
    """Write a prepared chunk of codings: those not stored yet, each with its audit event. Returns how many."""
    if not prepared.rows:
        return 0
    session.flush()  # the caller's pending objects first, as a query through the session would
    if _is_sqlite(session):
        return _sqlite_write_codings(session, prepared)
    if session.connection().dialect.driver == "psycopg":
        return _postgres_copy_codings(session, prepared)
    return _write_codings_returning(session, prepared)


# PostgreSQL: a chunk is COPYed into a temporary table, then moved with one INSERT ... SELECT ...
# ON CONFLICT DO NOTHING RETURNING, and its audit events COPYed: three statements a chunk instead
# of a round of INSERTs (6,000 rows/s before). The table is emptied at every commit.
_STAGING = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS qc_coding_staged (n integer, segment_id integer, code_id integer,"
    " coder_id integer, round integer, quote_start integer, quote_end integer, source varchar(20))"
    " ON COMMIT DELETE ROWS"
)


def _postgres_copy_codings(session: Session, p: PreparedCodings) -> int:
    """The codings not stored yet (a row another process stored meanwhile is skipped), in the
    chunk's order, each with the same audit event as the other paths."""
    driver = session.connection().connection.driver_connection
    assert driver is not None  # an invalidated connection would have failed the session already
    with driver.cursor() as cursor:
        if not cursor.execute("SELECT has_database_privilege(current_database(), 'TEMPORARY')").fetchone()[0]:
            return _write_codings_returning(session, p)  # a role that may not stage: one statement a row
        cursor.execute(_STAGING)
        cursor.execute("DELETE FROM qc_coding_staged")  # a chunk earlier in this same transaction
        with cursor.copy(
            "COPY qc_coding_staged (n, segment_id, code_id, coder_id, round, quote_start, quote_end, source) FROM STDIN"
        ) as copy:
            for n, row in enumerate(p.rows):
                copy.write_row((n, *row))
        inserted = cursor.execute(
            "INSERT INTO qc_coding (segment_id, code_id, coder_id, round, quote_start, quote_end, source, created_at)"
            " SELECT segment_id, code_id, coder_id, round, quote_start, quote_end, source, %s"
            " FROM qc_coding_staged ORDER BY n"
            " ON CONFLICT (segment_id, code_id, coder_id, round) DO NOTHING"
            " RETURNING id, segment_id, code_id, coder_id, round",
            (p.now,),
        ).fetchall()
        if not inserted:
            return 0
        tails = {row[:4]: tail for row, tail in zip(p.rows, p.tails, strict=True)}
        with cursor.copy('COPY qc_audit (at, actor, action, entity, entity_id, "before", "after") FROM STDIN') as copy:
            for coding_id, *key in sorted(inserted):
                after = '{"id": ' + str(coding_id) + tails[tuple(key)]
                copy.write_row((p.now, p.actor, p.action, "qc_coding", coding_id, None, after))
    return len(inserted)


def _sqlite_write_codings(session: Session, p: PreparedCodings) -> int:
    conn = session.connection()
    segment_ids = json.dumps(sorted({row[0] for row in p.rows}))
    stored = set(
        conn.exec_driver_sql(
            "SELECT segment_id, code_id, coder_id, round FROM qc_coding"
            " WHERE segment_id IN (SELECT value FROM json_each(?))",
            (segment_ids,),
        ).all()
    )
    # The chunk holds the write lock (BEGIN IMMEDIATE) since it read what is stored: nobody else can
    # insert meanwhile, and SQLite would number the new rows from the highest id up, as they are here.
    highest = conn.exec_driver_sql("SELECT max(id) FROM qc_coding").scalar() or 0
    created = _bind(session, table_of(Coding), "created_at")(p.now)
    codings = []
    audits = []
    next_id = highest
    for row, tail in zip(p.rows, p.tails, strict=True):
        if row[:4] in stored:
            continue
        next_id += 1
        codings.append((next_id, *row, created))
        audits.append((next_id, None, '{"id": ' + str(next_id) + tail))
    if not codings:
        return 0
    conn.exec_driver_sql(
        "INSERT INTO qc_coding (id, segment_id, code_id, coder_id, round, quote_start, quote_end, source, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        codings,
    )
    _sqlite_audit_rows(session, p.now, p.actor, p.action, "qc_coding", audits)
    return len(codings)


def _write_codings_returning(session: Session, p: PreparedCodings) -> int:
    """PostgreSQL: INSERT ... ON CONFLICT DO NOTHING RETURNING, so a row another process stored meanwhile is skipped."""
    segment_ids = {row[0] for row in p.rows}
    stored = set(
        session.exec(
            select(Coding.segment_id, Coding.code_id, Coding.coder_id, Coding.round).where(
                col(Coding.segment_id).in_(segment_ids)
            )
        ).all()
    )
    params = [dict(zip(CODING_COLUMNS, (*row, p.now), strict=True)) for row in p.rows if row[:4] not in stored]
    if not params:
        return 0
    table = table_of(Coding)
    returned = (table.c.id, table.c.segment_id, table.c.code_id, table.c.coder_id, table.c.round)
    stmt = _insert_ignoring_duplicates(session, table).returning(*returned)
    inserted = session.connection().execute(stmt, params).all()
    by_key = {(q["segment_id"], q["code_id"], q["coder_id"], q["round"]): q for q in params}
    events = []
    for coding_id, segment_id, code_id, coder_id, round_ in inserted:
        q = by_key[(segment_id, code_id, coder_id, round_)]
        after = {"id": coding_id, **q, "created_at": _iso(p.now)}
        events.append(_event(p.actor, p.action, "qc_coding", coding_id, None, after, p.now))
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

DoneMark = tuple[int, int, int]  # (segment id, coder id, round)


def missing_done_marks(session: Session, finished: Iterable[tuple[int, int, int]]) -> list[DoneMark]:
    """The done marks that finishing each ``(transcript id, coder id, round)`` adds: every segment of
    the transcript not yet marked done for that coder in that round. Two queries in all."""
    wanted = sorted(set(finished))
    if not wanted:
        return []
    transcript_ids = sorted({t for t, _, _ in wanted})
    segments: dict[int, list[int]] = {t: [] for t in transcript_ids}
    have: set[tuple[int, int, int, int]] = set()  # (transcript, coder, round, segment)
    for part in chunks(transcript_ids, 500):
        for segment_id, transcript_id in session.exec(
            select(Segment.id, Segment.transcript_id)
            .where(col(Segment.transcript_id).in_(part))
            .order_by(col(Segment.id))
        ).all():
            segments[transcript_id].append(require_id(segment_id))
        for segment_id, transcript_id, coder_id, round_ in session.exec(
            select(SegmentStatus.segment_id, Segment.transcript_id, SegmentStatus.coder_id, SegmentStatus.round)
            .join(Segment, col(Segment.id) == SegmentStatus.segment_id)
            .where(col(Segment.transcript_id).in_(part))
        ).all():
            have.add((transcript_id, coder_id, round_, segment_id))
    return [
        (segment_id, coder_id, round_)
        for transcript_id, coder_id, round_ in wanted
        for segment_id in segments[transcript_id]
        if (transcript_id, coder_id, round_, segment_id) not in have
    ]


def write_done_marks(session: Session, marks: Sequence[DoneMark]) -> int:
    """Store ``marks`` (a mark another process stored meanwhile is skipped); returns how many were given."""
    if not marks:
        return 0
    now = utcnow()
    table = table_of(SegmentStatus)
    if _is_sqlite(session):
        session.flush()
        done_at = _bind(session, table, "done_at")(now)
        session.connection().exec_driver_sql(
            "INSERT INTO qc_segment_status (segment_id, coder_id, round, done_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            [(*mark, done_at) for mark in marks],
        )
    else:
        params = [{"segment_id": s, "coder_id": c, "round": r, "done_at": now} for s, c, r in marks]
        session.connection().execute(_insert_ignoring_duplicates(session, table), params)
    return len(marks)


def mark_transcripts_done(session: Session, finished: Iterable[tuple[int, int, int]]) -> None:
    """Mark every segment of each ``(transcript id, coder id, round)`` done for that coder, where not yet."""
    write_done_marks(session, missing_done_marks(session, finished))


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


class DecisionState(Protocol):
    """What ``keep`` looks at in a stored decision."""

    @property
    def present(self) -> bool: ...

    @property
    def method(self) -> str: ...


class StoredDecision(NamedTuple):
    """A stored consensus decision as read for a bulk write (values as the model reads them back)."""

    id: int
    segment_id: int
    code_id: int
    present: bool
    method: str
    round: int
    decided_by: str
    quote_start: int | None
    quote_end: int | None
    decided_at: datetime


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


@dataclass(frozen=True, slots=True)
class PreparedDecisions:
    """A chunk of decisions made ready to write without the lock, with each one's audit JSON after its id."""

    actor: str
    now: datetime
    decisions: Sequence[NewDecision]
    tails: list[str]


def prepare_decisions(actor: str, decisions: Sequence[NewDecision]) -> PreparedDecisions:
    now = utcnow()
    decided_at = json.dumps(_iso(now))
    decided_by = json.dumps(actor)
    methods: dict[str, str] = {}
    tails = []
    for d in decisions:
        if d.method not in methods:
            methods[d.method] = json.dumps(d.method)
        tails.append(
            f', "segment_id": {_json_value(d.segment_id)}, "code_id": {_json_value(d.code_id)}, '
            f'"present": {_json_value(d.present)}, "method": {methods[d.method]}, "round": {_json_value(d.round)}, '
            f'"decided_by": {decided_by}, "quote_start": {_json_value(d.quote_start)}, '
            f'"quote_end": {_json_value(d.quote_end)}, "decided_at": {decided_at}}}'
        )
    return PreparedDecisions(actor, now, decisions, tails)


def write_decisions(
    session: Session,
    actor: str,
    decisions: Sequence[NewDecision],
    keep: Callable[[DecisionState], bool] | None = None,
) -> int:
    """Set (or overwrite) each decision, audited one event per decision as ``write_decision`` does.

    ``keep(stored)`` true leaves a stored decision alone (``accept_agreed`` never overwrites a
    decision that is not "agreed"). Returns how many decisions were written.
    """
    return write_prepared_decisions(session, prepare_decisions(actor, decisions), keep)


def write_prepared_decisions(
    session: Session, prepared: PreparedDecisions, keep: Callable[[DecisionState], bool] | None = None
) -> int:
    """``write_decisions`` of a chunk ``prepare_decisions`` made ready."""
    if not prepared.decisions:
        return 0
    if _is_sqlite(session):
        session.flush()
        return _sqlite_write_decisions(session, prepared, keep)
    return _write_decisions_orm(session, prepared.actor, prepared.decisions, keep, prepared.now)


def _sqlite_write_decisions(
    session: Session, p: PreparedDecisions, keep: Callable[[DecisionState], bool] | None
) -> int:
    conn = session.connection()
    table = table_of(ConsensusDecision)
    keys = {d.key for d in p.decisions}
    as_bool, as_datetime = _result(session, table, "present"), _result(session, table, "decided_at")
    stored: dict[tuple[int, int], StoredDecision] = {}
    for row_id, segment_id, code_id, present, method, round_, by, quote_start, quote_end, at in conn.exec_driver_sql(
        "SELECT id, segment_id, code_id, present, method, round, decided_by, quote_start, quote_end, decided_at"
        " FROM qc_consensus WHERE segment_id IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted({k[0] for k in keys})),),
    ).all():
        if (segment_id, code_id) in keys:
            stored[(segment_id, code_id)] = StoredDecision(
                row_id,
                segment_id,
                code_id,
                as_bool(present),
                method,
                round_,
                by,
                quote_start,
                quote_end,
                as_datetime(at),
            )
    chosen = [
        (d, tail)
        for d, tail in zip(p.decisions, p.tails, strict=True)
        if not (keep and d.key in stored and keep(stored[d.key]))
    ]
    if not chosen:
        return 0
    as_json = _bind(session, table_of(AuditEvent), "before")
    # Each key's state before this call, for the audit's "before" (JSON text).
    previous: dict[tuple[int, int], str] = {
        k: as_json(_decision_dict(r.id, k[0], k[1], r._asdict())) for k, r in stored.items()
    }
    final: dict[tuple[int, int], NewDecision] = {}
    for d, _ in chosen:  # the last decision on a key is the one that stays
        final[d.key] = d
    ids = {k: r.id for k, r in stored.items()}
    present_value, decided_at = _bind(session, table, "present"), _bind(session, table, "decided_at")(p.now)

    def values(d: NewDecision) -> tuple[Any, ...]:
        return (present_value(d.present), d.method, d.round, p.actor, d.quote_start, d.quote_end, decided_at)

    new_keys = [k for k in final if k not in stored]
    if new_keys:
        # Under the write lock SQLite would number the new rows from the highest id up, as they are here.
        next_id = conn.exec_driver_sql("SELECT max(id) FROM qc_consensus").scalar() or 0
        rows = []
        for k in new_keys:
            next_id += 1
            ids[k] = next_id
            rows.append((next_id, *k, *values(final[k])))
        conn.exec_driver_sql(
            f"INSERT INTO qc_consensus (id, segment_id, code_id, {', '.join(DECISION_FIELDS)})"
            f" VALUES ({', '.join('?' * (3 + len(DECISION_FIELDS)))})",
            rows,
        )
    updates = [(*values(d), ids[k]) for k, d in final.items() if k in stored]
    if updates:
        conn.exec_driver_sql(
            f"UPDATE qc_consensus SET {', '.join(f'{c} = ?' for c in DECISION_FIELDS)} WHERE id = ?", updates
        )
        for obj in list(session.identity_map.values()):  # objects the caller holds are read again
            if isinstance(obj, ConsensusDecision):
                session.expire(obj)
    # One event per decision, in order: each one's "before" is the previous state of its key.
    events = []
    for d, tail in chosen:
        row_id = ids[d.key]
        after = '{"id": ' + str(row_id) + tail
        events.append((row_id, previous.get(d.key), after))
        previous[d.key] = after
    _sqlite_audit_rows(session, p.now, p.actor, "consensus.decide", "qc_consensus", events)
    return len(chosen)


def _write_decisions_orm(
    session: Session,
    actor: str,
    decisions: Sequence[NewDecision],
    keep: Callable[[DecisionState], bool] | None,
    now: datetime,
) -> int:
    """PostgreSQL: the decisions through SQLAlchemy (INSERT ... RETURNING, an executemany UPDATE)."""
    stored = stored_decisions(session, {d.key for d in decisions})
    chosen = [d for d in decisions if not (keep and d.key in stored and keep(stored[d.key]))]
    if not chosen:
        return 0
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
