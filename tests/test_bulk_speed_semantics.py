"""The fast bulk writers store exactly what the one-row-at-a-time paths store.

``codings import`` and ``reconcile accept-agreed`` write through the driver's executemany on SQLite,
with their audit JSON built as text and their rows in time-bounded chunks (qualcode.coding.bulk).
The truth they are held to here: the ORM's single-decision path (``consensus.write_decision`` with
``audit.record``), ``json.dumps`` of each row as ``audit.row_dict`` describes it, and counts worked
out by hand.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import event, text

from qualcode.agreement.decisions import accept_agreed, accept_agreed_in_chunks, agreed_decisions
from qualcode.coding import bulk
from qualcode.coding.consensus import write_decision
from qualcode.coding.exchange import import_codings, import_codings_in_chunks
from qualcode.errors import InputError
from qualcode.project import Project
from qualcode.store.models import ConsensusDecision, Segment, Transcript

sys.path.insert(0, str(Path(__file__).parent))  # the study builder lives beside this file
from test_agreement_report import build_study

STAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(\+00:00)?")
# ann and ben both finished segments 1-4 and agree on SV at 1, SA at 2 and SA at 4.
CODINGS = {
    "ann": {1: {"SV"}, 2: {"SV", "SA"}, 4: {"SA"}, 5: {"SV"}},
    "ben": {1: {"SV"}, 2: {"SA"}, 4: {"SA"}, 6: {"RC"}},
}
DONE = {"ann": {1, 2, 3, 4, 5}, "ben": {1, 2, 3, 4}}


def rows(project: Project, sql: str) -> list[tuple]:
    """Rows of ``sql`` with every timestamp replaced by "T" (they differ from run to run)."""
    with project.read() as s:
        return [
            tuple(STAMP.sub("T", v) if isinstance(v, str) else v for v in row) for row in s.execute(text(sql)).all()
        ]


def audit_rows(project: Project, action: str) -> list[tuple]:
    return rows(
        project,
        f"SELECT actor, action, entity, entity_id, before, after FROM qc_audit WHERE action = '{action}' ORDER BY id",
    )


def test_import_stores_each_coding_and_audit_json_as_json_dumps_of_the_row(project, tmp_path):
    ids = build_study(project, {"ann": {}}, {"ann": set()}, segments=4)
    path = tmp_path / "codings.csv"
    path.write_text(
        "transcript,segment,coder,code,round,start,end\n"
        "Principal interview,1,ann,Shared vision and strategy,,,\n"
        "Principal interview,3,ann,SA,,27,33\n"
        "Principal interview,3,ann,SA,,27,33\n",  # the same row again: written once
        encoding="utf-8",
    )
    assert import_codings_in_chunks(project, path, "lead") == 2
    seg, code, ann = ids["segments"], ids["codes"], ids["coders"]["ann"]
    with project.read() as s:
        stored = s.execute(text("SELECT * FROM qc_coding ORDER BY id")).all()
        events = s.execute(
            text("SELECT at, actor, action, entity, entity_id, before, after FROM qc_audit ORDER BY id")
        ).all()
    assert [tuple(r)[1:8] for r in stored] == [
        (seg[1], code["SV"], ann, 1, None, None, "import"),
        (seg[3], code["SA"], ann, 1, 27, 33, "import"),
    ]
    assert len(events) == 2
    for coding, (at, actor, action, entity, entity_id, before, after) in zip(stored, events, strict=True):
        created = coding[8]  # stored as SQLAlchemy stores a datetime on SQLite: "YYYY-MM-DD HH:MM:SS.ffffff"
        assert at == created
        assert (actor, action, entity, entity_id, before) == ("lead", "coding.import", "qc_coding", coding[0], "null")
        expected = dict(
            zip(("id", "segment_id", "code_id", "coder_id", "round", "quote_start", "quote_end", "source"), coding[:8])
        )
        expected["created_at"] = created.replace(" ", "T") + "+00:00"
        assert after == json.dumps(expected)  # byte for byte: the text SQLAlchemy's JSON column writes


def test_accept_agreed_in_chunks_stores_what_write_decision_stores_one_by_one(tmp_path, monkeypatch):
    """The same study twice: the lead's earlier decisions, then accept-agreed in chunks of two rows on
    one, and the ORM's one-decision path for the same agreed pairs on the other."""
    monkeypatch.setattr(bulk, "FIRST_CHUNK_ROWS", 2)
    monkeypatch.setattr(bulk, "MAX_CHUNK_ROWS", 2)
    projects = [Project(tmp_path / f"{name}.db", create=True) for name in ("bulk", "orm")]
    try:
        for p in projects:
            ids = build_study(p, CODINGS, DONE)
            with p.transaction() as s:
                seg, code = ids["segments"], ids["codes"]
                write_decision(s, "lead", seg[1], code["SV"], True, "manual", 1)  # kept: not "agreed"
                write_decision(s, "lead", seg[2], code["SA"], False, "agreed", 1)  # an agreed absence: overwritten
        bulk_project, orm_project = projects
        assert accept_agreed_in_chunks(bulk_project, "lead", coders=["ann", "ben"]) == 2
        with orm_project.read() as s:
            wanted = agreed_decisions(s, "lead", None, ["ann", "ben"], None)
        assert [(d.segment_id, d.code_id) for d in wanted] == [
            (ids["segments"][1], ids["codes"]["SV"]),
            (ids["segments"][2], ids["codes"]["SA"]),
            (ids["segments"][4], ids["codes"]["SA"]),
        ]
        with orm_project.transaction() as s:
            for d in wanted[1:]:  # the manual decision on segment 1 stays
                write_decision(s, "lead", d.segment_id, d.code_id, True, "agreed", 1)
        for sql in ("SELECT * FROM qc_consensus ORDER BY id",):
            assert rows(bulk_project, sql) == rows(orm_project, sql)
        assert audit_rows(bulk_project, "consensus.decide") == audit_rows(orm_project, "consensus.decide")
        before = json.loads(audit_rows(bulk_project, "consensus.decide")[-2][4])
        assert (before["present"], before["method"]) == (False, "agreed")  # the overwritten absence
        # Running it again changes nothing and adds no events: every agreed pair is stored already.
        assert accept_agreed_in_chunks(bulk_project, "lead", coders=["ann", "ben"]) == 0
        assert len(audit_rows(bulk_project, "consensus.decide")) == 2 + 2
    finally:
        for p in projects:
            p.close()


def test_accept_agreed_in_one_session_sees_its_own_objects_updated(project):
    """From Python, ``accept_agreed(session)``: an ORM object the caller holds is read again after the update."""
    ids = build_study(project, CODINGS, DONE)
    with project.transaction() as s:
        held = write_decision(s, "lead", ids["segments"][2], ids["codes"]["SA"], False, "agreed", 1)
        assert accept_agreed(s, "lead", coders=["ann", "ben"]) == 3
        assert (held.present, held.method) == (True, "agreed")
        assert s.get(ConsensusDecision, held.id).present is True


def test_consensus_import_writes_decisions_and_audit_like_write_decision(tmp_path):
    projects = [Project(tmp_path / f"{name}.db", create=True) for name in ("bulk", "orm")]
    path = tmp_path / "consensus.csv"
    path.write_text(
        "transcript,segment,coder,code,start,end\n"
        "Principal interview,2,,SA,,\n"
        "Principal interview,3,,Resources and capacity,27,33\n"
        "Principal interview,2,,SA,,\n",  # the same decision twice: two events, one row
        encoding="utf-8",
    )
    try:
        for p in projects:
            ids = build_study(p, CODINGS, DONE)
        bulk_project, orm_project = projects
        assert import_codings_in_chunks(bulk_project, path, "lead", consensus=True) == 3
        seg, code = ids["segments"], ids["codes"]
        with orm_project.transaction() as s:
            write_decision(s, "lead", seg[2], code["SA"], True, "import", 1)
            write_decision(s, "lead", seg[3], code["RC"], True, "import", 1, (27, 33))
            write_decision(s, "lead", seg[2], code["SA"], True, "import", 1)
        sql = "SELECT * FROM qc_consensus ORDER BY id"
        assert rows(bulk_project, sql) == rows(orm_project, sql)
        assert audit_rows(bulk_project, "consensus.decide") == audit_rows(orm_project, "consensus.decide")
    finally:
        for p in projects:
            p.close()


def test_done_marks_for_many_transcripts_take_two_queries_not_two_per_transcript(project, tmp_path):
    ids = build_study(project, {"ann": {}, "ben": {}}, {"ann": {2}}, segments=5)
    with project.transaction() as s:
        t = Transcript(title="Second interview", case_id=ids["case"], content_hash="y", text="Turn")
        s.add(t)
        s.flush()
        second = t.id
        s.add(Segment(transcript_id=second, position=1, start=0, end=4))
    ann, ben, first = ids["coders"]["ann"], ids["coders"]["ben"], ids["transcript"]
    statements: list[str] = []
    with project.read() as s:
        event.listen(s.connection(), "before_cursor_execute", lambda *a: statements.append(a[2]))
        marks = bulk.missing_done_marks(s, [(first, ann, 1), (first, ben, 1), (second, ann, 1), (first, ann, 1)])
    assert len(statements) == 2
    segs = ids["segments"]
    second_seg = rows(project, f"SELECT id FROM qc_segment WHERE transcript_id = {second}")[0][0]
    # ann had segment 2 done already; ben nothing; the second transcript has one segment.
    assert marks == [
        *((segs[p], ann, 1) for p in (1, 3, 4, 5)),
        *((segs[p], ben, 1) for p in (1, 2, 3, 4, 5)),
        (second_seg, ann, 1),
    ]
    with project.transaction() as s:
        assert bulk.write_done_marks(s, marks) == 10
        assert bulk.write_done_marks(s, marks[:3]) == 3  # stored meanwhile: skipped, not an error
    assert rows(project, "SELECT count(*) FROM qc_segment_status") == [(11,)]


def test_chunks_are_bounded_in_time_not_rows():
    # 1,000 rows in 40 ms: 20 ms is 500 rows. Fast chunks grow at most twofold; never past the bounds.
    assert bulk.next_chunk_rows(1_000, 0.04) == 500
    assert bulk.next_chunk_rows(100, 0.001) == 200
    assert bulk.next_chunk_rows(100, 0.0) == 200
    assert bulk.next_chunk_rows(100, 10.0) == bulk.MIN_CHUNK_ROWS
    assert bulk.next_chunk_rows(bulk.MAX_CHUNK_ROWS, 0.001) == bulk.MAX_CHUNK_ROWS


def test_write_in_chunks_writes_every_item_once_in_order_in_smaller_chunks_when_slow(monkeypatch):
    """A chunk that took 80 ms for 250 rows (4x the 20 ms target) makes the next one 62 rows, and 62 rows in
    80 ms make the next 15, raised to the floor of 25."""

    class Session:
        def connection(self):
            return SimpleNamespace(dialect=SimpleNamespace(name="sqlite"))

    class Access:
        def transaction(self):
            from contextlib import nullcontext

            return nullcontext(Session())

    clock = iter(x * 0.08 for x in range(1000))  # each chunk "takes" 80 ms
    monkeypatch.setattr(bulk, "_clock", lambda: next(clock))
    monkeypatch.setattr(bulk, "_pause", lambda s: None)
    parts: list[list[int]] = []
    items = list(range(400))
    written = bulk.write_in_chunks(Access(), items, lambda s, part: parts.append(list(part)) or len(part))  # type: ignore[arg-type]
    assert written == 400
    assert [x for part in parts for x in part] == items
    assert [len(p) for p in parts] == [250, 62, 25, 25, 25, 13]


def test_a_bad_row_still_writes_nothing_and_names_its_line(project, tmp_path):
    build_study(project, {"ann": {}}, {"ann": set()}, segments=3)
    path = tmp_path / "codings.csv"
    # A repeated header column keeps its last cell (as csv.DictReader did); the blank line is not counted.
    path.write_text(
        "transcript,segment,Code,coder,code\n"
        "Principal interview,1,ignored,ann,SV\n"
        "\n"
        "Principal interview,9,ignored,ann,SV\n"
        "Principal interview,2,x,ann\n",
        encoding="utf-8",
    )
    with project.transaction() as s, pytest.raises(InputError) as raised:
        import_codings(s, path, "lead")
    message = str(raised.value)
    # The short row's code is the last "code" cell, absent: ann finished the transcript, not a bad row.
    assert message == f"1 bad row(s), nothing imported: {path}:3: segment 9 is out of range for 'Principal interview'"
    assert rows(project, "SELECT count(*) FROM qc_coding") == [(0,)]
