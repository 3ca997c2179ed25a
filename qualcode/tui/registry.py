"""The screens the app opens by name, and the lines a lead's home screen shows under its title.

Both are explicit tuples: a new screen is one more ``ScreenEntry`` in ``SCREENS`` (the command
palette lists every entry the viewer may open; key bindings open them by id). Each factory
imports its screen when it is first opened, so starting the workbench loads only the home screen
(the coding screen loads with the first transcript), not the agreement and synthesis code behind
the lead's screens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.screen import Screen

if TYPE_CHECKING:
    from ..project import Project


@dataclass(frozen=True)
class ScreenEntry:
    id: str
    title: str
    help: str
    factory: Callable[[], Screen]
    lead_only: bool = False  # listed only for a lead (or an auditor)


def _home() -> Screen:
    from .screens.home import HomeScreen

    return HomeScreen()


def _help() -> Screen:
    from .screens.help import HelpScreen

    return HelpScreen()


def _agreement() -> Screen:
    from .screens.agreement_dashboard import AgreementDashboard

    return AgreementDashboard()


def _queue() -> Screen:
    from .screens.reconcile_queue import ReconcileQueue

    return ReconcileQueue()


def _cqr() -> Screen:
    from .screens.cqr_table import CqrTableScreen

    return CqrTableScreen()


def _deidentify() -> Screen:
    from .screens.deidentify import DeidentifyScreen

    return DeidentifyScreen()


def _matrix() -> Screen:
    from .screens.memo_matrix import MemoMatrixScreen

    return MemoMatrixScreen()


def _search() -> Screen:
    from .screens.search import SearchScreen

    return SearchScreen()


def _retrieval() -> Screen:
    from .screens.retrieval import RetrievalScreen

    return RetrievalScreen()


def _memos() -> Screen:
    from .screens.memos import MemoBrowser

    return MemoBrowser()


def _proposals() -> Screen:
    from .screens.proposals import ProposalsScreen

    return ProposalsScreen()


def _propose() -> Screen:
    from .screens.proposal_dialog import ProposalDialog

    return ProposalDialog()  # it takes the segment (and codebook) of the coding screen beneath it


SCREENS: tuple[ScreenEntry, ...] = (  # in the order the command palette lists them
    ScreenEntry("help", "Help", "Every key binding", _help),
    ScreenEntry("home", "Home", "Transcripts by case with coding progress", _home),
    ScreenEntry(
        "search",
        "Search transcripts",
        "Words, phrases, lemmas or a regular expression across every transcript, in context; Enter opens a hit",
        _search,
    ),
    ScreenEntry(
        "retrieval",
        "Retrieval",
        "Every segment with a code (yours; any layer for the lead), with context; Enter opens it, e exports",
        _retrieval,
    ),
    ScreenEntry(
        "memos",
        "Memo browser",
        "Segment, code, reconciliation and cell memos you may read; search; Enter goes to the segment",
        _memos,
    ),
    ScreenEntry(
        "proposals",
        "Code proposals",
        "Proposed codes: yours, or every coder's for the lead, who accepts, merges or declines them",
        _proposals,
    ),
    ScreenEntry(
        "propose",
        "Propose a code",
        "Propose a new code for the lead to review, from the segment you are on (P in the coding screen)",
        _propose,
    ),
    ScreenEntry(
        "agreement",
        "Agreement dashboard",
        "Per-code kappa with bars, pooled kappa, Fleiss and alpha; Enter shows a code's disagreements",
        _agreement,
        lead_only=True,
    ),
    ScreenEntry(
        "cqr",
        "CQR table",
        "Domains and categories with blocks, cases and frequency labels; Enter shows the evidence",
        _cqr,
        lead_only=True,
    ),
    ScreenEntry(
        "matrix",
        "Memo matrix",
        "Codes by cases with counts, memos and quotes; cell memos, row patterns, evidence",
        _matrix,
        lead_only=True,
    ),
    ScreenEntry(
        "queue",
        "Reconciliation queue",
        "Disagreements one by one: take a coder's codes, union, intersection, memo, flag, round 2",
        _queue,
        lead_only=True,
    ),
    ScreenEntry(
        "deidentify",
        "De-identification",
        "Names, places, schools, emails, phones and dates found in the transcripts: accept, reject, pseudonyms",
        _deidentify,
        lead_only=True,
    ),
)


def screen_entry(screen_id: str) -> ScreenEntry:
    return next(entry for entry in SCREENS if entry.id == screen_id)


# A line under the home screen's title for a lead or auditor: given (project, viewer), a line
# or None; read in a worker thread.
Headline = Callable[["Project", str], "str | None"]


def _agreement_headline(project: Project, viewer: str) -> str | None:
    from .screens.agreement_dashboard import agreement_headline

    return agreement_headline(project, viewer)


def _deid_headline(project: Project, viewer: str) -> str | None:
    from ..assist.deid import review_summary

    summary = review_summary(project, viewer)
    if summary is None or not summary.pending:
        return None
    return f"De-identification: {summary.pending} terms await your review (Commands: De-identification)"


HEADLINES: tuple[Headline, ...] = (_agreement_headline, _deid_headline)
