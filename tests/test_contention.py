"""Readers never wait for writers on SQLite; bulk writers hold the write lock only briefly."""

from __future__ import annotations

import sqlite3
import time

from sqlmodel import select

from qualcode.project import Project
from qualcode.store.engine import BUSY_TIMEOUT_MS
from qualcode.store.models import Coder

from .builders import add_coders, build_codebook, build_transcript

PROMPT_S = 2.0  # "at once": far below the busy timeout a reader would otherwise wait


def _hold_write_lock(path) -> sqlite3.Connection:
    """Another process's writer mid-transaction: it holds SQLite's write lock until rolled back."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO qc_case (name, description, created_at) VALUES ('pending', '', '2026-01-01')")
    return other


def test_opening_and_reading_never_wait_for_a_writer_on_sqlite(project_path):
    assert PROMPT_S * 1000 < BUSY_TIMEOUT_MS / 10
    project = Project(project_path, create=True)
    build_transcript(project)
    build_codebook(project)
    add_coders(project, "ana")
    project.close()
    other = _hold_write_lock(project_path)
    try:
        started = time.monotonic()
        opened = Project(project_path, user="ana")  # version and identity checks read, never lock
        try:
            with opened.read() as s:
                names = sorted(c.name for c in s.exec(select(Coder)))
            assert opened.schema_version() > 0
            assert len(opened.transcripts()) == 1
        finally:
            opened.close()
        elapsed = time.monotonic() - started
    finally:
        other.rollback()
        other.close()
    assert names == ["ana", "lead"]
    assert elapsed < PROMPT_S, f"opening and reading took {elapsed:.1f} s behind another writer"
