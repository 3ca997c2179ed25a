"""Backups of a project and restores into a new one (``qualcode backup``, ``qualcode restore``).

SQLite: SQLite's online backup API copies the file page by page while coders go on working (each
step sees one consistent state); the copy is written under a temporary name beside ``--out`` and
renamed into place, so ``--out`` is never half a file. PostgreSQL: ``pg_dump --format=custom``
(PostgreSQL's client tools), restored with ``pg_restore`` in one transaction into an empty database.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote

from ..errors import InputError, ProjectError, QualcodeError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

# A SQLite backup needs only the standard library: SQLAlchemy and the schema are imported for
# PostgreSQL alone, so `qualcode backup` of a file starts at once.

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
PAGES_PER_STEP = 1024  # the online backup copies this many pages, then lets writers in


@dataclass(frozen=True)
class BackupResult:
    path: Path
    engine: str  # "SQLite" | "PostgreSQL"
    size: int  # bytes
    schema_version: int


@dataclass(frozen=True)
class RestoreResult:
    target: str  # as it may be shown (no password)
    engine: str
    schema_version: int
    schema: str | None = None  # PostgreSQL: the schema the project's tables were restored into


def _temporary(out: Path) -> Path:
    return out.with_name(f".{out.name}.{os.getpid()}.partial")


def _check_out(out: Path) -> Path:
    out = out.expanduser()
    if out.is_dir():
        raise InputError(f"{out}: is a directory; give a file name")
    if not out.parent.is_dir():
        raise InputError(f"{out.parent}: folder does not exist")
    return out


def _sqlite_ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(path.resolve()), safe='/')}?mode=ro", uri=True)


def _sqlite_version(conn: sqlite3.Connection, shown: str) -> int:
    try:
        row = conn.execute("SELECT value FROM qc_meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError:
        row = None
    if row is None:
        raise InputError(f"{shown}: not a qualcode project")
    return int(row[0])


def is_url(target: str) -> bool:
    return "://" in target  # as store.engine.is_url, without importing SQLAlchemy


def redacted(target: str) -> str:
    """``target`` as it may be shown (a URL's password as ``***``; a path as it is)."""
    if not is_url(target):
        return target
    from .engine import redacted as hide

    return hide(target)


def scrub(message: str, target: str) -> str:
    from .engine import scrub as clean

    return clean(message, target)


def _engine(url: str) -> Engine:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from .engine import database_url

    return create_engine(database_url(url), poolclass=NullPool)


def _pg_version(target: str) -> int:
    from . import migrations

    engine = _engine(target)
    try:
        version = migrations.read_version(engine)
    except QualcodeError:
        raise
    except Exception as exc:
        raise ProjectError(
            f"{redacted(target)}: cannot open project ({scrub(str(exc).splitlines()[0], target)})"
        ) from None
    finally:
        engine.dispose()
    if version is None:
        raise ProjectError(f"{redacted(target)}: empty database, no project to back up")
    return version


# -- libpq: the client tools take the URL without its password (that goes in PGPASSWORD, out of `ps`)
def _libpq(target: str) -> tuple[str, dict[str, str], str | None]:
    """(URL without password, environment, the schema a ``search_path`` option names)."""
    from sqlalchemy.engine import make_url

    url = make_url(target)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    schema = None
    for option in parse_qs(url.render_as_string(hide_password=False).partition("?")[2]).get("options", []):
        for part in option.split():
            key, _, value = part.removeprefix("-c").partition("=")
            if key.strip() == "search_path" and value and "," not in value:
                schema = value.strip()
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env, schema


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise QualcodeError(
            f"{name} not found: install PostgreSQL's client tools (Debian: apt-get install postgresql-client)"
        )
    return found


def _run(args: list[str], env: dict[str, str], target: str, what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in (done.stderr or "").splitlines() if line.strip()]
        first = next(
            (line for line in lines if "error" in line.lower()), lines[0] if lines else f"exit {done.returncode}"
        )
        raise ProjectError(f"{what} failed: {scrub(first.strip(), target)}")


# -- backup -----------------------------------------------------------------------------------------
def backup(target: str, out: str | os.PathLike) -> BackupResult:
    """Back up the project at ``target`` (a SQLite file or a PostgreSQL URL) to the file ``out``."""
    path = _check_out(Path(out))
    partial = _temporary(path)
    try:
        if is_url(target):
            pg_dump = _tool("pg_dump")
            version = _pg_version(target)
            url, env, schema = _libpq(target)
            args = [pg_dump, "--format=custom", f"--file={partial}", f"--dbname={url}"]
            if schema:
                args.append(f"--schema={schema}")
            _run(args, env, target, "pg_dump")
            kind = "PostgreSQL"
        else:
            source = Path(target).expanduser()
            if not source.is_file():
                raise ProjectError(f"{source}: no project here")
            if source.resolve() == path.resolve():
                raise InputError(f"{path}: is the project itself; back up to another file")
            src = _sqlite_ro(source)
            try:
                version = _sqlite_version(src, str(source))
                dst = sqlite3.connect(partial)
                try:
                    src.backup(dst, pages=PAGES_PER_STEP)
                finally:
                    dst.close()
            finally:
                src.close()
            kind = "SQLite"
        os.replace(partial, path)
    except sqlite3.Error as exc:
        raise ProjectError(f"{target}: backup failed ({exc})") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(path, kind, path.stat().st_size, version)


# -- restore ----------------------------------------------------------------------------------------
def backup_kind(file: str | os.PathLike) -> str:
    """``"SQLite"`` or ``"PostgreSQL"`` (a pg_dump custom-format archive), from the file's first bytes."""
    path = Path(file).expanduser()
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with open(path, "rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "SQLite"
    if head.startswith(PGDUMP_MAGIC):
        return "PostgreSQL"
    raise InputError(f"{path}: not a qualcode backup (neither a SQLite file nor a pg_dump custom-format archive)")


def _user_tables(engine: Engine) -> list[str]:
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
                "AND table_schema NOT LIKE 'pg_toast%' ORDER BY 1 LIMIT 3"
            )
        )
        return [r[0] for r in rows]


def _restored_schema(engine: Engine) -> tuple[int | None, str | None]:
    """The restored project's schema version as the target URL sees it, else the schema it is in."""
    from sqlalchemy import text

    from . import migrations

    version = migrations.read_version(engine)
    if version is not None:
        return version, None
    with engine.connect() as conn:
        schema = conn.execute(
            text("SELECT table_schema FROM information_schema.tables WHERE table_name = 'qc_meta' LIMIT 1")
        ).scalar()
    return None, schema


def restore(file: str | os.PathLike, new_target: str) -> RestoreResult:
    """Restore the backup ``file`` into ``new_target``: a SQLite file that does not exist yet, or a
    PostgreSQL URL of an empty database. Anything else is refused before a byte is written."""
    kind = backup_kind(file)
    path = Path(file).expanduser()
    if kind == "SQLite":
        if is_url(new_target):
            raise InputError(
                f"{path}: a SQLite backup restores into a new SQLite file, not into {redacted(new_target)}"
            )
        return _restore_sqlite(path, Path(new_target).expanduser())
    if not is_url(new_target):
        raise InputError(f"{path}: a PostgreSQL backup restores into an empty PostgreSQL database (a URL), not a file")
    return _restore_postgres(path, new_target)


def _restore_sqlite(path: Path, target: Path) -> RestoreResult:
    if target.exists() and (target.is_dir() or target.stat().st_size > 0):
        raise InputError(f"{target}: already exists; restore into a new file")
    if not target.parent.is_dir():
        raise InputError(f"{target.parent}: folder does not exist")
    partial = _temporary(target)
    try:
        src = _sqlite_ro(path)
        try:
            version = _sqlite_version(src, str(path))
            check = src.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                raise InputError(f"{path}: damaged backup ({check[0] if check else 'no answer'})")
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst, pages=PAGES_PER_STEP)
            finally:
                dst.close()
        finally:
            src.close()
        if target.exists():  # an empty file someone made for it
            target.unlink()
        os.link(partial, target)  # never over a file that appeared meanwhile
    except sqlite3.Error as exc:
        raise InputError(f"{path}: cannot restore ({exc})") from None
    except FileExistsError:
        raise InputError(f"{target}: already exists; restore into a new file") from None
    finally:
        partial.unlink(missing_ok=True)
    return RestoreResult(str(target), "SQLite", version)


def _restore_postgres(path: Path, target: str) -> RestoreResult:
    pg_restore = _tool("pg_restore")
    engine = _engine(target)
    try:
        try:
            tables = _user_tables(engine)
        except Exception as exc:
            raise ProjectError(
                f"{redacted(target)}: cannot open ({scrub(str(exc).splitlines()[0], target)}); create the empty "
                "database first (createdb NAME)"
            ) from None
        if tables:
            raise InputError(
                f"{redacted(target)}: not empty (it has {', '.join(tables)}…): restore into an empty database"
            )
        url, env, _ = _libpq(target)
        _run(
            [pg_restore, "--single-transaction", "--exit-on-error", f"--dbname={url}", str(path)],
            env,
            target,
            "pg_restore",
        )
        version, schema = _restored_schema(engine)
    finally:
        engine.dispose()
    if version is None and schema is None:
        raise ProjectError(f"{path}: restored, but it held no qualcode project")
    if version is None and schema is not None:
        from . import migrations

        engine = _engine(_with_search_path(target, schema))
        try:
            version = migrations.read_version(engine)
        finally:
            engine.dispose()
    return RestoreResult(redacted(target), "PostgreSQL", version or 0, schema)


def _with_search_path(target: str, schema: str) -> str:
    sep = "&" if "?" in target else "?"
    return f"{target}{sep}options=-csearch_path%3D{schema}"


__all__ = ["BackupResult", "RestoreResult", "backup", "backup_kind", "restore"]
