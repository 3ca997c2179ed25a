"""CLI tables measured in terminal cells and fitted to the terminal (issue 15)."""

from __future__ import annotations

from click.testing import CliRunner

from qualcode.cli.main import cli
from qualcode.export.writers import render
from qualcode.table import Table, cell_width, wrap_cells


def test_wide_characters_count_two_cells_and_columns_line_up():
    table = Table(columns=["Speaker", "Words"], rows=[["王老师", "我们一起备课"], ["Ana", "we plan"]])
    lines = render(table, "table").splitlines()
    rows = [line for line in lines if not set(line) <= {"─"}]
    # The second column starts at the same terminal column on every row: 7 cells ("Speaker") + 2.
    starts = [cell_width(line[: line.index(word)]) for line, word in zip(rows, ["Words", "我们", "we"], strict=True)]
    assert starts == [9, 9, 9]


def test_wrap_cells_breaks_text_without_spaces_by_cells_and_never_mid_character():
    assert wrap_cells("我们一起备课讨论", 6) == ["我们一", "起备课", "讨论"]
    assert wrap_cells("shared goals and trust", 10) == ["shared", "goals and", "trust"]
    assert wrap_cells("a\nb", 10) == ["a", "b"]
    assert all(cell_width(line) <= 5 for line in wrap_cells("emoji 😀😀😀😀 here", 5))


def test_a_table_that_can_fit_wraps_its_text_columns_to_the_terminal():
    memo = "Support is concrete at Adams: the principal protects planning time every week. " * 2
    table = Table(columns=["Code", "Memo"], rows=[["Support", memo]])
    natural = render(table, "table")
    assert max(cell_width(line) for line in natural.splitlines()) > 40
    fitted = render(table, "table", width=40)
    assert max(cell_width(line) for line in fitted.splitlines()) <= 40
    assert " ".join(fitted.split()).count("principal protects planning") == 2  # nothing lost


def test_a_table_too_wide_to_fit_is_printed_in_panels_repeating_the_row_labels():
    columns = ["Code", *(f"Statistic {i}" for i in range(12))]
    table = Table(columns=columns, rows=[["Shared vision", *(0.5,) * 12], ["Trust", *(0.25,) * 12]])
    out = render(table, "table", width=60)
    lines = out.splitlines()
    assert max(cell_width(line) for line in lines) <= 60
    assert sum(line.startswith("Code") for line in lines) >= 2  # every panel has the label column
    assert sum(line.startswith("Trust") for line in lines) == sum(line.startswith("Code") for line in lines)
    assert all(f"Statistic {i}" in out for i in range(12))


def test_the_cli_fits_its_tables_to_columns(demo_copy):
    result = CliRunner().invoke(cli, ["-p", str(demo_copy), "--as", "lee", "agreement"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert max(cell_width(line) for line in result.output.splitlines()) <= 80
    piped = CliRunner().invoke(cli, ["-p", str(demo_copy), "--as", "lee", "agreement"], env={"COLUMNS": ""})
    assert max(cell_width(line) for line in piped.output.splitlines()) > 80  # no terminal: natural widths
