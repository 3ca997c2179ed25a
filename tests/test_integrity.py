"""Integrity: a code the lead retired or merged while a coder's workbench was open is refused
(inside the write transaction) with one clear line, and the workbench reloads its codebook."""

from __future__ import annotations

import pytest
from sqlmodel import select

from qualcode.codebook.changes import merge_codes, retire_code
from qualcode.coding.service import InactiveCodeError, TranscriptWork
from qualcode.store.models import Code, Codebook, Coding

from .builders import add_coders, build_codebook, build_transcript
from .tui_builders import (
    TERMINAL_SIZE,
    anyio_backend,  # noqa: F401  (a fixture: the Pilot tests run on asyncio)
    app_for,
    coding_screen,
    settle,
)


@pytest.fixture
def study(project):
    tid = build_transcript(project)
    codes = build_codebook(project)
    add_coders(project, "ana", "ben")
    return project, tid, codes


def lead_changes(project, change: str, key: str, into: str = "WD") -> None:
    with project.transaction() as s:
        codebook = s.exec(select(Codebook)).one()
        code = s.exec(select(Code).where(Code.key == key)).one()
        if change == "merge":
            merge_codes(s, codebook, "lead", code, s.exec(select(Code).where(Code.key == into)).one())
        else:
            retire_code(s, codebook, "lead", code)


def codings(project) -> list[tuple[int, int]]:
    with project.read() as s:
        return sorted((c.segment_id, c.code_id) for c in s.exec(select(Coding)).all())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("retire", "code 'Shared vision and strategy' was retired by the lead: pick another"),
        ("merge", "code 'Shared vision and strategy' was merged into 'Work design' by the lead: pick another"),
    ],
)
def test_a_coding_on_a_code_retired_or_merged_since_loading_is_refused(any_project, change, message):
    project = any_project
    tid, codes = build_transcript(project), build_codebook(project)
    add_coders(project, "ana", "ben")
    work = TranscriptWork(project, "ana", tid)
    segment = work.segments[0].id
    assert codes["SV"] in work.code_by_id  # loaded while still active
    lead_changes(project, change, "SV")
    with pytest.raises(InactiveCodeError) as refused:
        work.toggle(segment, codes["SV"])
    assert str(refused.value) == message
    assert codings(project) == [] and work.applied[segment] == set() and not work.can_undo
    assert [c.key for c in work.reload_codes()] == ["SA", "WD", "SN"]
    assert codes["SV"] not in work.code_by_id
    work.toggle(segment, codes["WD"])  # the others still code
    assert codings(project) == [(segment, codes["WD"])]


@pytest.mark.anyio
async def test_the_workbench_shows_the_refusal_and_reloads_its_codebook(study):
    from .test_tui_coding import shown_notices

    project, tid, codes = study
    app = app_for(project, "ana", tid)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await coding_screen(app, pilot)
        tree = screen.query_one("#codebook")
        assert codes["SV"] in {node.data for node in tree._node_of_code.values()}
        lead_changes(project, "retire", "SV")
        await pilot.press("1")  # SV's hotkey, still shown in the panel
        await settle(app, pilot)
        assert "not saved: code 'Shared vision and strategy' was retired by the lead: pick another" in shown_notices(
            app
        )
        assert codings(project) == []
        await settle(app, pilot)
        assert codes["SV"] not in tree._node_of_code and set(tree._node_of_code) == {
            codes["SA"],
            codes["WD"],
            codes["SN"],
        }
        assert codes["SV"] not in screen.work.code_by_id and "1" not in screen.hotkeys
        await pilot.press("2")  # SA still codes
        await settle(app, pilot)
        assert codings(project) == [(screen.work.segments[0].id, codes["SA"])]
