"""Several coders' processes write to one project at once: nothing lost, nobody errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from qualcode.project import Project
from qualcode.store.models import Coder, Coding

from .builders import add_coders, build_codebook
from .tui_builders import build_long_transcript

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODERS = ("ana", "ben", "cam", "dee")
PER_CODER = 200


def run_coders(target: str, transcript_id: int) -> list[subprocess.CompletedProcess]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.tui_builders", target, name, str(transcript_id), str(PER_CODER)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in CODERS
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def check(target: str, transcript_id: int) -> None:
    results = run_coders(target, transcript_id)
    for name, result in zip(CODERS, results):
        assert result.returncode == 0, f"{name}: {result.stderr}"
        assert "locked" not in result.stderr
    project = Project(target)
    try:
        with project.read() as s:
            coder_ids = {c.name: c.id for c in s.exec(select(Coder)).scalars()}
            stored = {(r.coder_id, r.segment_id, r.code_id) for r in s.exec(select(Coding)).scalars()}
    finally:
        project.close()
    reported = set()
    for name, result in zip(CODERS, results):
        lines = [line.split() for line in result.stdout.splitlines() if line.startswith("saved ")]
        assert len(lines) == PER_CODER
        reported |= {(coder_ids[name], int(seg), int(code)) for _, seg, code in lines}
    assert len(reported) == PER_CODER * len(CODERS)
    assert reported == stored


def prepare(project: Project) -> int:
    tid = build_long_transcript(project, count=60, chars=80)
    build_codebook(project)
    add_coders(project, *CODERS)
    return tid


@pytest.mark.slow
def test_four_coder_processes_on_one_sqlite_file(project, project_path):
    tid = prepare(project)
    project.close()
    check(str(project_path), tid)


@pytest.mark.slow
@pytest.mark.postgres
def test_four_coder_processes_on_one_postgres_database(pg_url):
    project = Project(pg_url, create=True)
    tid = prepare(project)
    project.close()
    check(pg_url, tid)
