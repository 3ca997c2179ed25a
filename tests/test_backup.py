"""``qualcode backup`` and ``qualcode restore``: a restored project holds every row of every table,
exactly (compared table by table, row by row, on SQLite and on PostgreSQL)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import uuid

import pytest
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from qualcode.coding.service import TranscriptWork
from qualcode.project import Project
from qualcode.store.backup import backup, restore
from qualcode.store.engine import database_url
from qualcode.store.migrations import SCHEMA_VERSION

from .builders import add_coders, build_codebook, build_transcript
from .conftest import PG_URL


def qualcode(*args: str) -> subprocess.CompletedProcess:
    """The command as a user runs it, in-process (click's runner) for speed; stdout and stderr apart."""
    from click.testing import CliRunner

    from qualcode.cli.main import cli

    result = CliRunner().invoke(cli, list(args))
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def every_row(target: str) -> dict[str, list[tuple]]:
    """Every table of the schema, each row as a tuple, in primary-key order."""
    engine = create_engine(database_url(target), poolclass=NullPool)
    try:
        present = set(inspect(engine).get_table_names())
        out: dict[str, list[tuple]] = {}
        with engine.connect() as conn:
            for table in SQLModel.metadata.sorted_tables:
                if table.name not in present:
                    continue
                order = list(table.primary_key.columns) or list(table.columns)
                out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
        return out
    finally:
        engine.dispose()


def fill(project: Project) -> None:
    """Transcripts, a codebook, coders and their codings, done marks and the audit trail."""
    tid = build_transcript(project)
    codes = build_codebook(project)
    add_coders(project, "ana", "ben")
    for coder, key in (("ana", "SV"), ("ben", "WD")):
        work = TranscriptWork(project, coder, tid)
        for seg in work.segments[:3]:
            work.toggle(seg.id, codes[key])
        work.set_done(work.segments[0].id)


def test_sqlite_backup_and_restore_keep_every_row(project, project_path, tmp_path):
    fill(project)
    before = every_row(str(project_path))
    assert len(before["qc_coding"]) == 6 and before["qc_audit"]  # the comparison below compares something
    result = backup(str(project_path), tmp_path / "backup.db")
    assert result.engine == "SQLite" and result.schema_version == SCHEMA_VERSION
    assert not list(tmp_path.glob(".*.partial"))  # no temporary file is left
    restored = tmp_path / "restored.db"
    assert restore(tmp_path / "backup.db", str(restored)).schema_version == SCHEMA_VERSION
    assert every_row(str(restored)) == before
    with Project(restored, user="lead") as again:  # a project qualcode opens as it is
        assert len(again.codings()) == 6


def test_the_backup_is_consistent_while_a_coder_writes(project, project_path, tmp_path):
    """The online backup runs while another connection holds the database open and writes."""
    fill(project)
    writer = sqlite3.connect(project_path)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE qc_meta SET value = value WHERE key = 'schema_version'")
    try:
        result = backup(str(project_path), tmp_path / "during.db")  # reads the last committed state
    finally:
        writer.rollback()
        writer.close()
    assert every_row(str(result.path)) == every_row(str(project_path))


def test_cli_backup_restore_and_refusals(project, project_path, tmp_path):
    fill(project)
    project.close()
    out = tmp_path / "b.db"
    done = qualcode("backup", "-p", str(project_path), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"to {out} (SQLite, schema version {SCHEMA_VERSION}" in done.stdout
    new = tmp_path / "new.db"
    done = qualcode("restore", str(out), str(new))
    assert done.returncode == 0 and f"schema version {SCHEMA_VERSION}" in done.stdout, done.stderr
    assert every_row(str(new)) == every_row(str(project_path))
    size = new.stat().st_size
    for args, message in (
        (("restore", str(out), str(new)), "already exists; restore into a new file"),
        (("restore", str(tmp_path / "missing.db"), str(tmp_path / "x.db")), "no such file"),
        (("restore", str(project_path.parent / "study.db"), "postgresql://u@127.0.0.1/db"), "new SQLite file"),
        (("backup", "-p", str(project_path), "--out", str(project_path)), "is the project itself"),
        (("backup", "-p", str(project_path), "--out", str(tmp_path / "no" / "b.db")), "folder does not exist"),
        (("backup", "-p", str(tmp_path / "none.db"), "--out", str(tmp_path / "c.db")), "no project here"),
    ):
        done = qualcode(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in done.stderr
    assert new.stat().st_size == size  # the refused restore changed nothing
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a backup")
    done = qualcode("restore", str(text_file), str(tmp_path / "y.db"))
    assert done.returncode == 2 and "not a qualcode backup" in done.stderr
    assert not (tmp_path / "y.db").exists()


@pytest.fixture
def pg_database():
    """A fresh empty database of its own (dropped after); yields a function making more of them."""
    if not PG_URL:
        pytest.skip("QUALCODE_TEST_POSTGRES is not set")
    if not all(shutil.which(tool) for tool in ("pg_dump", "pg_restore", "psql")):
        pytest.skip("PostgreSQL's client tools (pg_dump, pg_restore, psql) are not installed")
    import psycopg
    from sqlalchemy.engine import make_url

    admin = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    made: list[str] = []

    def make() -> str:
        name = f"qc_backup_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        made.append(name)
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    # DROP DATABASE waits for a checkpoint (seconds on a busy server): the server finishes it
    # after the test, in a psql of its own, rather than the test waiting.
    for name in made:
        subprocess.Popen(
            ["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )


@pytest.mark.postgres
def test_postgresql_backup_and_restore_keep_every_row(pg_database, tmp_path):
    source, target = pg_database(), pg_database()
    with Project(source, create=True) as project:
        fill(project)
    before = every_row(source)
    assert len(before["qc_coding"]) == 6
    dump = tmp_path / "study.dump"
    done = qualcode("backup", "-p", source, "--out", str(dump))
    assert done.returncode == 0, done.stderr
    assert f"(PostgreSQL, schema version {SCHEMA_VERSION}" in done.stdout
    assert dump.read_bytes().startswith(b"PGDMP")
    done = qualcode("restore", str(dump), target)
    assert done.returncode == 0, done.stderr
    assert every_row(target) == before
    with Project(target, user="lead") as again:
        assert len(again.codings()) == 6
    # A database that is not empty is refused, and left as it was.
    done = qualcode("restore", str(dump), target)
    assert done.returncode == 2 and "not empty" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert every_row(target) == before
    done = qualcode("restore", str(dump), str(tmp_path / "x.db"))
    assert done.returncode == 2 and "empty PostgreSQL database" in done.stderr


def test_backup_without_pg_dump_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump on this PATH
    monkeypatch.chdir(tmp_path)
    done = qualcode("backup", "-p", "postgresql://u@127.0.0.1:1/db", "--out", "x.dump")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: pg_dump not found: install PostgreSQL's client tools (Debian: apt-get install postgresql-client)"
    ]
    assert not (tmp_path / "x.dump").exists()


@pytest.mark.postgres
def test_a_one_schema_project_is_backed_up_alone_and_restored_into_its_schema(pg_url, pg_database, tmp_path):
    """A URL whose options set a search_path dumps that schema only (the test database's other
    schemas stay out), and the restore says which schema the project is in."""
    from sqlalchemy.engine import make_url

    with Project(pg_url, create=True) as project:
        fill(project)
    before = every_row(pg_url)
    dump = tmp_path / "one.dump"
    assert qualcode("backup", "-p", pg_url, "--out", str(dump)).returncode == 0
    listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True).stdout
    schema = make_url(pg_url).query["options"].split("=", 1)[1]
    assert f"SCHEMA - {schema} " in listing and " qc_coding " in listing
    assert " SCHEMA - public " not in listing  # only this project's schema
    target = pg_database()
    done = qualcode("restore", str(dump), target)
    assert done.returncode == 0, done.stderr
    assert f"(schema {schema}: open it with ?options=-csearch_path%3D{schema})" in done.stdout
    restored = f"{target}?options=-csearch_path%3D{schema}"
    assert every_row(restored) == before
