"""Reconciliation: the queue, decisions into the consensus layer, memos, flags, round 2, all audited."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from qualcode.agreement.decisions import accept_agreed, decide, flag_for_revision, reconciliation_memo
from qualcode.agreement.queue import disagreement_queue
from qualcode.agreement.report import agreement_json as agreement_report
from qualcode.coding.layers import layer_codings
from qualcode.coding.rounds import open_round
from qualcode.errors import BlindingError
from qualcode.store.models import AuditEvent, Coder, Coding, ConsensusDecision, Memo, RoundTranscript

sys.path.insert(0, str(Path(__file__).parent))  # the study builder lives beside this file
from test_agreement_report import CODINGS, DONE, build_study


def test_queue_lists_each_disagreement_with_text_and_definitions(any_project):
    ids = build_study(any_project, CODINGS, DONE)
    with any_project.read() as s:
        items = disagreement_queue(s, "lead")
    assert [(i.position, [d["path"] for d in i.disputed]) for i in items] == [(2, ["Shared vision and strategy"])]
    item = items[0]
    assert item.text == "Turn 2 text. " and item.case == "Lincoln Elementary"
    assert item.disputed[0]["applied_by"] == ["ann"] and item.disputed[0]["omitted_by"] == ["ben"]
    assert item.disputed[0]["definition"] == "Definition of SV"
    assert item.codes_by_coder == {
        "ann": ["Shared vision and strategy", "Supportive administration"],
        "ben": ["Supportive administration"],
    }
    assert item.segment_id == ids["segments"][2]


def test_queue_is_hidden_from_coders_while_blinded(any_project):
    build_study(any_project, CODINGS, DONE)
    with any_project.read() as s, pytest.raises(BlindingError):
        disagreement_queue(s, "ben")


def test_decisions_build_the_consensus_layer_and_leave_codings_alone(any_project):
    ids = build_study(any_project, CODINGS, DONE)
    seg2, sv, sa = ids["segments"][2], ids["codes"]["SV"], ids["codes"]["SA"]
    with any_project.transaction() as s:
        before = len(s.exec(select(Coding)).scalars().all())
        assert accept_agreed(s, "lead") == 3  # SV on 1, SA on 2 and 4
        decide(s, "lead", seg2, sv, "take", coder="ben")
    with any_project.read() as s:
        layer = layer_codings(s, "consensus")
        assert sorted(zip(layer["segment_id"], layer["code_id"])) == sorted(
            [(ids["segments"][1], sv), (seg2, sa), (ids["segments"][4], sa)]
        )
        assert len(s.exec(select(Coding)).scalars().all()) == before
        assert disagreement_queue(s, "lead") == []  # decided
        decided = (
            s.exec(
                select(ConsensusDecision).where(ConsensusDecision.segment_id == seg2, ConsensusDecision.code_id == sv)
            )
            .scalars()
            .one()
        )
        assert (decided.present, decided.method, decided.decided_by) == (False, "take:ben", "lead")
        actions = [e.action for e in s.exec(select(AuditEvent)).scalars()]
        assert actions.count("consensus.decide") == 4
    with any_project.transaction() as s:
        decide(s, "lead", seg2, sv, "union")  # overwrites the earlier decision
        assert accept_agreed(s, "lead") == 0  # agreed rows are there; decisions are not overwritten
    with any_project.read() as s:
        assert len(layer_codings(s, "consensus")) == 4
        # consensus vs each coder: ann agrees on every finished segment after the union decision
        r = agreement_report(s, "lead", coders=["ann", "consensus"])
        assert r["pooled_kappa_pairs"][0]["p_o"] == pytest.approx(1.0)


def test_intersection_and_manual(any_project):
    ids = build_study(any_project, CODINGS, DONE)
    seg2, sv = ids["segments"][2], ids["codes"]["SV"]
    with any_project.transaction() as s:
        assert decide(s, "lead", seg2, sv, "intersection").present is False
        assert decide(s, "lead", seg2, sv, "manual", present=True).present is True


def test_only_the_lead_decides(any_project):
    ids = build_study(any_project, CODINGS, DONE)
    with any_project.transaction() as s, pytest.raises(BlindingError):
        decide(s, "audrey", ids["segments"][2], ids["codes"]["SV"], "union")


def test_taking_a_coder_midway_through_round_two_takes_the_round_the_queue_compared(any_project):
    """The queue shows segment 2 with SV applied by ann, not by ben (round 1). ben starts
    round 2 and applies SV there; ann has not started it, so round 1 still counts: the
    queue is unchanged, and taking ben takes his round-1 "absent", not his round-2 code."""
    from qualcode.store.models import SegmentStatus

    ids = build_study(any_project, CODINGS, DONE)
    seg2, sv = ids["segments"][2], ids["codes"]["SV"]
    with any_project.transaction() as s:
        ben = s.exec(select(Coder).where(Coder.name == "ben")).scalars().one()
        s.add(Coding(segment_id=seg2, code_id=sv, coder_id=ben.id, round=2))
        s.add(SegmentStatus(segment_id=seg2, coder_id=ben.id, round=2))
    with any_project.read() as s:
        [item] = disagreement_queue(s, "lead")
        assert (item.position, item.disputed[0]["omitted_by"]) == (2, ["ben"])
    with any_project.transaction() as s:
        assert decide(s, "lead", seg2, sv, "take", coder="ben").present is False
        assert decide(s, "lead", seg2, sv, "intersection").present is False
        assert decide(s, "lead", seg2, sv, "take", coder="ben", round=2).present is True  # asked for by number


def test_decisions_by_default_compare_the_coders_the_queue_compares(any_project):
    """carl (a coder) coded segment 1 in round 1 but never marked anything done, so the queue
    leaves him out; ann and ben both recoded segment 2 in round 2 (ben applies SV there, ann
    does not). The queue shows round 2, and so must take: carl must not pull it back to 1."""
    from qualcode.store.models import SegmentStatus

    codings = dict(CODINGS)
    codings["carl"] = {1: {"SV"}}
    ids = build_study(any_project, codings, DONE)
    seg2, sv, sa = ids["segments"][2], ids["codes"]["SV"], ids["codes"]["SA"]
    ann, ben = ids["coders"]["ann"], ids["coders"]["ben"]
    with any_project.transaction() as s:
        s.add_all(
            [
                SegmentStatus(segment_id=seg2, coder_id=ann, round=2),
                Coding(segment_id=seg2, code_id=sa, coder_id=ann, round=2),
                SegmentStatus(segment_id=seg2, coder_id=ben, round=2),
                Coding(segment_id=seg2, code_id=sv, coder_id=ben, round=2),
            ]
        )
    with any_project.read() as s:
        shown = {(d["path"], tuple(d["applied_by"])) for i in disagreement_queue(s, "lead") for d in i.disputed}
    assert ("Shared vision and strategy", ("ben",)) in shown
    with any_project.transaction() as s:
        assert decide(s, "lead", seg2, sv, "take", coder="ben").present is True
        assert decide(s, "lead", seg2, sv, "take", coder="ann").present is False
        assert decide(s, "lead", seg2, sv, "union").present is True


def test_decisions_when_the_queue_compares_a_coder_with_the_consensus_layer(any_project):
    ids = build_study(any_project, CODINGS, DONE)
    seg2, sv = ids["segments"][2], ids["codes"]["SV"]
    with any_project.transaction() as s:
        assert decide(s, "lead", seg2, sv, "manual", present=True, coders=["ann", "consensus"]).present is True
        assert decide(s, "lead", seg2, sv, "take", coder="ann", coders=["ann", "consensus"]).present is True


def test_layer_codings_for_a_coder_uses_the_latest_round(any_project):
    build_study(any_project, CODINGS, DONE)
    with any_project.read() as s:
        ann = layer_codings(s, "ann")
    assert len(ann) == 5 and list(ann.columns) == ["segment_id", "code_id", "quote_start", "quote_end"]


def test_memo_flag_and_round_two(any_project):
    ids = build_study(any_project, CODINGS, DONE)
    with any_project.transaction() as s:
        memo = reconciliation_memo(
            s, "lead", ids["segments"][2], "Vision talk here is about the district, not the school.", ids["codes"]["SV"]
        )
        flag = flag_for_revision(s, "lead", ids["codes"]["SV"], "Say whether district vision counts.")
        number = open_round(s, "lead", [ids["transcript"]], note="recode after clarifying SV")
    with any_project.read() as s:
        memo = s.get(Memo, memo.id)
        assert (memo.kind, memo.case_id, memo.transcript_id, memo.code_id) == (
            "reconciliation",
            ids["case"],
            ids["transcript"],
            ids["codes"]["SV"],
        )
        assert s.get(Memo, flag.id).label == "open"
        assert number == 2
        assert [rt.transcript_id for rt in s.exec(select(RoundTranscript)).scalars()] == [ids["transcript"]]
        actions = {e.action for e in s.exec(select(AuditEvent)).scalars()}
        assert {"memo.reconciliation", "memo.revision_flag", "round.open", "round.add_transcript"} <= actions
        items = disagreement_queue(s, "lead")
        assert items[0].memos[0]["text"].startswith("Vision talk")


def test_reconcile_commands(project, project_path):
    from qualcode.cli.main import cli

    build_study(project, CODINGS, DONE)
    run = lambda *args: CliRunner().invoke(cli, [*args, "-p", str(project_path), "--as", "lead"])  # noqa: E731
    queue = run("reconcile", "queue", "--format", "json")
    assert queue.exit_code == 0, queue.output
    assert json.loads(queue.output)[0]["position"] == 2
    assert run("reconcile", "accept-agreed").exit_code == 0
    decided = run("reconcile", "decide", "Principal interview:2", "--take", "ann")
    assert decided.exit_code == 0, decided.output
    assert json.loads(run("reconcile", "queue", "--format", "json").output) == []
    assert (
        run(
            "reconcile", "memo", "Principal interview:2", "Ann's reading fits the definition.", "--code", "SV"
        ).exit_code
        == 0
    )
    assert run("reconcile", "flag", "SV", "Clarify district vision.").exit_code == 0
    assert run("reconcile", "round2", "Principal interview").exit_code == 0
    bad = run("reconcile", "decide", "Principal interview:2", "--union", "--take", "ann")
    assert bad.exit_code == 2 and "exactly one" in bad.output
    coder = CliRunner().invoke(cli, ["reconcile", "queue", "-p", str(project_path), "--as", "ann"])
    assert coder.exit_code == 2


def two_principal_interviews(project):
    """Lincoln's study plus a second "Principal interview", at Hillcrest Middle (segments 1-5)."""
    from .builders import build_transcript

    ids = build_study(project, CODINGS, DONE)
    ids["hillcrest"] = build_transcript(project, title="Principal interview", case="Hillcrest Middle")
    return ids


def test_segment_references_with_a_repeated_title(any_project):
    from qualcode.coding.refs import SegmentRefs, find_segment, find_transcript
    from qualcode.errors import QualcodeError
    from qualcode.store.models import Transcript

    ids = two_principal_interviews(any_project)
    with any_project.read() as s:
        with pytest.raises(
            QualcodeError,
            match=r"ambiguous transcript 'Principal interview': it is in cases "
            r"Hillcrest Middle, Lincoln Elementary; write CASE/TITLE",
        ):
            find_segment(s, "Principal interview:2")
        lincoln = find_segment(s, "Lincoln Elementary/Principal interview:2")
        hillcrest = find_segment(s, "hillcrest middle/principal interview:2")
        assert lincoln.id == ids["segments"][2]
        assert (hillcrest.transcript_id, hillcrest.position) == (ids["hillcrest"], 2)
        assert find_segment(s, f"#{lincoln.id}").id == lincoln.id
        with pytest.raises(QualcodeError, match="no segment 9"):
            find_segment(s, "Hillcrest Middle/Principal interview:9")
        with pytest.raises(QualcodeError, match="unknown transcript 'Nowhere'"):
            find_segment(s, "Nowhere:1")
        assert find_transcript(s, "Hillcrest Middle/Principal interview") == ids["hillcrest"]
        refs = SegmentRefs(s)
        assert refs.ref(lincoln.id) == "Lincoln Elementary/Principal interview:2"
        assert refs.ref(hillcrest.id) == "Hillcrest Middle/Principal interview:2"
    with any_project.transaction() as s:  # titles unique again: the short form is enough
        s.get(Transcript, ids["hillcrest"]).title = "Hillcrest principal"
    with any_project.read() as s:
        assert SegmentRefs(s).ref(ids["segments"][2]) == "Principal interview:2"


def test_reconcile_commands_with_a_repeated_title(project, project_path):
    from qualcode.cli.main import cli

    ids = two_principal_interviews(project)
    run = lambda *args: CliRunner().invoke(cli, [*args, "-p", str(project_path), "--as", "lead"])  # noqa: E731
    queue = run("reconcile", "queue", "--format", "csv")
    assert queue.exit_code == 0, queue.output
    assert queue.output.splitlines()[1].startswith("Lincoln Elementary/Principal interview:2,Lincoln Elementary,")
    ambiguous = run("reconcile", "decide", "Principal interview:2", "--take", "ann")
    assert ambiguous.exit_code == 2 and "Hillcrest Middle, Lincoln Elementary" in ambiguous.output
    decided = run("reconcile", "decide", "Lincoln Elementary/Principal interview:2", "--take", "ann")
    assert decided.exit_code == 0, decided.output
    assert run("reconcile", "memo", "Lincoln Elementary/Principal interview:2", "Fits.", "--code", "SV").exit_code == 0
    assert run("reconcile", "flag", "SV", "Clarify.", "--segment", "Principal interview:2").exit_code == 2
    assert run("reconcile", "round2", "Principal interview").exit_code == 2
    assert run("reconcile", "round2", "Hillcrest Middle/Principal interview").exit_code == 0
    with project.read() as s:
        memo = s.exec(select(Memo).where(Memo.kind == "reconciliation")).scalars().one()
        assert memo.segment_id == ids["segments"][2]
        assert [rt.transcript_id for rt in s.exec(select(RoundTranscript)).scalars()] == [ids["hillcrest"]]
