"""Pilot tests of the memo browser: what a blinded coder and the lead read, text search and kind
filter by key, a memo's segment opened in place (escape comes back), a cell memo that names no
segment, at 80x24 and wide."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from qualcode.tui.screens.memos import MemoBrowser

from .test_memo_browser import build_memos
from .tui_builders import anyio_backend, app_for, coding_screen, home_screen, wait_until  # noqa: F401

pytestmark = pytest.mark.anyio


@pytest.fixture
def study(project):
    return build_memos(project)


async def opened(app, pilot) -> MemoBrowser:
    await home_screen(app, pilot)
    app.open_screen("memos")
    await wait_until(pilot, lambda: isinstance(app.screen, MemoBrowser) and app.screen.memos is not None)
    await pilot.pause()
    return app.screen


def kinds(screen) -> list[tuple[str, str]]:
    table = screen.query_one(DataTable)
    return [(str(table.get_row_at(i)[0]), str(table.get_row_at(i)[1])) for i in range(table.row_count)]


async def reloaded(pilot, screen) -> None:
    await wait_until(pilot, lambda: not screen.reading)
    await pilot.pause()


async def test_a_blinded_coder_reads_their_own_and_goes_to_the_segment(study):
    app = app_for(study["project"], "ana")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await opened(app, pilot)
        assert kinds(screen) == [("code", "ana"), ("segment", "ana")]
        assert "blinded: your own memos" in str(screen.query_one("#memos-title").render())
        await pilot.press("enter")  # a code memo: no segment to open
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("down")
        assert "Fractions again, as in the last interview." in str(screen.query_one("#memos-detail").render())
        await pilot.press("enter")
        coding = await coding_screen(app, pilot)
        assert coding.transcript_id == study["lee"] and coding.current_segment.position == 2
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)


async def test_the_lead_reads_every_memo_searches_and_filters_by_kind(study):
    app = app_for(study["project"], "lead")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await opened(app, pilot)
        assert kinds(screen) == [
            ("code", "ana"),
            ("cell", "lead"),
            ("reconciliation", "lead"),
            ("segment", "ben"),
            ("segment", "ana"),
        ]
        await pilot.press("slash")
        await wait_until(pilot, lambda: app.screen.query("#prompt-input"))
        await pilot.press(*"VISION")
        screen.reading = True
        await pilot.press("enter")
        await reloaded(pilot, screen)
        assert kinds(screen) == [("code", "ana"), ("cell", "lead"), ("reconciliation", "lead")]
        assert "matching 'VISION'" in str(screen.query_one("#memos-title").render())
        await pilot.press("slash")
        await wait_until(pilot, lambda: app.screen.query("#prompt-input"))
        app.screen.query_one("#prompt-input").value = ""
        screen.reading = True
        await pilot.press("enter")  # an empty search: every memo again
        await reloaded(pilot, screen)
        assert len(kinds(screen)) == 5
        assert screen.query_one(DataTable).has_focus
        screen.reading = True
        await pilot.press("k")  # segment memos
        await reloaded(pilot, screen)
        assert kinds(screen) == [("segment", "ben"), ("segment", "ana")]
        assert "kind: segment" in str(screen.query_one("#memos-title").render())
        await pilot.press("enter")  # ben's memo on Park #4: the lead opens it in place
        coding = await coding_screen(app, pilot)
        assert coding.transcript_id == study["park"] and coding.current_segment.position == 4


async def test_at_80x24_the_columns_fit(study):
    app = app_for(study["project"], "lead")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot)
        table = screen.query_one(DataTable)
        assert table.row_count == 5
        assert sum(c.width for c in table.columns.values()) + 2 * table.cell_padding * len(table.columns) <= 80
        assert screen.query_one("#memos-detail-pane").region.bottom <= 24
        await pilot.press("down")  # the cell memo: where it is, in words
        detail = str(screen.query_one("#memos-detail").render())
        assert "cell memo by lead · Shared vision and strategy · North · 2026-01-01 09:03" in detail
        assert "Vision is explicit at North." in detail
        keys = screen.query("FooterKey")  # the footer is laid out (the screen is not stuck behind a loading state)
        assert keys and all(key.region.width > 0 and key.region.y == 23 for key in keys)


def test_snapshot_at_80x24(study, snap_compare):
    """The lead's memo browser: every memo, the newest one in the pane, the footer laid out."""
    app = app_for(study["project"], "lead")

    async def run_before(pilot):
        await opened(app, pilot)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
