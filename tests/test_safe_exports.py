"""Exports are safe to open: text that a spreadsheet would run as a formula is written as text
(.xlsx: a string cell with Excel's quote prefix; .csv: a leading ``'``); numbers stay numbers."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from click.testing import CliRunner

from qualcode.cli.main import cli
from qualcode.export.writers import render
from qualcode.table import Table, safe_csv_cell, starts_formula, unmark_csv_cell

from .builders import add_coders, build_codebook, build_transcript

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\tx", "\r=1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_text_is_marked_in_csv_and_reads_back(text):
    assert starts_formula(text)
    assert safe_csv_cell(text) == "'" + text
    assert unmark_csv_cell(safe_csv_cell(text)) == text


@pytest.mark.parametrize("value", ["plain", "-3", "+2.5", "-1e5", "'quoted", "", -3, -2.5, None])
def test_numbers_and_plain_text_are_left_alone(value):
    assert not starts_formula(value)
    assert safe_csv_cell(value) == value


def test_text_already_starting_with_a_quote_reads_back_exactly():
    for text in ["'=x", "''=x", "'-", "'-3"]:
        assert unmark_csv_cell(safe_csv_cell(text)) == text


def hostile_table() -> Table:
    return Table(["=code", "n", "quote"], [["=1+1", -3, "@evil"], ["-x", 2.5, "fine"]], title="+title", caption="-c")


def test_csv_writer_marks_formula_text_not_numbers():
    rows = list(csv.reader(io.StringIO(render(hostile_table(), "csv"))))
    assert rows == [["'=code", "n", "quote"], ["'=1+1", "-3", "'@evil"], ["'-x", "2.5", "fine"]]


def test_xlsx_writer_stores_formula_text_as_text():
    book = openpyxl.load_workbook(io.BytesIO(render(hostile_table(), "xlsx")))
    sheet = book.active
    cells = {cell.value: cell for row in sheet.iter_rows() for cell in row if cell.value is not None}
    for text in ["+title", "-c", "=code", "=1+1", "@evil", "-x"]:
        assert cells[text].data_type == "s", text
        assert cells[text].quotePrefix, text
    assert cells[-3].data_type == "n" and cells[2.5].data_type == "n"
    assert not cells["fine"].quotePrefix


def test_commands_write_a_hostile_code_case_and_title_as_text(project, tmp_path):
    build_transcript(project, title="=cmd|'/C calc'!A0", case="@Northside")
    build_codebook(project, codes=[('=HYPERLINK("http://evil")', "EV", "1"), ("Work design", "WD", "2")])
    add_coders(project, "ana")
    runner = CliRunner()
    base = ["-p", project.target, "--as", "lead"]
    result = runner.invoke(cli, [*base, "frequencies", "--layer", "ana", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == ["Code,'@Northside,Total", '"\'=HYPERLINK(""http://evil"")",0,0']
    out = tmp_path / "frequencies.xlsx"
    assert runner.invoke(cli, [*base, "frequencies", "--layer", "ana", "-f", "xlsx", "-o", str(out)]).exit_code == 0
    cells = {c.value: c for row in openpyxl.load_workbook(out).active.iter_rows() for c in row if c.value is not None}
    for text in ["@Northside", '=HYPERLINK("http://evil")']:
        assert cells[text].data_type == "s" and cells[text].quotePrefix
    out = tmp_path / "transcripts.csv"
    assert runner.invoke(cli, [*base, "transcripts", "list", "-f", "csv", "-o", str(out)]).exit_code == 0
    assert "'=cmd|'/C calc'!A0,'@Northside" in out.read_text()
