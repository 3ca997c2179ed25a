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
