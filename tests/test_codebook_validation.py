"""Every validation error names the file and the line or row; all are collected; nothing loads."""

from __future__ import annotations

import openpyxl
import pytest
from click.testing import CliRunner

from qualcode.cli.main import cli
from qualcode.codebook.formats import read_codebook
from qualcode.codebook.validate import CodebookInvalid
from qualcode.errors import InputError


def problems(path) -> list[str]:
    with pytest.raises(CodebookInvalid) as caught:
        read_codebook(path)
    return caught.value.problems


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# (file name, content, the one problem expected after "<path>")
ONE_PROBLEM = {
    "duplicate sibling names (yaml)": (
        "cb.yaml",
        "name: x\ncodes:\n  - name: Trust\n  - name: Time\n  - name: trust\n",
        ":5: duplicate code name 'trust' at the top level (line 3)",
    ),
    "duplicate sibling names (csv)": (
        "cb.csv",
        "code,parent\nBarriers,\nTime,Barriers\nTime,Barriers\n",
        ": row 4: duplicate code name 'Time' under 'Barriers' (row 3)",
    ),
    "unknown parent (csv)": (
        "cb.csv",
        "code,parent\nBarriers,\nTime,Barrier\n",
        ": row 3: parent 'Barrier' of 'Time' is not a code in this codebook",
    ),
    "unknown parent (yaml)": (
        "cb.yaml",
        "name: x\ncodes:\n  - name: A\n  - name: B\n    parent: Nowhere\n",
        ":4: parent 'Nowhere' of 'B' is not a code in this codebook",
    ),
    "own parent": (
        "cb.yaml",
        "name: x\ncodes:\n  - name: Root\n  - name: Loop\n    parent: Loop\n",
        ":4: parents form a cycle: Loop > Loop",
    ),
    "empty name (yaml)": (
        "cb.yaml",
        "name: x\ncodes:\n  - name: Fine\n  - name: '  '\n    brief: nameless\n",
        ":4: a code has an empty name",
    ),
    "empty name (csv)": (
        "cb.csv",
        "code,brief definition\nFine,ok\n,no name here\n",
        ": row 3: a code has an empty name",
    ),
    "clashing hotkeys": (
        "cb.yaml",
        "name: x\ncodes:\n  - name: A\n    hotkey: 1\n    codes:\n      - name: A1\n        hotkey: '1'\n",
        ":6: hotkey '1' of 'A1' is already used by 'A' (line 3)",
    ),
    "clashing keys": (
        "cb.csv",
        "code,key\nShared vision,SV\nSupport,sv\n",
        ": row 3: key 'sv' of 'Support' is already used by 'Shared vision' (row 2)",
    ),
    "empty codebook (yaml)": (
        "cb.yaml",
        "name: Nothing yet\nkind: provisional\ncodes: []\n",
        ": the codebook is empty: it has no codes",
    ),
    "empty codebook (csv)": ("cb.csv", "code,parent\n", ": the codebook is empty: it has no codes"),
    "a cycle and nothing else (csv)": ("cb.csv", "code,parent\nA,B\nB,A\n", ": row 2: parents form a cycle: A > B > A"),
    "an unknown parent and nothing else (csv)": (
        "cb.csv",
        "code,parent\nTime,Barriers\n",
        ": row 2: parent 'Barriers' of 'Time' is not a code in this codebook",
    ),
    "unknown kind": (
        "cb.yaml",
        "name: x\nkind: grounded\ncodes: [{name: A}]\n",
        ": unknown codebook kind 'grounded' (use provisional or cqr)",
    ),
}


@pytest.mark.parametrize("case", list(ONE_PROBLEM))
def test_each_problem_names_the_file_and_line_or_row(tmp_path, case):
    name, content, expected = ONE_PROBLEM[case]
    path = write(tmp_path, name, content)
    assert problems(path) == [f"{path}{expected}"]


def test_same_name_under_different_parents_is_fine(tmp_path):
    path = write(
        tmp_path,
        "cb.yaml",
        "name: x\ncodes:\n  - name: A\n    codes: [{name: Other}]\n  - name: B\n    codes: [{name: Other}]\n",
    )
    assert read_codebook(path).count() == 4


def test_cycles_are_found(tmp_path):
    path = write(tmp_path, "cb.csv", "code,parent\nRoot,\nA,B\nB,C\nC,A\n")
    found = problems(path)
    assert len(found) == 1
    assert found[0].startswith(f"{path}: row 3: parents form a cycle: ")
    assert set(found[0].split(": ")[-1].split(" > ")) == {"A", "B", "C"}


@pytest.mark.parametrize("colour", ["red", "#12345", "#ggg000", "rgb(1,2,3)"])
def test_bad_colours(tmp_path, colour):
    path = write(tmp_path, "cb.yaml", f"name: x\ncodes:\n  - name: A\n    color: '{colour}'\n")
    assert problems(path) == [f"{path}:3: bad colour {colour!r} (write #rrggbb, e.g. #1f77b4) for 'A'"]


@pytest.mark.parametrize("colour,normal", [("#ABC", "#aabbcc"), ("1F77B4", "#1f77b4"), ("#1f77b4", "#1f77b4")])
def test_good_colours_are_normalised(tmp_path, colour, normal):
    path = write(tmp_path, "cb.yaml", f"name: x\ncodes:\n  - name: A\n    colour: '{colour}'\n")
    assert read_codebook(path).codes[0].color == normal


def test_every_problem_is_collected(tmp_path):
    path = write(
        tmp_path,
        "cb.yaml",
        (
            "name: x\n"
            "codes:\n"
            "  - name: A\n"  # 3
            "    hotkey: q\n"
            "  - name: A\n"  # 5 duplicate
            "  - name: B\n"  # 6
            "    hotkey: q\n"  # clash
            "    color: blue\n"  # bad colour
            "  - name: C\n"  # 9
            "    parent: Z\n"  # unknown parent
        ),
    )
    found = problems(path)
    assert len(found) == 4
    assert [p.split(":")[1] for p in found] == ["9", "5", "6", "6"]


def test_xlsx_errors_name_the_row(tmp_path):
    path = tmp_path / "cb.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["Code", "Parent", "Colour"], ["Trust", None, "#00ff00"], ["Time", "Trust", "green"]):
        sheet.append(row)
    book.save(path)
    assert problems(path) == [f"{path}: row 3: bad colour 'green' (write #rrggbb, e.g. #1f77b4) for 'Time'"]


def test_malformed_yaml_names_the_line(tmp_path):
    path = write(tmp_path, "cb.yaml", "name: x\ncodes:\n  - name: A\n   bad: [\n")
    with pytest.raises(InputError) as caught:
        read_codebook(path)
    assert str(caught.value).startswith(f"{path}:4: not valid YAML")


def load_in_new_project(tmp_path, name: str, text: str):
    """(path, result of `codebook load`, runner, project) in a fresh project."""
    project = str(tmp_path / "study.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["init", project]).exit_code == 0
    path = write(tmp_path, name, text)
    return path, runner.invoke(cli, ["codebook", "load", str(path), "-p", project]), runner, project


def test_cli_shows_every_problem_exits_2_and_loads_nothing(tmp_path):
    path, result, runner, project = load_in_new_project(tmp_path, "cb.csv", "code,parent,hotkey\nA,,1\nB,,1\nC,Nope,\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert f"{path}: row 3: hotkey '1' of 'B' is already used by 'A' (row 2)" in result.stderr
    assert f"{path}: row 4: parent 'Nope' of 'C' is not a code in this codebook" in result.stderr
    listed = runner.invoke(cli, ["codebook", "list", "-p", project, "--format", "json"])
    assert listed.exit_code == 0 and listed.stdout.strip() == "[]"


def test_cli_reports_a_lone_cycle_on_one_line(tmp_path):
    path, result, _, _ = load_in_new_project(tmp_path, "cb.csv", "code,parent\nA,B\nB,A\n")
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}: row 2: parents form a cycle: A > B > A\n"
