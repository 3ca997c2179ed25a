"""The store: schema creation, versions and migrations, engines, transactions."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select

from qualcode.errors import ProjectError
from qualcode.project import Project
from qualcode.store.migrations import SCHEMA_VERSION
from qualcode.store.models import Case, Coder


def test_new_project_records_schema_version(any_project):
    assert any_project.schema_version() == SCHEMA_VERSION


def test_sqlite_runs_in_wal_with_foreign_keys(project):
    with project.read() as s:
        conn = s.connection()
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_postgres_transcript_text_is_compressed_with_lz4_where_the_server_has_it(pg_url):
    from sqlalchemy import text

    with Project(pg_url, create=True) as project, project.read() as s:
        conn = s.connection()
        try:
            with conn.begin_nested():
                conn.execute(text("SET LOCAL default_toast_compression = lz4"))
        except Exception:
            pytest.skip("this PostgreSQL server has no lz4")
        method = conn.execute(
            text(
                "SELECT attcompression FROM pg_attribute "
                "WHERE attrelid = 'qc_transcript'::regclass AND attname = 'text'"
            )
        ).scalar()
        assert method == "l"


def test_missing_project_is_refused_not_created(tmp_path):
    path = tmp_path / "nope.db"
    with pytest.raises(ProjectError, match="no project here"):
        Project(path)
    assert not path.exists()


def test_directory_is_refused(tmp_path):
    with pytest.raises(ProjectError, match="directory"):
        Project(tmp_path)


def test_foreign_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(ProjectError, match="not a qualcode project"):
        Project(path)


def test_newer_schema_is_refused(project_path):
    Project(project_path, create=True).close()
    con = sqlite3.connect(project_path)
    con.execute("UPDATE qc_meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(ProjectError, match="newer"):
        Project(project_path)


def test_old_project_is_upgraded_after_a_backup(project_path):
    """A version-1 file (no exemplar table, no memo label) upgrades, keeping its rows."""
    p = Project(project_path, create=True)
    with p.transaction() as s:
        s.add(Case(name="Lincoln Elementary"))
    p.close()
    con = sqlite3.connect(project_path)
    con.execute("DROP TABLE qc_exemplar")
    con.execute("ALTER TABLE qc_memo DROP COLUMN label")
    con.execute("UPDATE qc_meta SET value = '1' WHERE key = 'schema_version'")
    con.commit()
    con.close()

    with pytest.raises(ProjectError, match="older"):
        Project(project_path, upgrade=False)
    p = Project(project_path)
    assert p.schema_version() == SCHEMA_VERSION
    assert (project_path.parent / "study.db.v1.bak").exists()
    assert list(p.cases()["name"]) == ["Lincoln Elementary"]
    cols = {r[1] for r in sqlite3.connect(project_path).execute("PRAGMA table_info(qc_memo)")}
    assert "label" in cols
    p.close()


def test_transaction_is_all_or_nothing(any_project):
    with pytest.raises(RuntimeError), any_project.transaction() as s:
        s.add(Coder(name="ana"))
        s.flush()
        raise RuntimeError("killed mid-write")
    with any_project.read() as s:
        assert s.exec(select(Coder)).scalars().all() == []


def test_v2_project_loses_its_redundant_indexes_and_keeps_its_rows(any_project):
    """Version 3 dropped indexes that repeat a unique constraint's leading column."""
    from sqlalchemy import inspect, text

    from qualcode.store.migrations import REDUNDANT_V2_INDEXES, upgrade

    engine = any_project.write_engine
    with engine.begin() as conn:
        conn.execute(text("CREATE INDEX ix_qc_segment_transcript_id ON qc_segment (transcript_id)"))
        conn.execute(text("CREATE INDEX ix_qc_coding_segment_id ON qc_coding (segment_id)"))
        conn.execute(text("INSERT INTO qc_case (name, description, created_at) VALUES ('Kept', '', CURRENT_TIMESTAMP)"))
        conn.execute(text("UPDATE qc_meta SET value = '2' WHERE key = 'schema_version'"))
    assert upgrade(engine) == 2
    names = {ix["name"] for table in ("qc_segment", "qc_coding") for ix in inspect(engine).get_indexes(table)}
    assert not names & set(REDUNDANT_V2_INDEXES)
    assert any_project.schema_version() == SCHEMA_VERSION
    assert list(any_project.cases()["name"]) == ["Kept"]


def test_an_upgrade_backs_up_a_consistent_snapshot_and_never_over_an_earlier_backup(project_path):
    """Rows another process committed but not yet checkpointed (still in the WAL) are in the
    backup, and a second upgrade of a restored file keeps the first backup."""
    Project(project_path, create=True).close()
    con = sqlite3.connect(project_path)
    con.execute("ALTER TABLE qc_coder DROP COLUMN login")
    con.execute("UPDATE qc_meta SET value = '3' WHERE key = 'schema_version'")
    con.commit()
    other = sqlite3.connect(project_path)  # holds the WAL open: its commit stays in the -wal file
    other.execute("PRAGMA wal_autocheckpoint = 0")
    other.execute("INSERT INTO qc_case (name, description, created_at) VALUES ('In the WAL', '', '2026-01-01')")
    other.commit()
    (project_path.parent / "study.db.v3.bak").write_text("an earlier backup")
    Project(project_path).close()
    other.close()
    assert (project_path.parent / "study.db.v3.bak").read_text() == "an earlier backup"
    backup = sqlite3.connect(project_path.parent / "study.db.v3.1.bak")
    assert backup.execute("SELECT name FROM qc_case").fetchall() == [("In the WAL",)]
    assert backup.execute("SELECT value FROM qc_meta WHERE key = 'schema_version'").fetchone() == ("3",)


def test_an_upgrade_that_finds_a_newer_version_under_its_lock_refuses(project_path, monkeypatch):
    """Another (newer) qualcode upgraded between our first look and our lock: refuse, and do
    not stamp the project back to our version."""
    from qualcode.store import migrations

    Project(project_path, create=True).close()
    con = sqlite3.connect(project_path)
    con.execute("UPDATE qc_meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    monkeypatch.setattr(migrations, "read_version", lambda engine: 3)  # what the first look saw
    with pytest.raises(ProjectError, match="newer"):
        Project(project_path)
    assert con.execute("SELECT value FROM qc_meta WHERE key = 'schema_version'").fetchone() == ("99",)


def test_a_version_4_project_gains_the_version_5_tables_and_columns(project_path):
    """Version 5: exchange identities, code Sets, quote spans, coding source, proposals,
    de-identification terms, suggestion models and browser tokens; rows survive."""
    from qualcode.store.migrations import V5_COLUMNS, V5_TABLES

    p = Project(project_path, create=True)
    with p.transaction() as s:
        s.add(Case(name="Kept"))
    p.close()
    con = sqlite3.connect(project_path)
    for table in V5_TABLES:
        con.execute(f"DROP TABLE {table}")
    for table, column, _ in V5_COLUMNS:
        con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    con.execute("UPDATE qc_meta SET value = '4' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with Project(project_path) as p:
        assert p.schema_version() == SCHEMA_VERSION
        assert list(p.cases()["name"]) == ["Kept"]
    con = sqlite3.connect(project_path)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert set(V5_TABLES) <= tables
    for table, column, _ in V5_COLUMNS:
        assert column in {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
    assert (project_path.parent / "study.db.v4.bak").exists()


def test_a_version_5_project_gains_the_proposal_outcome_column(project_path):
    Project(project_path, create=True).close()
    con = sqlite3.connect(project_path)
    con.execute("ALTER TABLE qc_code_proposal DROP COLUMN outcome")
    con.execute("UPDATE qc_meta SET value = '5' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with Project(project_path) as p:
        assert p.schema_version() == SCHEMA_VERSION
    assert "outcome" in {r[1] for r in sqlite3.connect(project_path).execute("PRAGMA table_info(qc_code_proposal)")}
    assert (project_path.parent / "study.db.v5.bak").exists()
