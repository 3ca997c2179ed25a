"""Engines for SQLite (default) and PostgreSQL (by URL), configured for several coders at once.

SQLite: WAL journal, foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for
write transactions so that two coders' processes never deadlock on a lock upgrade
(the source of "database is locked" errors). Reads use a separate engine with
ordinary deferred transactions so they never wait for a writer in WAL mode.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from urllib.parse import quote, unquote

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import create_engine

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


def _sqlite_pragmas(dbapi_conn, immediate: bool) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit BEGIN is deferred).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")  # durable in WAL mode at commit for our purposes
    cur.close()


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


def make_engines(target: str | os.PathLike) -> tuple[Engine, Engine]:
    """Return ``(write_engine, read_engine)``; for PostgreSQL both are the same engine."""
    url = database_url(target)
    if url.startswith("sqlite"):
        engines = []
        for immediate in (True, False):
            eng = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000})

            @event.listens_for(eng, "connect")
            def _connect(dbapi_conn, _record, immediate=immediate):
                _sqlite_pragmas(dbapi_conn, immediate)

            @event.listens_for(eng, "begin")
            def _begin(conn, immediate=immediate):
                if immediate:
                    _begin_immediate(conn)
                else:
                    conn.exec_driver_sql("BEGIN")

            engines.append(eng)
        return engines[0], engines[1]
    eng = create_engine(url, pool_pre_ping=True)
    return eng, eng


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
