"""Kill a coding process mid-session: every coding it reported saved is in the project."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from qualcode.project import Project
from qualcode.store.models import Coding

from .builders import add_coders, build_codebook
from .tui_builders import build_long_transcript

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def kill_mid_run(target: str, transcript_id: int, after: int = 40) -> set[tuple[int, int]]:
    """Start a coder, SIGKILL it once it has reported ``after`` codings; return what it reported."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.tui_builders", target, "ana", str(transcript_id), "100000", "0.002"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reported: set[tuple[int, int]] = set()
    deadline = time.monotonic() + 120
    try:
        while len(reported) < after and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("saved "):
                _, seg, code = line.split()
                reported.add((int(seg), int(code)))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    # a line may have been printed between our last read and the kill
    for line in proc.stdout.read().splitlines():
        if line.startswith("saved "):
            _, seg, code = line.split()
            reported.add((int(seg), int(code)))
    assert len(reported) >= after
    return reported


def check(target: str, tid: int) -> None:
    reported = kill_mid_run(target, tid)
    project = Project(target)
    try:
        with project.read() as s:
            stored = {(r.segment_id, r.code_id) for r in s.exec(select(Coding)).scalars()}
    finally:
        project.close()
    assert reported <= stored
    assert len(stored) - len(reported) <= 1  # at most the one in flight when killed


def prepare(project: Project) -> int:
    tid = build_long_transcript(project, count=200, chars=60)
    build_codebook(project)
    add_coders(project, "ana")
    return tid


def test_sigkill_loses_nothing_reported_saved_sqlite(project, project_path):
    tid = prepare(project)
    project.close()
    check(str(project_path), tid)


@pytest.mark.postgres
def test_sigkill_loses_nothing_reported_saved_postgres(pg_url):
    project = Project(pg_url, create=True)
    tid = prepare(project)
    project.close()
    check(pg_url, tid)
