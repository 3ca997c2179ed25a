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
        ("a", "Lincoln", "interview", 2, 2), ("b", "Lincoln", "interview", 1, 1)]
    shown = json.loads(run("transcripts", "show", "a", "--format", "json").output)
    assert [(r["speaker"], r["text"]) for r in shown] == [("Interviewer", "Why?"), ("P1", "Time. [laughs]")]
    assert run("transcripts", "show", "a", "--text").output == "Interviewer: Why?\nP1: Time. [laughs]\n\n"
    status = run("status").output
    assert "cases: 1" in status and "transcripts: 2" in status and "segments: 3" in status and "speakers: 3" in status


def test_bad_input_exits_2_with_one_line_naming_the_file(run, tmp_path):
    empty = write(tmp_path / "empty.txt", "")
    result = run("import", str(empty))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == f"error: {empty}: empty file"
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
    assert run("coders", "add", "Ben").exit_code == 0
    dup = run("coders", "add", "Ben")
    assert dup.exit_code == 2 and "already exists" in dup.stderr
    coders = json.loads(run("coders", "list", "--format", "json").output)
    assert [(c["name"], c["role"]) for c in coders] == [("Ana", "lead"), ("Ben", "coder")]


def test_speakers_set_and_list(run, tmp_path):
    run("import", str(write(tmp_path / "fg.txt", "P1: a\nP2: b\nP1: c\n")), "--case", "X")
    result = run("speakers", "set", "fg", "P2", "--role", "coach", "--pseudonym", "Coach R")
    assert result.exit_code == 0, result.output
    speakers = json.loads(run("speakers", "list", "--format", "json").output)
    assert [(s["label"], s["role"], s["pseudonym"], s["segments"]) for s in speakers] == [
        ("P1", "unknown", None, 2), ("P2", "coach", "Coach R", 1)]
    missing = run("speakers", "set", "fg", "P9", "--role", "coach")
    assert missing.exit_code == 2 and "no speaker 'P9'" in missing.stderr


def test_cases_import_attributes_and_list(run, tmp_path):
    run("import", str(write(tmp_path / "a.txt", "P1: a\n")), "--case", "Lincoln")
    attrs = write(tmp_path / "attrs.csv", "case,level,survey_SV\nLincoln,elementary,3.5\n")
    assert run("cases", "import-attributes", str(attrs)).exit_code == 0
    cases = json.loads(run("cases", "list", "--format", "json").output)
    assert cases == [{"case": "Lincoln", "transcripts": 1, "level": "elementary", "survey_SV": 3.5}]
    unknown = write(tmp_path / "u.csv", "case,level\nNowhere,high\n")
    result = run("cases", "import-attributes", str(unknown))
    assert result.exit_code == 2 and "u.csv:2: unknown case 'Nowhere'" in result.stderr


def test_init_creates_a_project_with_a_lead(tmp_path):
    target = tmp_path / "new.db"
    result = CliRunner().invoke(cli, ["init", str(target), "--lead", "Ana"])
    assert result.exit_code == 0 and target.exists()
    coders = json.loads(CliRunner().invoke(cli, ["coders", "list", "-p", str(target), "-f", "json"]).output)
    assert coders[0]["role"] == "lead"
