"""Snapshots of the main screens at a fixed terminal size (update with --snapshot-update)."""

from __future__ import annotations

import pytest

from qualcode.coding.service import TranscriptWork
from qualcode.tui.app import create_app
from qualcode.tui.settings import Settings

from .builders import add_coders, build_codebook, build_transcript
from .tui_builders import coding_screen, home_screen

SIZE = (120, 36)


@pytest.fixture
def app(project):
    tid = build_transcript(project)
    build_transcript(project, title="Team meeting", case="Westfield Middle")
    codes = build_codebook(project)
    add_coders(project, "ana", "ben")
    ana = TranscriptWork(project, "ana", tid)
    ana.toggle(ana.segments[1].id, codes["SV"])
    ana.toggle(ana.segments[1].id, codes["WD"])
    ana.set_done(ana.segments[1].id)
    ana.set_memo(ana.segments[2].id, "principal protects the time")
    seg = ana.segments[2]
    start = seg.start + ana.segment_text(seg).index("protects that time")
    ana.set_quote(seg.id, codes["SA"], start, start + len("protects that time"))
    return create_app(project, "ana", settings=Settings())


def test_home_screen(app, snap_compare):
    async def loaded(pilot):
        await home_screen(app, pilot)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=loaded)


def test_coding_screen(app, snap_compare):
    async def opened(pilot):
        await home_screen(app, pilot)
        await pilot.press("enter")
        await coding_screen(app, pilot)
        await pilot.press("down", "i")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=opened)


def test_help_screen(app, snap_compare):
    async def help_open(pilot):
        await home_screen(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=help_open)
