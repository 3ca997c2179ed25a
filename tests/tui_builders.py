"""Larger projects for the workbench tests and benchmark: long transcripts and a CQR codebook.

Run as a module it is a coder's process for the concurrency and kill-safety tests: it codes
segments with ``TranscriptWork`` and prints each coding's ids once ``toggle`` has returned
(committed)::

    python -m tests.tui_builders PROJECT CODER TRANSCRIPT_ID COUNT [DELAY_S]
"""

from __future__ import annotations

import sys
import time

import pytest

from qualcode.coding.service import TranscriptWork
from qualcode.project import Project
from qualcode.store.models import Code, Codebook

from .builders import build_transcript

WORDS = (
    "we",
    "planned",
    "the",
    "unit",
    "together",
    "and",
    "our",
    "coach",
    "watched",
    "a",
    "lesson",
    "then",
    "talked",
    "about",
    "student",
    "work",
    "before",
    "the",
    "next",
    "meeting",
)


def long_turns(count: int, chars: int) -> list[tuple[str, str, str]]:
    """``count`` turns of about ``chars`` characters, alternating interviewer and teacher."""
    turns = []
    for i in range(count):
        words, length, k = [], 0, i
        while length < chars:
            word = WORDS[k % len(WORDS)]
            words.append(word)
            length += len(word) + 1
            k += 7
        speaker = ("Interviewer", "interviewer") if i % 2 == 0 else ("Ms. Park", "teacher")
        turns.append((*speaker, f"Turn {i + 1}: " + " ".join(words)))
    return turns


def build_long_transcript(project: Project, count: int = 3000, chars: int = 100, title: str = "Long interview") -> int:
    return build_transcript(project, title=title, turns=long_turns(count, chars))


CQR_DOMAINS = [
    ("Barriers to collaboration", ["Variation between groups", "Lack of buy-in", "Time constraints"]),
    ("Conditions for effective collaboration", ["Financial support", "Protected time"]),
]


def build_cqr_codebook(project: Project, name: str = "CQR test") -> dict[str, int]:
    """An active CQR codebook: domains (applicable groupings) holding categories; ``{name: id}``.

    Categories get hotkeys 1, 2, ... in order.
    """
    ids: dict[str, int] = {}
    hotkey = 1
    with project.transaction() as s:
        cb = Codebook(name=name, kind="cqr", active=True)
        s.add(cb)
        s.flush()
        for d, (domain, categories) in enumerate(CQR_DOMAINS):
            dom = Code(
                codebook_id=cb.id, guid=f"dom-{d}", name=domain, position=d, definition=f"Talk about {domain.lower()}."
            )
            s.add(dom)
            s.flush()
            ids[domain] = dom.id
            for c, category in enumerate(categories):
                cat = Code(
                    codebook_id=cb.id,
                    parent_id=dom.id,
                    guid=f"cat-{d}-{c}",
                    name=category,
                    position=c,
                    hotkey=str(hotkey % 10),
                )
                hotkey += 1
                s.add(cat)
                s.flush()
                ids[category] = cat.id
    return ids


def build_many_codes(project: Project, count: int = 60, name: str = "Big codebook") -> list[int]:
    """A flat active codebook of ``count`` codes; the first ten have hotkeys 1..9, 0."""
    with project.transaction() as s:
        cb = Codebook(name=name, kind="provisional", active=True)
        s.add(cb)
        s.flush()
        ids = []
        for i in range(count):
            code = Code(
                codebook_id=cb.id,
                guid=f"big-{i}",
                name=f"Code number {i + 1}",
                key=f"C{i + 1}",
                position=i,
                hotkey=str((i + 1) % 10) if i < 10 else None,
            )
            s.add(code)
            s.flush()
            ids.append(code.id)
        return ids


# -- driving the app in Pilot tests ------------------------------------------------------------
TERMINAL_SIZE = (120, 36)


@pytest.fixture
def anyio_backend():
    """Pilot tests run on asyncio (import this fixture into the test module)."""
    return "asyncio"


def app_for(project, coder: str, transcript_id: int | None = None, settings=None, **options):
    """The workbench with default settings, whatever the developer's own settings file says."""
    from qualcode.tui.app import create_app
    from qualcode.tui.settings import Settings

    return create_app(project, coder, transcript_id=transcript_id, settings=settings or Settings(), **options)


async def wait_until(pilot, condition, timeout: float = 15.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.01)


async def coding_screen(app, pilot):
    """Wait until the coding screen has loaded its transcript; return it."""
    from qualcode.tui.screens.coding import CodingScreen

    await wait_until(pilot, lambda: isinstance(app.screen, CodingScreen) and app.screen.ready)
    # The transcript is wrapped once its width is known (its first layout), and again when a
    # scrollbar narrows it: on a loaded machine that can come a few frames after the screen is ready.
    await wait_until(
        pilot,
        lambda: (
            not app.screen.work.segments
            # laid out, and at the width it has now (a scrollbar appearing narrows it and wraps again)
            or (bool(app.screen.view._first_line) and app.screen.view._layout_width == app.screen.view.wrap_width)
        ),
    )
    await pilot.pause()
    return app.screen


async def home_screen(app, pilot):
    from qualcode.tui.screens.home import HomeScreen

    await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen) and app.screen.loaded)
    await pilot.pause()
    return app.screen


async def settle(app, pilot) -> None:
    """Every queued write committed and its result shown."""
    await app.wait_for_writes()
    await wait_until(pilot, lambda: getattr(app.screen, "writes_pending", 0) == 0)
    await pilot.pause()


def transcript_lines(screen) -> list[str]:
    view = screen.view
    return [view.plain_line(i) for i in range(view.line_count)]


# -- a coder's process ------------------------------------------------------------------------


def code_segments(target: str, coder: str, transcript_id: int, count: int, delay: float = 0.0) -> None:
    project = Project(target)
    work = TranscriptWork(project, coder, transcript_id)
    segments, codes = work.segments, [c for c in work.codes if c.applicable]
    done = 0
    for seg in segments:
        for code in codes:
            if done >= count:
                return
            work.toggle(seg.id, code.id)
            print(f"saved {seg.id} {code.id}", flush=True)
            done += 1
            if delay:
                time.sleep(delay)


if __name__ == "__main__":
    a = sys.argv[1:]
    code_segments(a[0], a[1], int(a[2]), int(a[3]), float(a[4]) if len(a) > 4 else 0.0)
