"""Headless benchmark of the coding workbench on a long transcript.

A fresh temporary project holds one transcript of about 300,000 characters in 3,000 turns
and a 60-code codebook. Measured through Textual's test driver (App.run_test), so every
figure includes key handling, the database write on the writer thread and the repaint:

- time from starting the app to the first painted coding screen (target under 1 s);
- code hotkey -> saved (committed) -> repainted, p50 and p95 over 200 toggles (p95 under 50 ms);
- moving to the next segment, p95 over 200 moves (under 20 ms);
- the toggle p95 again while three other coder processes write codings to the same project
  (50 codings a second each by default, far above a human pace: see --rival-delay).

Run from the repository root:  python benchmarks/bench_tui.py [--toggles 200]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual import events  # noqa: E402

import qualcode.tui  # noqa: E402,F401  (first: it sets the workbench's frame rate before Textual loads)
from qualcode.project import Project  # noqa: E402
from qualcode.tui.app import create_app  # noqa: E402
from qualcode.tui.settings import Settings  # noqa: E402
from tests.builders import add_coders  # noqa: E402
from tests.tui_builders import build_long_transcript, build_many_codes, coding_screen  # noqa: E402

TURNS, TURN_CHARS, CODES = 3000, 78, 60
TARGETS = {"first_paint_s": 1.0, "toggle_p95_ms": 50.0, "move_p95_ms": 20.0, "toggle_p95_ms_contended": 50.0}
RIVALS = ("rival1", "rival2", "rival3")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class PaintClock:
    """Notes when the app paints a frame and what the screen had done by then.

    Keys are posted to the app as a terminal would send them, and a figure stops at the
    first frame that shows the result (Textual's pilot adds idle waits of its own).
    """

    def __init__(self, app) -> None:
        self.app = app
        self.painted = asyncio.Event()
        self.state: tuple[int, int] = (0, 0)
        original = app._display

        def display(screen, renderable) -> None:
            original(screen, renderable)
            if renderable is not None and getattr(app.screen, "ready", False):
                self.state = (app.screen.writes_done, app.screen.view.current)
                self.painted.set()

        app._display = display

    async def press_until(self, key: str, done) -> float:
        """Milliseconds from the key to the first frame for which ``done(writes, current)`` holds."""
        self.painted.clear()
        t0 = time.perf_counter()
        self.app.post_message(events.Key(key, key if len(key) == 1 else None))
        while True:
            await asyncio.wait_for(self.painted.wait(), 30)
            self.painted.clear()
            if done(*self.state):
                return (time.perf_counter() - t0) * 1000


async def measure_toggles(clock: PaintClock, pilot, screen, count: int, start: int) -> list[float]:
    times = []
    for i in range(count):
        screen.go_to(start + i)
        await pilot.pause()
        target = screen.writes_done + 1
        times.append(await clock.press_until("1", lambda written, _current, target=target: written >= target))
    return times


async def run(target: str, transcript_id: int, toggles: int, rival_delay: float) -> dict[str, float]:
    t0 = time.perf_counter()
    app = create_app(Project(target), "ana", transcript_id=transcript_id, settings=Settings())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await coding_screen(app, pilot)
        first_paint = time.perf_counter() - t0
        clock = PaintClock(app)

        toggle_ms = await measure_toggles(clock, pilot, screen, toggles, start=0)

        move_ms = []
        screen.go_to(0)
        await pilot.pause()
        for i in range(1, toggles + 1):
            move_ms.append(await clock.press_until("down", lambda _written, current, i=i: current == i))

        rivals = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.tui_builders",
                    target,
                    name,
                    str(transcript_id),
                    "1000000",
                    str(rival_delay),
                ],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for name in RIVALS
        ]
        try:
            await asyncio.sleep(1.5)  # let them start writing
            contended_ms = await measure_toggles(clock, pilot, screen, toggles, start=toggles + 1)
        finally:
            for proc in rivals:
                proc.kill()
                proc.wait()
        await app.wait_for_writes()
    return {
        "first_paint_s": round(first_paint, 3),
        "toggle_p50_ms": round(statistics.median(toggle_ms), 2),
        "toggle_p95_ms": round(percentile(toggle_ms, 95), 2),
        "move_p95_ms": round(percentile(move_ms, 95), 2),
        "toggle_p95_ms_contended": round(percentile(contended_ms, 95), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--toggles", type=int, default=200)
    parser.add_argument(
        "--rival-delay",
        type=float,
        default=0.02,
        help="seconds each of the three other coders waits between codings (default 0.02: 50 a second each)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        target = os.path.join(tmp, "bench.db")
        project = Project(target, create=True)
        transcript_id = build_long_transcript(project, count=TURNS, chars=TURN_CHARS)
        build_many_codes(project, CODES)
        add_coders(project, "ana", *RIVALS)
        with project.read() as s:
            from qualcode.store.models import Transcript

            chars = len(s.get(Transcript, transcript_id).text)
        project.close()
        print(f"transcript: {TURNS} turns, {chars:,} characters; codebook: {CODES} codes")
        figures = asyncio.run(run(target, transcript_id, args.toggles, args.rival_delay))
    for key, value in figures.items():
        target_key = key if key in TARGETS else None
        ratio = f"  ({value / TARGETS[target_key]:.2f} of target {TARGETS[target_key]:g})" if target_key else ""
        print(f"{key:>26}: {value}{ratio}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
