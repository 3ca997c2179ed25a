"""Pilot tests of the de-identification review screen: the lead's list with counts and contexts,
accept / reject / pseudonym from the keyboard (stored, audited), the filters, 80x24, and that a
coder or an auditor never sees the mapping."""

from __future__ import annotations

import pytest
from sqlmodel import select
from textual.widgets import DataTable, Input, Static

from qualcode.assist.deid import scan
from qualcode.store.models import AuditEvent, Coder, DeidTerm
from qualcode.tui.app import create_app
from qualcode.tui.registry import SCREENS
from qualcode.tui.screens.deidentify import DeidentifyScreen
from qualcode.tui.screens.dialogs import PromptDialog
from qualcode.tui.settings import Settings

from .builders import add_coders, build_transcript
from .tui_builders import home_screen, settle, wait_until

pytestmark = pytest.mark.anyio

TURNS = [
    ("Interviewer", "interviewer", "Tell me about Westbrook Elementary."),
    ("Ms. Lee", "teacher", "Lee here. Omar Ruiz and I plan on Tuesdays; mail me at lee@westbrook.edu."),
    ("Omar Ruiz", "coach", "Ms. Lee is right. Call me on 555-201-3344. Omar is my name, Ruiz my surname."),
]


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def study(project):
    add_coders(project, "ana", lead="lee")
    with project.transaction() as s:
        s.add(Coder(name="pat", role="auditor"))
    build_transcript(project, "Interview 1", case="Westbrook Elementary", turns=TURNS)
    scan(project, "lee", entities=False)
    return project


def rows(screen) -> list[list[str]]:
    table = screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def opened(app, pilot):
    await home_screen(app, pilot)
    app.open_screen("deidentify")
    await wait_until(pilot, lambda: isinstance(app.screen, DeidentifyScreen) and app.screen.loaded)
    await pilot.pause()
    return app.screen


def test_listed_for_leads_in_the_palette():
    entry = next(e for e in SCREENS if e.id == "deidentify")
    assert entry.lead_only and entry.title == "De-identification"


async def test_review_accept_reject_and_pseudonym(study):
    app = create_app(study, "lee", settings=Settings())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await opened(app, pilot)
        listed = rows(screen)
        # kind, then text; "·" pending; the counts as in test_deidentify (the labels count too).
        assert [r[1] for r in listed] == [
            "lee@westbrook.edu",
            "Lee",
            "Ms. Lee",
            "Omar",
            "Omar Ruiz",
            "Ruiz",
            "555-201-3344",
            "Westbrook",
            "Westbrook Elementary",
        ]
        assert listed[4] == ["·", "Omar Ruiz", "name", "2", "[Coach A]", "roster"]
        assert "mail me at [lee@westbrook.edu]" in str(screen.query_one("#deid-contexts", Static).content)
        await pilot.press("down", "down", "down", "down")  # Omar Ruiz
        await pilot.press("a")
        await settle(app, pilot)
        await wait_until(pilot, lambda: rows(screen)[4][0] == "✓")
        await pilot.press("down", "r")  # Ruiz
        await settle(app, pilot)
        await wait_until(pilot, lambda: rows(screen)[5][0] == "✗")
        await pilot.press("up", "p")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptDialog))
        app.screen.query_one(Input).value = "[Coach K]"
        await pilot.press("enter")
        await settle(app, pilot)
        await wait_until(pilot, lambda: rows(screen)[4][4] == "[Coach K]")
        await pilot.press("f", "f")  # show: pending, then accepted
        await wait_until(pilot, lambda: screen.choice.decision == "accepted" and screen.loaded)
        await wait_until(pilot, lambda: [r[1] for r in rows(screen)] == ["Omar Ruiz"])
        assert "showing: accepted" in str(screen.query_one("#deid-title", Static).content)
    with study.read() as s:
        got = {r.text: (r.decision, r.pseudonym, r.decided_by) for r in s.exec(select(DeidTerm))}
        actions = [e.action for e in s.exec(select(AuditEvent)) if e.action.startswith("deid.")]
    assert got["Omar Ruiz"] == ("accepted", "[Coach K]", "lee")
    assert got["Ruiz"][0] == "rejected" and got["Omar"][0] == "pending"
    assert actions == ["deid.scan", "deid.decide", "deid.decide", "deid.decide"]


async def test_fits_80_by_24(study):
    app = create_app(study, "lee", settings=Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot)
        table = screen.query_one(DataTable)
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= 80
        lines = [table.render_line(y).text for y in range(table.size.height)]
        assert any("Westbrook Elementary" in line and "[School 1]" in line for line in lines)
        await pilot.press("k")  # kind: name
        await wait_until(pilot, lambda: screen.choice.kind == "name" and screen.loaded and len(rows(screen)) == 5)


@pytest.mark.parametrize("who", ["ana", "pat"])
async def test_coder_and_auditor_never_see_the_mapping(study, who):
    app = create_app(study, who, settings=Settings())
    async with app.run_test(size=(120, 36)) as pilot:
        await home_screen(app, pilot)
        app.open_screen("deidentify")
        await wait_until(pilot, lambda: any("is for the lead analyst" in n.message for n in app._notifications))
        await wait_until(pilot, lambda: not isinstance(app.screen, DeidentifyScreen))
        notes = [n.message for n in app._notifications]
        expected = {
            "ana": "de-identification is for the lead analyst (and auditors); ana is a coder",
            "pat": "de-identification is for the lead analyst; pat is an auditor",
        }
        assert expected[who] in notes


async def test_home_tells_the_lead_what_awaits_review(study):
    app = create_app(study, "lee", settings=Settings())
    async with app.run_test(size=(120, 36)) as pilot:
        home = await home_screen(app, pilot)
        title = home.query_one("#home-title", Static)
        await wait_until(pilot, lambda: "De-identification: 9 terms await your review" in str(title.content))
    app = create_app(study, "ana", settings=Settings())
    async with app.run_test(size=(120, 36)) as pilot:
        home = await home_screen(app, pilot)
        await pilot.pause(0.2)
        assert "De-identification" not in str(home.query_one("#home-title", Static).content)
