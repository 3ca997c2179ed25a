"""--out picks the format from its suffix; a --format that disagrees with it is refused (issue 15)."""

from __future__ import annotations

import json
import zipfile

import pytest
from click.testing import CliRunner

from qualcode.cli.main import cli


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("agreement.docx", lambda p: zipfile.is_zipfile(p) and "word/document.xml" in zipfile.ZipFile(p).namelist()),
        ("agreement.csv", lambda p: p.read_text(encoding="utf-8").startswith("Code,")),
        ("agreement.json", lambda p: "pooled_kappa" in json.loads(p.read_text(encoding="utf-8"))),
        ("agreement.md", lambda p: "| --- |" in p.read_text(encoding="utf-8")),
        ("agreement.tex", lambda p: "\\toprule" in p.read_text(encoding="utf-8")),  # a wide table turns the page
    ],
)
def test_the_suffix_of_out_chooses_the_format(demo_copy, tmp_path, name, check):
    out = tmp_path / name
    result = run("-p", str(demo_copy), "--as", "lee", "agreement", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert check(out)


def test_a_format_that_disagrees_with_the_suffix_is_one_line_and_nothing_written(demo_copy, tmp_path):
    out = tmp_path / "agreement.docx"
    result = run("-p", str(demo_copy), "--as", "lee", "agreement", "--format", "csv", "--out", str(out))
    assert result.exit_code == 2
    assert result.stderr == f"error: --format csv but --out {out} asks for docx by its suffix: make them agree\n"
    assert not out.exists()


def test_a_suffix_the_command_cannot_write_is_refused(demo_copy, tmp_path):
    out = tmp_path / "transcripts.docx"
    result = run("-p", str(demo_copy), "transcripts", "list", "--out", str(out))
    assert result.exit_code == 2
    assert "cannot write .docx files (formats: table, csv, json)" in result.stderr
    assert not out.exists()


def test_an_unknown_suffix_keeps_the_chosen_format(demo_copy, tmp_path):
    out = tmp_path / "agreement.report"
    result = run("-p", str(demo_copy), "--as", "lee", "agreement", "--format", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("Code,")
