"""Every table format, parsed back: the same numbers and texts, specials escaped."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from qualcode.errors import QualcodeError
from qualcode.export.writers import FORMATS, format_for_path, render, write
from qualcode.table import Table

W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
SPECIAL = "R&D: 50% of $5 #1 a_b {c} ~d ^e \\f"
# Written by hand from the LaTeX rules, not produced by the writer.
SPECIAL_LATEX = r"R\&D: 50\% of \$5 \#1 a\_b \{c\} \textasciitilde{}d \textasciicircum{}e \textbackslash{}f"
DOMAIN = "Collaboration between administrators and participants"
COLUMNS = ["Category", "Blocks", "Cases", "Label", "Kappa"]


@pytest.fixture
def cqr_table() -> Table:
    return Table(
        columns=COLUMNS,
        rows=[
            [DOMAIN, None, None, None, None],
            ["Administrators provide support", 17, 4, "general", 6 / 7],
            ["Administrators provide autonomy", 14, 3, "typical", 0.5],
            [SPECIAL, 2, 1, "rare", -0.125],
        ],
        title="Domains and Categories of Collaboration",
        number=2,
        note="Labels follow Hill et al. (2005).",
        label="tab:cqr",
        group_rows={0},
    )


# Human formats round floats to two decimals: 6/7 = 0.857142... shows as 0.86.
EXPECTED_BODY = [
    ["Administrators provide support", "17", "4", "general", "0.86"],
    ["Administrators provide autonomy", "14", "3", "typical", "0.50"],
    [SPECIAL, "2", "1", "rare", "-0.12"],
]


def test_csv_keeps_full_precision_and_no_title(cqr_table):
    rows = list(csv.reader(io.StringIO(render(cqr_table, "csv"))))
    assert rows[0] == COLUMNS
    assert rows[1] == [DOMAIN, "", "", "", ""]
    assert float(rows[2][4]) == 6 / 7
    assert [r[:4] for r in rows[2:]] == [r[:4] for r in EXPECTED_BODY]
    assert float(rows[4][4]) == -0.125
    assert len(rows) == 5


def test_json_records(cqr_table):
    records = json.loads(render(cqr_table, "json"))
    assert records[1] == {
        "Category": "Administrators provide support",
        "Blocks": 17,
        "Cases": 4,
        "Label": "general",
        "Kappa": 6 / 7,
    }
    assert records[0]["Blocks"] is None


def _markdown_cells(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [re.sub(r"\\(.)", r"\1", c.strip()) for c in cells]


def test_markdown_parses_back(cqr_table):
    text = render(cqr_table, "md")
    lines = text.splitlines()
    assert lines[0] == "**Table 2**"
    assert "*Domains and Categories of Collaboration*" in lines
    assert lines[-1] == "*Note.* Labels follow Hill et al. (2005)."
    table_lines = [line for line in lines if line.startswith("|")]
    assert _markdown_cells(table_lines[0]) == COLUMNS
    assert _markdown_cells(table_lines[1]) == ["---", "---:", "---:", "---", "---:"]
    assert _markdown_cells(table_lines[2])[0] == f"**{DOMAIN}**"
    assert [_markdown_cells(line) for line in table_lines[3:]] == EXPECTED_BODY


def test_markdown_escapes_pipes_and_newlines():
    text = render(Table(columns=["a|b"], rows=[["x|y\nz"]]), "md")
    assert r"a\|b" in text and r"x\|y<br>z" in text


def _latex_body(text: str) -> list[list[str]]:
    body = text.split("\\midrule\n", 1)[1].split("\\bottomrule", 1)[0]
    rows = [r.strip() for r in body.split("\\\\\n") if r.strip()]
    return [[c.strip() for c in re.split(r"(?<!\\)&", row)] for row in rows]


def test_latex_booktabs_caption_label_note(cqr_table):
    text = render(cqr_table, "latex")
    assert text.index(r"\begin{table}") < text.index(r"\toprule") < text.index(r"\midrule") < text.index(r"\bottomrule")
    assert r"\caption{Domains and Categories of Collaboration}" in text
    assert r"\label{tab:cqr}" in text
    assert r"\begin{tabular}{lrrlr}" in text
    assert r"\par\smallskip{\raggedright\footnotesize\textit{Note.} Labels follow Hill et al. (2005).\par}" in text
    rows = _latex_body(text)
    assert rows[0] == [rf"\multicolumn{{5}}{{l}}{{\textbf{{{DOMAIN}}}}}"]
    assert rows[1:3] == EXPECTED_BODY[:2]
    assert rows[3] == [SPECIAL_LATEX, "2", "1", "rare", "-0.12"]


def test_latex_escapes_every_cell_header_and_note():
    table = Table(columns=["a_b", "100%"], rows=[["#1", "x^2"]], title="Q&A", note="~5 $")
    text = render(table, "latex")
    assert r"a\_b & 100\% \\" in text
    assert r"\#1 & x\textasciicircum{}2 \\" in text
    assert r"\caption{Q\&A}" in text
    assert r"\textasciitilde{}5 \$" in text


def test_latex_bold_group_row_that_does_not_span():
    table = Table(columns=["Domain", "Cases"], rows=[["Barriers", 7], ["Lack of buy-in", 3]], group_rows={0})
    rows = _latex_body(render(table, "latex"))
    assert rows == [[r"\textbf{Barriers}", r"\textbf{7}"], ["Lack of buy-in", "3"]]


def test_latex_long_text_wraps_in_paragraph_column():
    memo = "Teachers at every site described the principal as the one who found time for planning.\nSecond line."
    text = render(Table(columns=["School", "Memo"], rows=[["Adams", memo]]), "latex")
    assert r"\begin{tabularx}{\linewidth}{l>{\raggedright\arraybackslash}X}" in text
    assert r"planning. \newline Second line." in text


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_compiles_with_the_packages_it_names(cqr_table, tmp_path):
    tex = render(cqr_table, "latex")
    packages = tex.splitlines()[0].removeprefix("% requires ").replace(", ", "\n")
    document = "\\documentclass{article}\n" + packages + "\n\\begin{document}\n" + tex + "\\end{document}\n"
    (tmp_path / "t.tex").write_text(document, encoding="utf-8")
    result = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "t.tex"], cwd=tmp_path, capture_output=True, timeout=120
    )
    assert result.returncode == 0, result.stdout.decode(errors="replace")[-2000:]


def _docx(data: bytes):
    import docx

    return docx.Document(io.BytesIO(data))


def test_docx_apa_table_parses_back(cqr_table):
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    data = render(cqr_table, "docx")
    assert isinstance(data, bytes)
    document = _docx(data)
    heading, title = document.paragraphs[0], document.paragraphs[1]
    assert heading.text == "Table 2" and all(run.bold for run in heading.runs)
    assert title.text == "Domains and Categories of Collaboration" and all(run.italic for run in title.runs)
    (table,) = document.tables
    cells = [[cell.text for cell in row.cells] for row in table.rows]
    assert cells[0] == COLUMNS
    assert cells[1] == [DOMAIN] * 5  # one cell merged across the row
    assert cells[2:] == EXPECTED_BODY
    assert table.rows[2].cells[1].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert table.rows[2].cells[0].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.LEFT
    note = document.paragraphs[-1]
    assert note.text == "Note. Labels follow Hill et al. (2005)."
    assert note.runs[0].text == "Note." and note.runs[0].italic


def test_docx_has_horizontal_rules_only(cqr_table):
    table = _docx(render(cqr_table, "docx")).tables[0]
    tbl = table._tbl
    for edge in tbl.iter():
        side = edge.tag.replace(W_NS, "")
        parent = edge.getparent()
        in_borders = parent is not None and parent.tag in (f"{W_NS}tblBorders", f"{W_NS}tcBorders")
        if in_borders and side in ("left", "right", "start", "end", "insideV"):
            assert edge.get(f"{W_NS}val") in ("nil", "none"), side
    table_borders = tbl.tblPr.find(f"{W_NS}tblBorders")
    assert table_borders.find(f"{W_NS}top").get(f"{W_NS}val") == "single"
    assert table_borders.find(f"{W_NS}bottom").get(f"{W_NS}val") == "single"

    def cell_edge(row: int, side: str) -> str | None:
        borders = table.rows[row].cells[1]._tc.tcPr.find(f"{W_NS}tcBorders")
        return borders.find(f"{W_NS}{side}").get(f"{W_NS}val")

    assert cell_edge(0, "top") == "single" and cell_edge(0, "bottom") == "single"
    assert cell_edge(2, "bottom") == "nil"
    assert cell_edge(len(table.rows) - 1, "bottom") == "single"


def test_docx_cell_line_breaks():
    document = _docx(render(Table(columns=["Quote"], rows=[["first line\nsecond line"]]), "docx"))
    assert document.tables[0].rows[1].cells[0].text == "first line\nsecond line"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_docx_opens_in_libreoffice(cqr_table, tmp_path):
    source = tmp_path / "t.docx"
    source.write_bytes(render(cqr_table, "docx"))
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "html", "--outdir", str(tmp_path), str(source)],
        check=True,
        timeout=180,
    )
    html = (tmp_path / "t.html").read_text(errors="replace")
    assert "<table" in html and "Administrators provide support" in html


def test_xlsx_values_types_and_layout(cqr_table):
    from openpyxl import load_workbook

    data = render(cqr_table, "xlsx")
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.title == "Table 2"
    assert sheet["A1"].value == "Domains and Categories of Collaboration"
    header = [c.value for c in sheet[3]]
    assert header == COLUMNS and all(c.font.bold for c in sheet[3])
    body = [[c.value for c in row] for row in sheet.iter_rows(min_row=4, max_row=7)]
    assert body[0] == [DOMAIN, None, None, None, None]
    assert body[1] == ["Administrators provide support", 17, 4, "general", 6 / 7]
    assert body[3] == [SPECIAL, 2, 1, "rare", -0.125]
    assert isinstance(body[1][1], int) and isinstance(body[1][4], float)
    assert sheet["E5"].number_format == "0.00"
    assert sheet["A9"].value == "Note. Labels follow Hill et al. (2005)."
    assert sheet.column_dimensions["A"].width >= len("Administrators provide support")


def test_xlsx_formats_hint_and_dates():
    from openpyxl import load_workbook

    when = datetime(2024, 3, 5, 14, 30, tzinfo=UTC)
    table = Table(columns=["Share", "Day", "At"], rows=[[0.25, date(2024, 3, 5), when]])
    sheet = load_workbook(io.BytesIO(render(table, "xlsx", formats={"Share": ".1%"}))).active
    assert sheet["A2"].value == 0.25 and sheet["A2"].number_format == "0.0%"
    assert sheet["C2"].value == datetime(2024, 3, 5, 14, 30)


def test_html_parses_back_and_escapes(cqr_table):
    import lxml.html

    table = cqr_table
    table.rows.append(["<script>alert(1)</script>", 1, 1, "rare", 0.0])
    text = render(table, "html")
    assert text.startswith("<!DOCTYPE html>")
    assert "<script>" not in text and "&lt;script&gt;" in text
    page = lxml.html.document_fromstring(text)
    assert page.findtext(".//title") == "Table 2 Domains and Categories of Collaboration"
    caption = page.find(".//table/caption")
    assert caption.text_content() == "Table 2Domains and Categories of Collaboration"
    assert [th.text_content() for th in page.findall(".//thead/tr/th")] == COLUMNS
    body = page.findall(".//tbody/tr")
    assert body[0].find("th").get("colspan") == "5" and body[0].text_content() == DOMAIN
    assert [[td.text_content() for td in tr.findall("td")] for tr in body[1:4]] == EXPECTED_BODY
    assert body[4].findall("td")[0].text_content() == "<script>alert(1)</script>"
    assert page.find(".//p[@class='note']").text_content() == "Note. Labels follow Hill et al. (2005)."


def test_terminal_table_aligns_numbers(cqr_table):
    lines = render(cqr_table, "table").splitlines()
    assert lines[:2] == ["Table 2", "Domains and Categories of Collaboration"]
    assert lines[-1] == "Note. Labels follow Hill et al. (2005)."
    assert DOMAIN in lines
    support = next(line for line in lines if line.startswith("Administrators provide support"))
    autonomy = next(line for line in lines if line.startswith("Administrators provide autonomy"))
    assert support.split()[-2:] == ["general", "0.86"] and autonomy.split()[-2:] == ["typical", "0.50"]
    assert len(support) == len(autonomy)  # right-aligned numbers end in the same column
    assert support.index(" 17 ") == autonomy.index(" 14 ")


def test_formats_override_per_column_default_and_callable(cqr_table):
    md = render(cqr_table, "md", formats={"Kappa": ".3f"})
    assert "| 0.857 |" in md and "| -0.125 |" in md
    assert "| 0.857 |" in render(cqr_table, "md", formats={"*": ".3f"})
    html = render(cqr_table, "html", formats={"Kappa": lambda v: f"κ = {v:.1f}"})
    assert "κ = 0.9" in html
    assert render(cqr_table, "csv", formats={"Kappa": ".1f"}) == render(cqr_table, "csv")


def test_frame_values_are_normalised():
    frame = pd.DataFrame(
        {"case": ["Adams", "Baker"], "count": np.array([3, 5], dtype=np.int64), "mean": [4.25, np.nan]}
    )
    table = Table.from_frame(frame)
    assert list(csv.reader(io.StringIO(render(table, "csv")))) == [
        ["case", "count", "mean"],
        ["Adams", "3", "4.25"],
        ["Baker", "5", ""],
    ]
    assert json.loads(render(table, "json"))[1] == {"case": "Baker", "count": 5, "mean": None}
    md_rows = [_markdown_cells(line) for line in render(table, "md").splitlines() if line.startswith("|")]
    assert md_rows[2:] == [["Adams", "3", "4.25"], ["Baker", "5", ""]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_an_empty_table(fmt):
    data = render(Table(columns=["Code", "Count"], rows=[], title="Nothing yet"), fmt)
    assert data
    if fmt == "csv":
        assert data == "Code,Count\n"


def test_unknown_format_is_a_user_error(cqr_table):
    with pytest.raises(QualcodeError, match="unknown table format 'pdf'"):
        render(cqr_table, "pdf")


def test_row_longer_than_header_is_a_bug():
    with pytest.raises(ValueError, match="row 0 has 3 cells for 2 columns"):
        render(Table(columns=["a", "b"], rows=[[1, 2, 3]]), "csv")


def test_write_picks_format_from_suffix(cqr_table, tmp_path):
    assert format_for_path("out/Table 2.DOCX") == "docx"
    path = write(cqr_table, tmp_path / "cqr.docx")
    assert path.read_bytes()[:2] == b"PK"
    with pytest.raises(QualcodeError, match=r"cqr\.pdf"):
        write(cqr_table, tmp_path / "cqr.pdf")
    assert not (tmp_path / "cqr.pdf").exists()


def test_caption_follows_title_in_every_human_format():
    table = Table(columns=["Code", "Count"], rows=[["SV", 3]], title="Codes", number=1, caption="Consensus layer")
    assert "*Codes*\n\n*Consensus layer*" in render(table, "md")
    assert r"{\small\itshape Consensus layer\par}" in render(table, "latex")
    assert '<span class="subtitle">Consensus layer</span>' in render(table, "html")
    assert render(table, "table").splitlines()[:3] == ["Table 1", "Codes", "Consensus layer"]
    paragraphs = _docx(render(table, "docx")).paragraphs
    assert [p.text for p in paragraphs[:3]] == ["Table 1", "Codes", "Consensus layer"]
    assert all(run.italic for run in paragraphs[2].runs)


def test_docx_wide_table_is_landscape():
    from docx.enum.section import WD_ORIENT

    wide = Table(columns=[f"School {n}" for n in range(7)], rows=[list(range(7))])
    section = _docx(render(wide, "docx")).sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE and section.page_width > section.page_height
