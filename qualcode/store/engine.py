"""Engines for SQLite (default) and PostgreSQL (by URL), configured for several coders at once.

SQLite: WAL journal, foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for
write transactions so that two coders' processes never deadlock on a lock upgrade
(the source of "database is locked" errors). Reads use a separate engine with
ordinary deferred transactions so they never wait for a writer in WAL mode.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote, unquote

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import create_engine

from ..errors import ProjectError
from .enums import Durability

BUSY_TIMEOUT_MS = 60_000
# How often a writer waiting for the SQLite write lock asks again. SQLite's own busy handler
# backs off to 100 ms between tries, so a coder's key could sleep through every short gap a
# bulk writer leaves between its chunks; asking every millisecond takes the first gap.
WRITE_LOCK_POLL_S = 0.001


def is_url(target: str) -> bool:
    return "://" in target


HIDDEN = "***"
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)
# As SQLAlchemy reads a URL: the password runs from the user name's colon to the next "@".
_USERINFO_PASSWORD = re.compile(r"^([^:/?#]+://[^:/@]*:)([^@]*)@")


def _secrets(target: str) -> list[str]:
    """The password(s) a URL holds, as written and decoded (userinfo or a ``password=`` query item)."""
    found: list[str] = []
    userinfo = _USERINFO_PASSWORD.match(target)
    if userinfo:
        found.append(userinfo.group(2))
    found += [m.group(0).split("=", 1)[1] for m in _QUERY_PASSWORD.finditer(target)]
    found += [unquote(s) for s in found] + [quote(unquote(s), safe="") for s in found]
    return sorted({s for s in found if s}, key=len, reverse=True)


def redacted(target: str | os.PathLike) -> str:
    """``target`` as it may be shown to a user: a URL's password becomes ``***``; a path is unchanged.

    Works on text, so even a URL that does not parse is shown without its password.
    """
    text = str(target)
    if not is_url(text):
        return text
    text = _USERINFO_PASSWORD.sub(rf"\g<1>{HIDDEN}@", text)
    return _QUERY_PASSWORD.sub(rf"\g<1>{HIDDEN}", text)


def scrub(message: str, target: str | os.PathLike) -> str:
    """``message`` (a driver's error, say) with every password of ``target`` replaced by ``***``."""
    text = str(target)
    if not is_url(text):
        return message
    message = message.replace(text, redacted(text))
    for secret in _secrets(text):
        message = message.replace(secret, HIDDEN)
    return message


def database_url(target: str | os.PathLike) -> str:
    """``./study.db`` -> ``sqlite:///…``; a URL passes through (``postgresql://`` gets psycopg 3)."""
    target = str(target)
    if not is_url(target):
        return f"sqlite:///{Path(target).expanduser().resolve()}"
    url = make_url(target)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn, read_only: bool) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit BEGIN is deferred).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys = ON")
    if not read_only:  # a read-only connection cannot change the journal mode (the file's own is kept)
        cur.execute("PRAGMA journal_mode = WAL")
    # WAL with synchronous=NORMAL: a committed write survives a crash of any process (the OS has it),
    # not necessarily a power cut; a project set to `qualcode durability full` flushes at every commit.
    cur.execute(f"PRAGMA synchronous = {'FULL' if _wants_full_durability(cur) else 'NORMAL'}")
    cur.close()


def _wants_full_durability(cur) -> bool:
    try:
        row = cur.execute("SELECT value FROM qc_meta WHERE key = 'durability'").fetchone()
    except sqlite3.Error:  # no qc_meta yet: a project being created, or not a project at all
        return False
    return row is not None and row[0] == Durability.FULL


def sqlite_is_read_only(path: str | os.PathLike) -> bool:
    """This process cannot write the project file: no write permission, or read-only media."""
    return Path(path).exists() and not os.access(path, os.W_OK)


def _sqlite_read_only_url(path: Path) -> URL:
    """``file:…?mode=ro`` (SQLite's URI form): the connection never writes nor creates the file.

    On a folder nobody can write (read-only media) with no ``-wal`` beside the file, SQLite could
    not create the ``-shm`` it reads a WAL database with, and no writer can exist either (it would
    need the ``-wal``): ``immutable=1`` reads the file as it is.
    """
    query = {"mode": "ro", "uri": "true"}
    if not os.access(path.parent, os.W_OK) and not path.with_name(f"{path.name}-wal").exists():
        query["immutable"] = "1"
    return URL.create("sqlite", database=f"file:{quote(str(path), safe='/')}", query=query)


READ_ONLY_ERRORS = ("readonly database", "read-only transaction")  # SQLite; PostgreSQL (also a standby)


def _refuse_writes_in_one_line(engine: Engine, shown: str) -> None:
    """A write the database refuses because it is read-only is one line naming the project."""

    @event.listens_for(engine, "handle_error")
    def _read_only(context) -> None:
        if any(marker in str(context.original_exception) for marker in READ_ONLY_ERRORS):
            raise ProjectError(f"project is read-only: {shown}")


def _begin_immediate(conn) -> None:
    """``BEGIN IMMEDIATE``, asking for the write lock every millisecond until the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    conn.exec_driver_sql("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                if "locked" not in str(exc.orig) or time.monotonic() >= deadline:
                    raise
                time.sleep(WRITE_LOCK_POLL_S)
    finally:
        # Inside the transaction, statements wait as before (a checkpoint, a schema change).
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def make_engines(target: str | os.PathLike, *, read_only: bool = False) -> tuple[Engine, Engine]:
    """Return ``(write_engine, read_engine)``; for PostgreSQL both are the same engine.

    ``read_only``: every connection is opened read-only (SQLite ``mode=ro``, PostgreSQL read-only
    transactions), and a write is refused with one line.
    """
    url = database_url(target)
    shown = redacted(target)
    if url.startswith("sqlite"):
        sqlite_url: str | URL = url
        if read_only:
            sqlite_url = _sqlite_read_only_url(Path(target).expanduser().resolve())
        engines = []
        for immediate in (True, False):
            eng = create_engine(
                sqlite_url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
            )

            @event.listens_for(eng, "connect")
            def _connect(dbapi_conn, _record):
                _sqlite_pragmas(dbapi_conn, read_only)

            @event.listens_for(eng, "begin")
            def _begin(conn, immediate=immediate):
                if immediate:
                    _begin_immediate(conn)
                else:
                    conn.exec_driver_sql("BEGIN")

            _refuse_writes_in_one_line(eng, shown)
            engines.append(eng)
        return engines[0], engines[1]
    eng = create_engine(url, pool_pre_ping=True)
    if read_only:

        @event.listens_for(eng, "connect")
        def _read_only_transactions(dbapi_conn, _record):
            dbapi_conn.read_only = True

    _refuse_writes_in_one_line(eng, shown)
    return eng, eng


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
