"""Pilot tests of code proposals in the workbench: a coder presses P on a segment and proposes a
code (a refusal stays in the dialog to be fixed), the lead accepts, merges and declines from the
review list, a coder sees only their own there and cannot decide; at 80x24 and wide."""

from __future__ import annotations

import pytest
from sqlmodel import select
from textual.widgets import DataTable, Input

from qualcode.coding.proposals import proposal_list
from qualcode.store.models import Code, CodeProposal
from qualcode.tui.screens.proposal_dialog import ProposalDialog
from qualcode.tui.screens.proposals import ProposalsScreen

from .test_retrieval import SV, build_study
from .tui_builders import anyio_backend, app_for, coding_screen, settle, wait_until  # noqa: F401

pytestmark = pytest.mark.anyio


@pytest.fixture
def study(project):
    return build_study(project)


async def dialog_over_segment(app, pilot, position: int) -> ProposalDialog:
    coding = await coding_screen(app, pilot)
    for _ in range(position - 1):
        await pilot.press("down")
    await pilot.press("P")
    await wait_until(pilot, lambda: isinstance(app.screen, ProposalDialog))
    await pilot.pause()
    assert coding.current_segment.position == position
    return app.screen


async def fill(pilot, dialog, name: str, description: str = "", parent: str = "") -> None:
    for field, value in (
        ("#proposal-name", name),
        ("#proposal-description", description),
        ("#proposal-parent", parent),
    ):
        dialog.query_one(field, Input).value = value
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: not dialog.sending)
    await pilot.pause()


async def test_a_coder_proposes_a_code_from_the_segment_they_are_on(study):
    project = study["project"]
    app = app_for(project, "ana", transcript_id=study["lee"])
    async with app.run_test(size=(120, 36)) as pilot:
        dialog = await dialog_over_segment(app, pilot, 2)
        assert "from Lee interview #2" in str(dialog.query_one("#proposal-title").render())
        assert dialog.query_one("#proposal-name", Input).has_focus
        await fill(pilot, dialog, "Work design")  # already a code: refused, the dialog stays to fix it
        assert app.screen is dialog
        assert "not saved: 'Work design' is already a code" in str(dialog.query_one("#proposal-help").render())
        await fill(pilot, dialog, "Time for play", "Unstructured time", "SV")
        await wait_until(pilot, lambda: not isinstance(app.screen, ProposalDialog))
    (p,) = proposal_list(project, "lead").proposals
    assert (p.name, p.description, p.parent, p.coder, p.transcript, p.position) == (
        "Time for play",
        "Unstructured time",
        SV,
        "ana",
        "Lee interview",
        2,
    )


async def test_an_auditor_cannot_propose_and_escape_cancels(study):
    app = app_for(study["project"], "pat", transcript_id=study["lee"])
    async with app.run_test(size=(120, 36)) as pilot:
        await coding_screen(app, pilot)
        app.open_screen("propose")
        await wait_until(pilot, lambda: not isinstance(app.screen, ProposalDialog))  # closes itself
    app = app_for(study["project"], "ana", transcript_id=study["lee"])
    async with app.run_test(size=(120, 36)) as pilot:
        dialog = await dialog_over_segment(app, pilot, 1)
        dialog.query_one("#proposal-name", Input).value = "Never sent"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ProposalDialog))
    with study["project"].read() as s:
        assert s.exec(select(CodeProposal)).all() == []


async def propose_three(project) -> None:
    from qualcode.coding.proposals import propose

    propose(project, "ana", "Time for play", description="Unstructured time", parent="SV")
    propose(project, "ben", "Parent voice")
    propose(project, "ana", "Vague idea")


def listed(screen) -> list[tuple[str, str, str]]:
    table = screen.query_one(DataTable)
    return [
        tuple(str(c) for c in table.get_row_at(i)[1:3]) + (str(table.get_row_at(i)[4]),) for i in range(table.row_count)
    ]


async def opened(app, pilot) -> ProposalsScreen:
    app.open_screen("proposals")
    await wait_until(pilot, lambda: isinstance(app.screen, ProposalsScreen) and app.screen.proposals is not None)
    await pilot.pause()
    return app.screen


async def test_the_lead_accepts_merges_and_declines(study):
    project = study["project"]
    await propose_three(project)
    app = app_for(project, "lead")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await opened(app, pilot)
        assert listed(screen) == [
            ("Time for play", "ana", "open"),
            ("Parent voice", "ben", "open"),
            ("Vague idea", "ana", "open"),
        ]
        await pilot.press("a")
        await settle(app, pilot)
        await wait_until(pilot, lambda: len(screen.proposals.proposals) == 2)  # open ones only
        await pilot.press("m")  # Parent voice into ...
        await wait_until(pilot, lambda: type(app.screen).__name__ == "MergePicker")
        await pilot.press(*"supportive admin", "enter")
        await settle(app, pilot)
        await wait_until(pilot, lambda: len(screen.proposals.proposals) == 1)
        await pilot.press("d")
        await wait_until(pilot, lambda: app.screen.query("#prompt-input"))
        await pilot.press(*"too vague", "enter")
        await settle(app, pilot)
        await wait_until(pilot, lambda: len(screen.proposals.proposals) == 0)
        await pilot.press("s")  # show all
        await wait_until(pilot, lambda: len(screen.proposals.proposals) == 3)
        await pilot.pause()
        assert listed(screen) == [
            ("Time for play", "ana", f"added {SV} > Time for play"),
            ("Parent voice", "ben", "merged into Supportive administration"),
            ("Vague idea", "ana", "declined: too vague"),
        ]
    with project.read() as s:
        assert s.exec(select(Code).where(Code.name == "Time for play")).one().definition == "Unstructured time"


async def test_a_coder_sees_only_their_own_and_cannot_decide(study):
    project = study["project"]
    await propose_three(project)
    app = app_for(project, "ana")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot)
        assert listed(screen) == [("Time for play", "ana", "open"), ("Vague idea", "ana", "open")]
        assert "blinded: your own" in str(screen.query_one("#proposals-title").render())
        await pilot.press("a", "d")
        await settle(app, pilot)
        assert app.screen is screen
        assert [p.status for p in proposal_list(project, "lead").proposals] == ["open"] * 3
        table = screen.query_one(DataTable)
        assert sum(c.width for c in table.columns.values()) + 2 * table.cell_padding * len(table.columns) <= 80
        await pilot.press("p")  # propose from the list: no segment
        await wait_until(pilot, lambda: isinstance(app.screen, ProposalDialog))
        await pilot.pause()
        dialog = app.screen
        assert dialog.segment_id is None
        assert dialog.query_one("#proposal-help").region.bottom <= 24  # the whole dialog fits at 80x24
        await fill(pilot, dialog, "Recess talk")
        await wait_until(pilot, lambda: app.screen is screen)
        await wait_until(pilot, lambda: len(screen.proposals.proposals) == 3)


async def test_the_palette_lists_the_screens(study):
    app = app_for(study["project"], "ana")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.home is not None and app.home.loaded)
        from qualcode.tui.commands import palette_entries

        texts = {e.text for e in palette_entries(app)}
        assert {
            "Screen: Propose a code",
            "Screen: Code proposals",
            "Screen: Memo browser",
            "Screen: Retrieval",
        } <= texts


def test_snapshot_at_80x24(study, snap_compare):
    """The lead's review list with two open proposals and the first one's description."""
    import asyncio

    asyncio.run(propose_three(study["project"]))
    app = app_for(study["project"], "lead")

    async def run_before(pilot):
        await opened(app, pilot)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_the_palette_offers_an_auditor_no_proposing(study):
    app = app_for(study["project"], "pat")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.home is not None and app.home.loaded)
        from qualcode.tui.commands import palette_entries

        texts = {e.text for e in palette_entries(app)}
        assert "Screen: Code proposals" in texts and "Screen: Propose a code" not in texts
