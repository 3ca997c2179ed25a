"""Work that must grow linearly with the data: checked by counting reads and by comparing with a
plain reference implementation, never by timing."""

from __future__ import annotations

import pytest

from qualcode.export.cells import prepare
from qualcode.export.word import _BodyCellWriter, _write, render_docx
from qualcode.table import Table

TRICKY_TEXTS = ["", " leading", "trailing ", "two\nlines", "\n", "a\n\n b ", "plain", "<&> ü"]


def test_docx_reads_each_rows_cells_once(monkeypatch):
    """python-docx rebuilds a row's cells on every ``row.cells``: read per cell, a wide matrix is quadratic."""
    from docx.table import _Row

    reads = 0
    original = _Row.cells

    def counting(row):
        nonlocal reads
        reads += 1
        return original.fget(row)

    monkeypatch.setattr(_Row, "cells", property(counting))
    columns = ["Code"] + [f"Case {c}" for c in range(30)]
    rows = [[f"code {r}"] + [r * c for c in range(30)] for r in range(5)]
    render_docx(prepare(Table(columns=columns, rows=rows, title="Matrix")))
    assert reads <= 1 + len(rows)


@pytest.mark.parametrize("bold", [False, True])
@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_docx_body_cells_are_written_as_python_docx_writes_them(text, bold):
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from lxml import etree

    table = Document().add_table(rows=1, cols=3)
    by_python_docx, copied, copied_again = table.rows[0].cells
    _write(by_python_docx, text, align=WD_ALIGN_PARAGRAPH.RIGHT, bold=bold)
    writer = _BodyCellWriter()
    writer.write(copied, text, align=WD_ALIGN_PARAGRAPH.RIGHT, bold=bold)
    writer.write(copied_again, text, align=WD_ALIGN_PARAGRAPH.RIGHT, bold=bold)  # from the kept template
    expected = etree.tostring(by_python_docx._tc)
    assert etree.tostring(copied._tc) == expected
    assert etree.tostring(copied_again._tc) == expected
