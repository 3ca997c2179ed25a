"""The agreement table as a manuscript wants it (issue 15): numbers as numbers, APA style where a
statistic cannot exceed 1, heads in words, "Table N", xlsx and html, dropped resamples said."""

from __future__ import annotations

from click.testing import CliRunner

from qualcode.agreement.report import agreement_report, report_table
from qualcode.cli.main import cli
from qualcode.export.writers import render
from qualcode.table import apa_statistic

from .test_agreement_report import build_study


def test_apa_statistic_drops_the_leading_zero_only():
    assert [apa_statistic(x) for x in (0.783852, -0.1234, 1.0, 0.0, 0.005)] == [".78", "-.12", "1.00", ".00", ".01"]


def test_statistics_are_numbers_apa_in_the_human_formats_and_full_precision_in_csv(project):
    # ann and ben agree on segments 1-4, disagree on 5 (SV): p_o = 5/6 for SV.
    build_study(
        project,
        {"ann": {1: {"SV"}, 2: {"SV"}, 5: {"SV"}}, "ben": {1: {"SV"}, 2: {"SV"}}},
        {"ann": set(range(1, 7)), "ben": set(range(1, 7))},
    )
    with project.read() as s:
        table = report_table(agreement_report(s, "lead"), number=3)
    assert table.columns[4:6] == ["Observed agreement", "Chance agreement"]
    assert "p_o" not in table.columns and "Gwet's AC1" in table.columns
    sv = next(row for row in table.rows if row[0] == "Shared vision and strategy")
    assert isinstance(sv[4], float) and abs(sv[4] - 5 / 6) < 1e-6  # a number, not text
    csv_text = render(table, "csv")
    assert "0.833333" in csv_text and ",.83," not in csv_text
    md = render(table, "md")
    assert md.startswith("**Table 3**") and "| .83 |" in md
    terminal = render(table, "table")
    assert terminal.startswith("Table 3\n") and " .83" in terminal and "0.83" not in terminal


def test_an_undefined_statistic_is_n_a_in_the_table_and_empty_in_csv(project):
    build_study(project, {"ann": {}, "ben": {}}, {"ann": set(range(1, 7)), "ben": set(range(1, 7))})
    with project.read() as s:
        table = report_table(agreement_report(s, "lead"))
    kappa = table.columns.index("Kappa")
    assert table.rows[0][kappa] is None
    assert "n/a" in render(table, "table")
    first = render(table, "csv").splitlines()[1]
    assert first.split(",")[kappa] == ""


def test_the_report_says_how_many_resamples_were_dropped(project):
    """With few units many resamples hold one value only: pooled kappa is undefined there."""
    build_study(
        project,
        {"ann": {1: {"SV"}}, "ben": {1: {"SV"}}},
        {"ann": {1, 2, 3}, "ben": {1, 2, 3}},
        segments=3,
    )
    with project.read() as s:
        report = agreement_report(s, "lead", ci=True, resamples=200, seed=1)
    assert report.ci is not None and 0 < report.ci.dropped < 200
    assert report.to_json()["ci"]["dropped"] == report.ci.dropped
    assert f"{report.ci.dropped} of 200 resamples left a statistic undefined" in report_table(report).note


def test_agreement_writes_xlsx_and_html_with_its_number(demo_copy, tmp_path):
    run = CliRunner().invoke
    xlsx, html = tmp_path / "agreement.xlsx", tmp_path / "agreement.html"
    for out in (xlsx, html):
        result = run(cli, ["-p", str(demo_copy), "--as", "lee", "agreement", "--number", "2", "--out", str(out)])
        assert result.exit_code == 0, result.output
    import openpyxl

    sheet = openpyxl.load_workbook(xlsx).active
    cells = [cell.value for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert sheet.title == "Table 2" and "Observed agreement" in cells  # the number names the sheet
    assert any(isinstance(v, float) and 0 < v < 1 for v in cells)  # statistics are numbers in the sheet
    page = html.read_text(encoding="utf-8")
    assert "Table 2" in page and "Observed agreement" in page
