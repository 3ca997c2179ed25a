"""LaTeX tables fit the page (issue 15): compiled in a standard article with no overfull box."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from qualcode.agreement.report import agreement_report, report_table
from qualcode.export.writers import render
from qualcode.project import Project
from qualcode.synthesis.cqr import cqr_table
from qualcode.synthesis.matrix import memo_matrix
from qualcode.table import Table

needs_pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")


def compile_log(tex: str, tmp_path) -> str:
    packages = re.match(r"% requires (.*)\n", tex).group(1).replace(", ", "\n")
    document = f"\\documentclass{{article}}\n{packages}\n\\begin{{document}}\n{tex}\\end{{document}}\n"
    (tmp_path / "t.tex").write_text(document, encoding="utf-8")
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    log = (tmp_path / "t.log").read_text(encoding="utf-8", errors="replace")
    assert done.returncode == 0, log[-2000:]
    return log


def test_a_wide_table_steps_down_its_type_or_turns_the_page():
    columns = ["Code", *(f"Statistic number {i}" for i in range(12))]
    tex = render(Table(columns=columns, rows=[["Trust", *(0.5,) * 12]], title="Wide"), "latex")
    assert r"\begin{sidewaystable}" in tex and r"\usepackage{rotating}" in tex
    narrow = render(Table(columns=["Code", "Units"], rows=[["Trust", 3]], title="Narrow"), "latex")
    assert r"\begin{table}[htbp]" in narrow and r"\small" not in narrow and "tabularx" not in narrow
    asked = Table(columns=["Code", "Units"], rows=[["Trust", 3]], title="Narrow", landscape=True)
    assert r"\begin{sidewaystable}" in render(asked, "latex")


def test_heads_longer_than_their_numbers_take_two_lines():
    tex = render(Table(columns=["Code", "Observed agreement"], rows=[["Trust", 0.5]]), "latex")
    assert r"\shortstack[r]{Observed \\ agreement}" in tex


@needs_pdflatex
def test_the_manuscript_tables_of_the_demo_compile_without_an_overfull_box(demo_copy, tmp_path):
    with Project(demo_copy) as project, project.read() as s:
        agreement = report_table(agreement_report(s, "lee"), number=1)
        by_case = report_table(agreement_report(s, "lee", by="case"))
        cqr = cqr_table(s, viewer="lee", groups="role").table()
        matrix = memo_matrix(s, viewer="lee", cell=["count", "memo", "quotes"]).table()
        transposed = memo_matrix(s, viewer="lee", cell=["count"]).table(transpose=True)
    tables = [agreement, by_case, cqr, matrix, transposed]
    for n, table in enumerate(tables):
        folder = tmp_path / str(n)
        folder.mkdir()
        log = compile_log(render(table, "latex"), folder)
        assert "Overfull \\hbox" not in log, (table.title, re.findall(r"Overfull \\hbox.*", log))


def test_every_table_command_takes_number_and_landscape(demo_copy):
    from click.testing import CliRunner

    from qualcode.cli.main import cli

    for command in (["table", "cqr"], ["matrix"], ["frequencies"], ["agreement"]):
        args = ["-p", str(demo_copy), "--as", "lee", *command, "--number", "3", "--landscape", "-f", "latex"]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, (command, result.output)
        assert r"\begin{sidewaystable}" in result.stdout and r"\label{tab:" in result.stdout
        md = CliRunner().invoke(cli, ["-p", str(demo_copy), "--as", "lee", *command, "--number", "3", "-f", "md"])
        assert md.stdout.startswith("**Table 3**"), command
