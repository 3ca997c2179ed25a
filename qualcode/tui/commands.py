"""Command palette entries: jump to a transcript, a case, a code or a screen; lead actions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..codebook.queries import active_codes
from ..coding.progress import progress_overview
from ..coding.queries import look_up_viewer
from .registry import SCREENS
from .typed import workbench_app

if TYPE_CHECKING:
    from .app import QualcodeApp


@dataclass(frozen=True)
class Entry:
    text: str
    help: str
    run: Callable[[], object]


def palette_entries(app: QualcodeApp) -> list[Entry]:
    """Everything the palette offers this viewer (read in a worker thread)."""
    project, viewer = app.project, app.coder_name
    rows = progress_overview(project, viewer)
    standing = look_up_viewer(project, viewer)
    entries = [
        Entry(
            f"Transcript: {r.title} ({r.case})",
            f"round {r.round}, {r.segments} segments",
            partial(app.open_transcript, r.transcript_id),
        )
        for r in rows
    ]
    for case in dict.fromkeys(r.case for r in rows):
        entries.append(Entry(f"Case: {case}", "show its transcripts on the home screen", partial(app.show_home, case)))
    for code in active_codes(project):
        label = f"Code: {code.key} {code.path}" if code.key else f"Code: {code.path}"
        entries.append(Entry(label, code.brief[:80], partial(app.show_code, code.id)))
    for screen in SCREENS:
        if screen.id == "propose" and standing.role == "auditor":
            continue  # auditors review the coding; they do not propose codes
        if not screen.lead_only or standing.is_analyst:
            entries.append(Entry(f"Screen: {screen.title}", screen.help, partial(app.open_screen, screen.id)))
    if standing.is_lead:
        if standing.blinded:
            entries.append(
                Entry(
                    "Lead: unblind the project",
                    "every coder then sees everyone's codings",
                    partial(app.set_blinding, False, None),
                )
            )
        else:
            entries.append(
                Entry(
                    "Lead: blind the project again",
                    "coders see only their own codings",
                    partial(app.set_blinding, True, None),
                )
            )
    return entries


class JumpProvider(Provider):
    async def startup(self) -> None:
        self.entries = await asyncio.to_thread(palette_entries, workbench_app(self))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for entry in self.entries:
            score = matcher.match(entry.text)
            if score > 0:
                yield Hit(score, matcher.highlight(entry.text), entry.run, text=entry.text, help=entry.help)

    async def discover(self) -> Hits:
        for entry in self.entries:
            if entry.text.startswith(("Screen:", "Transcript:", "Lead:")):
                yield DiscoveryHit(entry.text, entry.run, text=entry.text, help=entry.help)
