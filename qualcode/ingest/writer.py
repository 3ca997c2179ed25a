"""Writing imported rows fast: one connection for a batch, one transaction per transcript.

At import scale SQLAlchemy's per-statement bookkeeping (session flush, cache keys,
parameter construction) costs more than the rows themselves, so the statements here
are Core constructs compiled once per dialect and run on the driver's own cursor.
Column types still convert values (JSON, timestamps) exactly as SQLAlchemy would,
so what is stored is the same as through the ORM.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Sequence

from sqlalchemy import bindparam, exc as sa_exc, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from ..store.models import AuditEvent, Case, Segment, Speaker, Transcript, utcnow

TRANSCRIPT_COLUMNS = ("title", "kind", "case_id", "date", "source_name", "source_format", "content_hash", "unit",
                      "text", "created_at")
SPEAKER_COLUMNS = ("transcript_id", "label", "role", "pseudonym", "attributes")
SEGMENT_COLUMNS = ("transcript_id", "position", "start", "end", "speaker_id", "unit", "time_start", "time_end")
AUDIT_COLUMNS = ("at", "actor", "action", "entity", "entity_id", "before", "after")


class DriverStatement:
    """A Core statement compiled for one dialect, taking values as tuples in ``keys`` order."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: Sequence[str], *, insert_columns: bool = False):
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if insert_columns else None)
        self.sql = compiled.string
        self.keys = tuple(keys)
        order = compiled.positiontup  # None for named paramstyles (psycopg)
        self.named = order is None
        if not self.named and sorted(order) != sorted(self.keys):
            raise ValueError(f"statement binds {order}, caller gives {self.keys}")
        self.index = None if self.named or tuple(order) == self.keys else [self.keys.index(k) for k in order]
        bind_types = {name: bind.type for name, bind in compiled.binds.items()}
        self.processors = [(i, p) for i, key in enumerate(self.keys)
                           if (p := bind_types[key].dialect_impl(dialect).bind_processor(dialect)) is not None]
        # Processors that leave NULL alone need not run over a column that is all NULL.
        self._keeps_null = {i for i, p in self.processors if p(None) is None}

    def params(self, values: Sequence[Any], processors: list | None = None) -> Sequence[Any] | dict[str, Any]:
        processors = self.processors if processors is None else processors
        if processors:
            values = list(values)
            for i, process in processors:
                values[i] = process(values[i])
        if self.named:
            return dict(zip(self.keys, values))
        return values if self.index is None else [values[i] for i in self.index]

    def many(self, rows: list[tuple]) -> list:
        """Parameters for ``executemany``; plain tuples pass through untouched when they can."""
        processors = [(i, p) for i, p in self.processors
                      if i not in self._keeps_null or any(row[i] is not None for row in rows)]
        if not processors and not self.named and self.index is None:
            return rows
        return [self.params(row, processors) for row in rows]


def _statements(dialect: Dialect) -> dict[str, DriverStatement]:
    transcript, speaker, segment_table = Transcript.__table__, Speaker.__table__, Segment.__table__
    tc = transcript.c
    return {
        "duplicate": DriverStatement(select(tc.title).where(tc.content_hash == bindparam("h")), dialect, ["h"]),
        "title_in_case": DriverStatement(
            select(tc.id).where(tc.title == bindparam("t"), tc.case_id == bindparam("c")), dialect, ["t", "c"]),
        "title_no_case": DriverStatement(
            select(tc.id).where(tc.title == bindparam("t"), tc.case_id.is_(None)), dialect, ["t"]),
        "case": DriverStatement(select(Case.__table__.c.id).where(Case.__table__.c.name == bindparam("n")), dialect, ["n"]),
        "new_case": DriverStatement(insert(Case.__table__).returning(Case.__table__.c.id), dialect,
                                    ["name", "description", "created_at"], insert_columns=True),
        "transcript": DriverStatement(insert(transcript).returning(tc.id), dialect, TRANSCRIPT_COLUMNS, insert_columns=True),
        "speaker": DriverStatement(insert(speaker), dialect, SPEAKER_COLUMNS, insert_columns=True),
        "speaker_ids": DriverStatement(
            select(speaker.c.label, speaker.c.id).where(speaker.c.transcript_id == bindparam("t")), dialect, ["t"]),
        "segment": DriverStatement(insert(segment_table), dialect, SEGMENT_COLUMNS, insert_columns=True),
        "audit": DriverStatement(insert(AuditEvent.__table__), dialect, AUDIT_COLUMNS, insert_columns=True),
    }


def _copy_statement(table, columns: Sequence[str], dialect: Dialect) -> Optional[str]:
    """``COPY table (columns) FROM STDIN`` where the driver can stream it (psycopg), else None."""
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        return None
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(table.c[key].name) for key in columns)
    return f"COPY {quote.format_table(table)} ({names}) FROM STDIN"


class TranscriptWriter:
    """Holds one write connection for a batch; ``transaction()`` commits one transcript whole.

        with TranscriptWriter(project) as writer:
            with writer.transaction():
                ...
    """

    def __init__(self, project) -> None:
        self.project = project
        self.connection = None  # the pool's DB-API connection while the batch is open
        self._gc_was_enabled = False

    def __enter__(self) -> "TranscriptWriter":
        engine = self.project.write_engine
        dialect = engine.dialect
        self.connection = engine.raw_connection()
        self._sqlite = dialect.name == "sqlite"
        self._sql = _statements(dialect)
        self.integrity_errors = (sa_exc.IntegrityError, dialect.loaded_dbapi.IntegrityError)
        self._copy_segments = _copy_statement(Segment.__table__, SEGMENT_COLUMNS, dialect)
        # A batch allocates hundreds of thousands of short-lived row tuples and makes no
        # reference cycles; pausing the cyclic collector saves it scanning them over and over.
        self._gc_was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc) -> None:
        if self._gc_was_enabled:
            gc.enable()
        self.connection.close()  # back to the pool (rolled back there if a transaction was left open)
        self.connection = None

    @contextmanager
    def transaction(self) -> Iterator["TranscriptWriter"]:
        """Commits on success; any error rolls everything written inside back.

        Driven on the driver connection itself: per transcript, SQLAlchemy's transaction
        bookkeeping cost more than the statements. SQLite takes the write lock up front
        (``BEGIN IMMEDIATE``, as the project's write engine does); psycopg opens its
        transaction at the first statement.
        """
        driver = self.connection.driver_connection
        self._cursor = driver.cursor()
        try:
            if self._sqlite:
                self._cursor.execute("BEGIN IMMEDIATE")
            yield self
            driver.commit()
        except BaseException:
            driver.rollback()  # a no-op when nothing was begun
            raise
        finally:
            self._cursor.close()

    def _run(self, name: str, values: Sequence[Any]):
        statement = self._sql[name]
        return self._cursor.execute(statement.sql, statement.params(values))

    def _first(self, name: str, values: Sequence[Any]):
        row = self._run(name, values).fetchone()
        return None if row is None else row[0]

    # -- reads inside the transaction ---------------------------------------------------------
    def duplicate_title(self, content_hash: str) -> Optional[str]:
        """The title of a stored transcript with this content, if any."""
        return self._first("duplicate", (content_hash,))

    def title_taken(self, title: str, case_id: Optional[int]) -> bool:
        if case_id is None:
            return self._first("title_no_case", (title,)) is not None
        return self._first("title_in_case", (title, case_id)) is not None

    def case_id(self, name: str) -> int:
        """The case's id, creating the case (in this transaction) when it is new."""
        found = self._first("case", (name,))
        return found if found is not None else self._first("new_case", (name, "", utcnow()))

    # -- writes ---------------------------------------------------------------------------
    def insert_transcript(self, values: dict[str, Any]) -> int:
        return self._first("transcript", tuple(values[k] for k in TRANSCRIPT_COLUMNS))

    def insert_speakers(self, transcript_id: int, speakers: list[tuple[str, str]]) -> dict[str, int]:
        """``(label, role)`` pairs -> ``{label: speaker id}``."""
        statement = self._sql["speaker"]
        self._cursor.executemany(statement.sql, statement.many(
            [(transcript_id, label, role, None, {}) for label, role in speakers]))
        return dict(self._run("speaker_ids", (transcript_id,)).fetchall())

    def insert_segments(self, rows: list[tuple]) -> None:
        """Rows in ``SEGMENT_COLUMNS`` order."""
        if not rows:
            return
        if self._copy_segments:  # PostgreSQL: one COPY instead of a round of INSERTs
            with self._cursor.copy(self._copy_segments) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        statement = self._sql["segment"]
        self._cursor.executemany(statement.sql, statement.many(rows))

    def record_audit(self, actor: str, action: str, entity: str, entity_id: int, after: dict[str, Any]) -> None:
        """The same event ``store.audit.record`` adds, written in this transaction."""
        self._run("audit", (utcnow(), actor or "", action, entity, entity_id, None, after))
