"""The project commands through click, on both engines."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qualcode.cli.main import cli


@pytest.fixture
def run(any_project):
    target = any_project.target

    def invoke(*args: str):
        return CliRunner().invoke(cli, [*args, "--project", target])

    return invoke


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_import_list_show_and_status(run, tmp_path):
    folder = tmp_path / "Lincoln"
    folder.mkdir()
    write(folder / "a.txt", "Interviewer: Why?\nP1: Time. [laughs]\n")
    write(folder / "b.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ana>Hi.</v>\n")
    result = run("import", str(folder))
    assert result.exit_code == 0, result.output
    assert "2 imported, 0 skipped, 0 failed" in result.output
    again = run("import", str(folder / "a.txt"))
    assert again.exit_code == 0 and "skipped" in again.output

    listing = json.loads(run("transcripts", "list", "--format", "json").output)
    assert [(t["title"], t["case"], t["kind"], t["segments"], t["speakers"]) for t in listing] == [
        ("a", "Lincoln", "interview", 2, 2),
        ("b", "Lincoln", "interview", 1, 1),
    ]
    shown = json.loads(run("transcripts", "show", "a", "--format", "json").output)
    assert [(r["speaker"], r["text"]) for r in shown] == [("Interviewer", "Why?"), ("P1", "Time. [laughs]")]
    assert run("transcripts", "show", "a", "--text").output == "Interviewer: Why?\nP1: Time. [laughs]\n\n"
    status = run("status").output
    assert "cases: 1" in status and "transcripts: 2" in status and "segments: 3" in status and "speakers: 3" in status


def test_bad_input_exits_2_with_one_line_naming_the_file(run, tmp_path):
    empty = write(tmp_path / "empty.txt", "")
    result = run("import", str(empty))
    assert result.exit_code == 2
    assert result.stderr == f"error: {empty}: empty file\n"  # one line: no progress label before it
    missing = run("import", str(tmp_path / "nope.txt"))
    assert missing.exit_code == 2 and "nope.txt: no such file or folder" in missing.stderr


def test_batch_with_one_failure_reports_each_file_and_exits_non_zero(run, tmp_path):
    good = write(tmp_path / "good.txt", "P1: fine\n")
    bad = write(tmp_path / "bad.srt", "x\n")
    result = run("import", str(good), str(bad))
    assert result.exit_code == 2
    assert "imported" in result.stdout and f"failed    {bad}:1:" in result.stderr
    assert "1 imported, 0 skipped, 1 failed" in result.stderr
    listing = json.loads(run("transcripts", "list", "--format", "json").output)
    assert [t["title"] for t in listing] == ["good"]


def test_coders_add_list_and_duplicate(run):
    assert run("coders", "add", "Ana", "--role", "lead").exit_code == 0
    assert run("coders", "add", "Ben", "--as", "Ana").exit_code == 0
    dup = run("coders", "add", "Ben", "--as", "Ana")
    assert dup.exit_code == 2 and "already exists" in dup.stderr
    coders = json.loads(run("coders", "list", "--format", "json").output)
    assert [(c["name"], c["role"]) for c in coders] == [("Ana", "lead"), ("Ben", "coder")]


def test_speakers_set_and_list(run, tmp_path):
    run("import", str(write(tmp_path / "fg.txt", "P1: a\nP2: b\nP1: c\n")), "--case", "X")
    result = run("speakers", "set", "fg", "P2", "--role", "coach", "--pseudonym", "Coach R")
    assert result.exit_code == 0, result.output
    speakers = json.loads(run("speakers", "list", "--format", "json").output)
    assert [(s["label"], s["role"], s["pseudonym"], s["segments"]) for s in speakers] == [
        ("P1", "unknown", None, 2),
        ("P2", "coach", "Coach R", 1),
    ]
    missing = run("speakers", "set", "fg", "P9", "--role", "coach")
    assert missing.exit_code == 2 and "no speaker 'P9'" in missing.stderr


def test_cases_import_attributes_and_list(run, tmp_path):
    run("import", str(write(tmp_path / "a.txt", "P1: a\n")), "--case", "Lincoln")
    attrs = write(tmp_path / "attrs.csv", "case,level,survey_SV\nLincoln,elementary,3.5\n")
    assert run("cases", "import-attributes", str(attrs)).exit_code == 0
    cases = json.loads(run("cases", "list", "--format", "json").output)
    assert cases == [{"case": "Lincoln", "transcripts": 1, "level": "elementary", "survey_SV": 3.5}]
    repeated = write(tmp_path / "twice.csv", "case,level,survey_SV\nLincoln,middle,4\nLincoln,high,5\n")
    result = run("cases", "import-attributes", str(repeated))
    assert (
        result.exit_code == 2
        and result.stderr == f"error: {repeated}:3: case 'Lincoln' has a second row (first at line 2)\n"
    )
    assert json.loads(run("cases", "list", "--format", "json").output) == cases  # nothing changed
    unknown = write(tmp_path / "u.csv", "case,level\nNowhere,high\n")
    result = run("cases", "import-attributes", str(unknown))
    assert result.exit_code == 2 and "u.csv:2: unknown case 'Nowhere'" in result.stderr


def test_init_creates_a_project_with_a_lead(tmp_path):
    target = tmp_path / "new.db"
    result = CliRunner().invoke(cli, ["init", str(target), "--lead", "Ana"])
    assert result.exit_code == 0 and target.exists()
    coders = json.loads(CliRunner().invoke(cli, ["coders", "list", "-p", str(target), "-f", "json"]).output)
    assert coders[0]["role"] == "lead"


def test_top_level_options_beat_the_environment(tmp_path, monkeypatch):
    """`qualcode -p A` writes to A even when $QUALCODE_PROJECT names B; `--as` beats $QUALCODE_USER."""
    from click.testing import CliRunner

    from qualcode.cli.main import cli

    a, b = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["init", a, "--lead", "lee"]).exit_code == 0
    assert runner.invoke(cli, ["init", b, "--lead", "lee"]).exit_code == 0
    monkeypatch.setenv("QUALCODE_PROJECT", b)
    monkeypatch.setenv("QUALCODE_USER", "nobody")
    result = runner.invoke(cli, ["-p", a, "--as", "lee", "coders", "add", "ana"])
    assert result.exit_code == 0, result.output
    listed_a = runner.invoke(cli, ["-p", a, "coders", "list", "--format", "csv"]).output
    listed_b = runner.invoke(cli, ["coders", "list", "--format", "csv"]).output  # from the environment
    assert "ana" in listed_a and "ana" not in listed_b


@pytest.mark.parametrize("name", ["consensus", "Consensus", " CONSENSUS "])
def test_consensus_is_not_a_coder_name(run, name):
    result = run("coders", "add", name)
    assert result.exit_code == 2 and "reserved for the consensus layer" in result.stderr
    assert json.loads(run("coders", "list", "--format", "json").output) == []


def test_once_there_is_a_lead_only_the_lead_adds_coders_or_grants_roles(run):
    assert run("coders", "add", "ana").exit_code == 0  # no lead yet: setting up needs no identity
    assert run("coders", "add", "lee", "--role", "lead").exit_code == 0
    for args in (("ben",), ("mallory", "--role", "lead"), ("pat", "--role", "auditor")):
        for who in ((), ("--as", "ana")):
            refused = run("coders", "add", *args, *who)
            assert refused.exit_code == 2 and "is for the lead analyst" in refused.stderr, (args, who, refused.output)
    assert run("coders", "add", "pat", "--role", "auditor", "--as", "pat").exit_code == 2  # unknown to the project
    assert run("coders", "add", "ben", "--as", "lee").exit_code == 0
    coders = json.loads(run("coders", "list", "--format", "json").output)
    assert [(c["name"], c["role"]) for c in coders] == [("ana", "coder"), ("ben", "coder"), ("lee", "lead")]


def test_init_cannot_add_a_second_lead_without_the_lead(tmp_path):
    target = str(tmp_path / "study.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["init", target, "--lead", "lee"]).exit_code == 0
    refused = runner.invoke(cli, ["init", target, "--lead", "mallory"])
    assert refused.exit_code == 2 and "adding a lead is for the lead analyst" in refused.stderr
    assert runner.invoke(cli, ["init", target, "--lead", "kim", "--as", "lee"]).exit_code == 0
    coders = json.loads(runner.invoke(cli, ["coders", "list", "-p", target, "-f", "json"]).output)
    assert [(c["name"], c["role"]) for c in coders] == [("kim", "lead"), ("lee", "lead")]


def test_status_while_blinded_counts_only_a_coders_own_codings(run, any_project):
    from sqlalchemy import select

    from qualcode.store.models import Coder, Coding, Segment
    from tests.builders import add_coders, build_codebook, build_transcript

    build_transcript(any_project)
    codes = build_codebook(any_project)
    add_coders(any_project, "ana", "ben", lead="lee")
    with any_project.transaction() as s:
        coder = {c.name: c.id for c in s.exec(select(Coder)).scalars()}
        segments = [seg.id for seg in s.exec(select(Segment).order_by(Segment.position)).scalars()]
        # ana codes 2 segments, ben 3: five codings in all
        for name, positions in (("ana", (0, 1)), ("ben", (0, 2, 3))):
            for i in positions:
                s.add(Coding(segment_id=segments[i], code_id=codes["SV"], coder_id=coder[name]))
    assert "codings: 2 (yours only: the project is blinded)" in run("status", "--as", "ana").output
    assert "codings: 3 (yours only: the project is blinded)" in run("status", "--as", "ben").output
    assert "codings: 5 (every coder's; the project is blinded)" in run("status", "--as", "lee").output
    anonymous = run("status")
    assert anonymous.exit_code == 0 and "codings: hidden while blinded" in anonymous.output
    assert run("unblind", "--as", "lee").exit_code == 0
    assert "codings: 5\n" in run("status", "--as", "ana").output


def test_only_the_lead_changes_speakers_case_attributes_and_transcripts_once_there_is_one(run, tmp_path):
    transcript = write(tmp_path / "fg.txt", "P1: We plan.\nP2: Sometimes.\n")
    attrs = write(tmp_path / "attrs.csv", "case,level\nLincoln,elementary\n")
    assert run("import", str(transcript), "--case", "Lincoln").exit_code == 0  # no lead yet: setting up is open
    assert run("coders", "add", "lee", "--role", "lead").exit_code == 0
    assert run("coders", "add", "ana", "--as", "lee").exit_code == 0
    before = [
        json.loads(run(*listing, "--format", "json").output) for listing in (("speakers", "list"), ("cases", "list"))
    ]
    other = write(tmp_path / "other.txt", "P1: Another.\n")
    for command, what in [
        (("speakers", "set", "fg", "P2", "--pseudonym", "Coach R"), "changing speakers' roles and pseudonyms"),
        (("cases", "import-attributes", str(attrs)), "changing case attributes"),
        (("import", str(other), "--case", "Lincoln"), "importing transcripts"),
    ]:
        refused = run(*command, "--as", "ana")
        assert (refused.exit_code, refused.stderr) == (2, f"error: {what} is for the lead analyst; ana is a coder\n")
        nobody = run(*command)
        assert nobody.exit_code == 2
        assert nobody.stderr == f"error: {what} is for the lead analyst: say who you are with --as NAME\n"
    after = [
        json.loads(run(*listing, "--format", "json").output) for listing in (("speakers", "list"), ("cases", "list"))
    ]
    assert after == before and len(json.loads(run("transcripts", "list", "--format", "json").output)) == 1
    assert run("speakers", "set", "fg", "P2", "--pseudonym", "Coach R", "--as", "lee").exit_code == 0
    assert run("cases", "import-attributes", str(attrs), "--as", "lee").exit_code == 0
    assert run("import", str(other), "--case", "Lincoln", "--as", "lee").exit_code == 0
