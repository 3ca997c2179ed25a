"""Pilot tests of the search screen: from the home screen (or the palette) to the hits, lemmas and
regular expressions toggled by key, and a hit opened in place in the coding screen."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

from qualcode.tui.screens.home import HomeScreen
from qualcode.tui.screens.search import SearchScreen

from .builders import add_coders, build_codebook, build_transcript
from .test_search import LEE, PARK
from .tui_builders import anyio_backend, app_for, coding_screen, home_screen, wait_until  # noqa: F401

pytestmark = pytest.mark.anyio


@pytest.fixture
def study(project):
    lee = build_transcript(project, "Lee interview", "North", LEE)
    park = build_transcript(project, "Park interview", "South", PARK)
    build_codebook(project)
    add_coders(project, "ana", "ben", lead="lead")
    return project, lee, park


async def searched(app, pilot, query: str) -> SearchScreen:
    screen = app.screen
    assert isinstance(screen, SearchScreen)
    screen.result = None
    field = screen.query_one(Input)
    field.value = query
    field.focus()
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen.result is not None and not screen.searching)
    await pilot.pause()
    return screen


def table_rows(screen) -> list[tuple[str, ...]]:
    table = screen.query_one(DataTable)
    return [tuple(str(c) for c in table.get_row_at(i)[:4]) for i in range(table.row_count)]


async def test_search_from_home_opens_a_hit_at_its_segment_and_comes_back(study):
    project, _, park = study
    app = app_for(project, "ana")
    async with app.run_test(size=(120, 36)) as pilot:
        await home_screen(app, pilot)
        await pilot.press("slash")
        await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen))
        screen = await searched(app, pilot, "teach")
        assert table_rows(screen) == [
            ("1", "Lee interview", "1", "Interviewer"),
            ("2", "Lee interview", "3", "Mr. Ortiz"),
            ("3", "Park interview", "2", "Ms. Park"),
        ]
        title = str(screen.query_one("#search-title").render())
        assert "3 hits in 3 segments of 2 transcripts" in title
        await pilot.press("down", "down")  # the third hit: Park interview, segment 2
        assert "The teachers teach." in str(screen.query_one("#search-detail").render())
        await pilot.press("enter")
        coding = await coding_screen(app, pilot)
        assert coding.transcript_id == park and coding.current_segment.position == 2
        await pilot.press("escape")  # back to the hits, not home
        await wait_until(pilot, lambda: app.screen is screen)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))


async def test_lemmas_and_regex_by_key_and_a_bad_regex_is_shown_not_raised(study):
    project, _, _ = study
    app = app_for(project, "lead")
    async with app.run_test(size=(120, 36)) as pilot:
        await home_screen(app, pilot)
        app.open_screen("search")
        await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen) and app.screen.query(Input))
        screen = await searched(app, pilot, "teach")
        assert len(screen.result.hits) == 3
        screen.result = None
        await pilot.press("ctrl+l")  # lemmas: teach, taught, Teaching, teaches ...
        await wait_until(pilot, lambda: screen.result is not None and not screen.searching)
        assert screen.lemma and [h.match for h in screen.result.hits] == [
            "teach", "taught", "Teaching", "teach", "teaches", "teach", "taught"
        ]  # fmt: skip
        screen = await searched(app, pilot, "taught|teaches")
        screen.result = None
        await pilot.press("ctrl+r")  # as a regular expression (lemmas go off)
        await wait_until(pilot, lambda: screen.result is not None and not screen.searching)
        assert screen.regex and not screen.lemma and len(screen.result.hits) == 3
        field = screen.query_one(Input)
        field.value = "(taught"
        field.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: not screen.searching)
        assert "not a valid regular expression" in str(screen.query_one("#search-title").render())
        assert len(screen.result.hits) == 3  # the last good result stays


async def test_at_80x24_every_hit_lines_up_and_the_palette_lists_the_screen(study):
    project, _, _ = study
    app = app_for(project, "ana")
    async with app.run_test(size=(80, 24)) as pilot:
        await home_screen(app, pilot)
        from qualcode.tui.commands import palette_entries

        assert any(e.text == "Screen: Search transcripts" for e in palette_entries(app))
        app.open_screen("search")
        await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen) and app.screen.query(Input))
        screen = await searched(app, pilot, "teach*")
        table = screen.query_one(DataTable)
        assert table.row_count == 6
        assert sum(c.width for c in table.columns.values()) + 2 * table.cell_padding * len(table.columns) <= 80
        cells = [table.get_row_at(i)[4] for i in range(table.row_count)]
        starts = {next(span.start for span in cell.spans if "reverse" in str(span.style)) for cell in cells}
        assert len(starts) == 1  # every hit starts in the same column
        assert [cell.plain[next(iter(starts)) :][:8] for cell in cells] == [
            "teach   ", "Teaching", "teach   ", "teaches ", "teachers", "teach   "
        ]  # fmt: skip
        assert app.screen is screen and screen.query_one("#search-detail").region.bottom <= 24


async def test_marked_hits_are_coded_as_the_coders_own_and_undone(study):
    from sqlmodel import select

    from qualcode.store.models import AuditEvent, Code, Coding, Segment

    project, lee, park = study
    app = app_for(project, "ana")
    async with app.run_test(size=(120, 36)) as pilot:
        await home_screen(app, pilot)
        await pilot.press("slash")
        await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen) and app.screen.query(Input))
        screen = await searched(app, pilot, "teach")
        await pilot.press("down", "space", "down", "space")  # hits 2 (Lee #3) and 3 (Park #2)
        assert screen.marked == {2, 3}
        assert "2 marked" in str(screen.query_one("#search-title").render())
        assert str(screen.query_one(DataTable).get_row_at(1)[0]) == "✓2"
        await pilot.press("c")
        await wait_until(pilot, lambda: app.screen is not screen and app.screen.query("#picker-input"))
        await pilot.press(*"Work design", "enter")  # the code picker
        await wait_until(
            pilot,
            lambda: (
                "Code 2 segments (2 hits) with Work design as ana" in str(app.screen.query("Label").first().render())
            ),
        )
        await pilot.press("y")
        await app.wait_for_writes()
        await wait_until(pilot, lambda: screen.writes_pending == 0)
        with project.read() as s:
            rows = s.exec(
                select(Segment.transcript_id, Segment.position, Coding.source, Coding.round)
                .join(Segment, Segment.id == Coding.segment_id)
                .join(Code, Code.id == Coding.code_id)
                .where(Code.key == "WD")
            ).all()
        assert sorted(rows) == [(lee, 3, "search", 1), (park, 2, "search", 1)]
        await pilot.press("u")
        await app.wait_for_writes()
        await wait_until(pilot, lambda: screen.writes_pending == 0)
        with project.read() as s:
            assert s.exec(select(Coding).where(Coding.source == "search")).all() == []
            actions = [e.action for e in s.exec(select(AuditEvent).where(AuditEvent.action.like("search.%"))).all()]
        assert actions == ["search.apply", "search.undo"]
