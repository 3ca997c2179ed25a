"""What the store promises beyond the happy path: a database password is never shown, an
upgrade's backup is complete or absent, a project that cannot be written still reads."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qualcode.cli.main import cli
from qualcode.errors import ProjectError
from qualcode.project import Project
from qualcode.store.engine import redacted, scrub
from qualcode.store.models import Case

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
