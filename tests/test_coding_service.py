"""Coding actions: apply, remove, undo/redo, done marks, memos, quotes, core ideas, rounds, blinding."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from qualcode.coding import blinding
from qualcode.coding.progress import progress_overview
from qualcode.coding.rounds import open_round
from qualcode.coding.service import TranscriptWork
from qualcode.coding.views import others_by_segment
from qualcode.errors import BlindingError, QualcodeError
from qualcode.store.models import AuditEvent, Coding, Memo, SegmentStatus

from .builders import add_coders, build_codebook, build_transcript


@pytest.fixture
def setup(any_project):
    tid = build_transcript(any_project)
    codes = build_codebook(any_project)
    add_coders(any_project, "ana", "ben")
    return any_project, tid, codes


def stored_codings(project, coder=None):
    with project.read() as s:
        rows = s.exec(select(Coding)).scalars().all()
    return sorted((r.segment_id, r.code_id, r.round) for r in rows)


def test_toggle_saves_at_once_and_undo_redo_walk_back_and_forth(setup):
    project, tid, codes = setup
    work = TranscriptWork(project, "ana", tid)
    seg = work.segments[1].id
    assert work.toggle(seg, codes["SV"]) is True
    work.toggle(seg, codes["SA"])
    assert stored_codings(project) == sorted([(seg, codes["SV"], 1), (seg, codes["SA"], 1)])
    assert work.toggle(seg, codes["SV"]) is False
    assert stored_codings(project) == [(seg, codes["SA"], 1)]
    assert work.undo() == "remove Shared vision and strategy"
    assert work.undo() == "apply Supportive administration"
    assert stored_codings(project) == [(seg, codes["SV"], 1)]
    assert work.redo() == "apply Supportive administration"
    assert stored_codings(project) == sorted([(seg, codes["SV"], 1), (seg, codes["SA"], 1)])
    # a new action clears the redo stack
    work.toggle(seg, codes["WD"])
    assert work.redo() is None
    # a fresh view of the same work finds exactly what was saved
    again = TranscriptWork(project, "ana", tid)
    assert {c.key for c in again.codes_on(seg)} == {"SV", "SA", "WD"}


def test_a_new_view_adopts_the_history_unless_the_codebook_changed(setup):
    from qualcode.codebook.changes import retire_code
    from qualcode.store.models import Code, Codebook

    project, tid, codes = setup
    first = TranscriptWork(project, "ana", tid)
    seg = first.segments[0].id
    first.toggle(seg, codes["SV"])
    first.set_quote(seg, codes["SV"], first.segments[0].start, first.segments[0].start + 4)
    first.set_memo(seg, "a note")
    second = TranscriptWork(project, "ana", tid)
    assert second.adopt(first.history)
    assert [second.undo() for _ in range(3)] == [
        "segment memo",
        "quote for Shared vision and strategy",
        "apply Shared vision and strategy",
    ]
    assert stored_codings(project) == []
    assert second.memo(seg) == "" and not second.applied.get(seg)
    assert second.redo() == "apply Shared vision and strategy"
    assert stored_codings(project) == [(seg, codes["SV"], 1)] and codes["SV"] in second.applied[seg]

    assert not TranscriptWork(project, "ben", tid).adopt(second.history)  # another coder's
    with project.transaction() as s:  # the lead retires a code: the codebook's version moves on
        cb = s.exec(select(Codebook)).scalars().one()
        retire_code(s, cb, "lead", s.get(Code, codes["WD"]))
    assert not TranscriptWork(project, "ana", tid).adopt(second.history)


def test_every_coding_change_is_audited(setup):
    project, tid, codes = setup
    work = TranscriptWork(project, "ana", tid)
    seg = work.segments[2].id
    work.toggle(seg, codes["SA"])
    work.toggle(seg, codes["SA"])
    with project.read() as s:
        events = s.exec(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    assert [e.action for e in events] == ["coding.apply", "coding.remove"]
    assert events[0].actor == "ana" and events[0].after["code_id"] == codes["SA"]
    assert events[1].before["segment_id"] == seg


def test_done_marks_next_uncoded_and_search(setup):
    project, tid, _codes = setup
    work = TranscriptWork(project, "ana", tid)
    ids = [s.id for s in work.segments]
    work.set_done(ids[0])
    work.set_done(ids[1])
    assert work.next_uncoded(0) == 2
    assert work.progress() == (2, 5)
    work.undo()
    assert work.progress() == (1, 5)
    with project.read() as s:
        assert len(s.exec(select(SegmentStatus)).scalars().all()) == 1
    assert work.search("student work", 0) == 4
    assert work.search("tuesday", 4) == 1  # wraps around
    assert work.search("ORTIZ", 0) == 4  # speakers too
    assert work.search("nothing like this", 0) is None


def test_memos_core_ideas_and_quotes(setup):
    project, tid, codes = setup
    work = TranscriptWork(project, "ana", tid)
    seg = work.segments[2]
    work.set_memo(seg.id, "Time protection is the principal's lever.")
    work.set_core_idea(seg.id, "Principal protects collaboration time")
    work.set_code_memo(codes["SA"], "Includes protecting time.")
    text = work.segment_text(seg)
    a = seg.start + text.index("protects that time")
    work.set_quote(seg.id, codes["SA"], a, a + len("protects that time"))
    with project.read() as s:
        memos = {m.kind: m.text for m in s.exec(select(Memo)).scalars()}
        coding = s.exec(select(Coding)).scalars().one()
    assert memos == {
        "segment": "Time protection is the principal's lever.",
        "core_idea": "Principal protects collaboration time",
        "code": "Includes protecting time.",
    }
    assert project_text(project, tid)[coding.quote_start : coding.quote_end] == "protects that time"
    with pytest.raises(QualcodeError, match="not inside"):
        work.set_quote(seg.id, codes["SA"], seg.start - 5, seg.start + 3)
    work.undo()  # the quote (which also applied the code)
    assert stored_codings(project) == []
    work.undo()  # code memo
    again = TranscriptWork(project, "ana", tid)
    assert again.code_memo(codes["SA"]) == ""
    assert again.memo(seg.id).startswith("Time protection")


def project_text(project, tid):
    from qualcode.store.models import Transcript

    with project.read() as s:
        return s.get(Transcript, tid).text


def others(work: TranscriptWork, segment_id: int) -> dict[str, set[int]]:
    """Every other coder's codes on one segment, as the workbench's side-by-side view reads them."""
    return others_by_segment(work.project, work.coder.name, work.transcript_id, work.round).get(segment_id, {})


def test_blinding_hides_other_coders_until_the_lead_unblinds(setup):
    project, tid, codes = setup
    ana = TranscriptWork(project, "ana", tid)
    ben = TranscriptWork(project, "ben", tid)
    seg = ana.segments[1].id
    ana.toggle(seg, codes["SV"])
    ben.toggle(seg, codes["WD"])
    assert others(ana, seg) == {}
    assert {c.key for c in TranscriptWork(project, "ben", tid).codes_on(seg)} == {"WD"}
    lead = TranscriptWork(project, "lead", tid)
    assert others(lead, seg) == {"ana": {codes["SV"]}, "ben": {codes["WD"]}}
    assert [p.done for p in progress_overview(project, "ana")] == [{"ana": 0}]
    assert progress_overview(project, "lead")[0].done == {"ana": 0, "ben": 0}  # the lead has coded nothing
    with pytest.raises(BlindingError), project.transaction() as s:
        blinding.set_blinded(s, "ana", False)
    with project.transaction() as s:
        blinding.set_blinded(s, "lead", False)
    assert others(ana, seg) == {"ben": {codes["WD"]}}


def test_round_two_recodes_blind_and_keeps_round_one(setup):
    project, tid, codes = setup
    ana = TranscriptWork(project, "ana", tid)
    seg = ana.segments[1].id
    ana.toggle(seg, codes["SV"])
    ana.set_done(seg)
    with pytest.raises(BlindingError), project.transaction() as s:
        open_round(s, "ana", [tid])
    with project.transaction() as s:
        assert open_round(s, "lead", [tid], note="recode after reconciliation") == 2
    ana2 = TranscriptWork(project, "ana", tid)
    assert ana2.round == 2 and ana2.codes_on(seg) == [] and ana2.done == set()
    ana2.toggle(seg, codes["SA"])
    assert stored_codings(project) == sorted([(seg, codes["SV"], 1), (seg, codes["SA"], 2)])


def test_groupings_cannot_be_applied(any_project):
    tid = build_transcript(any_project)
    add_coders(any_project, "ana")
    codes = build_codebook(any_project)
    from qualcode.store.models import Code

    with any_project.transaction() as s:
        c = s.get(Code, codes["SV"])
        c.applicable = False
        s.add(c)
    work = TranscriptWork(any_project, "ana", tid)
    with pytest.raises(QualcodeError, match="grouping"):
        work.toggle(work.segments[0].id, codes["SV"])


def test_round_two_starts_without_round_one_memos_and_keeps_them(setup):
    project, tid, codes = setup
    ana = TranscriptWork(project, "ana", tid)
    seg = ana.segments[1].id
    ana.set_memo(seg, "round-one thought")
    ana.set_core_idea(seg, "round-one abstract")
    ana.set_code_memo(codes["SV"], "applies across rounds")
    with project.transaction() as s:
        open_round(s, "lead", [tid])
    ana2 = TranscriptWork(project, "ana", tid)
    assert ana2.memo(seg) == "" and ana2.core_idea(seg) == ""
    assert ana2.code_memo(codes["SV"]) == "applies across rounds"
    ana2.set_memo(seg, "round-two thought")
    ana2.set_memo(seg, "")  # clearing the round-2 memo leaves round 1's alone
    assert TranscriptWork(project, "ana", tid).memo(seg) == ""
    with project.read() as s:
        kept = s.exec(select(Memo.text, Memo.round).where(Memo.kind == "segment")).all()
    assert [tuple(r) for r in kept] == [("round-one thought", 1)]


def test_a_new_round_must_come_after_the_current_one(any_project):
    from qualcode.store.models import Round

    t1 = build_transcript(any_project, title="First")
    t2 = build_transcript(any_project, title="Second")
    build_codebook(any_project)
    add_coders(any_project, "ana")
    with any_project.transaction() as s:
        assert open_round(s, "lead", [t1], note="recode A") == 2
        assert open_round(s, "lead", [t1], note="again") == 3
    with pytest.raises(QualcodeError, match="'First' is in round 3 already"), any_project.transaction() as s:
        open_round(s, "lead", [t1], number=2)
    with any_project.transaction() as s:  # another transcript joins round 2, with its own note kept
        assert open_round(s, "lead", [t2], number=2, note="recode B") == 2
    with any_project.read() as s:
        assert s.exec(select(Round.note).where(Round.number == 2)).scalar() == "recode A; recode B"


def test_an_open_view_refuses_to_write_into_a_round_the_lead_closed(setup):
    project, tid, codes = setup
    ana = TranscriptWork(project, "ana", tid)  # opened in round 1
    seg = ana.segments[1].id
    with project.transaction() as s:
        open_round(s, "lead", [tid])
    for write in (lambda: ana.toggle(seg, codes["SV"]), lambda: ana.set_done(seg), lambda: ana.set_memo(seg, "late")):
        with pytest.raises(QualcodeError, match="opened round 2"):
            write()
    assert stored_codings(project) == []
    ana.set_code_memo(codes["SV"], "code memos span rounds")  # still allowed
    assert TranscriptWork(project, "ana", tid).round == 2


def test_auditors_review_but_do_not_code(setup):
    from qualcode.store.models import Coder

    project, tid, codes = setup
    with project.transaction() as s:
        s.add(Coder(name="pat", role="auditor"))
    pat = TranscriptWork(project, "pat", tid)
    with pytest.raises(QualcodeError, match="auditor"):
        pat.toggle(pat.segments[0].id, codes["SV"])
    with pytest.raises(QualcodeError, match="auditor"):
        pat.set_memo(pat.segments[0].id, "a note")
    assert stored_codings(project) == []


def test_saving_the_same_quote_again_records_nothing(setup):
    project, tid, codes = setup
    work = TranscriptWork(project, "ana", tid)
    seg = work.segments[2]
    work.set_quote(seg.id, codes["SA"], seg.start, seg.start + 10)
    with project.read() as s:
        before = len(s.exec(select(AuditEvent)).scalars().all())
    work.set_quote(seg.id, codes["SA"], seg.start, seg.start + 10)
    with project.read() as s:
        assert len(s.exec(select(AuditEvent)).scalars().all()) == before
    assert work.undo() == "quote for Supportive administration"  # the first save, not a no-op
