"""Snapshots of the lead analyst's screens at a fixed size (update with --snapshot-update).

The five-segment study of test_tui_lead_agreement for the dashboard, queue, matrix and
evidence list; the demo study's CQR codebook for the CQR table.
"""

from __future__ import annotations

import pytest

from qualcode.project import Project
from qualcode.tui.app import create_app
from qualcode.tui.screens.agreement_dashboard import AgreementDashboard
from qualcode.tui.screens.cqr_table import CqrTableScreen
from qualcode.tui.screens.evidence import EvidenceScreen
from qualcode.tui.screens.memo_matrix import MemoMatrixScreen
from qualcode.tui.screens.reconcile_queue import ReconcileQueue
from qualcode.tui.settings import Settings

from .test_tui_lead_agreement import build_study
from .tui_builders import home_screen, wait_until

SIZE = (140, 45)


@pytest.fixture
def lead_app(project):
    build_study(project)
    return create_app(project, "lee", settings=Settings())


def opening(screen_id: str, kind, *keys: str, then=None):
    async def run_before(pilot):
        app = pilot.app
        await home_screen(app, pilot)
        app.open_screen(screen_id)
        await wait_until(pilot, lambda: isinstance(app.screen, kind) and app.screen.loaded)
        await pilot.press(*keys)
        if then is not None:
            await wait_until(pilot, lambda: isinstance(app.screen, then) and app.screen.loaded)
        await pilot.pause(0.2)

    return run_before


def test_agreement_dashboard(lead_app, snap_compare):
    assert snap_compare(lead_app, terminal_size=SIZE, run_before=opening("agreement", AgreementDashboard))


def test_reconciliation_queue(lead_app, snap_compare):
    assert snap_compare(lead_app, terminal_size=SIZE, run_before=opening("queue", ReconcileQueue, "down"))


def test_memo_matrix(lead_app, snap_compare):
    assert snap_compare(lead_app, terminal_size=SIZE, run_before=opening("matrix", MemoMatrixScreen, "down"))


def test_evidence_list(lead_app, snap_compare):
    run_before = opening("matrix", MemoMatrixScreen, "enter", then=EvidenceScreen)
    assert snap_compare(lead_app, terminal_size=SIZE, run_before=run_before)


def test_cqr_table(demo_copy, snap_compare):
    project = Project(demo_copy)
    app = create_app(project, "lee", settings=Settings())
    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=opening("cqr", CqrTableScreen, "down", "right"))
    finally:
        project.close()


# 80 columns, as over SSH on a lab server: every column on screen, long text cut with "…".
NARROW = (80, 24)


@pytest.fixture
def demo_lead(demo_copy):
    project = Project(demo_copy)
    yield create_app(project, "lee", settings=Settings())
    project.close()


def test_home_at_80_columns(demo_lead, snap_compare):
    async def loaded(pilot):
        await home_screen(pilot.app, pilot)
        await pilot.pause(0.2)

    assert snap_compare(demo_lead, terminal_size=NARROW, run_before=loaded)


def test_agreement_dashboard_at_80_columns(demo_lead, snap_compare):
    assert snap_compare(demo_lead, terminal_size=NARROW, run_before=opening("agreement", AgreementDashboard))
