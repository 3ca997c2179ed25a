"""The synthesis commands, and that every export carries the same numbers (csv, LaTeX, docx parsed back)."""

import csv
import io
import json
import re

import pytest
from click.testing import CliRunner
from docx import Document

from qualcode.cli.main import cli

from .test_synthesis_study import D1, D2, SCHOOLS, add_memos, build_study

# Category rows of the CQR table (transcript cases, N = 10), by hand; Staff turnover (single case) is in the note.
EXPECTED_CQR = {
    "Administrators provide support": ("10", "10", "general"),
    "Administrators provide autonomy": ("10", "9", "general"),
    "Lack of buy-in": ("6", "5", "variant"),
    "Time constraints": ("7", "6", "typical"),
    "Leadership practice": ("2", "2", "variant"),
}


@pytest.fixture
def run(project, project_path):
    add_memos(project, build_study(project))

    def invoke(*args, ok=True):
        who = [] if "--as" in args else ["--as", "lee"]  # the lead, unless a test says otherwise
        result = CliRunner().invoke(cli, [*args, "--project", str(project_path), *who], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def test_cqr_csv(run):
    rows = list(csv.reader(io.StringIO(run("table", "cqr", "-f", "csv").output)))
    assert rows[0] == ["Domain", "Category", "Blocks", "Cases", "Label"]
    assert {r[1]: tuple(r[2:5]) for r in rows[1:] if r[1]} == EXPECTED_CQR
    assert [D2, "", "14", "7", ""] in rows


def test_cqr_latex(run):
    latex = run("table", "cqr", "-f", "latex").output
    assert "\\toprule" in latex and "\\label{tab:cqr}" in latex
    for name, (blocks, cases, label) in EXPECTED_CQR.items():
        assert re.search(rf"{re.escape(name)}\s*&\s*{blocks}\s*&\s*{cases}\s*&\s*{label}", latex), name
    assert "Staff turnover (T10; 2 blocks)" in latex


def test_cqr_docx(run, tmp_path):
    out = tmp_path / "cqr.docx"
    run("table", "cqr", "-f", "docx", "--out", str(out))
    table = Document(str(out)).tables[0]
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells[0] == ["Domain", "Category", "Blocks", "Cases", "Label"]
    assert {r[1]: tuple(r[2:5]) for r in cells[1:] if r[1]} == EXPECTED_CQR


def test_cqr_json_and_evidence(run):
    data = json.loads(run("table", "cqr", "--case-unit", "case", "-f", "json").output)
    assert data["n_cases"] == 5
    assert {r["category"]: r["cases"] for r in data["rows"]}["Lack of buy-in"] == 3
    args = ("table", "cqr", "--evidence", "--code", "Lack of buy-in", "--case-unit", "case", "--case", "Adams")
    evidence = list(csv.DictReader(io.StringIO(run(*args, "-f", "csv").output)))
    assert [(r["transcript"], r["position"], r["role"]) for r in evidence] == [
        ("T1", "1", "interviewer"),
        ("T1", "2", "teacher"),
        ("T2", "2", "teacher"),
    ]


def test_matrix_csv_transposed_and_ordered(run):
    rows = list(
        csv.reader(io.StringIO(run("matrix", "--rows", "cases", "--order-by", "enrollment", "-f", "csv").output))
    )
    assert [r[0] for r in rows[1:]] == [
        "Cole (enrollment = 90)",
        "Adams (enrollment = 300)",
        "Dunn (enrollment = 450)",
        "Baker (enrollment = 1200)",
        "Evans (enrollment = –)",
        "Pattern",
    ]
    assert rows[0][4] == D2 and rows[2][4] == "5 segments, 4 participants"  # Adams


def test_matrix_writes_from_the_cli(run):
    run("matrix", "memo", "Time constraints", "Cole", "Time is short here.", "--as", "lee")
    run("matrix", "pattern", "Time constraints", "divergence", "Only some schools.", "--as", "lee")
    run("matrix", "exemplar", "Time constraints", "T5:6", "--as", "lee")
    out = json.loads(run("matrix", "--cell", "count,memo,quotes", "--as", "lee", "-f", "json").output)
    row = next(r for r in out["rows"] if r["name"] == "Time constraints")
    cole = row["cells"][[c["name"] for c in out["cases"]].index("Cole")]
    assert (row["pattern"], row["pattern_note"]) == ("divergence", "Only some schools.")
    assert cole["memos"] == ["Time is short here."] and cole["segments"] == 2
    assert cole["quotes"][0]["text"] == "T5 turn 6 says something about the work."
    refused = run("matrix", "memo", "Time constraints", "Nowhere", "x", "--as", "lee", ok=False)
    assert refused.exit_code == 2 and refused.output.startswith("error: unknown case 'Nowhere'")


def test_blinded_coder_layer_is_refused(run):
    result = run("table", "cqr", "--layer", "ana", "--as", "ben", ok=False)
    assert result.exit_code == 2 and "blinded" in result.output


def test_blinded_coder_may_not_read_the_consensus(run):
    result = run("table", "cqr", "--evidence", "--as", "ana", ok=False)
    assert result.exit_code == 2 and "consensus" in result.output


def test_frequencies_and_cooccurrence(run):
    freq = list(csv.reader(io.StringIO(run("frequencies", "-f", "csv").output)))
    assert freq[0] == ["Code"] + SCHOOLS + ["Total"]
    assert [D1, "5", "4", "4", "4", "3", "20"] in freq
    co = list(csv.DictReader(io.StringIO(run("cooccurrence", "-f", "csv").output)))
    support = next(r for r in co if r["Code"] == f"{D1} > Administrators provide support")
    assert support[f"{D2} > Lack of buy-in"] == "5"


def test_heatmap_png_and_svg(run, tmp_path):
    for name in ("heat.png", "heat.svg"):
        run("plot", "heatmap", "--out", str(tmp_path / name))
    assert (tmp_path / "heat.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Adams" in (tmp_path / "heat.svg").read_text()
    assert run("plot", "heatmap", "--out", str(tmp_path / "heat.gif"), ok=False).exit_code == 2


def test_matrix_writes_are_for_the_lead(run):
    for args in (
        ("memo", "Time constraints", "Cole", "Mine."),
        ("pattern", "Time constraints", "divergence"),
        ("exemplar", "Time constraints", "T5:6"),
    ):
        refused = run("matrix", *args, "--as", "ana", ok=False)
        assert refused.exit_code == 2 and "for the lead analyst; ana is a coder" in refused.output
    ambiguous_free = run("matrix", "exemplar", "Time constraints", "Cole/T5:6", "--as", "lee")
    assert ambiguous_free.output.startswith("added exemplar")
