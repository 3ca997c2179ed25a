"""Explicit schema versions. A project records its version in ``qc_meta``.

Opening a project whose version is older upgrades it step by step (SQLite files
are copied to ``<file>.v<N>.bak`` first); a newer version is refused. A database
that is not a qualcode project is refused. Nothing is ever created silently on an
existing file: ``create`` is only for ``qualcode init`` and the demo.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable
from glob import escape as glob_escape
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from ..errors import ProjectError
from . import models
from .engine import redacted
from .ids import table_of

SCHEMA_VERSION = 6


def _v1_to_v2(conn: Connection) -> None:
    """v2 added analyst-picked exemplar quotes and memo labels (pattern judgements, flags)."""
    SQLModel.metadata.tables["qc_exemplar"].create(conn, checkfirst=True)
    cols = {c["name"] for c in inspect(conn).get_columns("qc_memo")}
    if "label" not in cols:
        conn.execute(text("ALTER TABLE qc_memo ADD COLUMN label VARCHAR"))


# v3 dropped indexes that repeat the leading column of a unique constraint (faster writes).
REDUNDANT_V2_INDEXES = (
    "ix_qc_case_attribute_case_id",
    "ix_qc_transcript_case_id",
    "ix_qc_speaker_transcript_id",
    "ix_qc_segment_transcript_id",
    "ix_qc_codebook_version_codebook_id",
    "ix_qc_coding_segment_id",
    "ix_qc_segment_status_segment_id",
    "ix_qc_consensus_segment_id",
)


def _v2_to_v3(conn: Connection) -> None:
    for name in REDUNDANT_V2_INDEXES:
        conn.execute(text(f"DROP INDEX IF EXISTS {name}"))


def _v3_to_v4(conn: Connection) -> None:
    """v4 lets a coder be bound to an operating-system login (``qualcode coders set-login``)."""
    if "login" not in {c["name"] for c in inspect(conn).get_columns("qc_coder")}:
        conn.execute(text("ALTER TABLE qc_coder ADD COLUMN login VARCHAR(100)"))


# Tables version 5 added (exchange, assisted coding, the team server, proposals).
V5_TABLES = (
    "qc_quote_span",
    "qc_code_set",
    "qc_code_set_member",
    "qc_code_proposal",
    "qc_deid_term",
    "qc_suggest_model",
    "qc_access_token",
)
# Columns version 5 added: (table, column, SQL type).
V5_COLUMNS = (
    ("qc_case", "guid", "VARCHAR(64)"),
    ("qc_transcript", "guid", "VARCHAR(64)"),
    ("qc_coder", "db_role", "VARCHAR(63)"),
    ("qc_coder", "guid", "VARCHAR(64)"),
    ("qc_coding", "source", "VARCHAR(20)"),
)


def _v4_to_v5(conn: Connection) -> None:
    """v5 keeps REFI-QDA identities and code Sets, several quote spans per coding, how a coding
    was made, code proposals, de-identification decisions, suggestion models and browser tokens."""
    for table in V5_TABLES:
        SQLModel.metadata.tables[table].create(conn, checkfirst=True)
    for table, column, sql_type in V5_COLUMNS:
        if column not in {c["name"] for c in inspect(conn).get_columns(table)}:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))


def _v5_to_v6(conn: Connection) -> None:
    """v6 keeps a code proposal's outcome on its row (it lived only in the lead's audit events,
    which a coder cannot read on a team server)."""
    if "outcome" not in {c["name"] for c in inspect(conn).get_columns("qc_code_proposal")}:
        conn.execute(text("ALTER TABLE qc_code_proposal ADD COLUMN outcome TEXT NOT NULL DEFAULT ''"))


# MIGRATIONS[n] upgrades a database from version n to n + 1.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _v3_to_v4,
    4: _v4_to_v5,
    5: _v5_to_v6,
}


def read_version(engine: Engine) -> int | None:
    """The project's schema version; ``None`` for an empty database."""
    tables = set(inspect(engine).get_table_names())
    if "qc_meta" not in tables:
        if tables:
            shown = redacted(engine.url.render_as_string(hide_password=False))
            raise ProjectError(f"{shown}: not a qualcode project (it has other tables)")
        return None
    with engine.connect() as conn:
        value = conn.execute(text("SELECT value FROM qc_meta WHERE key = 'schema_version'")).scalar()
    if value is None:
        raise ProjectError("project has no schema version; refusing to guess")
    if int(value) == SCHEMA_VERSION:
        missing = sorted(set(SQLModel.metadata.tables) - tables)
        if missing:
            shown = redacted(engine.url.render_as_string(hide_password=False))
            raise ProjectError(
                f"{shown}: damaged project: schema version {value} but missing {len(missing)} table(s)"
                f" ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}); restore it from a backup"
            )
    return int(value)


def create_schema(engine: Engine) -> None:
    """Create every table of the current version in an empty database."""
    with engine.begin() as conn:
        SQLModel.metadata.create_all(conn)
        if conn.dialect.name == "postgresql":
            _fast_text_compression(conn)
        conn.execute(
            table_of(models.Meta).insert(),
            [{"key": "schema_version", "value": str(SCHEMA_VERSION)}, {"key": "blinded", "value": "1"}],
        )


def _fast_text_compression(conn: Connection) -> None:
    """PostgreSQL: compress transcript text with lz4 rather than pglz where the server has it.

    A transcript is tens of kilobytes, and pglz compressing it was a third of an import's
    server time; lz4 is several times faster for about the same space. A storage setting,
    not part of the schema: servers without lz4 (before 14, or built without it) keep pglz.
    """
    try:
        with conn.begin_nested():
            conn.execute(text("ALTER TABLE qc_transcript ALTER COLUMN text SET COMPRESSION lz4"))
    except DBAPIError:
        pass


def sqlite_path(engine: Engine) -> Path | None:
    if engine.dialect.name != "sqlite":
        return None
    db = engine.url.database
    return Path(db) if db and db != ":memory:" else None


PARTIAL_BACKUP_SUFFIX = ".partial"


def _copy_database(source_path: Path, copy_path: Path) -> None:
    """Copy one consistent snapshot of ``source_path`` into ``copy_path`` (SQLite's online backup)."""
    source, copy = sqlite3.connect(source_path), sqlite3.connect(copy_path)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()


def backup_sqlite(path: Path, version: int) -> Path:
    """Copy the project to ``<file>.v<N>.bak`` (never over an earlier backup) before upgrading.

    SQLite's online backup reads one consistent snapshot, rows still in the WAL included,
    while the upgrade holds the write lock, so nobody can change the file mid-copy. The copy is
    written under a temporary ``….partial`` name and renamed only when complete: a kill or a full
    disk mid-copy never leaves a ``.bak`` that opens as a half or empty database. Partial copies a
    killed upgrade left are removed here (the caller holds the write lock, so none is in progress).
    """
    for stale in path.parent.glob(f"{glob_escape(path.name)}.v*.bak-*{PARTIAL_BACKUP_SUFFIX}"):
        stale.unlink(missing_ok=True)
    target = path.with_name(f"{path.name}.v{version}.bak")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.v{version}.{n}.bak")
        n += 1
    handle, partial_name = tempfile.mkstemp(prefix=f"{target.name}-", suffix=PARTIAL_BACKUP_SUFFIX, dir=path.parent)
    os.close(handle)
    partial = Path(partial_name)
    try:
        _copy_database(path, partial)
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise ProjectError(
            f"{path}: cannot back up the project before upgrading it ({exc}); nothing was changed"
        ) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


def _refuse_newer(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise ProjectError(
            f"project schema version {version} is newer than this qualcode ({SCHEMA_VERSION}); upgrade qualcode"
        )


def upgrade(engine: Engine, *, allow: bool = True, found: int | None = None) -> int:
    """Bring an existing project to ``SCHEMA_VERSION``; returns the version found.

    ``found`` is the version a caller already read (through its reading engine); the write
    engine is touched only when an upgrade is due, and then the version is read again under its lock.
    """
    if found is None:
        found = read_version(engine)
    if found is None:
        raise ProjectError("empty database: create the project with `qualcode init`")
    _refuse_newer(found)
    if found == SCHEMA_VERSION:
        return found
    if not allow:
        raise ProjectError(f"project schema version {found} is older than {SCHEMA_VERSION}; open it to upgrade")
    path = sqlite_path(engine)
    with engine.begin() as conn:
        # Another process may have upgraded meanwhile: read again, holding the version row
        # (PostgreSQL: FOR UPDATE makes a second upgrader wait; SQLite: BEGIN IMMEDIATE already does).
        lock = " FOR UPDATE" if conn.dialect.name == "postgresql" else ""
        value = conn.execute(text(f"SELECT value FROM qc_meta WHERE key = 'schema_version'{lock}")).scalar()
        if value is None:
            raise ProjectError("project has no schema version; refusing to guess")
        current = int(value)
        _refuse_newer(current)
        if current == SCHEMA_VERSION:
            return found  # upgraded by another process while we waited
        if path is not None:
            backup_sqlite(path, current)
        for version in range(current, SCHEMA_VERSION):
            step = MIGRATIONS.get(version)
            if step is None:
                raise ProjectError(f"no migration from schema version {version}")
            step(conn)
        conn.execute(text("UPDATE qc_meta SET value = :v WHERE key = 'schema_version'"), {"v": str(SCHEMA_VERSION)})
    return found
