"""Pilot tests of the memo matrix, the CQR table and the evidence list.

The matrix cases are counted by hand on the five-segment study of test_tui_lead_agreement
(no consensus yet, so ana's layer): segment 1 is the interviewer's turn, segment 2 Ms. Lee's,
so SV (ana: 1, 2) is 2 segments and 1 participant at Northside Elementary, SA (ana: 1) is
1 segment and 0 participants. The CQR screen is checked on the demo study against the
headless table it shows.
"""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select
from textual.widgets import DataTable, Select, TextArea

from qualcode.project import Project
from qualcode.store.models import AuditEvent, Exemplar, Memo, Segment
from qualcode.synthesis.cqr import cqr_table
from qualcode.tui.app import create_app
from qualcode.tui.screens.cqr_table import CqrTableScreen
from qualcode.tui.screens.dialogs import MemoDialog
from qualcode.tui.screens.evidence import EvidenceScreen
from qualcode.tui.screens.memo_matrix import MemoMatrixScreen
from qualcode.tui.settings import Settings
from qualcode.tui.widgets.pattern_dialog import PatternDialog

from .test_tui_lead_agreement import (
    BRACKETED_TITLE,
    BRACKETED_TURNS,
    LONG_TITLE,
    SIZE,
    build_disputed,
    build_study,
    cell_texts,
    opened,
    rendered_lines,
)
from .tui_builders import coding_screen, settle, wait_until

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def study(project):
    return (project, *build_study(project))


@pytest.fixture
def demo(demo_file, tmp_path):
    path = tmp_path / "demo.db"
    shutil.copy(demo_file, path)
    project = Project(path)
    yield project
    project.close()


async def test_matrix_counts_memo_and_pattern_are_saved(study):
    project, _, codes = study
    app = create_app(project, "lee", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(app, pilot, "matrix", MemoMatrixScreen)
        rows = cell_texts(screen.query_one(DataTable))
        assert [r[0] for r in rows[:3]] == ["Shared vision and strategy", "Supportive administration", "Work design"]
        assert [r[1] for r in rows] == ["2 seg · 1 p", "1 seg · 0 p", "2 seg · 1 p", "0 seg · 0 p"]
        await pilot.press("m")  # the cursor starts on SV × Northside Elementary
        await wait_until(pilot, lambda: isinstance(app.screen, MemoDialog))
        await pilot.press(*"Planning time named by all", "ctrl+s")
        await settle(app, pilot)
        await wait_until(pilot, lambda: screen.loaded and "✎" in cell_texts(screen.query_one(DataTable))[0][1])
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PatternDialog))
        app.screen.query_one(Select).value = "contradiction"
        app.screen.query_one(TextArea).focus()
        await pilot.press(*"teachers and coach disagree", "ctrl+s")
        await settle(app, pilot)
        await wait_until(pilot, lambda: cell_texts(screen.query_one(DataTable))[0][-1].startswith("contradiction"))
    with project.read() as s:
        memos = {m.kind: m for m in s.exec(select(Memo)).scalars()}
        actions = [e.action for e in s.exec(select(AuditEvent)).scalars()]
    assert (memos["cell"].text, memos["cell"].code_id) == ("Planning time named by all", codes["SV"])
    assert (memos["pattern"].label, memos["pattern"].text, memos["pattern"].code_id) == (
        "contradiction",
        "teachers and coach disagree",
        codes["SV"],
    )
    assert {"memo.cell.write", "memo.pattern.write"} <= set(actions)


async def test_evidence_picks_an_exemplar_and_opens_the_coding_screen_at_the_segment(study):
    project, tid, codes = study
    app = create_app(project, "lee", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, "matrix", MemoMatrixScreen)
        await pilot.press("enter")  # SV × Northside: ana's segments 1 and 2
        await wait_until(pilot, lambda: isinstance(app.screen, EvidenceScreen) and app.screen.loaded)
        evidence = app.screen
        assert [(r.transcript, r.position, r.speaker) for r in evidence.rows] == [
            ("Lee interview", 1, "Interviewer"),
            ("Lee interview", 2, "Ms. Lee"),
        ]
        await pilot.press("down", "e")
        await settle(app, pilot)
        await pilot.press("enter")
        coding = await coding_screen(app, pilot)
        assert coding.transcript_id == tid and coding.current_segment.position == 2
    with project.read() as s:
        exemplar = s.exec(select(Exemplar)).scalars().one()
        segment = s.get(Segment, exemplar.segment_id)
    assert (exemplar.code_id, segment.position, exemplar.start, exemplar.end, exemplar.chosen_by) == (
        codes["SV"],
        2,
        segment.start,
        segment.end,
        "lee",
    )


async def test_an_auditor_may_read_the_matrix_but_not_write(study):
    project, _, _ = study
    app = create_app(project, "pat", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(app, pilot, "matrix", MemoMatrixScreen)
        await pilot.press("m", "p")
        await pilot.pause(0.2)
        assert app.screen is screen
    with project.read() as s:
        assert s.exec(select(Memo)).first() is None


async def test_cqr_table_shows_the_counted_table_and_its_evidence(demo):
    app = create_app(demo, "lee", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(app, pilot, "cqr", CqrTableScreen)
        with demo.read() as s:
            expected = cqr_table(s, codebook=screen.choice.codebook, layer="consensus", viewer="lee")
        assert screen.choice.layer == "consensus" and expected.data.codebook.kind == "cqr"
        rows = cell_texts(screen.query_one(DataTable))
        frame = expected.frame
        assert [r[1:4] for r in rows] == [
            [str(b), str(c), lab] for b, c, lab in zip(frame.blocks, frame.cases, frame.label)
        ]
        await pilot.press("down", "enter")  # the first category
        await wait_until(pilot, lambda: isinstance(app.screen, EvidenceScreen) and app.screen.loaded)
        assert sorted(r.segment_id for r in app.screen.rows) == expected.segment_ids(int(frame.code_id[1]))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        await pilot.press("u")  # case unit: transcript -> case (the five schools)
        await wait_until(pilot, lambda: screen.choice.case_unit == "case" and screen.content.table.unit.name == "case")
        assert screen.content.table.n_cases == 5


async def test_a_group_column_opens_that_groups_blocks(demo):
    app = create_app(demo, "lee", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(app, pilot, "cqr", CqrTableScreen)
        await pilot.press("g")  # groups: speaker role
        await wait_until(pilot, lambda: screen.content is not None and bool(screen.content.table.groups))
        cqr = screen.content.table
        # A row one of whose groups holds some but not all of its blocks.
        row, group = next((i, g) for i, r in enumerate(screen.records) for g in cqr.groups if 0 < r[g] < r["blocks"])
        screen.query_one(DataTable).move_cursor(row=row, column=4 + cqr.groups.index(group))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, EvidenceScreen) and app.screen.loaded)
        record = screen.records[row]
        shown = sorted(r.segment_id for r in app.screen.rows)
        assert len(shown) == record[group] and shown == cqr.segment_ids(int(record["code_id"]), group=group)


async def evidence_of_every_segment(app, pilot, project, tid: int) -> EvidenceScreen:
    with project.read() as s:
        ids = list(s.exec(select(Segment.id).where(Segment.transcript_id == tid).order_by(Segment.position)).scalars())
    await opened(app, pilot, "matrix", MemoMatrixScreen)
    app.push_screen(EvidenceScreen("SV [laughs] at Northside [/laugh]", ids))
    await wait_until(pilot, lambda: isinstance(app.screen, EvidenceScreen) and app.screen.loaded)
    await pilot.pause()
    return app.screen


async def test_the_evidence_list_shows_bracketed_text_literally(project):
    tid, _ = build_disputed(project, BRACKETED_TITLE, BRACKETED_TURNS)
    app = create_app(project, "lee", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        evidence = await evidence_of_every_segment(app, pilot, project, tid)
        lines = rendered_lines(evidence.query_one(DataTable))
        assert any(BRACKETED_TITLE in line and "What happened at the meeting? [crosstalk]" in line for line in lines)
        assert any(
            "Ms. Lee [inaudible 00:12:03]" in line and "We just [laughs] then [/laugh] moved on." in line
            for line in lines
        )
        assert "SV [laughs] at Northside [/laugh]" in str(evidence.query_one("#evidence-title").content)


async def test_the_evidence_list_shows_a_whole_40_character_title_at_140_columns(project):
    tid, _ = build_disputed(project, LONG_TITLE)
    app = create_app(project, "lee", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        evidence = await evidence_of_every_segment(app, pilot, project, tid)
        lines = rendered_lines(evidence.query_one(DataTable))
        assert sum(f"{LONG_TITLE}  " in line for line in lines) == 5


async def test_matrix_keeps_patterns_order_values_and_case_attributes_in_view(demo):
    """The demo at 140 columns: five cases; case_attributes.csv gives Lakeshore Elementary
    district "Fenwick Township Schools" and enrollment 310; the demo's patterns include a
    convergence, a divergence and a contradiction."""
    app = create_app(demo, "lee", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(app, pilot, "matrix", MemoMatrixScreen)
        await pilot.press("o")  # cases ordered by the first attribute, district
        await wait_until(
            pilot,
            lambda: (
                screen.choice.order_by == "district" and screen.loaded and screen.content.matrix.order_by == "district"
            ),
        )
        await pilot.pause()
        table = screen.query_one(DataTable)
        lines = rendered_lines(table)
        for label in ("convergence", "divergence", "contradiction"):
            assert any(label in line for line in lines), label
        assert "Lakeshore" in lines[0] and "Fenwick Township" in lines[1]  # the first case, with its district below
        detail = str(screen.query_one("#matrix-detail").content)  # the cursor is on Lakeshore Elementary
        assert "Lakeshore Elementary" in detail and "enrollment = 310" in detail and "level = elementary" in detail


async def test_evidence_opens_the_transcript_in_its_codebook_and_escape_returns(demo):
    """From CQR evidence the coding screen shows the CQR codebook (not the active one), every coder's
    codes, and escape goes back to the evidence list."""
    from qualcode.tui.screens.coding import CodingScreen

    app = create_app(demo, "lee", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(app, pilot, "cqr", CqrTableScreen)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, EvidenceScreen) and app.screen.loaded)
        evidence = app.screen
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, CodingScreen) and app.screen.ready)
        coding = app.screen
        assert coding.work.codebook.kind == "cqr" and coding.side_by_side
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is evidence)
        assert screen in app.screen_stack
