"""Reading every character at 80x24: long turns by keys, wide characters by terminal cells, tabs
expanded, the lead's tables fitted, and empty projects saying what is missing (issue 15).

The sample turns are written here: numbered words (so a test can tell which were shown) and
Chinese, Japanese, Korean and emoji sentences of our own.
"""

from __future__ import annotations

from itertools import pairwise

import pytest
from rich.cells import cell_len

from .builders import add_coders, build_codebook, build_transcript
from .tui_builders import (
    anyio_backend,  # noqa: F401  (a fixture: the Pilot tests run on asyncio)
    app_for,
    coding_screen,
    home_screen,
    transcript_lines,
    wait_until,
)

pytestmark = pytest.mark.anyio

NARROW = (80, 24)


def numbered_words(count: int) -> list[str]:
    return [f"w{i:04d}" for i in range(1, count + 1)]


# 834 words of six characters less the last space: 5,003 characters.
LONG_WORDS = numbered_words(834)
LONG_TURN = " ".join(LONG_WORDS)

LONG_TURNS = [
    ("Interviewer", "interviewer", "Tell me about the year."),
    ("Ms. Park", "teacher", LONG_TURN),
    ("Interviewer", "interviewer", "Thank you."),
]

# Our own sentences: Chinese, Japanese and Korean (two cells a character) and emoji.
CJK_TURNS = [
    ("访谈者", "interviewer", "你们小组是怎样一起备课的？请具体说一说每周的安排。"),
    (
        "李老师",
        "teacher",
        "我们每周二下午一起备课，先看学生的作业，再讨论下一节课怎么上，最后把分工写在共享文档里。"
        "校长保证这段时间不被别的会议占用，这一点比什么都重要。",
    ),
    (
        "山田先生",
        "teacher",
        "毎週火曜日に学年の先生たちと授業の計画を立てています。生徒のノートを見ながら、次の単元の目標を決めます。",
    ),
    (
        "김 선생님",
        "coach",
        "우리는 매주 화요일에 함께 수업을 계획하고 학생들의 과제를 먼저 봅니다. 🙂 그 다음에 토론해요 📚",
    ),
]

TAB_TURNS = [
    ("Interviewer", "interviewer", "What is on the plan?"),
    ("Ms. Park", "teacher", "Monday\tfractions\nTuesday\tdecimals\tand\tpercent"),
]


def visible_text(screen) -> str:
    """What the transcript pane shows now, line by line."""
    view = screen.view
    return "\n".join(view.render_line(y).text for y in range(view.scrollable_content_region.height))


def words_in(text: str) -> set[str]:
    return {w for w in text.split() if w.startswith("w") and len(w) == 5 and w[1:].isdigit()}


def long_project(project):
    tid = build_transcript(project, turns=LONG_TURNS)
    build_codebook(project)
    add_coders(project, "ana")
    return tid


async def read_by_key(pilot, screen, key: str, leave_at: int, limit: int = 400) -> tuple[set[str], int]:
    """Press ``key`` until the current segment becomes ``leave_at``; the words seen and the presses."""
    seen = words_in(visible_text(screen))
    presses = 0
    while screen.view.current != leave_at and presses < limit:
        await pilot.press(key)
        presses += 1
        seen |= words_in(visible_text(screen))
    return seen, presses


async def test_pagedown_and_pageup_read_a_long_turn_screenful_by_screenful(project):
    tid = long_project(project)
    app = app_for(project, "ana", tid)
    async with app.run_test(size=NARROW) as pilot:
        screen = await coding_screen(app, pilot)
        await pilot.press("j")
        assert screen.view.current == 1
        seen, presses = await read_by_key(pilot, screen, "pagedown", leave_at=2)
        assert seen == set(LONG_WORDS)  # every word of the 5,000-character turn was on screen
        height = screen.view.scrollable_content_region.height
        lines = screen.view.segment_lines(1)
        assert presses >= (lines[1] - lines[0]) // height  # it scrolled, it did not jump
        await pilot.press("k")
        assert screen.view.current == 1
        assert "w0834" in visible_text(screen)  # back up into the turn: its end first
        seen, _ = await read_by_key(pilot, screen, "pageup", leave_at=0)
        assert seen == set(LONG_WORDS)


async def test_j_and_k_read_a_long_turn_line_by_line(project):
    tid = long_project(project)
    app = app_for(project, "ana", tid)
    async with app.run_test(size=NARROW) as pilot:
        screen = await coding_screen(app, pilot)
        await pilot.press("j")
        view = screen.view
        _, last = view.segment_lines(1)
        tops = []
        while view.current == 1:
            tops.append(int(view.scroll_y))
            await pilot.press("j")
        assert view.current == 2
        steps = {b - a for a, b in pairwise(tops)}
        assert steps == {1}  # one line at a time through the whole turn
        assert tops[-1] + view.scrollable_content_region.height >= last - 1  # down to its last line
        seen, _ = await read_by_key(pilot, screen, "k", leave_at=0)
        assert seen == set(LONG_WORDS)


async def test_a_short_turn_still_moves_by_segment(project):
    tid = build_transcript(project)
    build_codebook(project)
    add_coders(project, "ana")
    app = app_for(project, "ana", tid)
    async with app.run_test(size=NARROW) as pilot:
        screen = await coding_screen(app, pilot)
        await pilot.press("j", "j")
        assert screen.view.current == 2
        await pilot.press("k")
        assert screen.view.current == 1


def text_rows(screen, segment: int) -> list[str]:
    """The rendered text lines of ``segment`` (without the gutter and indent)."""
    view = screen.view
    first, last = view.segment_lines(segment)
    return [view.plain_line(i)[4:].rstrip() for i in range(first + 1, last - 1)]


async def test_wide_characters_wrap_by_terminal_cells_and_every_character_is_shown(project):
    tid = build_transcript(project, turns=CJK_TURNS)
    build_codebook(project)
    add_coders(project, "ana")
    app = app_for(project, "ana", tid)
    async with app.run_test(size=NARROW) as pilot:
        screen = await coding_screen(app, pilot)
        view = screen.view

        def fits() -> bool:  # the scrollbar's arrival re-wraps a frame later on a loaded machine
            return all(cell_len(r) <= view.wrap_width for i in range(len(CJK_TURNS)) for r in text_rows(screen, i))

        await wait_until(pilot, fits)
        width = view.scrollable_content_region.width
        for i in range(view.line_count):
            assert cell_len(view.plain_line(i).rstrip()) <= width, view.plain_line(i)
        for index, (_, _, words) in enumerate(CJK_TURNS):
            rows = text_rows(screen, index)
            assert all(cell_len(row) <= view.wrap_width for row in rows)
            # Nothing lost: the lines put together give the turn (a wrap at a space drops the space).
            assert "".join(rows).replace(" ", "") == words.replace(" ", "")
        # A Chinese line fills the width in cells, not in characters: about half as many characters.
        rows = text_rows(screen, 1)
        assert cell_len(rows[0]) >= view.wrap_width - 1
        assert len(rows[0]) <= view.wrap_width // 2


async def test_tabs_are_expanded_so_no_stale_glyphs_are_left(project):
    tid = build_transcript(project, turns=TAB_TURNS)
    build_codebook(project)
    add_coders(project, "ana")
    app = app_for(project, "ana", tid)
    async with app.run_test(size=NARROW) as pilot:
        screen = await coding_screen(app, pilot)
        lines = transcript_lines(screen)
        assert not any("\t" in line for line in lines)
        rows = text_rows(screen, 1)
        assert rows[:2] == ["Monday  fractions", "Tuesday decimals    and percent"]
        assert all(cell_len(row) <= screen.view.wrap_width for row in rows)


async def test_the_wrap_keeps_plain_text_as_it_was():
    """ASCII text wraps exactly as before (the fast path), a long word is cut, newlines kept."""
    from qualcode.tui.widgets.wrap import wrap_offsets

    text = "one two three four five six seven\n\nabcdefghijklmnop"
    lines = [text[a:b] for a, b in wrap_offsets(text, 0, len(text), 9)]
    assert lines == ["one two", "three", "four five", "six seven", "", "abcdefghi", "jklmnop"]
    wide = "一二三四五 六七八"
    lines = [wide[a:b] for a, b in wrap_offsets(wide, 0, len(wide), 6)]
    assert lines == ["一二三", "四五", "六七八"]


# -- the lead's screens at 80 columns ------------------------------------------------------------


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def opened(app, pilot, screen_id: str, kind):
    await home_screen(app, pilot)
    app.open_screen(screen_id)
    await wait_until(pilot, lambda: isinstance(app.screen, kind) and app.screen.loaded)
    await pilot.pause()
    return app.screen


def fits(table) -> bool:
    """Every column of ``table`` is on screen (no sideways scrolling needed)."""
    used = sum(column.get_render_width(table) for column in table.ordered_columns)
    return used <= table.scrollable_content_region.width


@pytest.fixture
def demo_project(demo_copy):
    from qualcode.project import Project

    project = Project(demo_copy)
    yield project
    project.close()


async def test_the_matrix_keeps_its_pattern_column_at_80_columns_and_refits(demo_project):
    from textual.widgets import DataTable

    from qualcode.tui.screens.memo_matrix import MemoMatrixScreen

    app = app_for(demo_project, "lee")
    async with app.run_test(size=NARROW) as pilot:
        screen = await opened(app, pilot, "matrix", MemoMatrixScreen)
        table = screen.query_one(DataTable)
        labels = [str(c.label) for c in table.ordered_columns]
        assert len(labels) == 2 + len(screen.content.matrix.columns)  # the five schools, the code, the pattern
        assert "Pattern" in labels and fits(table)
        assert table.fixed_columns == 1
        assert screen.compact and "cells: segments/participants" in str(screen.query_one("#matrix-title").content)
        row = screen.content.matrix.rows[0]
        cell = screen.content.matrix.cell(row.code_id, screen.content.matrix.columns[0].case_id)
        assert str(table.get_cell_at((0, 1))).startswith(f"{cell.segments}/{cell.participants}")
        await pilot.resize_terminal(140, 30)
        await pilot.pause(0.3)
        assert not screen.compact and fits(table)  # wide again: the long form, refitted
        assert str(table.get_cell_at((0, 1))).startswith(f"{cell.segments} seg · {cell.participants} p")
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.3)
        assert screen.compact and fits(table)


async def test_the_cqr_table_freezes_its_names_and_keeps_every_label_whole(demo_project):
    from textual.widgets import DataTable

    from qualcode.synthesis.labels import MISCELLANEOUS
    from qualcode.tui.screens.cqr_table import CqrTableScreen

    app = app_for(demo_project, "lee")
    async with app.run_test(size=NARROW) as pilot:
        screen = await opened(app, pilot, "cqr", CqrTableScreen)
        await pilot.press("g")  # groups: role
        await wait_until(pilot, lambda: screen.choice.groups is not None and bool(screen.content.table.groups))
        await pilot.pause(0.2)
        table = screen.query_one(DataTable)
        assert table.fixed_columns == 1
        assert len(table.ordered_columns) == 4 + len(screen.content.table.groups)
        assert fits(table)
        assert table.ordered_columns[3].width >= len(MISCELLANEOUS)
        assert MISCELLANEOUS in screen_text(app)


async def test_help_shows_every_binding_id_whole_at_80_columns(project):
    from rich.console import Console

    from qualcode.tui import bindings
    from qualcode.tui.screens.help import help_text

    tid = build_transcript(project)
    build_codebook(project)
    add_coders(project, "ana")
    app = app_for(project, "ana", tid)
    async with app.run_test(size=NARROW) as pilot:
        await coding_screen(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        static = app.screen.query_one("#help-text")
        width = static.content_region.width
        assert width < 80
        console = Console(width=width, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
        console.print(help_text(app.keymap_settings, app.get_key_display))
        shown = console.export_text().split()
        for spec in bindings.KEY_TABLE:
            assert spec.id in shown, spec.id


async def test_dialog_hints_wrap_and_stay_on_screen_at_80x24(project):
    from .tui_builders import build_cqr_codebook

    tid = build_transcript(project)
    build_cqr_codebook(project)
    add_coders(project, "ana")
    app = app_for(project, "ana", tid)
    async with app.run_test(size=NARROW) as pilot:
        await coding_screen(app, pilot)
        await pilot.press("1", "q")
        await pilot.pause(0.3)
        box = app.screen.query_one(".dialog").content_region
        strips = app.screen._compositor.render_strips()
        assert box.bottom <= NARROW[1]
        text = " ".join(" ".join(strip.crop(box.x, box.right).text for strip in strips[box.y : box.bottom]).split())
        assert "select the words, then ctrl+s" in text
        assert "ctrl+s save · escape cancel" in text


async def test_an_empty_project_says_what_is_missing_once(project):
    from qualcode.tui.screens.agreement_dashboard import AgreementDashboard
    from qualcode.tui.screens.cqr_table import CqrTableScreen
    from qualcode.tui.screens.memo_matrix import MemoMatrixScreen

    build_transcript(project)
    add_coders(project, "ana", "ben", lead="lee")
    app = app_for(project, "lee")
    async with app.run_test(size=NARROW) as pilot:
        for screen_id, kind, title in (
            ("agreement", AgreementDashboard, "#agreement-headline"),
            ("cqr", CqrTableScreen, "#cqr-title"),
            ("matrix", MemoMatrixScreen, "#matrix-title"),
        ):
            screen = await opened(app, pilot, screen_id, kind)
            await pilot.press("l", "b", "o")  # choices change nothing and say nothing more
            await pilot.pause(0.2)
            assert str(screen.query_one(title).content).endswith("No codebook yet: qualcode codebook load FILE")
            assert "loading" not in screen_text(app)
            assert list(app._notifications) == []
            await pilot.press("escape")


def test_what_is_missing_names_the_command_that_fixes_it(project):
    from sqlmodel import select

    from qualcode.coding.queries import missing_for_analysis
    from qualcode.store.models import Codebook

    assert missing_for_analysis(project) == (
        "No transcripts or codebook yet: qualcode import FILE, then qualcode codebook load FILE"
    )
    build_transcript(project)
    assert missing_for_analysis(project) == "No codebook yet: qualcode codebook load FILE"
    build_codebook(project)
    assert missing_for_analysis(project) is None
    with project.transaction() as s:
        for book in s.exec(select(Codebook)):
            book.active = False
    assert missing_for_analysis(project).startswith("No active codebook: qualcode codebook activate NAME")


async def test_an_empty_evidence_list_says_so(project):
    from qualcode.tui.screens.evidence import EvidenceScreen

    build_transcript(project)
    build_codebook(project)
    add_coders(project, "ana", lead="lee")
    app = app_for(project, "lee")
    async with app.run_test(size=NARROW) as pilot:
        await home_screen(app, pilot)
        app.push_screen(EvidenceScreen("Work design at Northside Elementary", []))
        await wait_until(pilot, lambda: isinstance(app.screen, EvidenceScreen) and app.screen.loaded)
        await pilot.pause()
        assert "0 segments" in str(app.screen.query_one("#evidence-title").content)
        assert str(app.screen.query_one("#evidence-detail").content).startswith("No segments: nothing is coded here")
