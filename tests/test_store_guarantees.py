"""What the store promises beyond the happy path: a database password is never shown, an
upgrade's backup is complete or absent, a project that cannot be written still reads."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import event, text
from sqlmodel import select

from qualcode.cli.main import cli
from qualcode.errors import ProjectError
from qualcode.project import Project
from qualcode.store.engine import redacted, scrub
from qualcode.store.models import Case, Coder

from .builders import TURNS, add_coders, build_codebook, build_transcript

SECRET = "s3cret"
UNREACHABLE = f"postgresql://u:{SECRET}@127.0.0.1:1/x"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


# -- passwords ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        (UNREACHABLE, "postgresql://u:***@127.0.0.1:1/x"),
        ("postgresql://u:a/b%40c@h/x", "postgresql://u:***@h/x"),
        ("postgresql://u@h/x?password=q9&sslmode=disable", "postgresql://u@h/x?password=***&sslmode=disable"),
        ("postgresql://u:s3cret@h:notaport/x", "postgresql://u:***@h:notaport/x"),
        ("postgresql://h/x", "postgresql://h/x"),
        ("study.db", "study.db"),
    ],
)
def test_redacted_hides_a_urls_password_and_leaves_paths(target, shown):
    assert redacted(target) == shown


def test_scrub_removes_the_password_as_written_and_decoded():
    target = "postgresql://u:p%40ss@h/x?password=q9"
    message = f"cannot parse {target}: p@ss p%40ss q9"
    assert scrub(message, target) == "cannot parse postgresql://u:***@h/x?password=***: *** *** ***"


@pytest.mark.parametrize("target", [UNREACHABLE, f"postgresql://u:{SECRET}@127.0.0.1:notaport/x"])
def test_an_unreachable_or_malformed_url_is_one_line_without_its_password(target):
    result = run("-p", target, "status")
    assert result.exit_code == 2, result.output
    assert SECRET not in result.output
    assert "u:***@127.0.0.1" in result.output and "cannot open project" in result.output
    with pytest.raises(ProjectError) as caught:
        Project(target)
    assert SECRET not in str(caught.value) and caught.value.__cause__ is None


def test_status_and_init_show_the_url_without_its_password(pg_url):
    """The test server trusts local connections, so a password in the URL is accepted and ignored."""
    with_password = pg_url.replace("://postgres@", f"://postgres:{SECRET}@", 1)
    if with_password == pg_url:
        pytest.skip("QUALCODE_TEST_POSTGRES has no user to add a password to")
    created = run("-p", with_password, "init")
    assert created.exit_code == 0, created.output
    status = run("-p", with_password, "status")
    assert status.exit_code == 0, status.output
    assert SECRET not in created.output + status.output
    assert f"project: {redacted(with_password)}" in status.output


# -- upgrade backups ---------------------------------------------------------------------------


def _version_3_project(project_path):
    with Project(project_path, create=True) as project, project.transaction() as s:
        s.add(Case(name="Kept"))
    con = sqlite3.connect(project_path)
    con.execute("ALTER TABLE qc_coder DROP COLUMN login")
    con.execute("UPDATE qc_meta SET value = '3' WHERE key = 'schema_version'")
    con.commit()
    con.close()


def _write_half_a_copy(source_path, copy_path):
    data = Path(source_path).read_bytes()
    Path(copy_path).write_bytes(data[: len(data) // 2])


def test_a_backup_that_fails_midway_leaves_no_bak_and_no_upgrade(project_path, monkeypatch):
    from qualcode.store import migrations

    _version_3_project(project_path)

    def disk_full(source_path, copy_path):
        _write_half_a_copy(source_path, copy_path)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(migrations, "_copy_database", disk_full)
    with pytest.raises(ProjectError, match="cannot back up the project before upgrading") as caught:
        Project(project_path)
    assert "\n" not in str(caught.value)
    assert [p.name for p in project_path.parent.iterdir() if p.name != project_path.name] == []
    with pytest.raises(ProjectError, match="older"):
        Project(project_path, upgrade=False)  # still version 3: the upgrade rolled back

    monkeypatch.undo()
    Project(project_path).close()
    backup = sqlite3.connect(project_path.parent / "study.db.v3.bak")
    assert backup.execute("SELECT value FROM qc_meta WHERE key = 'schema_version'").fetchone() == ("3",)
    assert backup.execute("SELECT name FROM qc_case").fetchall() == [("Kept",)]


def test_a_kill_mid_backup_leaves_only_a_partial_file_the_next_upgrade_removes(project_path):
    _version_3_project(project_path)
    killed_mid_copy = f"""
import os
from pathlib import Path
from qualcode.project import Project
from qualcode.store import migrations

def killed(source_path, copy_path):
    data = Path(source_path).read_bytes()
    Path(copy_path).write_bytes(data[: len(data) // 2])
    os._exit(9)

migrations._copy_database = killed
Project({str(project_path)!r})
"""
    assert subprocess.run([sys.executable, "-c", killed_mid_copy]).returncode == 9
    left = [p.name for p in project_path.parent.iterdir() if p.name.startswith("study.db.")]
    assert not [name for name in left if name.endswith(".bak")]
    assert [name for name in left if name.endswith(".partial")]

    Project(project_path).close()
    left = sorted(p.name for p in project_path.parent.iterdir() if p.name.startswith("study.db.v"))
    assert left == ["study.db.v3.bak"]
    backup = sqlite3.connect(project_path.parent / "study.db.v3.bak")
    assert backup.execute("SELECT name FROM qc_case").fetchall() == [("Kept",)]


# -- read-only projects ----------------------------------------------------------------------------
# Tests run as root, where a chmod stops no write: the read-only decision is injected instead
# (``Project(read_only=True)``, or the detection function answering as for a file we cannot write).


@pytest.fixture
def study(project_path):
    with Project(project_path, create=True) as project:
        build_transcript(project)
        build_codebook(project)
        add_coders(project, "ana")
    return project_path


def test_detection_asks_whether_this_process_may_write_the_file(tmp_path, monkeypatch):
    from qualcode.store import engine

    path = tmp_path / "study.db"
    path.write_bytes(b"")
    assert not engine.sqlite_is_read_only(path)
    monkeypatch.setattr(engine.os, "access", lambda p, mode: mode != os.W_OK)
    assert engine.sqlite_is_read_only(path)
    assert not engine.sqlite_is_read_only(tmp_path / "missing.db")  # nothing to open: not read-only


def test_a_read_only_project_reads_everything_and_refuses_writes_in_one_line(study):
    before = study.read_bytes()
    with Project(study, read_only=True, user="lead") as project:
        assert list(project.cases()["name"]) == ["Northside Elementary"]
        assert len(project.segments("Lee interview")) == len(TURNS)
        with project.read() as s:
            assert s.exec(select(Coder.name).order_by(Coder.name)).all() == ["ana", "lead"]
        with pytest.raises(ProjectError) as caught, project.transaction() as s:
            s.add(Case(name="New"))
        assert str(caught.value) == f"project is read-only: {study}"
        # a writer that uses the engine itself (transcript import does) gets the same line
        with pytest.raises(ProjectError, match=r"^project is read-only: "), project.write_engine.begin() as conn:
            conn.execute(text("INSERT INTO qc_case (name, description, created_at) VALUES ('x', '', '2026-01-01')"))
    assert study.read_bytes() == before


def test_the_cli_opens_a_file_it_cannot_write_read_only(study, monkeypatch):
    import qualcode.project

    monkeypatch.setattr(qualcode.project, "sqlite_is_read_only", lambda path: True)
    status = run("-p", str(study), "status")
    assert status.exit_code == 0, status.output
    assert "transcripts: 1" in status.output
    added = run("-p", str(study), "--as", "lead", "coders", "add", "bo")
    assert added.exit_code == 2
    assert added.output.strip().splitlines() == [f"error: project is read-only: {study}"]


def test_on_read_only_media_a_project_without_a_wal_is_read_as_immutable(study, monkeypatch):
    from qualcode.store import engine

    assert not study.with_name("study.db-wal").exists()
    real_access = os.access
    monkeypatch.setattr(engine.os, "access", lambda p, mode: mode != os.W_OK and real_access(p, mode))
    with Project(study) as project:
        assert project.read_only
        assert "immutable=1" in str(project.read_engine.url)
        assert list(project.cases()["name"]) == ["Northside Elementary"]
    assert not study.with_name("study.db-shm").exists()  # nothing was created beside the file


def test_a_read_only_project_that_needs_an_upgrade_says_so_in_one_line(project_path):
    _version_3_project(project_path)
    with pytest.raises(ProjectError, match=r"^project is read-only: .*schema version 3 needs upgrading"):
        Project(project_path, read_only=True)
    assert not list(project_path.parent.glob("*.bak"))


def test_a_write_the_database_refuses_as_read_only_is_one_line_even_when_not_detected(study):
    """A file that opened for writing but cannot be written (SQLite falls back to reading)."""
    with Project(study) as project:
        event.listen(project.write_engine, "connect", lambda conn, _record: conn.execute("PRAGMA query_only = 1"))
        with pytest.raises(ProjectError, match=r"^project is read-only: "), project.transaction() as s:
            s.add(Case(name="New"))
            s.flush()


def test_a_read_only_postgresql_project_reads_and_refuses_writes(pg_url):
    with Project(pg_url, create=True) as project:
        build_transcript(project)
    with Project(pg_url, read_only=True) as project:
        assert list(project.cases()["name"]) == ["Northside Elementary"]
        with pytest.raises(ProjectError, match=r"^project is read-only: "), project.write_engine.begin() as conn:
            conn.execute(text("INSERT INTO qc_case (name, description, created_at) VALUES ('x', '', now())"))
        with pytest.raises(ProjectError, match=r"^project is read-only: "), project.transaction():
            pass
    with Project(pg_url) as project:
        assert list(project.cases()["name"]) == ["Northside Elementary"]
