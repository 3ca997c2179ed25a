"""Writing imported rows fast: one connection for a batch, one transaction per transcript.

At import scale SQLAlchemy's per-statement bookkeeping (session flush, cache keys,
parameter construction) costs more than the rows themselves, so the statements here are
plain SQL text written once per dialect (names quoted by the dialect, values as the
driver's positional parameters) and run on the driver's own cursor. Column types still
convert values (JSON, timestamps) exactly as SQLAlchemy would, so what is stored is the
same as through the ORM.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.pool import PoolProxiedConnection

from ..errors import ProjectError
from ..store.engine import READ_ONLY_ERRORS
from ..store.ids import table_of
from ..store.models import AuditEvent, Case, Segment, Speaker, Transcript, utcnow

TRANSCRIPT_COLUMNS = (
    "title",
    "kind",
    "case_id",
    "date",
    "source_name",
    "source_format",
    "content_hash",
    "unit",
    "text",
    "created_at",
)
SPEAKER_COLUMNS = ("transcript_id", "label", "role", "pseudonym", "attributes")
SEGMENT_COLUMNS = ("transcript_id", "position", "start", "end", "speaker_id", "unit", "time_start", "time_end")
AUDIT_COLUMNS = ("at", "actor", "action", "entity", "entity_id", "before", "after")
PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}  # DB-API paramstyle -> positional marker


class DriverStatement:
    """SQL text for the driver's cursor, taking values as tuples in the order of its columns."""

    def __init__(self, sql: str, table: Table, columns: Sequence[str], dialect: Dialect):
        self.sql = sql
        processors: list[tuple[int, Callable[[Any], Any]]] = []
        for i, key in enumerate(columns):
            process = table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors.append((i, process))
        self.processors = processors
        # Processors that leave NULL alone need not run over a column that is all NULL.
        self._keeps_null = {i for i, p in self.processors if p(None) is None}

    def params(self, values: Sequence[Any], processors: list | None = None) -> Sequence[Any]:
        processors = self.processors if processors is None else processors
        if processors:
            values = list(values)
            for i, process in processors:
                values[i] = process(values[i])
        return values

    def many(self, rows: list[tuple]) -> list:
        """Parameters for ``executemany``; plain tuples pass through untouched when they can."""
        processors = [
            (i, p) for i, p in self.processors if i not in self._keeps_null or any(row[i] is not None for row in rows)
        ]
        if not processors:
            return rows
        return [self.params(row, processors) for row in rows]


class _SQL:
    """Writes the statements of one dialect: quoted names, positional markers."""

    def __init__(self, dialect: Dialect):
        if dialect.paramstyle not in PLACEHOLDERS:
            raise ValueError(f"unsupported DB-API paramstyle {dialect.paramstyle!r}")
        self.dialect = dialect
        self.mark = PLACEHOLDERS[dialect.paramstyle]
        self.quote = dialect.identifier_preparer

    def _name(self, table: Table, key: str) -> str:
        return self.quote.quote(table.c[key].name)

    def insert(self, table: Table, columns: Sequence[str], returning: str | None = None) -> DriverStatement:
        names = ", ".join(self._name(table, key) for key in columns)
        sql = f"INSERT INTO {self.quote.format_table(table)} ({names}) VALUES ({', '.join([self.mark] * len(columns))})"
        if returning:
            sql += f" RETURNING {self._name(table, returning)}"
        return DriverStatement(sql, table, columns, self.dialect)

    def select(
        self, table: Table, wanted: Sequence[str], where: Sequence[str], null: Sequence[str] = ()
    ) -> DriverStatement:
        """``SELECT wanted FROM table WHERE`` each of ``where`` equals a parameter and each of ``null`` IS NULL."""
        conditions = [f"{self._name(table, key)} = {self.mark}" for key in where]
        conditions += [f"{self._name(table, key)} IS NULL" for key in null]
        sql = (
            f"SELECT {', '.join(self._name(table, key) for key in wanted)} FROM {self.quote.format_table(table)}"
            f" WHERE {' AND '.join(conditions)}"
        )
        return DriverStatement(sql, table, where, self.dialect)


def _statements(dialect: Dialect) -> dict[str, DriverStatement]:
    sql = _SQL(dialect)
    transcript, speaker, case = table_of(Transcript), table_of(Speaker), table_of(Case)
    return {
        "duplicate": sql.select(transcript, ["title"], ["content_hash"]),
        "title_in_case": sql.select(transcript, ["id"], ["title", "case_id"]),
        "title_no_case": sql.select(transcript, ["id"], ["title"], null=["case_id"]),
        "case": sql.select(case, ["id"], ["name"]),
        "new_case": sql.insert(case, ["name", "description", "created_at"], returning="id"),
        "transcript": sql.insert(transcript, TRANSCRIPT_COLUMNS, returning="id"),
        "speaker": sql.insert(speaker, SPEAKER_COLUMNS),
        "speaker_ids": sql.select(speaker, ["label", "id"], ["transcript_id"]),
        "segment": sql.insert(table_of(Segment), SEGMENT_COLUMNS),
        "audit": sql.insert(table_of(AuditEvent), AUDIT_COLUMNS),
    }


def _copy_statement(table, columns: Sequence[str], dialect: Dialect) -> str | None:
    """``COPY table (columns) FROM STDIN`` where the driver can stream it (psycopg), else None."""
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        return None
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(table.c[key].name) for key in columns)
    return f"COPY {quote.format_table(table)} ({names}) FROM STDIN"


# PostgreSQL: transcripts are grouped into one commit up to this many, or this many seconds of work.
GROUP_TRANSCRIPTS = 50
GROUP_SECONDS = 1.0


class TranscriptWriter:
    """Holds one write connection for a batch; ``transaction()`` stores one transcript whole.

    with TranscriptWriter(project) as writer:
        with writer.transaction():
            ...

    On SQLite each ``transaction()`` is its own commit. On PostgreSQL each is a savepoint and
    transcripts are committed in groups (``GROUP_TRANSCRIPTS`` or ``GROUP_SECONDS``, and always
    when the batch ends): a failed transcript still leaves nothing behind (rolled back to its
    savepoint), but the server flushes its log once per group rather than once per transcript,
    which was half of an import's time. Nothing is reported imported before the batch ends, so
    a kill mid-group loses only transcripts the user was never told were stored; importing the
    same files again stores exactly those.
    """

    def __init__(self, project) -> None:
        self.project = project
        self.connection: PoolProxiedConnection | None = None  # the pool's DB-API connection while the batch is open
        self._pending = 0  # PostgreSQL: transcripts stored since the last commit
        self._group_started = 0.0
        # PostgreSQL: audit events of the group's stored transcripts, and of the one being stored,
        # written in one statement when the group commits (one round trip fewer per transcript).
        self._group_audits: list[tuple] = []
        self._transcript_audits: list[tuple] = []
        self._grouping = False  # inside a PostgreSQL group's savepoint: audit events wait for the commit

    def __enter__(self) -> TranscriptWriter:
        if getattr(self.project, "read_only", False):  # as Project.transaction refuses: one line, nothing tried
            raise ProjectError(f"project is read-only: {self.project.shown_target}")
        engine = self.project.write_engine
        dialect = engine.dialect
        self.connection = engine.raw_connection()
        self._sqlite = dialect.name == "sqlite"
        self._sql = _statements(dialect)
        self.integrity_errors = (sa_exc.IntegrityError, dialect.loaded_dbapi.IntegrityError)
        self._copy_segments = _copy_statement(table_of(Segment), SEGMENT_COLUMNS, dialect)
        return self

    def __exit__(self, exc_type, *exc) -> None:
        connection = self._open_connection()
        try:
            if exc_type is None and self._pending:
                self._commit_group()
        finally:
            connection.close()  # back to the pool (rolled back there if a transaction was left open)
            self.connection = None

    def _driver(self) -> Any:
        driver = self._open_connection().driver_connection
        if driver is None:  # SQLAlchemy types it Optional: None only once the pool has invalidated the connection
            raise AssertionError("the batch's connection was invalidated")
        return driver

    def _commit_group(self) -> None:
        driver = self._driver()
        if self._group_audits:
            statement = self._sql["audit"]
            with driver.cursor() as cursor:
                cursor.executemany(statement.sql, statement.many(self._group_audits))
        driver.commit()
        self._pending = 0
        self._group_audits = []

    def _open_connection(self) -> PoolProxiedConnection:
        if self.connection is None:
            raise AssertionError("TranscriptWriter used outside its `with` block")
        return self.connection

    @contextmanager
    def transaction(self) -> Iterator[TranscriptWriter]:
        """Commits on success; any error rolls everything written inside back.

        Driven on the driver connection itself: per transcript, SQLAlchemy's transaction
        bookkeeping cost more than the statements. SQLite takes the write lock up front
        (``BEGIN IMMEDIATE``, as the project's write engine does); psycopg opens its
        transaction at the first statement.
        """
        driver = self._driver()
        self._cursor = driver.cursor()
        try:
            if self._sqlite:
                self._cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield self
                    driver.commit()
                except BaseException:
                    driver.rollback()  # a no-op when nothing was begun
                    raise
            else:
                yield from self._grouped(driver)
        except Exception as exc:
            # The driver's own cursor bypasses the engine's error handling: say "read-only" the same way.
            if any(marker in str(exc) for marker in READ_ONLY_ERRORS):
                raise ProjectError(f"project is read-only: {self.project.shown_target}") from exc
            raise
        finally:
            self._cursor.close()

    def _grouped(self, driver: Any) -> Iterator[TranscriptWriter]:
        """PostgreSQL: one savepoint per transcript inside a group's transaction."""
        if not self._pending:
            self._group_started = time.perf_counter()
        # Savepoints of one name stack: rolling back to it undoes the latest only, so the stored
        # transcripts' savepoints need no RELEASE (one round trip fewer); the commit ends them all.
        self._cursor.execute("SAVEPOINT qc_transcript")
        self._transcript_audits = []
        self._grouping = True
        try:
            yield self
        except BaseException as exc:
            self._grouping = False
            self._transcript_audits = []
            if isinstance(exc, Exception):
                self._cursor.execute("ROLLBACK TO SAVEPOINT qc_transcript")  # this transcript only
            else:  # interrupted: drop the whole uncommitted group, none of it was reported
                driver.rollback()
                self._pending = 0
                self._group_audits = []
            raise
        self._grouping = False
        self._group_audits.extend(self._transcript_audits)
        self._transcript_audits = []
        self._pending += 1
        if self._pending >= GROUP_TRANSCRIPTS or time.perf_counter() - self._group_started >= GROUP_SECONDS:
            self._commit_group()

    def _run(self, name: str, values: Sequence[Any]):
        statement = self._sql[name]
        return self._cursor.execute(statement.sql, statement.params(values))

    def _first(self, name: str, values: Sequence[Any]):
        row = self._run(name, values).fetchone()
        return None if row is None else row[0]

    # -- reads inside the transaction ---------------------------------------------------------
    def duplicate_title(self, content_hash: str) -> str | None:
        """The title of a stored transcript with this content, if any."""
        return self._first("duplicate", (content_hash,))

    def title_taken(self, title: str, case_id: int | None) -> bool:
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
        if not self._sqlite and speakers:  # PostgreSQL: one statement returns the ids (one round trip)
            rows = statement.many([(transcript_id, label, role, None, {}) for label, role in speakers])
            row_marks = "(" + ", ".join(["%s"] * len(SPEAKER_COLUMNS)) + ")"  # psycopg's marker
            head = statement.sql.split(" VALUES ")[0]
            found = self._cursor.execute(
                f"{head} VALUES {', '.join([row_marks] * len(rows))} RETURNING label, id",
                [v for row in rows for v in row],
            ).fetchall()
            return dict(found)
        self._cursor.executemany(
            statement.sql, statement.many([(transcript_id, label, role, None, {}) for label, role in speakers])
        )
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
        """The same event ``store.audit.record`` adds, written in this transaction (on PostgreSQL
        with the group's other events when it commits: a transcript rolled back drops its own)."""
        values = (utcnow(), actor or "", action, entity, entity_id, None, after)
        if self._grouping:
            self._transcript_audits.append(values)
        else:
            self._run("audit", values)
