"""Snapshots at 80x24 (a lab server over SSH): wide characters, a long turn read to its middle, the
lead's tables fitted, help, and an empty project's lead screens (update with --snapshot-update).

The transcripts are the sample turns written in test_tui_reading; the lead's tables are the demo
study's.
"""

from __future__ import annotations

import pytest

from qualcode.project import Project
from qualcode.tui.app import create_app
from qualcode.tui.screens.agreement_dashboard import AgreementDashboard
from qualcode.tui.screens.cqr_table import CqrTableScreen
from qualcode.tui.screens.memo_matrix import MemoMatrixScreen
from qualcode.tui.settings import Settings

from .builders import add_coders, build_codebook, build_transcript
from .test_tui_reading import CJK_TURNS, LONG_TURNS
from .tui_builders import coding_screen, home_screen, wait_until

SIZE = (80, 24)


def coder_app(project, turns):
    tid = build_transcript(project, turns=turns)
    build_codebook(project)
    add_coders(project, "ana")
    return create_app(project, "ana", transcript_id=tid, settings=Settings())


def pressing(*keys: str):
    async def run_before(pilot):
        await coding_screen(pilot.app, pilot)
        await pilot.press(*keys)
        await pilot.pause(0.2)

    return run_before


def test_cjk_transcript(project, snap_compare):
    """Chinese, Japanese, Korean and emoji wrapped by cells: every character on screen."""
    assert snap_compare(coder_app(project, CJK_TURNS), terminal_size=SIZE, run_before=pressing("j"))


def test_long_turn_scrolled_to_its_middle(project, snap_compare):
    """A 5,000-character turn two screenfuls in: PageDown scrolled within it."""
    run_before = pressing("j", "pagedown", "pagedown")
    assert snap_compare(coder_app(project, LONG_TURNS), terminal_size=SIZE, run_before=run_before)


@pytest.fixture
def demo_lead(demo_copy):
    project = Project(demo_copy)
    yield create_app(project, "lee", settings=Settings())
    project.close()


def opening(screen_id: str, kind, *keys: str, ready=None):
    async def run_before(pilot):
        app = pilot.app
        await home_screen(app, pilot)
        app.open_screen(screen_id)
        await wait_until(pilot, lambda: isinstance(app.screen, kind) and app.screen.loaded)
        await pilot.press(*keys)
        if ready is not None:
            await wait_until(pilot, lambda: ready(app.screen))
        await pilot.pause(0.2)

    return run_before


def test_matrix_with_its_pattern_column(demo_lead, snap_compare):
    run_before = opening("matrix", MemoMatrixScreen, "down")
    assert snap_compare(demo_lead, terminal_size=SIZE, run_before=run_before)


def test_cqr_table_with_group_columns(demo_lead, snap_compare):
    def grouped(screen) -> bool:
        return screen.choice.groups is not None and screen.content is not None and bool(screen.content.table.groups)

    run_before = opening("cqr", CqrTableScreen, "g", ready=grouped)
    assert snap_compare(demo_lead, terminal_size=SIZE, run_before=run_before)


def test_help(demo_lead, snap_compare):
    async def run_before(pilot):
        await home_screen(pilot.app, pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.2)

    assert snap_compare(demo_lead, terminal_size=SIZE, run_before=run_before)


@pytest.fixture
def empty_lead(project):
    """A project with a transcript and coders but no codebook yet."""
    build_transcript(project)
    add_coders(project, "ana", "ben", lead="lee")
    return create_app(project, "lee", settings=Settings())


@pytest.mark.parametrize(
    ("screen_id", "kind"),
    [("agreement", AgreementDashboard), ("cqr", CqrTableScreen), ("matrix", MemoMatrixScreen)],
)
def test_empty_project_lead_screen(empty_lead, snap_compare, screen_id, kind):
    assert snap_compare(empty_lead, terminal_size=SIZE, run_before=opening(screen_id, kind))
