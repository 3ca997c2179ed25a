"""The CLI's edges: user text never reaches the terminal as control sequences; out-of-range
numbers, a missing output folder and a coder compared with herself are one line, exit 2;
JSON output never holds Infinity or NaN."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qualcode.cli.main import cli
from qualcode.export.writers import render
from qualcode.table import Table, terminal_text

from .builders import TURNS, add_coders, build_codebook, build_transcript

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x9b31m\x00\r"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_terminal_text_escapes_controls_but_keeps_newline_and_tab():
    assert terminal_text("a\x1b[31mb\tc\nd\x7f\x9b") == "a\\x1b[31mb\tc\nd\\x7f\\x9b"


def test_terminal_table_escapes_every_text():
    table = Table([f"h{ESCAPES}"], [[f"cell{ESCAPES}"]], title=f"t{ESCAPES}", caption="c\x1b", note="n\x1b")
    text = render(table, "table")
    assert not any(ch in text for ch in "\x1b\x07\x9b\x00\r")
    assert "cell\\x1b]0;pwned\\x07" in text and "t\\x1b" in text and "Note. n\\x1b" in text


@pytest.fixture
def hostile(project):
    turns = [*TURNS[:1], ("Ms. Lee", "teacher", f"We plan{ESCAPES} together.")]
    build_transcript(project, title=f"Lee{ESCAPES}", case=f"North{ESCAPES}", turns=turns)
    return project


@pytest.mark.parametrize(
    "args",
    [
        ("transcripts", "show", "1"),
        ("transcripts", "show", "1", "--text"),
        ("transcripts", "list"),
        ("speakers", "list"),
    ],
)
def test_commands_print_user_text_without_control_sequences(hostile, args):
    result = run("-p", hostile.target, *args)
    assert result.exit_code == 0, result.output
    assert "\\x1b]0;pwned\\x07" in result.stdout
    assert not any(ch in result.stdout for ch in "\x1b\x07\x9b\x00\r")


def test_an_error_naming_user_text_prints_no_control_sequence(hostile):
    result = run("-p", hostile.target, "transcripts", "show", "\x1b[2J")
    assert result.exit_code == 2 and "\x1b" not in result.stderr


BIG = str(2**64)


@pytest.mark.parametrize(
    "args",
    [
        ("transcripts", "show", BIG),
        ("speakers", "list", "--transcript", BIG),
        ("agreement", "--round", BIG),
        ("agreement", "--round", "0"),
        ("agreement", "--round", "-3"),
        ("agreement", "--seed", "-1"),
        ("reconcile", "queue", "--round", BIG),
        ("reconcile", "memo", f"#{BIG}", "why"),
        ("reconcile", "memo", BIG, "why"),
        ("reconcile", "memo", f"Lee interview:{BIG}", "why"),
        ("reconcile", "decide", f"#{BIG}", "--code", "SV", "--union"),
        ("reconcile", "flag", "SV", "why", "--segment", f"#{BIG}"),
        ("codings", "export", "--round", BIG),
        ("rounds", "open", "Lee interview", "--round", BIG),
        ("matrix", "exemplar", "SV", f"#{BIG}"),
        ("matrix", "exemplar", "SV", "#1", "--start", "-1"),
        ("matrix", "exemplar", "SV", "#1", "--remove", BIG),
        ("plot", "agreement", "--round", BIG, "-o", "plot.png"),
    ],
)
def test_numbers_out_of_range_are_one_line_exit_2(project, args):
    build_transcript(project)
    build_codebook(project)
    add_coders(project, "ana", "ben")
    result = run("-p", project.target, "--as", "lead", *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    assert "OverflowError" not in result.stderr and "unexpected" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("transcripts", "list", "-f", "csv"),
        ("frequencies", "--layer", "ana", "-f", "xlsx"),
        ("agreement", "-f", "json"),
        ("codings", "export"),
        ("plot", "heatmap", "--layer", "ana"),
    ],
)
def test_out_into_a_missing_folder_is_one_line_naming_it(project, tmp_path, args):
    build_transcript(project)
    build_codebook(project)
    add_coders(project, "ana", "ben")
    missing = tmp_path / "no" / "such"
    suffix = {"csv": ".csv", "xlsx": ".xlsx", "json": ".json"}.get(args[-1], ".png" if args[0] == "plot" else ".csv")
    result = run("-p", project.target, "--as", "lead", *args, "-o", str(missing / f"out{suffix}"))
    assert result.exit_code == 2, result.output
    target = missing / f"out{suffix}"
    problem = f"the folder {missing} does not exist (create it first)"
    assert result.stderr == f"error: {target}: cannot write there: {problem}\n"


def test_json_output_never_holds_infinity_or_nan(capsys):
    from qualcode.cli.common import emit

    table = Table(["kappa", "n"], [[float("inf"), float("nan")], [float("-inf"), 1.5]])
    assert json.loads(render(table, "json")) == [{"kappa": None, "n": None}, {"kappa": None, "n": 1.5}]
    emit(table, "json", None, json_data={"pooled": float("nan"), "per_code": [{"kappa": float("inf")}, (1.0,)]})
    text = capsys.readouterr().out
    assert "Infinity" not in text and "NaN" not in text
    assert json.loads(text) == {"pooled": None, "per_code": [{"kappa": None}, [1.0]]}


def test_a_coder_cannot_be_compared_with_herself(project):
    build_transcript(project)
    build_codebook(project)
    add_coders(project, "ana", "ben")
    for args in (("agreement", "--coders", "ana,ana"), ("reconcile", "queue", "--coders", "ana, ben,ana")):
        result = run("-p", project.target, "--as", "lead", *args)
        assert result.exit_code == 2
        assert result.stderr == "error: --coders names ana twice: a coder cannot be compared with herself\n"
