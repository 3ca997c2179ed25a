"""Readers never wait for writers on SQLite; bulk writers hold the write lock only briefly."""

from __future__ import annotations

import sqlite3
import threading
import time

from sqlalchemy import func
from sqlmodel import col, select

from qualcode.agreement.decisions import accept_agreed_in_chunks
from qualcode.coding.exchange import import_codings_in_chunks
from qualcode.project import Project
from qualcode.store import audit
from qualcode.store.engine import BUSY_TIMEOUT_MS
from qualcode.store.models import AuditEvent, Code, Coder, Coding, ConsensusDecision, Memo, SegmentStatus

from .builders import CODES, add_coders, build_codebook, build_transcript
from .tui_builders import build_long_transcript

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


CODERS = ("ana", "ben", "cam", "dee", "eve")
CODE_NAMES = [name for name, _key, _hotkey in CODES]


def _study(project: Project, segments: int) -> None:
    build_long_transcript(project, count=segments, chars=40)
    build_codebook(project)
    add_coders(project, *CODERS)


def _codings_csv(path, segments: int, coders=CODERS) -> int:
    """Every coder applies every code on every segment: segments x 4 codes x coders rows."""
    lines = ["transcript,segment,coder,code"]
    lines += [
        f"Long interview,{seg},{coder},{code}"
        for seg in range(1, segments + 1)
        for coder in coders
        for code in CODE_NAMES
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1


def test_a_50000_row_import_writes_in_chunks_with_one_audit_event_per_coding(any_project, tmp_path):
    """The chunked import writes every row, its audit event and the done marks; the same file
    again writes nothing (an interrupted import is completed by running it again)."""
    _study(any_project, 2_500)
    path = tmp_path / "codings.csv"
    assert _codings_csv(path, 2_500) == 50_000
    assert import_codings_in_chunks(any_project, path, "lead") == 50_000
    with any_project.read() as s:
        assert s.exec(select(func.count()).select_from(Coding)).one() == 50_000
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "coding.import")).all()
        assert len(events) == 50_000
        assert s.exec(select(func.count()).select_from(SegmentStatus)).one() == 2_500 * len(CODERS)
        one = s.exec(select(Coding).order_by(col(Coding.id)).limit(1)).one()
        first = next(e for e in events if e.entity_id == one.id)
        assert first.entity == "qc_coding" and first.actor == "lead" and first.before is None
        assert {k: v for k, v in first.after.items() if k != "created_at"} == {
            k: v for k, v in audit.row_dict(one).items() if k != "created_at"
        }
    assert import_codings_in_chunks(any_project, path, "lead") == 0


def test_a_consensus_import_audits_each_row_like_write_decision(any_project, tmp_path):
    """A row repeated in the file is written twice, the second event's "before" the first's "after"."""
    _study(any_project, 3)
    path = tmp_path / "consensus.csv"
    path.write_text(
        f"transcript,segment,coder,code\nLong interview,1,,{CODE_NAMES[0]}\nLong interview,1,,{CODE_NAMES[0]}\n"
        f"Long interview,2,,{CODE_NAMES[1]}\n",
        encoding="utf-8",
    )
    assert import_codings_in_chunks(any_project, path, "lead", consensus=True) == 3
    with any_project.read() as s:
        decisions = s.exec(select(ConsensusDecision)).all()
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "consensus.decide")).all()
    assert len(decisions) == 2 and all(d.method == "import" and d.present for d in decisions)
    assert len(events) == 3
    repeated = [e for e in events if e.entity_id == events[0].entity_id]
    assert repeated[0].before is None and repeated[1].before == repeated[0].after


def test_accept_agreed_in_chunks_writes_what_accept_agreed_writes(any_project, tmp_path):
    _study(any_project, 300)
    path = tmp_path / "codings.csv"
    _codings_csv(path, 300, coders=("ana", "ben"))
    import_codings_in_chunks(any_project, path, "lead")
    assert accept_agreed_in_chunks(any_project, "lead", coders=["ana", "ben"]) == 300 * len(CODES)
    assert accept_agreed_in_chunks(any_project, "lead", coders=["ana", "ben"]) == 0
    with any_project.read() as s:
        assert s.exec(select(func.count()).select_from(ConsensusDecision)).one() == 300 * len(CODES)
        assert len(s.exec(select(AuditEvent).where(AuditEvent.action == "consensus.decide")).all()) == 1_200


def test_a_coder_key_is_not_held_up_by_a_long_import(project, project_path, tmp_path):
    """While the lead imports 30,000 rows, a coder's one-row transactions each commit promptly."""
    _study(project, 1_500)
    path = tmp_path / "codings.csv"
    _codings_csv(path, 1_500)
    done = threading.Event()
    worst = 0.0

    def coder() -> None:
        nonlocal worst
        other = Project(project_path)
        try:
            with other.read() as s:
                ana = s.exec(select(Coder).where(Coder.name == "ana")).one()
                code = s.exec(select(Code)).first()
            position = 0
            while not done.is_set():
                position += 1
                started = time.monotonic()
                with other.transaction() as s:
                    s.add(Memo(kind="segment", coder_id=ana.id, code_id=code.id, text=f"note {position}"))
                worst = max(worst, time.monotonic() - started)
                time.sleep(0.01)
        finally:
            other.close()

    thread = threading.Thread(target=coder)
    thread.start()
    try:
        assert import_codings_in_chunks(project, path, "lead") == 30_000
    finally:
        done.set()
        thread.join()
    assert worst < 2.0, f"a coder's write waited {worst:.2f} s behind the import"


def test_the_sqlite_fast_insert_stores_exactly_what_sqlalchemys_insert_stores(project):
    """Codings import writes its rows and audit events through the driver's executemany on SQLite
    (SQLAlchemy's per-parameter work was half its time): dates and JSON are stored as before."""
    from qualcode.coding.bulk import AUDIT_COLUMNS, _sqlite_insert_many
    from qualcode.store.ids import table_of
    from qualcode.store.models import utcnow

    now = utcnow()
    events = [
        {"at": now, "actor": "lead", "action": "coding.import", "entity": "qc_coding", "entity_id": n, "before": None,
         "after": {"id": n, "quote_start": None, "created_at": now.isoformat(), "text": "é\u2028"}}
        for n in (1, 2)
    ]  # fmt: skip
    table = table_of(AuditEvent)
    with project.transaction() as s:
        s.connection().execute(table.insert(), events)
        _sqlite_insert_many(s, table, AUDIT_COLUMNS, [tuple(e[c] for c in AUDIT_COLUMNS) for e in events])
    raw = sqlite3.connect(project.read_engine.url.database)
    stored = raw.execute(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM qc_audit ORDER BY id").fetchall()
    assert stored[:2] == stored[2:]
