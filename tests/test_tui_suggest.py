"""Pilot tests of code suggestions in the workbench: shown beside the codebook only when allowed,
accepted with a code's hotkey and recorded as such, and the lead's view in the reconciliation queue."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from qualcode.assist.suggest import set_enabled, train
from qualcode.coding.service import TranscriptWork
from qualcode.project import Project
from qualcode.store.models import Coding, Segment
from qualcode.tui.screens.coding import CodingScreen
from qualcode.tui.screens.reconcile_queue import ReconcileQueue
from qualcode.tui.widgets.suggestion_panel import SuggestionPanel

from .test_suggest import build_study
from .tui_builders import (
    TERMINAL_SIZE,
    anyio_backend,  # noqa: F401  (a fixture: the Pilot tests run on asyncio)
    app_for,
    coding_screen,
    home_screen,
    settle,
    wait_until,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def study_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("tui-suggest") / "study.db"
    with Project(path, create=True) as project:
        build_study(project)
        train(project, "lead")
    return path


@pytest.fixture
def study(study_file, tmp_path):
    path = tmp_path / "study.db"
    shutil.copy(study_file, path)
    with Project(path) as project:
        with project.read() as s:
            tid = s.exec(select(Segment.transcript_id).order_by(Segment.id)).scalars().first()
        yield project, tid


async def suggestions_read(screen, pilot) -> None:
    """The suggestion worker has answered (panel or not)."""
    await wait_until(pilot, lambda: screen.suggestions_allowed is not None)
    await pilot.pause()


def sources(project) -> list[tuple[int, int, str | None]]:
    with project.read() as s:
        return sorted((c.segment_id, c.code_id, c.source) for c in s.exec(select(Coding)).scalars())


def first_suggested(screen) -> tuple[int, object]:
    """The index of the first segment with a suggestion, and its top suggestion."""
    for index, seg in enumerate(screen.work.segments):
        shown = screen.suggestions.get(seg.id)
        if shown:
            return index, shown[0]
    raise AssertionError("no segment got a suggestion")


async def test_a_blinded_coder_sees_no_suggestions_and_codes_as_before(study):
    project, tid = study
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        await suggestions_read(screen, pilot)
        assert screen.suggestions_allowed is False and screen.suggestions is None
        assert not screen.query(SuggestionPanel)
        await pilot.press("1")
        await settle(app, pilot)
    assert [source for _, _, source in sources(project)] == [None]


async def test_the_lead_sees_suggestions_and_a_hotkey_accepts_one(study):
    project, tid = study
    app = app_for(project, "lead", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        await wait_until(pilot, lambda: bool(screen.query(SuggestionPanel)))
        index, top = first_suggested(screen)
        screen.go_to(index)
        await pilot.pause()
        panel = screen.query_one(SuggestionPanel)
        name = top.path
        assert panel.shown_text.startswith("Suggested") and name in panel.shown_text
        assert f"{top.confidence:.0%}" in panel.shown_text and panel.region.height > 0
        seg = screen.work.segments[index]
        await pilot.press(top.hotkey)
        await settle(app, pilot)
        assert sources(project) == [(seg.id, top.code_id, "suggestion")]
        assert "✓" in panel.shown_text  # shown as applied
        other = next(c for c in screen.work.codes if c.id not in screen.suggested_codes(seg.id))
        await pilot.press(other.hotkey)  # a code the model did not suggest: the coder's own
        await settle(app, pilot)
        assert (seg.id, other.id, None) in sources(project)
        await pilot.press("u", "u")  # undo both
        await settle(app, pilot)
        assert sources(project) == []


async def test_suggestions_fit_a_small_terminal(study):
    project, tid = study
    app = app_for(project, "lead", tid)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await coding_screen(app, pilot)
        await wait_until(pilot, lambda: bool(screen.query(SuggestionPanel)))
        index, top = first_suggested(screen)
        screen.go_to(index)
        await pilot.pause()
        panel = screen.query_one(SuggestionPanel)
        region = panel.region
        assert region.height >= 2 and region.bottom <= 24 and region.right <= 80
        assert screen.view.region.height > 10  # the transcript keeps most of the screen
        assert top.path.split()[0] in panel.shown_text


async def test_the_leads_switch_shows_and_hides_them_for_coders_while_they_code(study, monkeypatch):
    project, tid = study
    monkeypatch.setattr(CodingScreen, "BLINDING_CHECK_SECONDS", 0.2)
    set_enabled(project, "lead", True)
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        await wait_until(pilot, lambda: bool(screen.query(SuggestionPanel)))
        index, top = first_suggested(screen)
        screen.go_to(index)
        await pilot.press(top.hotkey)
        await settle(app, pilot)
        set_enabled(project, "lead", False)  # from the lead's own process
        await wait_until(pilot, lambda: not screen.query(SuggestionPanel))
        assert screen.suggested_codes(screen.work.segments[index].id) == set()
    assert [source for _, _, source in sources(project)] == ["suggestion"]


async def test_the_queue_shows_the_models_view_to_the_lead(study):
    project, tid = study
    work = {name: TranscriptWork(project, name, tid) for name in ("ana", "ben")}
    seg = work["ana"].segments[0]
    first = work["ana"].codes[0].id
    work["ana"].toggle(seg.id, first)  # ana applies it, ben does not: one disagreement
    for w in work.values():
        w.set_done(seg.id)
    app = app_for(project, "lead")
    async with app.run_test(size=(140, 45)) as pilot:
        await home_screen(app, pilot)
        app.open_screen("queue")
        await wait_until(pilot, lambda: isinstance(app.screen, ReconcileQueue) and app.screen.loaded)
        queue = app.screen
        await wait_until(pilot, lambda: queue.model_views is not None)
        await pilot.pause()
        view = queue.model_views[seg.id]
        detail = str(queue.query_one("#queue-detail").render())
        assert "Model:" in detail and f"{view.confidence[first]:.0%} for this code" in detail
