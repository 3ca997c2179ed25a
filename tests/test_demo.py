"""The demo study: built from the sample transcripts, with content for every screen."""

from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from qualcode.cli.main import cli
from qualcode.demo import PROFILES, SAMPLES
from qualcode.project import Project
from qualcode.store.models import Codebook, ConsensusDecision, Memo, RoundTranscript, Segment, SegmentStatus, Transcript

from .conftest import copy_demo


@pytest.fixture(scope="module")
def demo(demo_file, tmp_path_factory):
    p = Project(copy_demo(demo_file, tmp_path_factory.mktemp("demo")))
    p.user = "lee"
    yield p
    p.close()


def test_demo_holds_the_whole_sample_study(demo):
    with open(SAMPLES / "manifest.csv", encoding="utf-8") as fh:
        files = [r["file"] for r in csv.DictReader(fh)]
    transcripts = demo.transcripts()
    assert len(transcripts) == len(files) == 17
    assert transcripts["case"].nunique() == 5
    assert set(demo.case_attributes()["name"]) >= {"survey_SV", "survey_CE"}
    with demo.read() as s:
        kinds = {cb.kind: cb.active for cb in s.exec(select(Codebook)).scalars()}
    assert kinds == {"provisional": True, "cqr": False}


def test_every_key_row_lands_on_a_participant_turn(demo):
    segments = demo.segments()
    files = dict(zip(demo.transcripts()["id"], demo.transcripts()["source_name"]))
    segments["file"] = [files[t].rsplit("/", 1)[-1] for t in segments["transcript_id"]]
    with open(SAMPLES / "demo_key.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        hit = segments[(segments["file"] == row["file"]) & (segments["position"] == int(row["turn"]))]
        assert len(hit) == 1, row
        assert hit.iloc[0]["role"] not in ("interviewer", "moderator"), row


def test_coders_disagree_realistically_and_cam_is_unfinished(demo):
    codings = demo.codings()
    per_coder = codings.groupby("coder").size().to_dict()
    assert set(per_coder) == {p.name for p in PROFILES}
    with demo.read() as s:
        total = s.exec(select(func.count(Segment.id))).scalar()
        done = dict(s.exec(select(SegmentStatus.coder_id, func.count()).group_by(SegmentStatus.coder_id)).all())
    done_counts = sorted(done.values())
    assert done_counts[-1] == done_counts[-2] == total  # ana and ben finished everything
    assert done_counts[0] < total  # cam did not
    # Each coder's codes differ from the others' somewhere, but mostly agree.
    sets = {c: set(zip(g["transcript"], g["segment"], g["code"])) for c, g in codings.groupby("coder")}
    ana, ben = sets["ana"], sets["ben"]
    jaccard = len(ana & ben) / len(ana | ben)
    assert 0.6 < jaccard < 0.98


def test_consensus_is_partly_reconciled_with_memos_and_a_second_round(demo):
    with demo.read() as s:
        methods = dict(s.exec(select(ConsensusDecision.method, func.count()).group_by(ConsensusDecision.method)).all())
        memo_kinds = dict(s.exec(select(Memo.kind, func.count()).group_by(Memo.kind)).all())
        round2 = s.exec(select(RoundTranscript)).scalars().all()
        titles = {t.id: t.kind for t in s.exec(select(Transcript)).scalars()}
    assert methods.get("agreed", 0) > 100
    assert any(m.startswith("take:") for m in methods) and methods.get("intersection", 0) > 0
    assert memo_kinds.get("reconciliation", 0) > 0 and memo_kinds.get("revision_flag", 0) == 1
    assert memo_kinds.get("cell", 0) >= 5 and memo_kinds.get("pattern", 0) == 3
    assert len(round2) == 1 and round2[0].round == 2 and titles[round2[0].transcript_id] == "focus_group"


def test_demo_command_builds_then_reuses_and_refuses_other_files(tmp_path):
    runner = CliRunner()
    target = tmp_path / "d.db"
    first = runner.invoke(cli, ["demo", "--no-tui", "-p", str(target)])
    assert first.exit_code == 0, first.output
    assert "5 cases, 17 transcripts" in first.output
    again = runner.invoke(cli, ["demo", "--no-tui", "-p", str(target)])
    assert again.exit_code == 0 and "opening the demo project" in again.output
    other = tmp_path / "mine.db"
    assert runner.invoke(cli, ["init", str(other)]).exit_code == 0
    refused = runner.invoke(cli, ["demo", "--no-tui", "-p", str(other)])
    assert refused.exit_code == 2 and "not a demo project" in refused.output
