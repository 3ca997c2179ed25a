"""Pilot tests of what differs between coders and the lead: blinding in every screen,
side-by-side view, unblinding, round 2 and the command palette."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from qualcode.coding.service import TranscriptWork
from qualcode.store.models import AuditEvent, Meta, RoundTranscript
from qualcode.tui.commands import palette_entries
from qualcode.tui.screens.home import HomeScreen

from .builders import add_coders, build_codebook, build_transcript
from .tui_builders import (
    TERMINAL_SIZE,
    anyio_backend,  # noqa: F401  (a fixture: the Pilot tests run on asyncio)
    app_for,
    coding_screen,
    home_screen,
    settle,
    transcript_lines,
    wait_until,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def team(project):
    """ana coded SV on segment 2 and marked it done; ben coded WD there."""
    tid = build_transcript(project)
    codes = build_codebook(project)
    add_coders(project, "ana", "ben")
    ana, ben = TranscriptWork(project, "ana", tid), TranscriptWork(project, "ben", tid)
    seg = ana.segments[1].id
    ana.toggle(seg, codes["SV"])
    ana.set_done(seg)
    ben.toggle(seg, codes["WD"])
    return project, tid, codes


def home_cells(screen: HomeScreen) -> tuple[list[str], list[list[str]]]:
    from qualcode.tui.screens.home import DataTable

    table = screen.query_one(DataTable)
    columns = [str(c.label) for c in table.ordered_columns]
    rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
    return columns, rows


async def test_a_coder_sees_only_their_own_codes_and_progress(team):
    project, _tid, _ = team
    app = app_for(project, "ana")
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        home = await home_screen(app, pilot)
        columns, rows = home_cells(home)
        assert columns[-1] == "ana" and "ben" not in columns and "lead" not in columns
        assert rows[0][-1] == "1/5"
        await pilot.press("enter")
        screen = await coding_screen(app, pilot)
        await pilot.press("s")  # side by side is the lead's: nothing happens
        await pilot.pause()
        lines = transcript_lines(screen)
        assert " SV " in lines[screen.view.segment_lines(1)[0]]
        assert not any(" WD " in line or "ben" in line for line in lines)
        entries = [e.text for e in palette_entries(app)]
        assert not any(text.startswith("Lead:") for text in entries)


async def test_the_lead_sees_every_coder_side_by_side(team):
    project, _tid, _ = team
    app = app_for(project, "lead")
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        home = await home_screen(app, pilot)
        columns, rows = home_cells(home)
        assert columns[-2:] == ["ana", "ben"]  # a lead who has not coded gets no column
        assert rows[0][-2:] == ["1/5", "0/5"]
        await pilot.press("enter")
        screen = await coding_screen(app, pilot)
        assert not any("ben:" in line for line in transcript_lines(screen))
        await pilot.press("s")
        await wait_until(pilot, lambda: any("ben:" in line for line in transcript_lines(screen)))
        lines = transcript_lines(screen)
        assert any(line.strip().startswith("ana:") and " SV " in line for line in lines)
        assert any(line.strip().startswith("ben:") and " WD " in line for line in lines)
        await pilot.press("s")
        await pilot.pause()
        assert not any("ben:" in line for line in transcript_lines(screen))


async def test_the_lead_unblinds_from_the_home_screen_and_it_is_audited(team):
    project, tid, _codes = team
    app = app_for(project, "lead")
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await home_screen(app, pilot)
        await pilot.press("B", "y")
        await app.wait_for_writes()
        await wait_until(pilot, lambda: not app.home.blinded)
    with project.read() as s:
        assert s.get(Meta, "blinded").value == "0"
        assert [
            e.actor for e in s.exec(select(AuditEvent).where(AuditEvent.action == "project.unblind")).scalars()
        ] == ["lead"]
    # once unblinded, ana's screen may show ben's codes side by side
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: any("ben:" in line for line in transcript_lines(screen)))


async def test_a_coder_cannot_use_lead_actions(team):
    project, _, _ = team
    app = app_for(project, "ana")
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await home_screen(app, pilot)
        await pilot.press("B", "y", "R")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)  # neither dialog opened
    with project.read() as s:
        assert s.get(Meta, "blinded") is None or s.get(Meta, "blinded").value != "0"


async def test_round_two_opened_by_the_lead_gives_coders_a_fresh_transcript(team):
    project, tid, _codes = team
    app = app_for(project, "lead")
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await home_screen(app, pilot)
        await pilot.press("R", *"recode after memo", "enter")
        await app.wait_for_writes()
        await wait_until(pilot, lambda: app.home.rows and app.home.rows[0].round == 2)
    with project.read() as s:
        assert [(r.round, r.transcript_id) for r in s.exec(select(RoundTranscript)).scalars()] == [(2, tid)]
    app = app_for(project, "ana")
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        home = await home_screen(app, pilot)
        assert home_cells(home)[1][0][3] == "2" and home_cells(home)[1][0][-1] == "0/5"
        await pilot.press("enter")
        screen = await coding_screen(app, pilot)
        assert screen.work.round == 2
        assert not any(" SV " in line or "✓" in line for line in transcript_lines(screen))
        await pilot.press("down", "3")
        await settle(app, pilot)
    again = TranscriptWork(project, "ana", tid)
    assert {c.key for c in again.codes_on(again.segments[1].id)} == {"WD"}


async def test_command_palette_jumps_to_a_transcript_and_a_code(team):
    project, tid, codes = team
    app = app_for(project, "lead")
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await home_screen(app, pilot)
        texts = [e.text for e in palette_entries(app)]
        assert "Transcript: Lee interview (Northside Elementary)" in texts
        assert "Case: Northside Elementary" in texts and "Screen: Help" in texts
        assert "Lead: unblind the project" in texts
        await pilot.press("ctrl+p")
        await pilot.press(*"Transcript: Lee")
        await pilot.pause(0.5)
        await pilot.press("enter")
        screen = await coding_screen(app, pilot)
        assert screen.work.transcript.id == tid
        await pilot.press(
            "ctrl+p",
            *"Code: WD",
        )
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert screen.highlighted_code == codes["WD"]


async def test_an_open_screen_hides_other_coders_when_the_lead_blinds_again(team):
    """The lead re-blinds from another process: ana's open screen stops showing ben's codes."""
    from qualcode.coding.blinding import set_blinded

    project, tid, _ = team
    with project.transaction() as s:
        set_blinded(s, "lead", False)
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: any("ben:" in line for line in transcript_lines(screen)))
        with project.transaction() as s:  # as if from the lead's own process
            set_blinded(s, "lead", True)
        screen.check_blinding()
        await wait_until(pilot, lambda: not any("ben:" in line for line in transcript_lines(screen)))
        assert not screen.side_by_side and not screen.sees_all
        await pilot.press("s")  # no longer available to her
        await pilot.pause()
        assert not any("ben:" in line for line in transcript_lines(screen))


async def test_a_write_after_the_lead_opened_a_new_round_is_refused_and_shown(team):
    from qualcode.coding.rounds import open_round
    from qualcode.store.models import Coding

    project, tid, _codes = team
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        with project.transaction() as s:
            open_round(s, "lead", [tid])
        with project.read() as s:
            count = len(s.exec(select(Coding)).scalars().all())
        await pilot.press("j", "j", "3")
        await settle(app, pilot)
        await app.wait_for_writes()
        await pilot.pause()
        with project.read() as s:
            assert len(s.exec(select(Coding)).scalars().all()) == count  # nothing written to round 1
        assert screen.work.codes_on(screen.work.segments[2].id) == []


async def test_escape_from_a_transcript_opened_on_a_lead_screen_returns_there(team):
    from qualcode.tui.screens.agreement_dashboard import AgreementDashboard

    project, tid, _ = team
    app = app_for(project, "lead")
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await home_screen(app, pilot)
        app.open_screen("agreement")
        await wait_until(pilot, lambda: isinstance(app.screen, AgreementDashboard))
        dashboard = app.screen
        app.open_transcript(tid, 2)
        screen = await coding_screen(app, pilot)
        assert screen.side_by_side  # a lead arriving from a lead screen sees every coder
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is dashboard)
