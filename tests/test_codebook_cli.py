"""The ``qualcode codebook`` commands, end to end through click."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qualcode.cli.main import cli
from qualcode.codebook.formats import read_codebook

CODEBOOKS = Path(__file__).resolve().parent.parent / "codebooks"
SEVEN = "Seven conditions of collective leadership"


@pytest.fixture
def run(tmp_path):
    project = str(tmp_path / "study.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["init", project]).exit_code == 0

    def invoke(*args, ok=True):
        result = runner.invoke(cli, [*args, "-p", project])
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        return result

    return invoke


def test_load_list_activate_and_show(run):
    assert (
        "loaded 'Seven conditions of collective leadership': 8 codes, provisional (active)"
        in run("codebook", "load", str(CODEBOOKS / "seven_conditions.yaml")).stdout
    )
    run("codebook", "load", str(CODEBOOKS / "cqr_collaboration.yaml"))
    listed = json.loads(run("codebook", "list", "--format", "json").stdout)
    assert [(r["codebook"], r["active"], r["codes"]) for r in listed] == [
        ("CQR: collaboration in a mathematics leadership program", "", 39),
        (SEVEN, "yes", 8),
    ]
    run("codebook", "activate", "CQR: collaboration in a mathematics leadership program")
    shown = json.loads(run("codebook", "show", "--format", "json").stdout)
    assert shown["kind"] == "cqr" and len(shown["codes"]) == 39
    assert (
        shown["codes"][1]["path"]
        == "Collaboration between administrators and participants > Administrators provide support"
    )
    seven = run("codebook", "show", "--codebook", SEVEN, "--format", "yaml").stdout
    assert "name: Shared vision and strategy" in seven and "hotkey: '1'" in seven
    assert run("codebook", "show", "--codebook", SEVEN, "--format", "md").stdout.count("\n## ") == 8


@pytest.mark.parametrize("suffix", [".yaml", ".csv", ".xlsx", ".qdc"])
def test_export_then_load_gives_the_same_codebook(run, tmp_path, suffix):
    run("codebook", "load", str(CODEBOOKS / "cqr_collaboration.yaml"))
    out = tmp_path / f"exported{suffix}"
    run("codebook", "export", "--out", str(out))
    run("codebook", "load", str(out), "--name", "again", "--kind", "cqr")
    again = tmp_path / "again.yaml"
    run("codebook", "export", "--codebook", "again", "--out", str(again))
    original = read_codebook(CODEBOOKS / "cqr_collaboration.yaml")
    reread = read_codebook(again, name=original.name)
    reread.description = original.description if suffix != ".yaml" else reread.description
    assert reread.signature() == original.signature()


def test_export_appendices(run, tmp_path):
    run("codebook", "load", str(CODEBOOKS / "four_drivers.yaml"))
    run("codebook", "export", "--format", "md", "--out", str(tmp_path / "a.md"))
    run("codebook", "export", "--out", str(tmp_path / "a.docx"))
    assert "## CF: Clarity of focus" in (tmp_path / "a.md").read_text(encoding="utf-8")
    assert (tmp_path / "a.docx").read_bytes()[:2] == b"PK"


def test_changes_and_diff(run):
    run("codebook", "load", str(CODEBOOKS / "seven_conditions.yaml"))
    assert (
        "version 2: added 'Policy context'"
        in run("codebook", "add", "Policy context", "--brief", "District and state policy", "--hotkey", "9").stdout
    )
    run("codebook", "rename", "RC", "Resources")
    run("codebook", "move", "CE", "--to", "OI")
    run("codebook", "merge", "SI", "--into", "SA")
    run("codebook", "split", "WD", "Team structures", "Schedules")
    run("codebook", "retire", "Schedules")
    run("codebook", "edit", "SN", "--definition", "Trust among staff.")
    history = json.loads(run("codebook", "history", "--format", "json").stdout)
    assert [h["change"] for h in history] == ["load", "add", "rename", "move", "merge", "split", "retire", "edit"]
    diff = json.loads(run("codebook", "diff", "--format", "json").stdout)
    kinds = sorted((c["change"], c["code"]) for c in diff["changes"])
    assert kinds == sorted(
        [
            ("added", "Policy context"),
            ("renamed", "Resources"),
            ("moved", "Orientation toward improvement > Collective efficacy"),
            ("merged", "Shared influence"),
            ("retired", "Work design"),
            ("added", "Team structures"),
            ("definition changed", "Supportive norms and relationships"),
        ]
    )
    partial = json.loads(run("codebook", "diff", "--from", "2", "--to", "3", "--format", "json").stdout)
    assert partial["changes"] == [{"change": "renamed", "code": "Resources", "detail": "from 'Resources and capacity'"}]


def test_command_errors_exit_2(run):
    run("codebook", "load", str(CODEBOOKS / "seven_conditions.yaml"))
    cases = [
        (("codebook", "rename", "Nope", "X"), "unknown code 'Nope'"),
        (("codebook", "add", "Extra", "--hotkey", "1"), "hotkey '1'"),
        (("codebook", "diff", "--to", "5"), "has no version 5"),
        (("codebook", "move", "SV"), "--to PARENT or --top"),
        (("codebook", "load", str(CODEBOOKS / "seven_conditions.yaml")), "already loaded"),
    ]
    for args, message in cases:
        result = run(*args, ok=False)
        assert result.exit_code == 2 and message in result.stderr, (args, result.stderr)


def test_table_output(run):
    pytest.importorskip("qualcode.export.writers")
    run("codebook", "load", str(CODEBOOKS / "seven_conditions.yaml"))
    assert "Shared vision and strategy" in run("codebook", "show").stdout


@pytest.fixture
def led(tmp_path):
    """A project with a lead (lee), a coder (ana) and an auditor (pat)."""
    project = str(tmp_path / "led.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["init", project, "--lead", "lee"]).exit_code == 0
    for name, role in (("ana", "coder"), ("pat", "auditor")):
        added = runner.invoke(cli, ["coders", "add", name, "--role", role, "--as", "lee", "-p", project])
        assert added.exit_code == 0, added.output

    def invoke(*args):
        return runner.invoke(cli, [*args, "-p", project])

    return invoke


CHANGES = [
    ("add", "Policy context", "--brief", "District and state policy"),
    ("edit", "SN", "--definition", "Trust among staff."),
    ("rename", "RC", "Resources"),
    ("move", "CE", "--to", "OI"),
    ("merge", "SI", "--into", "SA"),
    ("split", "WD", "Team structures", "Schedules"),
    ("retire", "OI"),
]


def test_once_there_is_a_lead_only_the_lead_manages_the_codebook(led, tmp_path):
    seven = str(CODEBOOKS / "seven_conditions.yaml")
    for who in ([], ["--as", "ana"], ["--as", "pat"]):
        refused = led("codebook", "load", seven, *who)
        assert refused.exit_code == 2 and "loading a codebook is for the lead analyst" in refused.stderr, refused.output
    assert json.loads(led("codebook", "list", "--format", "json").stdout) == []
    assert led("codebook", "load", seven, "--as", "lee").exit_code == 0

    for change in CHANGES:
        for who in ([], ["--as", "ana"]):
            refused = led("codebook", *change, *who)
            assert refused.exit_code == 2 and "is for the lead analyst" in refused.stderr, (change, who, refused.output)
    refused = led("codebook", "activate", SEVEN, "--as", "ana")
    assert refused.exit_code == 2 and "activating a codebook is for the lead analyst; ana is a coder" in refused.stderr

    history = json.loads(led("codebook", "history", "--format", "json").stdout)
    assert [(h["change"], h["by"]) for h in history] == [("load", "lee")]
    for change in CHANGES:
        done = led("codebook", *change, "--as", "lee")
        assert done.exit_code == 0, (change, done.output)
    assert led("codebook", "activate", SEVEN, "--as", "lee").exit_code == 0

    # Reading stays open to everyone, with or without --as.
    for args in (("list",), ("show",), ("history",), ("diff",), ("export", "--out", str(tmp_path / "cb.yaml"))):
        assert led("codebook", *args).exit_code == 0, args
    history = json.loads(led("codebook", "history", "--format", "json").stdout)
    assert [h["change"] for h in history] == ["load", "add", "edit", "rename", "move", "merge", "split", "retire"]
    assert {h["by"] for h in history} == {"lee"}


def test_a_project_without_a_lead_stays_open_until_one_is_added(run):
    run("codebook", "load", str(CODEBOOKS / "seven_conditions.yaml"))
    run("codebook", "add", "Policy context")
    run("coders", "add", "lee", "--role", "lead")
    refused = run("codebook", "add", "Budget", ok=False)
    assert refused.exit_code == 2 and "adding a code is for the lead analyst" in refused.stderr
    run("codebook", "add", "Budget", "--as", "lee")


LATIN_1_CSV = "code,brief definition\nCafé talk,Informal talk about the naïve plan\n"
LATIN_1_YAML = "name: Café codes\ncodes:\n  - name: Café talk\n    brief: Informal talk about the naïve plan\n"


SAVED_AS = {
    "latin1.csv": LATIN_1_CSV.encode("latin-1"),
    "latin1.yaml": LATIN_1_YAML.encode("latin-1"),
    "excel_unicode.csv": LATIN_1_CSV.replace(",", "\t").encode("utf-16"),  # Excel's "Unicode text": UTF-16, tabs
}


@pytest.mark.parametrize("name", list(SAVED_AS))
def test_load_decodes_codebooks_saved_in_other_encodings(run, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(SAVED_AS[name])
    run("codebook", "load", str(path))
    shown = json.loads(run("codebook", "show", "--format", "json").stdout)
    assert [(c["name"], c["brief"]) for c in shown["codes"]] == [("Café talk", "Informal talk about the naïve plan")]


@pytest.mark.parametrize("fmt", ["csv", "yaml"])
def test_load_refuses_a_binary_file_on_one_line(run, tmp_path, fmt):
    path = tmp_path / "bin.txt"
    path.write_bytes(bytes(range(256)) * 4)
    result = run("codebook", "load", str(path), "--format", fmt, ok=False)
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}: binary file, not text\n"
    assert json.loads(run("codebook", "list", "--format", "json").stdout) == []
