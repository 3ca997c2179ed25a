"""A full disk is one line the user can act on, exit 2, and the project is left as it was.

The test needs a small file system to fill: a tmpfs mounted for it (root only; skipped elsewhere).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qualcode.errors import storage_full


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small file system needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def qualcode(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "QUALCODE_LOG": str(cwd / "qualcode.log")}
    return subprocess.run([sys.executable, "-m", "qualcode", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_an_import_onto_a_full_disk_says_so_and_stores_nothing(small_disk, tmp_path):
    project = small_disk / "study.db"
    assert qualcode("init", str(project), cwd=tmp_path).returncode == 0
    (tmp_path / "small_one.txt").write_text("Interviewer: Hello?\nTeacher: We plan together.\n", encoding="utf-8")
    assert qualcode("-p", str(project), "import", str(tmp_path / "small_one.txt"), cwd=tmp_path).returncode == 0
    # Fill the disk, leaving less room than the next transcript needs.
    free = shutil.disk_usage(small_disk).free
    (small_disk / "filler").write_bytes(b"\0" * max(0, free - 60_000))
    turns = "".join(f"Teacher: {'we share goals and plan lessons together ' * 40}{i}\n" for i in range(400))
    (tmp_path / "long_one.txt").write_text(f"Interviewer: Tell me.\n{turns}", encoding="utf-8")
    done = qualcode("-p", str(project), "import", str(tmp_path / "long_one.txt"), cwd=tmp_path)
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 2, done.stdout + done.stderr
    assert any("disk holding the project is full" in line and "nothing was saved" in line for line in lines)
    assert "Traceback" not in done.stderr and not (tmp_path / "qualcode.log").exists()
    (small_disk / "filler").unlink()
    listed = qualcode("-p", str(project), "transcripts", "list", cwd=tmp_path)
    assert listed.returncode == 0 and "small_one" in listed.stdout and "long_one" not in listed.stdout


def test_full_disk_errors_are_recognised_through_the_wrappers():
    import sqlite3

    class DiskFull(Exception):
        sqlstate = "53100"

    sqlite_full = sqlite3.OperationalError("database or disk is full")
    sqlite_full.sqlite_errorname = "SQLITE_FULL"  # what the sqlite3 module sets (Python 3.11+)

    class Wrapped(Exception):
        def __init__(self, orig):
            super().__init__("wrapped")
            self.orig = orig

    assert storage_full(Wrapped(sqlite_full)) is not None
    assert storage_full(Wrapped(DiskFull())) is not None
    assert "no space left" in str(storage_full(OSError(28, "No space left on device", "/x/out.docx")))
    assert storage_full(Wrapped(sqlite3.OperationalError("no such table: qc_case"))) is None
    assert storage_full(RuntimeError("other")) is None
