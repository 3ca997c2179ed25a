"""Pilot tests of the coding screen: every workflow ends in the database, as the screen says."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from qualcode.store.models import Coding, Memo, SegmentStatus
from qualcode.tui.settings import Settings
from qualcode.tui.widgets.transcript_view import TranscriptView

from .builders import TURNS, add_coders, build_codebook, build_transcript
from .tui_builders import (
    TERMINAL_SIZE,
    anyio_backend,  # noqa: F401  (a fixture: the Pilot tests run on asyncio)
    app_for,
    build_cqr_codebook,
    coding_screen,
    settle,
    transcript_lines,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def study(project):
    tid = build_transcript(project)
    codes = build_codebook(project)
    add_coders(project, "ana", "ben")
    return project, tid, codes


def codings(project, coder_id=None):
    with project.read() as s:
        rows = s.exec(select(Coding)).scalars().all()
    return sorted((r.segment_id, r.code_id) for r in rows)


async def test_hotkey_codes_shows_pending_until_committed_and_uncodes(study):
    project, tid, codes = study
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        seg = screen.work.segments[1]
        release = threading.Event()
        app.writer.submit(screen, "hold", lambda: release.wait(10))  # the writer is busy elsewhere
        await pilot.press("down", "1")
        header = transcript_lines(screen)[screen.view.segment_lines(1)[0]]
        assert "+SV…" in header and " SV " not in header  # pending, not shown as saved
        assert codings(project) == []
        release.set()
        await settle(app, pilot)
        header = transcript_lines(screen)[screen.view.segment_lines(1)[0]]
        assert " SV " in header and "…" not in header
        assert codings(project) == [(seg.id, codes["SV"])]
        await pilot.press("1")
        await settle(app, pilot)
        assert codings(project) == []
        assert " SV " not in transcript_lines(screen)[screen.view.segment_lines(1)[0]]


async def test_undo_and_redo_several_steps_in_order(study):
    project, tid, codes = study
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        seg = screen.work.segments[0].id
        # queued back to back: the undo must run after both toggles
        await pilot.press("1", "2", "u")
        await settle(app, pilot)
        assert codings(project) == [(seg, codes["SV"])]
        await pilot.press("ctrl+z")
        await settle(app, pilot)
        assert codings(project) == []
        await pilot.press("U")
        await settle(app, pilot)
        assert codings(project) == [(seg, codes["SV"])]
        await pilot.press("ctrl+y")
        await settle(app, pilot)
        assert codings(project) == sorted([(seg, codes["SV"]), (seg, codes["SA"])])


async def test_undo_reaches_back_past_a_visit_home_but_not_into_a_new_round(study):
    from qualcode.coding.rounds import open_round

    from .tui_builders import home_screen

    project, tid, codes = study
    app = app_for(project, "ana")
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await home_screen(app, pilot)
        app.open_transcript(tid)
        screen = await coding_screen(app, pilot)
        seg = screen.work.segments[0].id
        await pilot.press("1", "2")
        await settle(app, pilot)
        await pilot.press("escape")  # home, then back into the same transcript
        await home_screen(app, pilot)
        app.open_transcript(tid)
        screen = await coding_screen(app, pilot)
        assert screen.work.can_undo
        await pilot.press("u")
        await settle(app, pilot)
        assert codings(project) == [(seg, codes["SV"])]
        await pilot.press("U")  # and redo works on the new view as well
        await settle(app, pilot)
        assert codings(project) == sorted([(seg, codes["SV"]), (seg, codes["SA"])])
        header = transcript_lines(screen)[screen.view.segment_lines(0)[0]]
        assert " SV " in header and " SA " in header

        await pilot.press("escape")
        await home_screen(app, pilot)
        with project.transaction() as s:
            open_round(s, "lead", [tid])
        app.open_transcript(tid)
        screen = await coding_screen(app, pilot)
        assert screen.work.round == 2 and not screen.work.can_undo  # round 2 starts a fresh history


async def test_segment_memo_and_code_memo(study):
    project, tid, codes = study
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        await pilot.press("down", "down", "m")
        await pilot.press(*"time matters")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "✎" in transcript_lines(screen)[screen.view.segment_lines(2)[0]]
        await pilot.press("2", "M")  # the code memo goes to the code on the segment
        await pilot.press(*"protecting time counts")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await pilot.press("m", "escape")  # cancelled: nothing changes
        await settle(app, pilot)
    with project.read() as s:
        memos = {(m.kind, m.segment_id, m.code_id): m.text for m in s.exec(select(Memo)).scalars()}
    seg = screen.work.segments[2].id
    assert memos == {("segment", seg, None): "time matters", ("code", None, codes["SA"]): "protecting time counts"}


async def test_mark_done_and_next_uncoded(study):
    project, tid, _ = study
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        ids = [s.id for s in screen.work.segments]
        await pilot.press("d", "down", "d")
        await settle(app, pilot)
        assert "✓" in transcript_lines(screen)[screen.view.segment_lines(0)[0]]
        await pilot.press("home", "f")
        assert screen.view.current == 2  # segments 1 and 2 are done
        await pilot.press("end", "f")
        assert screen.view.current == 2  # wraps around past the done ones
    with project.read() as s:
        done = sorted(r.segment_id for r in s.exec(select(SegmentStatus)).scalars())
    assert done == ids[:2]


async def test_search_then_next_and_previous_match(study):
    project, tid, _ = study
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        await pilot.press("slash", *"we ", "enter")
        assert screen.view.current == 1  # "We meet every Tuesday"
        await pilot.press("n")
        assert screen.view.current == 4  # "We look at student work"
        await pilot.press("n")
        assert screen.view.current == 1  # wraps
        await pilot.press("N")
        assert screen.view.current == 4


async def test_quote_span_selected_with_the_keyboard(study):
    project, tid, codes = study
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        await pilot.press("down", "down", "2", "q")
        await pilot.pause()
        # "Our principal protects that time, ...": skip 14 characters, select "protects that time"
        await pilot.press(*["right"] * 14, *["shift+right"] * len("protects that time"), "ctrl+s")
        await settle(app, pilot)
        seg = screen.work.segments[2]
    with project.read() as s:
        row = s.exec(select(Coding)).scalars().one()
    text = screen.work.text
    assert (row.segment_id, row.code_id) == (seg.id, codes["SA"])
    assert text[row.quote_start : row.quote_end] == "protects that time"


async def test_code_picker_filters_and_toggles(study):
    project, tid, codes = study
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        await pilot.press("a", *"norms", "enter")
        await settle(app, pilot)
        seg = screen.work.segments[0].id
        assert codings(project) == [(seg, codes["SN"])]
        await pilot.press("a", *"SN", "enter")  # by key; applied codes are toggled off
        await settle(app, pilot)
        assert codings(project) == []


async def test_mouse_selects_a_segment_and_toggles_a_code(study):
    project, tid, codes = study
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        first, _ = screen.view.segment_lines(3)
        await pilot.click(TranscriptView, offset=(10, first))
        assert screen.view.current == 3
        await pilot.click("#codebook", offset=(6, 1))  # the second code: Supportive administration
        await settle(app, pilot)
        assert codings(project) == [(screen.work.segments[3].id, codes["SA"])]


async def test_cqr_categories_by_hotkey_and_core_idea(project):
    tid = build_transcript(project)
    ids = build_cqr_codebook(project)
    add_coders(project, "ana")
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        await pilot.press("down", "2", "c")  # hotkey 2 is "Lack of buy-in"
        await pilot.press(*"Principal protects planning time")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        seg = screen.work.segments[1].id
        assert "◆" in transcript_lines(screen)[screen.view.segment_lines(1)[0]]
    assert codings(project) == [(seg, ids["Lack of buy-in"])]
    with project.read() as s:
        memo = s.exec(select(Memo)).scalars().one()
    assert (memo.kind, memo.segment_id, memo.text) == ("core_idea", seg, "Principal protects planning time")


async def test_settings_override_replaces_a_key(study):
    project, tid, _ = study
    app = app_for(project, "ana", tid, settings=Settings(keys={"toggle_done": "x"}))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        await pilot.press("d")  # no longer bound
        await settle(app, pilot)
        assert screen.work.done == set()
        await pilot.press("x")
        await settle(app, pilot)
        assert screen.work.done == {screen.work.segments[0].id}
        await pilot.press("question_mark")
        await pilot.pause()
        from qualcode.tui.screens.help import HelpScreen, help_text

        assert isinstance(app.screen, HelpScreen)
    from rich.console import Console

    console = Console(width=120, record=True)
    console.print(help_text({"toggle_done": "x"}, app.get_key_display))
    lines = [line for line in console.export_text().splitlines() if "toggle_done" in line]
    assert lines and lines[0].split()[0] == "x"


async def test_escape_returns_home_and_enter_opens_a_transcript(study):
    project, tid, _ = study
    app = app_for(project, "ana")
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        from .tui_builders import home_screen

        await home_screen(app, pilot)
        await pilot.press("enter")
        screen = await coding_screen(app, pilot)
        assert screen.work.transcript.id == tid and len(screen.work.segments) == len(TURNS)
        await pilot.press("escape")
        await home_screen(app, pilot)


async def test_keys_move_by_segment_through_a_long_transcript(project):
    from .tui_builders import build_long_transcript

    tid = build_long_transcript(project, count=400, chars=150)
    build_codebook(project)
    add_coders(project, "ana")
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        view = screen.view
        await pilot.press("down", "down")
        assert view.current == 2
        await pilot.press("pagedown")
        assert view.current > 2
        await pilot.press("end")
        assert view.current == 399
        first, last = view.segment_lines(399)
        assert view.scroll_y <= first and last <= view.scroll_y + view.scrollable_content_region.height
        assert "Turn 400:" in " ".join(view.plain_line(i) for i in range(first, last))
        await pilot.press("g")
        assert view.current == 0 and view.scroll_y == 0


async def test_fast_typing_codes_the_segment_the_keys_reached(study):
    """Keys typed faster than the screen repaints apply in order: moves before the hotkeys after them."""
    from textual import events

    project, tid, codes = study
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        for key in ("j", "j", "1", "j", "2"):
            app.post_message(events.Key(key, key))
        await settle(app, pilot)
        await app.wait_for_writes()
        segs = [s.id for s in screen.work.segments]
        assert codings(project) == sorted([(segs[2], codes["SV"]), (segs[3], codes["SA"])])


async def test_bracketed_text_in_notices_is_shown_literally(project):
    """A search for "[/laugh]" that finds nothing is reported as typed, not parsed as markup."""
    tid = build_transcript(project, turns=[("P1", "teacher", "We laughed [laughs] and moved on.")])
    build_codebook(project)
    add_coders(project, "ana")
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        from textual.widgets._toast import Toast

        screen.search_query = "[/laugh]"
        screen.action_search_again(1)
        await pilot.pause()
        # Tests run without the toast rack, so render each notice as its toast would.
        shown = " ".join(str(Toast(n).render()) for n in app._notifications)
        assert "[/laugh]" in shown


async def test_reopening_a_transcript_returns_to_where_you_left_off(study):
    project, _tid, _codes = study
    app = app_for(project, "ana")
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        from .tui_builders import home_screen

        await home_screen(app, pilot)
        await pilot.press("enter")
        screen = await coding_screen(app, pilot)
        await pilot.press("j", "j", "j")
        await pilot.pause()
        assert screen.current_segment.position == 4
        await pilot.press("escape")
        await home_screen(app, pilot)
        await pilot.press("enter")
        again = await coding_screen(app, pilot)
        await pilot.pause()
        assert again is not screen and again.current_segment.position == 4


async def test_closed_coding_screens_are_collected(study):
    """A coding screen holds its transcript and codings: once closed, nothing may keep it alive."""
    import gc
    import weakref

    from .tui_builders import home_screen

    project, tid, _ = study
    app = app_for(project, "ana")
    closed: list[weakref.ref] = []
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await home_screen(app, pilot)
        for _ in range(4):
            app.open_transcript(tid)
            screen = await coding_screen(app, pilot)
            closed.append(weakref.ref(screen))
            closed.append(weakref.ref(screen.work))
            del screen
            await pilot.press("escape")
            await home_screen(app, pilot)
        await pilot.pause()
        await app.workers.wait_for_complete()  # a worker still finishing may hold its screen a moment
        await pilot.pause()
        gc.collect()
        alive = [ref() for ref in closed if ref() is not None]
        assert alive == []


def shown_notices(app) -> str:
    from textual.widgets._toast import Toast

    return " ".join(str(Toast(n).render()) for n in app._notifications)


async def test_a_refused_write_is_shown_as_its_one_line(study, log_file):
    from qualcode.errors import QualcodeError

    project, tid, _ = study
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)

        def refused() -> None:
            raise QualcodeError("round 1 of this transcript is closed")

        screen.queue("memo", refused)
        await settle(app, pilot)
        assert "not saved: round 1 of this transcript is closed" in shown_notices(app)
    assert not log_file.exists()


async def test_a_bug_in_a_write_is_logged_with_its_traceback_and_the_user_told_where(study, log_file):
    project, tid, _ = study
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)

        def buggy() -> None:
            return {}["missing"]

        screen.queue("memo", buggy)
        await settle(app, pilot)
        shown = shown_notices(app)
        assert "not saved" in shown and "a bug" in shown and str(log_file) in shown
        assert screen.writes_pending == 0
    logged = log_file.read_text()
    assert "Traceback" in logged and "KeyError: 'missing'" in logged and "in buggy" in logged


async def test_the_theme_colours_the_transcript(study):
    """The transcript's colours come from the theme: the settings file's, and a theme chosen later."""
    project, tid, _ = study

    def current_background(screen) -> str:
        strip = screen.view.render_virtual_line(screen.view.segment_lines(screen.view.current)[0])
        return {seg.style.bgcolor.get_truecolor().hex for seg in strip if seg.style and seg.style.bgcolor}.pop()

    app = app_for(project, "ana", tid, settings=Settings(theme="textual-light"))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        assert current_background(screen) == "#9cb1c0"  # textual-light's primary-muted
        app.theme = "nord"
        await pilot.pause()
        assert current_background(screen) == "#495e6b"
        app.theme = "textual-dark"  # the default theme keeps the workbench's own colours
        await pilot.pause()
        assert current_background(screen) == "#26323f"
