"""The memo browser (`qualcode memos list`, ``coding.memo_queries``): which memos each viewer reads
(blinding), filters by kind, text, code and case, order, exports and bad input, computed by hand."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlmodel import select

from qualcode.cli.main import cli
from qualcode.coding.blinding import set_blinded
from qualcode.coding.memo_queries import memo_list
from qualcode.errors import BlindingError, InputError
from qualcode.store.models import Case, Coder, Memo

from .test_retrieval import build_study


def build_memos(project) -> dict:
    """m1 ana segment memo on Lee #2 · m2 ben segment memo on Park #4 · m3 lead reconciliation memo on
    Lee #3 and SV · m4 lead cell memo SV × North · m5 ana code memo on SG; updated in that order."""
    study = build_study(project)
    seg, codes = study["seg"], study["codes"]
    with project.transaction() as s:
        coder = {c.name: c.id for c in s.exec(select(Coder)).all()}
        case = {c.name: c.id for c in s.exec(select(Case)).all()}
        rows = [
            Memo(kind="segment", coder_id=coder["ana"], segment_id=seg[("lee", 2)], case_id=case["North"],
                 transcript_id=study["lee"], text="Fractions again, as in the last interview."),
            Memo(kind="segment", coder_id=coder["ben"], segment_id=seg[("park", 4)], case_id=case["South"],
                 transcript_id=study["park"], text="The Coach voice is missing here."),
            Memo(kind="reconciliation", coder_id=coder["lead"], segment_id=seg[("lee", 3)], code_id=codes["SV"],
                 case_id=case["North"], transcript_id=study["lee"], text="Only ben saw vision here."),
            Memo(kind="cell", coder_id=coder["lead"], code_id=codes["SV"], case_id=case["North"],
                 text="Vision is explicit at North."),
            Memo(kind="code", coder_id=coder["ana"], code_id=codes["SG"], text="Goals, not vision."),
        ]  # fmt: skip
        for minute, memo in enumerate(rows):
            memo.updated_at = datetime(2026, 1, 1, 9, minute, tzinfo=UTC)
            s.add(memo)
    return study


@pytest.fixture
def study(project):
    return build_memos(project)


def texts(result) -> list[str]:
    return [m.text.split()[0] for m in result.memos]


def test_a_blinded_coder_reads_only_their_own_memos(study):
    project = study["project"]
    ana = memo_list(project, "ana")
    assert ana.hidden_by_blinding and texts(ana) == ["Goals,", "Fractions"]  # newest first
    assert texts(memo_list(project, "ben")) == ["The"]
    with pytest.raises(BlindingError):
        memo_list(project, None)


def test_the_lead_and_auditor_read_every_memo_and_everyone_once_unblinded(study):
    project = study["project"]
    for viewer in ("lead", "pat"):
        result = memo_list(project, viewer)
        assert not result.hidden_by_blinding
        assert texts(result) == ["Goals,", "Vision", "Only", "The", "Fractions"]
    with project.transaction() as s:
        set_blinded(s, "lead", False)
    assert len(memo_list(project, "ana").memos) == 5


def test_where_each_memo_is_attached(study):
    listed = memo_list(study["project"], "lead").memos
    memos = {m.kind: m for m in listed}
    seg = next(m for m in listed if m.kind == "segment")  # the newest segment memo: ben's on Park #4
    assert (seg.author, seg.case, seg.transcript, seg.position, seg.speaker) == (
        "ben", "South", "Park interview", 4, "Ms. Park"
    )  # fmt: skip
    assert seg.where == "Park interview #4"
    rec = memos["reconciliation"]
    assert (rec.code, rec.position, rec.where) == (
        "Shared vision and strategy", 3, "Lee interview #3 · Shared vision and strategy"
    )  # fmt: skip
    cell = memos["cell"]
    assert (cell.segment_id, cell.transcript_id, cell.case, cell.where) == (
        None, None, "North", "Shared vision and strategy · North"
    )  # fmt: skip
    assert memos["code"].where == "Shared vision and strategy > Shared goals"


def test_filters_kind_text_code_and_case(study):
    project = study["project"]
    assert texts(memo_list(project, "lead", kind="reconciliation")) == ["Only"]
    assert texts(memo_list(project, "lead", search="COACH")) == ["The"]  # ignoring case
    assert texts(memo_list(project, "lead", search="vision")) == ["Goals,", "Vision", "Only"]
    assert texts(memo_list(project, "lead", code="SV")) == ["Goals,", "Vision", "Only"]  # SG is under SV
    assert texts(memo_list(project, "lead", code="SG")) == ["Goals,"]
    assert texts(memo_list(project, "lead", case="North")) == ["Vision", "Only", "Fractions"]
    assert texts(memo_list(project, "lead", case="South")) == ["The"]
    assert texts(memo_list(project, "ana", code="SV")) == ["Goals,"]
    assert texts(memo_list(project, "ana", case="North")) == ["Fractions"]
    assert texts(memo_list(project, "ana", search="vision")) == ["Goals,"]  # not the lead's memos
    with pytest.raises(InputError, match="unknown memo kind"):
        memo_list(project, "lead", kind="diary")
    with pytest.raises(InputError, match="unknown case"):
        memo_list(project, "lead", case="East")


@pytest.fixture
def run(study, project_path):
    def invoke(*args, ok=True):
        result = CliRunner().invoke(cli, [*args, "--project", str(project_path)], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def test_cli_lists_as_blinding_allows_and_exports(run, tmp_path):
    rows = list(csv.DictReader(io.StringIO(run("memos", "list", "--as", "ana", "-f", "csv").output)))
    assert [(r["kind"], r["author"], r["transcript"], r["segment"], r["code"]) for r in rows] == [
        ("code", "ana", "", "", "Shared vision and strategy > Shared goals"),
        ("segment", "ana", "Lee interview", "2", ""),
    ]
    assert "Blinded: only your own memos are listed." in run("memos", "list", "--as", "ana").output
    data = json.loads(run("memos", "list", "--as", "lead", "--kind", "cell", "-f", "json").output)
    assert [(d["kind"], d["case"], d["code"], d["text"]) for d in data] == [
        ("cell", "North", "Shared vision and strategy", "Vision is explicit at North.")
    ]
    data = json.loads(run("memos", "list", "--as", "pat", "--search", "coach", "--case", "South", "-f", "json").output)
    assert [(d["author"], d["segment"], d["speaker"]) for d in data] == [("ben", 4, "Ms. Park")]
    out = tmp_path / "memos.md"
    run("memos", "list", "--as", "lead", "--code", "SV", "-o", str(out))
    written = out.read_text(encoding="utf-8")
    assert "Only ben saw vision here." in written and "Fractions" not in written


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["memos", "list", "--as", "lead", "--kind", "diary"], "unknown memo kind 'diary'"),
        (["memos", "list", "--as", "lead", "--case", "East"], "unknown case 'East'"),
        (["memos", "list", "--as", "lead", "--code", "Nope"], "unknown code 'Nope'"),
        (["memos", "list"], "the project is blinded: say who you are"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(run, args, message, monkeypatch):
    monkeypatch.delenv("QUALCODE_USER", raising=False)
    result = run(*args, ok=False)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
