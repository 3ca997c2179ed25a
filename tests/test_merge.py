"""Coders' hand-outs and merging their copies back (`qualcode handout`, `qualcode merge`).

Truth by construction: every coding, done mark and memo is made through the coding service
(``TranscriptWork``) in a known place, and the lead's project must end with exactly those.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import col, select

from qualcode.cli.main import cli
from qualcode.coding.service import TranscriptWork
from qualcode.decoding import content_hash
from qualcode.project import Project
from qualcode.store.migrations import SCHEMA_VERSION
from qualcode.store.models import (
    AuditEvent,
    Code,
    Coder,
    Coding,
    ConsensusDecision,
    Memo,
    Segment,
    SegmentStatus,
    Transcript,
)

from .builders import TURNS, add_coders, build_codebook, build_transcript

OTHER_TURNS = [
    ("Interviewer", "interviewer", "Who decides what the team works on?"),
    ("Dr. Kim", "administrator", "The teachers set the agenda; I make sure the schedule gives them the hour."),
    ("Interviewer", "interviewer", "And resources?"),
    ("Dr. Kim", "administrator", "We moved the coaching budget into release time for planning."),
]


GUID = {key: f"6b1f0c3e-0000-4000-8000-00000000000{n}" for n, key in enumerate(("SV", "SA", "WD", "SN"), start=1)}


def build_study(path: Path) -> tuple[Project, list[int]]:
    """Two transcripts (content hashes as an import computes them), the four-code codebook (real GUIDs),
    coders ana and bertrand, lead lee."""
    project = Project(path, create=True)
    tids = [
        build_transcript(project, "Lee interview", "Northside Elementary", TURNS),
        build_transcript(project, "Kim interview", "Eastside Middle", OTHER_TURNS),
    ]
    build_codebook(project)
    add_coders(project, "ana", "bertrand", lead="lee")
    with project.transaction() as s:
        for transcript in s.exec(select(Transcript)):
            transcript.content_hash = content_hash(transcript.text)
            s.add(transcript)
        for code in s.exec(select(Code)):
            code.guid = GUID[code.key or ""]
            s.add(code)
    return project, tids


def code_ids(project: Project) -> dict[str, int]:
    with project.read() as s:
        return {c.key or "": c.id or 0 for c in s.exec(select(Code))}


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def handout(study: Path, coder: str, out: Path) -> None:
    result = invoke("-p", str(study), "--as", "lee", "handout", coder, "--out", str(out))
    assert result.exit_code == 0, result.output


def merge(study: Path, *args: str | Path):
    return invoke("-p", str(study), "--as", "lee", "merge", *map(str, args))


def work_of(path: Path, coder: str) -> dict[str, set]:
    """A coder's work in a project, in stable identities (transcript hash, position, code GUID)."""
    with Project(path) as p, p.read() as s:
        coder_id = s.exec(select(Coder.id).where(Coder.name == coder)).one()
        where = {}
        for sid, pos, tid in s.exec(select(Segment.id, Segment.position, Segment.transcript_id)):
            where[sid] = (tid, pos)
        hashes = {t.id: t.content_hash for t in s.exec(select(Transcript))}
        guids = {c.id: c.guid for c in s.exec(select(Code))}

        def seg(sid):
            tid, pos = where[sid]
            return (hashes[tid], pos)

        codings = {
            (*seg(c.segment_id), guids[c.code_id], c.round, c.quote_start, c.quote_end)
            for c in s.exec(select(Coding).where(Coding.coder_id == coder_id))
        }
        done = {
            (*seg(d.segment_id), d.round)
            for d in s.exec(select(SegmentStatus).where(SegmentStatus.coder_id == coder_id))
        }
        memos = {
            (m.kind, seg(m.segment_id) if m.segment_id else None, guids.get(m.code_id), m.round, m.text)
            for m in s.exec(select(Memo).where(Memo.coder_id == coder_id))
        }
    return {"codings": codings, "done": done, "memos": memos}


def row_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'qc_%'")]
        return {n: conn.execute(f"SELECT COUNT(*) FROM {n}").fetchone()[0] for n in names}
    finally:
        conn.close()


def code_in_copy(copy: Path, coder: str, tid: int, plan: list[tuple[int, str]], done: list[int] = (), memo=None):
    """Apply codes (segment index, code key) as ``coder`` in their copy; mark segments done; a memo."""
    with Project(copy, user=coder) as p:
        codes = code_ids(p)
        work = TranscriptWork(p, coder, tid)
        for index, key in plan:
            work.apply(work.segments[index].id, codes[key])
        for index in done:
            work.set_done(work.segments[index].id)
        if memo:
            work.set_memo(work.segments[memo[0]].id, memo[1])
        return work


@pytest.fixture(scope="module")
def study_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "study.db"
    project, tids = build_study(path)
    project.close()
    return path, tids


@pytest.fixture
def study(study_template, tmp_path):
    """A fresh copy of the study for each test (built once)."""
    template, tids = study_template
    path = tmp_path / "study.db"
    shutil.copy(template, path)
    return path, tids


def test_handout_holds_only_the_coders_own_work_not_even_in_the_files_bytes(study, tmp_path):
    path, (t1, t2) = study
    with Project(path, user="lee") as p:
        codes = code_ids(p)
        ben = TranscriptWork(p, "bertrand", t1)
        for seg in ben.segments:
            ben.apply(seg.id, codes["SA"])
        ben.set_memo(ben.segments[2].id, "BERTRAND-PRIVATE-MEMO on the principal")
        ana = TranscriptWork(p, "ana", t1)  # after bertrand: her coding's id here is 6
        ana.apply(ana.segments[1].id, codes["SV"])
        ana.set_memo(ana.segments[1].id, "ANA-OWN-MEMO about the shared goals")
        with p.transaction() as s:
            lead_id = s.exec(select(Coder.id).where(Coder.name == "lee")).one()
            s.add(Memo(kind="reconciliation", coder_id=lead_id, text="LEAD-RECONCILIATION-NOTE", round=1))
            s.add(ConsensusDecision(segment_id=ben.segments[2].id, code_id=codes["SA"], decided_by="lee"))
    out = tmp_path / "ana.db"
    result = invoke("-p", str(path), "--as", "lee", "handout", "ana", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "1 codings" in result.output and "5 codings" in result.output  # ana's kept; bertrand's left out

    raw = out.read_bytes()
    assert b"ANA-OWN-MEMO" in raw
    for secret in (b"BERTRAND-PRIVATE-MEMO", b"LEAD-RECONCILIATION-NOTE", b"bertrand"):
        assert secret not in raw, secret
    assert not Path(f"{out}-wal").exists()
    conn = sqlite3.connect(out)
    assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM qc_consensus").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM qc_segment").fetchone()[0] == len(TURNS) + len(OTHER_TURNS)
    assert {r[0] for r in conn.execute("SELECT guid FROM qc_code")} == {*GUID.values()}
    assert sorted(conn.execute("SELECT name, role, login FROM qc_coder").fetchall()) == [
        ("ana", "coder", None),
        ("lee", "lead", None),
    ]
    # numbered afresh: no gap where bertrand's rows were; the copy's audit trail starts at the hand-out
    assert [r[0] for r in conn.execute("SELECT id FROM qc_coder ORDER BY id")] == [1, 2]
    assert conn.execute("SELECT id, coder_id FROM qc_coding").fetchall() == [(1, 1)]
    assert conn.execute("SELECT action FROM qc_audit").fetchall() == [("handout.create",)]
    conn.close()
    # A valid project of the current schema that the coder opens and codes in.
    with Project(out, user="ana") as copy:
        assert copy.schema_version() == SCHEMA_VERSION
        work = TranscriptWork(copy, "ana", t2)
        work.apply(work.segments[0].id, code_ids(copy)["WD"])
    status = invoke("-p", str(out), "--as", "ana", "status")
    assert status.exit_code == 0 and "codings: 2" in status.output
    with Project(path) as p, p.read() as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "handout.create")).one()
        assert event.actor == "lee" and event.after["coder"] == "ana"


def test_handout_refuses_a_coder_asking_an_existing_file_and_an_unknown_coder(study, tmp_path):
    path, _ = study
    out = tmp_path / "x.db"
    assert invoke("-p", str(path), "--as", "ana", "handout", "ana", "--out", str(out)).exit_code == 2
    assert not out.exists()
    unknown = invoke("-p", str(path), "--as", "lee", "handout", "zoe", "--out", str(out))
    assert unknown.exit_code == 2 and "zoe" in unknown.output and not out.exists()
    out.write_text("mine")
    exists = invoke("-p", str(path), "--as", "lee", "handout", "ana", "--out", str(out))
    assert exists.exit_code == 2 and "exists already" in exists.output and out.read_text() == "mine"


def test_merge_brings_back_exactly_the_coders_work_audited_and_twice_changes_nothing(study, tmp_path):
    path, (t1, t2) = study
    copy = tmp_path / "ana.db"
    handout(path, "ana", copy)
    work = code_in_copy(copy, "ana", t1, [(1, "SV"), (1, "SA"), (2, "SA"), (4, "SN")], done=[0, 1, 2, 3, 4])
    with Project(copy, user="ana") as p:
        again = TranscriptWork(p, "ana", t1)
        again.set_quote(work.segments[4].id, code_ids(p)["SN"], work.segments[4].start, work.segments[4].start + 10)
        again.set_code_memo(code_ids(p)["WD"], "when structures are named")
    code_in_copy(copy, "ana", t2, [(1, "WD")], memo=(1, "release time = work design"))
    conn = sqlite3.connect(copy)  # one coding came from an accepted suggestion in the copy
    conn.execute("UPDATE qc_coding SET source = 'suggestion' WHERE id = (SELECT MIN(id) FROM qc_coding)")
    conn.commit()
    conn.close()
    expected = work_of(copy, "ana")
    assert len(expected["codings"]) == 5 and len(expected["done"]) == 5 and len(expected["memos"]) == 2

    dry = merge(path, copy, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output and work_of(path, "ana")["codings"] == set()

    result = merge(path, copy)
    assert result.exit_code == 0, result.output
    assert work_of(path, "ana") == expected
    with Project(path) as p, p.read() as s:
        merged = s.exec(select(Coding)).all()
        assert {c.source for c in merged} == {"merge"}
        events = s.exec(select(AuditEvent).where(col(AuditEvent.action).startswith("merge."))).all()
    sha = hashlib.sha256(copy.read_bytes()).hexdigest()
    per_row = [e for e in events if e.action != "merge.copy"]
    # one event per coding, done mark and memo (the quote is the coding's own columns)
    assert sorted(e.action for e in per_row).count("merge.coding") == 5
    assert len(per_row) == 5 + 5 + 2
    assert {(e.after["merged_from"]["path"], e.after["merged_from"]["sha256"]) for e in events} == {
        (str(copy.resolve()), sha)
    }
    assert {e.entity_id for e in per_row if e.action == "merge.coding"} == {c.id for c in merged}
    assert [e.after.get("source_in_copy") for e in per_row if e.action == "merge.coding"].count("suggestion") == 1

    before = row_counts(path)
    second = merge(path, copy)
    assert second.exit_code == 0 and "Nothing to merge" in second.output
    assert row_counts(path) == before
    data = json.loads(merge(path, copy, "--format", "json").output)
    assert data["outcome"] == "nothing to merge"
    assert data["coders"] == [
        {
            "coder": "ana",
            "codings_merged": 0,
            "codings_present": 5,
            "codings_removed": 0,
            "done_merged": 0,
            "done_present": 5,
            "done_removed": 0,
            "memos_merged": 0,
            "memos_present": 2,
            "conflicts": 0,
        }
    ]


def test_two_coders_copies_merged_give_the_agreement_of_coding_in_one_project(study, tmp_path):
    from qualcode.agreement.report import agreement_json

    path, (t1, _t2) = study
    shutil.copy(path, tmp_path / "one.db")  # the same study, for coding in one project
    plans = {
        "ana": [(0, "SV"), (1, "SV"), (1, "SA"), (2, "SA"), (4, "SN")],
        "bertrand": [(1, "SV"), (2, "SA"), (3, "WD"), (4, "SN"), (4, "WD")],
    }
    copies = []
    for coder, plan in plans.items():
        copy = tmp_path / f"{coder}.db"
        handout(path, coder, copy)
        code_in_copy(copy, coder, t1, plan, done=range(5))
        copies.append(str(copy))
    before = row_counts(path)
    (tmp_path / "notes.txt").write_text("not a project")
    bad = merge(path, *copies, str(tmp_path / "notes.txt"))  # several copies are all checked first
    assert bad.exit_code == 2 and "notes.txt" in bad.output and row_counts(path) == before
    both = merge(path, *copies)  # then merged one after the other, in one command
    assert both.exit_code == 0, both.output
    assert both.output.count("Merged from") == 2
    for coder, plan in plans.items():
        code_in_copy(tmp_path / "one.db", coder, t1, plan, done=range(5))
    with Project(path) as merged, merged.read() as s:
        figures = agreement_json(s, "lee")
    with Project(tmp_path / "one.db") as single, single.read() as s:
        truth = agreement_json(s, "lee")
    assert figures == truth
    # By hand (De Vries et al. 2008): p_o per code SV .8, SA .8, WD .6, SN 1 -> mean .8; p_e .56, .56, .6, .68
    # -> mean .6; pooled kappa (.8 - .6) / (1 - .6) = .5 over the 5 segments both marked done.
    assert figures["units"] == 5 and figures["pooled_kappa"] == pytest.approx(0.5)


def test_a_differing_codebook_is_named_and_nothing_merges_until_mapped(study, tmp_path):
    from qualcode.codebook.changes import add_code
    from qualcode.store.models import Codebook

    path, (t1, _t2) = study
    copy = tmp_path / "ana.db"
    handout(path, "ana", copy)
    with Project(copy, user="lee") as p, p.transaction() as s:
        cb = s.exec(select(Codebook)).one()
        new = add_code(s, cb, "lee", "Relational trust")
        new_guid = new.guid
    code_in_copy(copy, "ana", t1, [(1, "SV")], done=[1])
    with Project(copy, user="ana") as p:
        work = TranscriptWork(p, "ana", t1)
        trust = next(c.id for c in work.codes if c.name == "Relational trust")
        work.apply(work.segments[2].id, trust)
    before = row_counts(path)
    refused = merge(path, copy)
    assert refused.exit_code == 3
    assert f"'Relational trust' (GUID {new_guid})" in refused.output and "nothing merged" in refused.output
    assert row_counts(path) == before

    map_file = tmp_path / "codes.map"
    map_file.write_text(f"# the copy's new code is our norms code\n{new_guid},{GUID['SN']}\n", encoding="utf-8")
    dry = merge(path, copy, "--map-file", str(map_file), "--dry-run")
    assert dry.exit_code == 0 and "Would merge" in dry.output and row_counts(path) == before
    bad_map = tmp_path / "bad.map"
    bad_map.write_text("# nothing\njust-one-guid\n", encoding="utf-8")
    wrong = merge(path, copy, "--map-file", str(bad_map))
    assert wrong.exit_code == 2 and f"{bad_map}:2:" in wrong.output and row_counts(path) == before
    mapped = merge(path, copy, "--map", f"{new_guid}={GUID['SN']}")
    assert mapped.exit_code == 0, mapped.output
    codings = work_of(path, "ana")["codings"]
    assert {(c[1], c[2]) for c in codings} == {(2, GUID["SV"]), (3, GUID["SN"])}


def test_add_missing_codes_adds_them_with_their_guid(study, tmp_path):
    from qualcode.codebook.changes import add_code
    from qualcode.store.models import Codebook

    path, (t1, _t2) = study
    copy = tmp_path / "ana.db"
    handout(path, "ana", copy)
    with Project(copy, user="lee") as p, p.transaction() as s:
        new_guid = add_code(s, s.exec(select(Codebook)).one(), "lee", "Relational trust").guid
    with Project(copy, user="ana") as p:
        work = TranscriptWork(p, "ana", t1)
        work.apply(work.segments[2].id, next(c.id for c in work.codes if c.name == "Relational trust"))
    result = merge(path, copy, "--add-missing-codes")
    assert result.exit_code == 0, result.output
    assert f"code added: Relational trust ({new_guid})" in result.output
    assert work_of(path, "ana")["codings"] == work_of(copy, "ana")["codings"]
    with Project(path) as p, p.read() as s:
        assert s.exec(select(Code).where(Code.guid == new_guid)).one().name == "Relational trust"
        assert s.exec(select(Codebook)).one().version == 2
    assert merge(path, copy, "--add-missing-codes").exit_code == 0  # again: nothing new
    assert "Nothing to merge" in merge(path, copy).output


def test_conflicts_are_listed_nothing_merges_and_prefer_settles_them(study, tmp_path):
    path, (t1, t2) = study
    with Project(path, user="lee") as p:  # ana coded segment 2 here and marked it done
        codes = code_ids(p)
        here = TranscriptWork(p, "ana", t1)
        here.apply(here.segments[1].id, codes["SV"])
        here.set_done(here.segments[1].id)
        here.set_memo(here.segments[3].id, "first thoughts")
    copy = tmp_path / "ana.db"
    handout(path, "ana", copy)
    with Project(copy, user="ana") as p:  # in the copy she changes her mind, and goes on elsewhere
        work = TranscriptWork(p, "ana", t1)
        work.remove(work.segments[1].id, codes["SV"])
        work.apply(work.segments[1].id, codes["SA"])
        work.set_memo(work.segments[3].id, "second thoughts")
    code_in_copy(copy, "ana", t2, [(1, "WD")], done=[1])

    before = row_counts(path)
    result = merge(path, copy)
    assert result.exit_code == 3
    assert (
        "ana, 'Lee interview' segment 2, round 1: codes differ "
        "(here: Shared vision and strategy; copy: Supportive administration)" in result.output
    )
    assert "segment memo differ (here: first thoughts; copy: second thoughts)" in result.output
    assert "2 conflicts" in result.output and row_counts(path) == before

    ours = merge(path, copy, "--prefer", "ours")
    assert ours.exit_code == 0, ours.output
    work_here = work_of(path, "ana")
    with Project(path) as p, p.read() as s:
        lee_hash = s.get_one(Transcript, t1).content_hash
    # SV kept on the conflicting segment; the other transcript's WD merged
    assert {(c[0] == lee_hash, c[1], c[2]) for c in work_here["codings"]} == {
        (True, 2, GUID["SV"]),
        (False, 2, GUID["WD"]),
    }
    assert ("segment", (lee_hash, 4), None, 1, "first thoughts") in work_here["memos"]

    theirs = merge(path, copy, "--prefer", "theirs")
    assert theirs.exit_code == 0, theirs.output
    assert work_of(path, "ana") == work_of(copy, "ana")
    with Project(path) as p, p.read() as s:
        removed = s.exec(select(AuditEvent).where(AuditEvent.action == "merge.coding_remove")).all()
        assert len(removed) == 1 and removed[0].before["code_id"] == codes["SV"]
    assert "Nothing to merge" in merge(path, copy).output


def test_bad_copies_are_one_line_exit_2_and_change_nothing(study, tmp_path):
    path, _ = study
    text = tmp_path / "notes.db"
    text.write_text("not a database at all")
    shutil.copy(path, tmp_path / "other.db")
    other = Project(tmp_path / "other.db")
    with other.transaction() as s:  # a different study: other transcripts
        for t in s.exec(select(Transcript)):
            t.content_hash = "different-" + t.content_hash
            s.add(t)
    other.close()
    newer = tmp_path / "newer.db"
    handout(path, "ana", newer)
    conn = sqlite3.connect(newer)
    conn.execute("UPDATE qc_meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    before = row_counts(path)
    for bad, words in (
        (text, "notes.db"),
        (tmp_path / "missing.db", "no such file"),
        (tmp_path / "other.db", "a copy of a different study"),
        (newer, "newer than this qualcode"),
    ):
        result = merge(path, bad)
        assert result.exit_code == 2, (bad, result.output)
        assert words in result.output and len(result.output.strip().splitlines()) == 1, result.output
        assert "Traceback" not in result.output
    assert row_counts(path) == before
    refused = invoke("-p", str(path), "--as", "ana", "merge", str(tmp_path / "other.db"))
    assert refused.exit_code == 2 and "lead" in refused.output


def test_only_the_handout_coders_work_is_merged_from_a_handout(study, tmp_path):
    path, (t1, _t2) = study
    copy = tmp_path / "ana.db"
    handout(path, "ana", copy)
    code_in_copy(copy, "ana", t1, [(0, "SV")])
    code_in_copy(copy, "lee", t1, [(1, "SA")])  # someone typed --as lee in ana's copy
    result = merge(path, copy)
    assert result.exit_code == 0, result.output
    assert "left out: 1 rows of work by lee" in result.output
    assert work_of(path, "lee")["codings"] == set() and len(work_of(path, "ana")["codings"]) == 1


def test_a_qdpx_exported_from_a_copy_merges_like_the_copy_itself(study, tmp_path):
    path, (t1, _t2) = study
    copy = tmp_path / "ana.db"
    handout(path, "ana", copy)
    code_in_copy(copy, "ana", t1, [(1, "SV"), (2, "SA")], done=range(5), memo=(1, "a memo"))
    exported = tmp_path / "ana.qdpx"
    assert invoke("-p", str(copy), "--as", "ana", "export", "qdpx", "--out", str(exported)).exit_code == 0
    result = merge(path, exported)
    assert result.exit_code == 0, result.output
    assert work_of(path, "ana") == work_of(copy, "ana")
    with Project(path) as p, p.read() as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "merge.copy")).one()
    assert event.after["merged_from"] == {
        "path": str(exported.resolve()),
        "sha256": hashlib.sha256(exported.read_bytes()).hexdigest(),
    }
    before = row_counts(path)
    assert "Nothing to merge" in merge(path, exported).output
    assert row_counts(path) == before
    assert merge(path, copy).exit_code == 0 and row_counts(path) == before  # the copy itself: the same work


def test_a_lead_on_postgresql_hands_out_and_merges_back(pg_url, tmp_path):
    project, (t1, _t2) = build_study(pg_url)  # type: ignore[arg-type]
    project.close()
    copy = tmp_path / "ana.db"
    assert invoke("-p", pg_url, "--as", "lee", "handout", "ana", "--out", str(copy)).exit_code == 0
    code_in_copy(copy, "ana", t1, [(1, "SV"), (2, "SA")], done=range(5), memo=(1, "a memo"))
    result = invoke("-p", pg_url, "--as", "lee", "merge", str(copy))
    assert result.exit_code == 0, result.output
    assert work_of(pg_url, "ana") == work_of(copy, "ana")  # type: ignore[arg-type]

    def audit_rows() -> int:
        with Project(pg_url) as p, p.read() as s:
            return len(s.exec(select(AuditEvent.id)).all())

    before = audit_rows()
    assert "Nothing to merge" in invoke("-p", pg_url, "--as", "lee", "merge", str(copy)).output
    assert audit_rows() == before


def test_coders_match_by_guid_where_both_have_one(study, tmp_path):
    path, (t1, _t2) = study
    with Project(path) as p, p.transaction() as s:
        ana = s.exec(select(Coder).where(Coder.name == "ana")).one()
        ana.guid = "0d7c4a52-5a0e-4c55-9d53-0000000000aa"
        s.add(ana)
    copy = tmp_path / "ana.db"
    handout(path, "ana", copy)
    code_in_copy(copy, "ana", t1, [(0, "SV")])
    with Project(path) as p, p.transaction() as s:  # the lead renames her meanwhile
        ana = s.exec(select(Coder).where(Coder.name == "ana")).one()
        ana.name = "ana.silva"
        s.add(ana)
    result = merge(path, copy)
    assert result.exit_code == 0, result.output
    assert "coder 'ana' of the copy is 'ana.silva' here" in result.output
    assert len(work_of(path, "ana.silva")["codings"]) == 1


def test_a_transcript_that_differs_is_named_and_nothing_merges(study, tmp_path):
    path, (t1, t2) = study
    copy = tmp_path / "ana.db"
    handout(path, "ana", copy)
    code_in_copy(copy, "ana", t1, [(1, "SV")])
    code_in_copy(copy, "ana", t2, [(0, "WD")])
    conn = sqlite3.connect(copy)  # the copy's Lee interview segmented otherwise, its Kim interview another text
    conn.execute('UPDATE qc_segment SET "end" = "end" - 3 WHERE transcript_id = ? AND position = 2', (t1,))
    conn.execute("UPDATE qc_transcript SET content_hash = 'f00d' || content_hash WHERE id = ?", (t2,))
    conn.commit()
    conn.close()
    with Project(path) as p, p.read() as s:
        start, end = s.exec(
            select(Segment.start, Segment.end).where(Segment.transcript_id == t1, Segment.position == 2)
        ).one()
    before = row_counts(path)
    result = merge(path, copy)
    assert result.exit_code == 3
    assert (
        f"'Lee interview': segmented differently (1 segments differ; segment 2 is {start}-{end} here, " in result.output
    )
    assert f"{start}-{end - 3} in the copy)" in result.output
    assert (
        "transcript 'Kim interview' (content hash f00d" in result.output and "is not in this project" in result.output
    )
    assert row_counts(path) == before


def test_a_quote_changed_in_the_copy_is_a_conflict_and_theirs_takes_the_copys_quote(study, tmp_path):
    path, (t1, _t2) = study
    with Project(path, user="lee") as p:
        codes = code_ids(p)
        here = TranscriptWork(p, "ana", t1)
        seg = here.segments[1]
        here.set_quote(seg.id, codes["SV"], seg.start, seg.start + 5)
    copy = tmp_path / "ana.db"
    handout(path, "ana", copy)
    with Project(copy, user="ana") as p:
        TranscriptWork(p, "ana", t1).set_quote(seg.id, codes["SV"], seg.start + 3, seg.start + 12)
    result = merge(path, copy)
    assert result.exit_code == 3
    assert (
        f"quote differ (here: Shared vision and strategy {seg.start}-{seg.start + 5}; "
        f"copy: Shared vision and strategy {seg.start + 3}-{seg.start + 12})"
    ) in result.output
    theirs = merge(path, copy, "--prefer", "theirs")
    assert theirs.exit_code == 0, theirs.output
    assert work_of(path, "ana") == work_of(copy, "ana")
    with Project(path) as p, p.read() as s:
        coding = s.exec(select(Coding)).one()
        assert (coding.quote_start, coding.quote_end, coding.source) == (seg.start + 3, seg.start + 12, "merge")
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "merge.quote")).one()
        assert event.before["quote_start"] == seg.start and event.after["quote_start"] == seg.start + 3
