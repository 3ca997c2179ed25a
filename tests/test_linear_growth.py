"""Work that must grow linearly with the data: checked by counting reads and by comparing with a
plain reference implementation, never by timing."""

from __future__ import annotations

import numpy as np
import pytest

from qualcode.export.cells import prepare
from qualcode.export.word import _BodyCellWriter, _write, render_docx
from qualcode.table import Table

from .tui_builders import anyio_backend  # noqa: F401  (a fixture: the Pilot test runs on asyncio)

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


def _reference_pairs(first, second) -> list[tuple[int, int]]:
    return sorted(set(zip(first.tolist(), second.tolist())))


def test_unique_pairs_by_hand():
    from qualcode.synthesis.arrays import unique_pairs

    first, second = unique_pairs(np.array([2, 0, 2, 1, 0, 2]), np.array([5, 7, 5, 0, 7, 1]))
    assert list(zip(first.tolist(), second.tolist())) == [(0, 7), (1, 0), (2, 1), (2, 5)]
    empty = np.empty(0, dtype=np.int64)
    assert [len(a) for a in unique_pairs(empty, empty)] == [0, 0]


@pytest.mark.parametrize("seed", range(5))
def test_roll_up_by_sort_and_mask_equals_a_set_of_pairs(seed):
    """The roll-up keeps one (row code, segment) pair per distinct pair, sorted: as a Python set would."""
    from qualcode.synthesis.arrays import sorted_unique, unique_inverse, unique_pairs

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5000))
    first = rng.integers(0, 60, n)
    second = rng.integers(0, [50, 10**9][seed % 2], n)  # small ids and ids far beyond a dense table
    got_first, got_second = unique_pairs(first, second)
    assert list(zip(got_first.tolist(), got_second.tolist())) == _reference_pairs(first, second)
    assert sorted_unique(second).tolist() == sorted(set(second.tolist()))
    values, inverse = unique_inverse(second)
    assert values.tolist() == sorted(set(second.tolist()))
    assert values[inverse].tolist() == second.tolist()


@pytest.mark.anyio
async def test_workbench_wraps_the_transcript_once_on_open(project, monkeypatch):
    """On mount the view has no width yet: wrapping then (at the 10-column minimum) and again on the first resize
    wrapped a 300k-character transcript twice, the first time into a very long layout."""
    from qualcode.tui.widgets import transcript_view

    from .builders import add_coders, build_codebook, build_transcript
    from .tui_builders import TERMINAL_SIZE, app_for, coding_screen

    tid = build_transcript(project)
    build_codebook(project)
    add_coders(project, "ana")
    widths: list[int] = []
    real_wrap = transcript_view.wrap_offsets

    def counting_wrap(text: str, start: int, end: int, width: int) -> list[tuple[int, int]]:
        widths.append(width)
        return real_wrap(text, start, end, width)

    monkeypatch.setattr(transcript_view, "wrap_offsets", counting_wrap)
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        assert len(widths) == len(screen.work.segments)  # each segment wrapped once
        assert set(widths) == {screen.view.wrap_width}
