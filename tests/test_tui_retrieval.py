"""Pilot tests of the retrieval screen: a coder's own segments of a code (and the blinding of the
layer key), the lead's layers, case and role filters, context on demand, a segment opened in place
in the coding screen and back, export to a file, at 80x24 and wide."""

from __future__ import annotations

import csv

import pytest
from textual.widgets import DataTable

from qualcode.tui.screens.retrieval import RetrievalScreen

from .test_retrieval import SG, SV, build_study
from .tui_builders import anyio_backend, app_for, coding_screen, home_screen, wait_until  # noqa: F401

pytestmark = pytest.mark.anyio


@pytest.fixture
def study(project):
    return build_study(project)


def rows(screen) -> list[tuple[str, ...]]:
    table = screen.query_one(DataTable)
    return [tuple(str(c) for c in table.get_row_at(i)[1:4]) for i in range(table.row_count)]


async def opened(app, pilot, code: str | None = "SV") -> RetrievalScreen:
    await home_screen(app, pilot)
    app.push_screen(RetrievalScreen(code))
    await wait_until(pilot, lambda: isinstance(app.screen, RetrievalScreen) and app.screen.result is not None)
    await pilot.pause()
    return app.screen


async def reloaded(pilot, screen, key: str) -> None:
    screen.reading = True
    await pilot.press(key)
    await wait_until(pilot, lambda: not screen.reading)
    await pilot.pause()


def title(screen) -> str:
    return str(screen.query_one("#retrieval-title").render())


def detail(screen) -> str:
    return str(screen.query_one("#retrieval-detail").render())


async def test_a_coder_sees_their_segments_opens_one_in_place_and_comes_back(study):
    app = app_for(study["project"], "ana")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await opened(app, pilot)
        assert rows(screen) == [("North", "Lee interview", "2"), ("South", "Park interview", "2")]
        assert "Shared vision and strategy · ana's codings · 2 segments" in title(screen)
        await pilot.press("down")
        text = detail(screen)
        assert "Park interview #2 · South · Ms. Park (teacher)" in text and SG in text
        assert "Student work came first. Goals followed." in text and "❝ Goals followed." in text
        await pilot.press("l")  # blinded: one layer only, said so
        await pilot.pause()
        assert screen.result.layer == "ana"
        await pilot.press("enter")
        coding = await coding_screen(app, pilot)
        assert coding.transcript_id == study["park"] and coding.current_segment.position == 2
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)


async def test_the_lead_cycles_layers_cases_and_roles(study):
    app = app_for(study["project"], "lead")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await opened(app, pilot)
        assert screen.result.layer == "consensus" and rows(screen) == [("South", "Park interview", "2")]
        await reloaded(pilot, screen, "l")  # consensus -> ana
        assert screen.result.layer == "ana" and len(rows(screen)) == 2
        await reloaded(pilot, screen, "l")  # -> ben
        assert screen.result.layer == "ben" and rows(screen) == [("North", "Lee interview", "3")]
        await reloaded(pilot, screen, "r")  # role: teacher (the first role in use)
        assert screen.result.role == "teacher" and rows(screen) == []
        assert "teacher turns" in title(screen)
        await reloaded(pilot, screen, "r")  # the roles in the order of SPEAKER_ROLES: teacher, coach, ...
        assert screen.result.role == "coach" and rows(screen) == [("North", "Lee interview", "3")]
        for _ in range(4):  # coach -> administrator -> interviewer -> (none): back to every role
            if screen.result.role is None:
                break
            await reloaded(pilot, screen, "r")
        assert screen.result.role is None
        await reloaded(pilot, screen, "l")  # ben -> consensus
        await reloaded(pilot, screen, "f")  # case North
        assert screen.result.case == "North" and rows(screen) == []
        await reloaded(pilot, screen, "f")  # case South
        assert rows(screen) == [("South", "Park interview", "2")]


async def test_context_on_demand_and_export(study, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = app_for(study["project"], "ana")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await opened(app, pilot)
        assert "How do you teach fractions?" not in detail(screen)
        await pilot.press("x")  # one neighbouring segment each side
        await wait_until(pilot, lambda: screen.around)
        await pilot.pause()
        text = detail(screen)
        assert "[1] Interviewer: How do you teach fractions?" in text
        assert "[3] Mr. Ortiz: We teach together; she teaches and I watch." in text
        await pilot.press("e")
        await pilot.pause()
        field = app.screen.query_one("#prompt-input")
        field.value = str(tmp_path / "sv.csv")
        await pilot.press("enter")
        await wait_until(pilot, lambda: (tmp_path / "sv.csv").exists())
    with open(tmp_path / "sv.csv", encoding="utf-8", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert [(r["transcript"], r["segment"], r["codes"]) for r in written] == [
        ("Lee interview", "2", SV),
        ("Park interview", "2", SG),
    ]


async def test_at_80x24_the_list_fits_and_the_palette_lists_it(study):
    app = app_for(study["project"], "ana")
    async with app.run_test(size=(80, 24)) as pilot:
        await home_screen(app, pilot)
        from qualcode.tui.commands import palette_entries

        assert any(e.text == "Screen: Retrieval" for e in palette_entries(app))
        app.open_screen("retrieval")  # no code yet: the picker asks for one
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ChooseCode")
        await pilot.pause()
        await pilot.press(*"shared goals")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RetrievalScreen) and app.screen.result is not None)
        await pilot.pause()
        screen = app.screen
        assert rows(screen) == [("South", "Park interview", "2")]
        table = screen.query_one(DataTable)
        assert sum(c.width for c in table.columns.values()) + 2 * table.cell_padding * len(table.columns) <= 80
        assert screen.query_one("#retrieval-detail-pane").region.bottom <= 24
        assert "Shared goals" in title(screen)


def test_snapshot_at_80x24(study, snap_compare):
    """ana's segments of SV with one neighbouring segment each side of the first."""
    app = app_for(study["project"], "ana")

    async def run_before(pilot):
        await home_screen(app, pilot)
        app.push_screen(RetrievalScreen("SV"))
        await wait_until(pilot, lambda: isinstance(app.screen, RetrievalScreen) and app.screen.result is not None)
        await pilot.press("x")
        await wait_until(pilot, lambda: app.screen.around)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
