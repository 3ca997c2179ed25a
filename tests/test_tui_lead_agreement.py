"""Pilot tests of the agreement dashboard and the reconciliation queue on a hand-built study.

Two coders, five segments, all finished by both; the kappas are computed by hand:
- SV: ana {1,2}, ben {1,2}: kappa 1
- SA: ana {1}, ben {2}: p_o = 3/5, p_e = .2*.2 + .8*.8 = .68, kappa = (.6-.68)/.32 = -.25
- WD: ana {1,2}, ben {1}: p_o = 4/5, p_e = .4*.2 + .6*.8 = .56, kappa = .24/.44 = .545
- SN: nobody: undefined (shown last, "n/a")
Pooled (De Vries): mean p_o = (1 + .6 + .8 + 1)/4 = .85, mean p_e = (.52 + .68 + .56 + 1)/4 = .69,
kappa = (.85 - .69)/(1 - .69) = .516 (moderate).
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from qualcode.coding.service import TranscriptWork
from qualcode.store.models import AuditEvent, ConsensusDecision, Memo, RoundTranscript
from qualcode.tui.app import create_app
from qualcode.tui.commands import palette_entries
from qualcode.tui.screens.agreement_dashboard import AgreementDashboard, agreement_headline
from qualcode.tui.screens.dialogs import MemoDialog, PromptDialog
from qualcode.tui.screens.reconcile_queue import ReconcileQueue
from qualcode.tui.settings import Settings

from .builders import add_coders, build_codebook, build_transcript
from .tui_builders import home_screen, settle, wait_until

SIZE = (140, 45)
pytestmark = pytest.mark.anyio

CODED = {"ana": {"SV": (1, 2), "SA": (1,), "WD": (1, 2)}, "ben": {"SV": (1, 2), "SA": (2,), "WD": (1,)}}


@pytest.fixture
def anyio_backend():
    return "asyncio"


def build_study(project):
    """The five-segment study above, with lead ``lee`` and auditor ``pat``; returns (transcript id, codes)."""
    from qualcode.store.models import Coder

    tid = build_transcript(project)
    codes = build_codebook(project)
    add_coders(project, "ana", "ben", lead="lee")
    with project.transaction() as s:
        s.add(Coder(name="pat", role="auditor"))
    for coder, coded in CODED.items():
        work = TranscriptWork(project, coder, tid)
        for key, positions in coded.items():
            for position in positions:
                work.toggle(work.segments[position - 1].id, codes[key])
        for seg in work.segments:
            work.set_done(seg.id)
    return tid, codes


@pytest.fixture
def study(any_project):
    """On SQLite, and on PostgreSQL where QUALCODE_TEST_POSTGRES is set."""
    return (any_project, *build_study(any_project))


async def opened(app, pilot, screen_id: str, kind):
    await home_screen(app, pilot)
    app.open_screen(screen_id)
    await wait_until(pilot, lambda: isinstance(app.screen, kind) and app.screen.loaded)
    await pilot.pause()
    return app.screen


def cell_texts(table) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_dashboard_sorts_codes_by_kappa_and_drills_into_the_queue(study):
    project, _, _ = study
    app = create_app(project, "lee", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(app, pilot, "agreement", AgreementDashboard)
        from textual.widgets import DataTable, Static

        rows = cell_texts(screen.query_one(DataTable))
        assert [r[0] for r in rows] == [
            "Supportive administration",
            "Work design",
            "Shared vision and strategy",
            "Supportive norms and relationships",
        ]
        assert [r[2] for r in rows] == ["-0.25", "0.55", "1.00", "–"]
        assert [r[6] for r in rows] == ["2", "1", "0", "0"]
        assert [r[7] for r in rows] == ["poor", "moderate", "almost perfect", ""]
        assert rows[2][1] == "█" * 20 and rows[3][1].strip() == "n/a"
        assert rows[1][1].startswith("█" * 10 + "▉")  # .545 of 20 cells = 10.9 cells
        headline = str(screen.query_one("#agreement-headline", Static).content)
        assert "Pooled κ 0.52 (moderate)" in headline
        await pilot.press("o")  # highest first; undefined stays last
        await pilot.pause()
        assert [r[2] for r in cell_texts(screen.query_one(DataTable))] == ["1.00", "0.55", "-0.25", "–"]
        await pilot.press("o", "down", "enter")  # back to lowest first, then Work design
        await wait_until(pilot, lambda: isinstance(app.screen, ReconcileQueue) and app.screen.loaded)
        queue = app.screen
        assert queue.choice.code == "Work design"
        assert [(r.item.position, r.dispute["path"], r.dispute["applied_by"]) for r in queue.shown] == [
            (2, "Work design", ["ana"])
        ]


async def test_queue_decisions_write_the_consensus_with_method_and_audit(study):
    project, _, codes = study
    app = create_app(project, "lee", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        queue = await opened(app, pilot, "queue", ReconcileQueue)
        # segment 1: SA by ana; segment 2: SA by ben, WD by ana (transcript order, then codebook order)
        assert [(r.item.position, r.dispute["path"]) for r in queue.shown] == [
            (1, "Supportive administration"),
            (2, "Supportive administration"),
            (2, "Work design"),
        ]
        assert queue.coders == ["ana", "ben"]
        await pilot.press("2")  # take ben's codes: ben did not apply SA on segment 1
        await settle(app, pilot)
        await pilot.press("u")  # the cursor moved on to segment 2 SA: union = present
        await settle(app, pilot)
        await pilot.press("x")  # segment 2 WD: absent by hand
        await settle(app, pilot)
        assert [str(r.decision and r.decision["method"]) for r in queue.shown] == ["take:ben", "union", "manual"]
        with project.read() as s:
            decisions = {
                (d.segment_id, d.code_id): (d.present, d.method, d.decided_by)
                for d in s.exec(select(ConsensusDecision)).scalars()
            }
            events = list(s.exec(select(AuditEvent).where(AuditEvent.action == "consensus.decide")).scalars())
        rows = queue.shown
        assert decisions == {
            (rows[0].item.segment_id, codes["SA"]): (False, "take:ben", "lee"),
            (rows[1].item.segment_id, codes["SA"]): (True, "union", "lee"),
            (rows[2].item.segment_id, codes["WD"]): (False, "manual", "lee"),
        }
        assert len(events) == 3 and all(e.actor == "lee" for e in events)
        await pilot.press("D")  # decided ones are kept, marked, after a reload only with D
        queue.load()
        await wait_until(pilot, lambda: queue.loaded)
        await pilot.pause(0.1)
        assert len(queue.shown) == 3 and all(
            "✓" in str(queue.query_one("#queue-items").get_row_at(i)[5]) for i in range(3)
        )


async def test_memo_flag_and_round_two_from_the_queue(study):
    project, tid, codes = study
    app = create_app(project, "lee", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        queue = await opened(app, pilot, "queue", ReconcileQueue)
        segment_id = queue.current.item.segment_id
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, MemoDialog))
        await pilot.press(*"SA needs a named administrator")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptDialog))
        await pilot.press(*"add an exclusion", "enter")
        await settle(app, pilot)
        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptDialog))
        await pilot.press(*"recode SA", "enter")
        await settle(app, pilot)
        assert "reconciliation memo" in str(queue.query_one("#queue-detail").content)
    with project.read() as s:
        memos = {m.kind: m for m in s.exec(select(Memo)).scalars()}
        links = list(s.exec(select(RoundTranscript)).scalars())
        actions = [e.action for e in s.exec(select(AuditEvent)).scalars()]
    memo = memos["reconciliation"]
    assert (memo.text, memo.segment_id, memo.code_id, memo.transcript_id) == (
        "SA needs a named administrator",
        segment_id,
        codes["SA"],
        tid,
    )
    assert memo.case_id is not None
    flag = memos["revision_flag"]
    assert (flag.text, flag.code_id, flag.label) == ("add an exclusion", codes["SA"], "open")
    assert [(link.round, link.transcript_id) for link in links] == [(2, tid)]
    assert {"memo.reconciliation", "memo.revision_flag", "round.open", "round.add_transcript"} <= set(actions)


async def test_an_auditor_sees_the_queue_but_cannot_decide(study):
    project, _, _ = study
    app = create_app(project, "pat", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        queue = await opened(app, pilot, "queue", ReconcileQueue)
        assert len(queue.shown) == 3
        await pilot.press("1", "u", "y", "m")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ReconcileQueue) and queue.writes_pending == 0
    with project.read() as s:
        assert s.exec(select(ConsensusDecision)).first() is None


async def test_a_coder_cannot_open_the_lead_screens(study):
    project, _, _ = study
    app = create_app(project, "ana", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        home = await home_screen(app, pilot)
        titles = [e.text for e in palette_entries(app)]
        for title in ("Agreement dashboard", "Reconciliation queue", "CQR table", "Memo matrix"):
            assert f"Screen: {title}" not in titles
        for screen_id in ("agreement", "queue", "cqr", "matrix"):
            app.open_screen(screen_id)  # as a key or a stale palette entry would
            await wait_until(pilot, lambda: app.screen is home)
            await pilot.pause(0.05)
        assert "Agreement" not in str(home.query_one("#home-title").content)
    assert agreement_headline(project, "ana") is None


async def test_the_lead_home_screen_shows_pooled_kappa(study):
    project, _, _ = study
    assert (
        agreement_headline(project, "lee") == "Agreement: pooled κ = 0.52 (moderate) over 5 segments, coders ana, ben"
    )
    app = create_app(project, "lee", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        home = await home_screen(app, pilot)
        assert "pooled κ = 0.52 (moderate)" in str(home.query_one("#home-title").content)
        titles = [e.text for e in palette_entries(app)]
        assert "Screen: Agreement dashboard" in titles and "Screen: Reconciliation queue" in titles


async def test_the_queue_filters_by_code_and_keeps_its_filter_on_a_wrong_name(study):
    project, _, _ = study
    app = create_app(project, "lee", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        queue = await opened(app, pilot, "queue", ReconcileQueue)
        await pilot.press("slash")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptDialog))
        await pilot.press(*"SA", "enter")
        await wait_until(pilot, lambda: queue.choice.code == "SA" and len(queue.shown) == 2)
        assert {r.dispute["path"] for r in queue.shown} == {"Supportive administration"}
        await pilot.press("slash")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptDialog))
        await pilot.press("ctrl+a", "ctrl+k", *"no such code", "enter")
        # the failed read puts the last choice back (and clears what it would undo)
        await wait_until(pilot, lambda: queue.previous_choice is None)
        assert queue.choice.code == "SA" and len(queue.shown) == 2


async def test_home_keys_open_the_lead_screens_and_lead_keys_obey_the_settings_file(study):
    """`A` on the home screen opens the dashboard; a lead key can be remapped like any other."""
    from qualcode.tui.screens.help import HelpScreen

    project, _, _ = study
    app = create_app(project, "lee", settings=Settings(keys={"agreement_order": "z"}))
    async with app.run_test(size=SIZE) as pilot:
        from textual.widgets import DataTable

        await home_screen(app, pilot)
        await pilot.press("A")
        await wait_until(pilot, lambda: isinstance(app.screen, AgreementDashboard) and app.screen.loaded)
        screen = app.screen
        await pilot.press("z")  # remapped from "o": highest kappa first
        await pilot.pause()
        assert next(r[2] for r in cell_texts(screen.query_one(DataTable))) == "1.00"
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
    from rich.console import Console

    from qualcode.tui.screens.help import help_text

    console = Console(width=120, record=True, file=io.StringIO())
    from textual.app import App

    console.print(help_text({"agreement_order": "z"}, App().get_key_display))
    listed = console.export_text()
    assert "Agreement dashboard" in listed and "Reconciliation queue" in listed
    assert re.search(r"^\s*z\s+Order\s+agreement_order", listed, re.M)
    assert re.search(r"^\s*\? / f1\s+Help\s+help", listed, re.M)  # keys as the footer shows them


# -- review fixes: literal text, fitted columns, prompt hints, near-zero kappas -------------------
BRACKETED_TURNS = [
    ("Interviewer", "interviewer", "What happened at the meeting? [crosstalk]"),
    ("Ms. Lee [inaudible 00:12:03]", "teacher", "We just [laughs] then [/laugh] moved on."),
]
BRACKETED_TITLE = "Focus group [/laugh] [laughs]"
LONG_TITLE = "Lee interview, second visit after spring"  # 40 characters


def build_disputed(project, title: str, turns=None) -> tuple[int, dict[str, int]]:
    """ana applies SV to segment 2 and ben does not (both finished): one disputed item."""
    tid = build_transcript(project, title=title, **({"turns": turns} if turns else {}))
    codes = build_codebook(project)
    add_coders(project, "ana", "ben", lead="lee")
    for coder in ("ana", "ben"):
        work = TranscriptWork(project, coder, tid)
        if coder == "ana":
            work.toggle(work.segments[1].id, codes["SV"])
        for seg in work.segments:
            work.set_done(seg.id)
    return tid, codes


def rendered_lines(widget) -> list[str]:
    """What the widget draws, line by line (its cells as the user sees them)."""
    return [widget.render_line(y).text for y in range(widget.size.height)]


async def test_bracketed_titles_and_text_show_literally_in_home_and_queue(project):
    build_disputed(project, BRACKETED_TITLE, BRACKETED_TURNS)
    app = create_app(project, "lee", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        from textual.widgets import DataTable

        home = await home_screen(app, pilot)
        assert any(BRACKETED_TITLE in line for line in rendered_lines(home.query_one(DataTable)))
        queue = await opened(app, pilot, "queue", ReconcileQueue)
        lines = rendered_lines(queue.query_one(DataTable))
        assert any(BRACKETED_TITLE in line and "Shared vision and strategy" in line for line in lines)
        assert "We just [laughs] then [/laugh] moved on." in str(queue.query_one("#queue-detail").content)


async def test_queue_shows_a_whole_40_character_title_at_140_columns(project):
    build_disputed(project, LONG_TITLE)
    app = create_app(project, "lee", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        from textual.widgets import DataTable

        queue = await opened(app, pilot, "queue", ReconcileQueue)
        lines = rendered_lines(queue.query_one(DataTable))
        assert any(f"{LONG_TITLE}  " in line and "Shared vision and strategy" in line for line in lines)


async def test_prompts_say_how_to_save_and_the_round_names_the_case(project):
    build_disputed(project, "Principal interview")
    app = create_app(project, "lee", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        from textual.widgets import Label

        def labels() -> list[str]:
            return [str(label.content) for label in app.screen.query(Label)]

        queue = await opened(app, pilot, "queue", ReconcileQueue)
        for key in ("f", "R"):
            await pilot.press(key)
            await wait_until(pilot, lambda: isinstance(app.screen, PromptDialog))
            assert "enter save · escape cancel" in labels()
            if key == "R":
                assert labels()[0] == (
                    "Send Northside Elementary/Principal interview to a new round: a note for the coders"
                )
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is queue)
        await pilot.press("escape")
        await home_screen(app, pilot)
        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptDialog))
        assert "enter save · escape cancel" in labels()
        assert labels()[0] == "Open round 2 for Northside Elementary/Principal interview: a note for the coders"
        await pilot.press("escape")
    with project.read() as s:
        assert s.exec(select(Memo)).first() is None and s.exec(select(RoundTranscript)).first() is None


async def test_a_kappa_just_below_zero_shows_its_sign_never_minus_zero(project):
    """301 segments; ana applies SV to segment 1, ben to segment 2, nobody else anything.

    Cohen: p_o = 299/301, p_e = (1 + 300²)/301², kappa = (p_o - p_e)/(1 - p_e) = -2/600 = -0.0033 (poor);
    Fleiss the same (equal margins). Krippendorff: 602 values, 2 coded 1, 4 disagreeing pairs:
    alpha = 1 - 601 * 4 / (2 * 2 * 600) = -0.0017. AC1: pi = 1/301, p_e = 2 pi (1 - pi) = 600/301²,
    AC1 = (299 * 301 - 600)/(301² - 600) = .9933. Pooled over the four codes (three unused: p_o = p_e = 1):
    -2/600 again.
    """
    from qualcode.store.models import Coder, SegmentStatus

    turns = [("Ms. Lee", "teacher", f"Turn {i}.") for i in range(1, 302)]
    tid = build_transcript(project, title="Long interview", turns=turns)
    codes = build_codebook(project)
    add_coders(project, "ana", "ben", lead="lee")
    for coder, position in (("ana", 0), ("ben", 1)):
        work = TranscriptWork(project, coder, tid)
        work.toggle(work.segments[position].id, codes["SV"])
    with project.transaction() as s:
        coder_ids = [c.id for c in s.exec(select(Coder).where(Coder.role == "coder")).scalars()]
        segment_ids = [seg.id for seg in work.segments]
        s.add_all([SegmentStatus(segment_id=sid, coder_id=cid) for cid in coder_ids for sid in segment_ids])
    app = create_app(project, "lee", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        from textual.widgets import DataTable, Static

        screen = await opened(app, pilot, "agreement", AgreementDashboard)
        row = cell_texts(screen.query_one(DataTable))[0]
        assert row[0] == "Shared vision and strategy"
        assert row[2:6] == ["-0.003", "-0.003", "-0.002", "0.99"] and row[7] == "poor"
        assert any("-0.003  -0.003  -0.002  0.99" in line for line in rendered_lines(screen.query_one(DataTable)))
        headline = str(screen.query_one("#agreement-headline", Static).content)
        assert "Pooled κ -0.003 (poor)" in headline and "-0.00 " not in headline
    assert agreement_headline(project, "lee").startswith("Agreement: pooled κ = -0.003 (poor)")


async def test_home_and_dashboard_fit_80_columns_and_refit_when_widened(project):
    """Over SSH at 80 columns every column stays on screen (long text ends in "…");
    widening the terminal gives the title back whole."""
    build_disputed(project, LONG_TITLE)
    app = create_app(project, "lee", settings=Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        from textual.widgets import DataTable

        home = await home_screen(app, pilot)
        table = home.query_one(DataTable)
        header, first = rendered_lines(table)[:2]
        for label in ("Case", "Transcript", "Kind", "Round", "Segments", "ana", "ben"):
            assert label in header
        assert LONG_TITLE not in first and "Lee interview, se…" in first and "5/5" in first
        assert sum(c.get_render_width(table) for c in table.ordered_columns) <= 80
        await pilot.resize_terminal(140, 24)
        await wait_until(pilot, lambda: any(LONG_TITLE in line for line in rendered_lines(home.query_one(DataTable))))

        await pilot.resize_terminal(80, 24)
        dashboard = await opened(app, pilot, "agreement", AgreementDashboard)
        table = dashboard.query_one(DataTable)
        header = rendered_lines(table)[0]
        for label in ("Code", "κ", "Fleiss", "α", "AC1", "Disagree", "Landis"):
            assert label in header
        assert sum(c.get_render_width(table) for c in table.ordered_columns) <= 80
