"""Start-up benchmark: how long ``qualcode`` takes to answer, each figure in a fresh process.

Figures, each against ``python -c pass`` (the interpreter's own start) timed in the same run:

- ``qualcode --help`` and ``qualcode --version`` (target under 0.3 s);
- a listing on the demo study, ``qualcode -p demo.db transcripts list`` (under 0.6 s);
- the workbench's first screen, ``qualcode -p demo.db code --coder ana`` in a pseudo-terminal of
  80x24 (TERM=xterm-256color): from starting the process to the first frame that shows the home
  screen with its data (the title ``qualcode · ana`` and the transcripts table), under 1 s. The
  benchmark then presses ctrl+q; quitting is not timed.

Every process is started with this interpreter (``sys.executable -m qualcode``, no shell or pyenv
shim in between). The demo study is built once into a temporary folder (``qualcode demo --no-tui``).
The processes cache their bytecode, as an installed qualcode does (pip compiles it at install), in a
folder of their own inside the temporary one (``PYTHONPYCACHEPREFIX``; ``PYTHONDONTWRITEBYTECODE`` is
dropped), and every figure runs once untimed first, so no run pays for compiling; ``--no-bytecode-cache``
keeps the environment's setting instead (a development checkout with ``PYTHONDONTWRITEBYTECODE=1``
compiles qualcode's own modules in every process).
The machine is shared and noisy, so each figure runs ``--repeat`` times (default 7), the figures
interleaved round by round; the verdict uses the best run of each (as ``timeit`` does: slower runs
measure other people's load), and the median is printed beside it. The ratio divides a figure's
best by the best ``python -c pass``. Beside the wall times, each figure's CPU seconds (user + system,
all threads; for the first screen read from /proc at the moment it shows) say how much of a slow run
was work and how much was waiting for a core.

Run from the repository root:  python benchmarks/bench_cli.py [--repeat 7]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import codecs
import fcntl
import json
import os
import pty
import re
import resource
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODER = "ana"
SIZE = (24, 80)  # rows, columns
TARGETS = {"help": 0.3, "version": 0.3, "listing": 0.6, "first_screen": 1.0}
SCREEN_MARKERS = (f"qualcode · {CODER}", "Transcript")
SCREEN_TIMEOUT_S = 60.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# CSI sequences (colours, cursor moves), OSC strings, and other two-byte escapes: what remains is the text on screen.
ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78MDEc]")


def clean_env(bytecode_cache: str | None = None) -> dict[str, str]:
    """This environment without the variables that would pick another project, user or terminal size;
    with ``bytecode_cache``, processes write and read their compiled modules there."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"QUALCODE_PROJECT", "QUALCODE_USER", "COLUMNS", "LINES"} and not k.startswith("TEXTUAL")
    }
    if bytecode_cache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = bytecode_cache
    return env


def qualcode(*args: str) -> list[str]:
    return [sys.executable, "-m", "qualcode", *args]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system, every thread) ``pid`` has used so far; None without /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def run_once(argv: list[str], cwd: str, env: dict[str, str]) -> tuple[float, float | None]:
    """Seconds from starting ``argv`` to its exit (output read through a pipe, as a script would),
    and the CPU seconds it used."""
    cpu0, t0 = children_cpu(), time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, stdin=subprocess.DEVNULL)
    elapsed, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr.decode(errors='replace')}")
    return elapsed, cpu


def first_screen_once(argv: list[str], cwd: str, env: dict[str, str]) -> tuple[float, float | None]:
    """Seconds from starting the workbench in a pseudo-terminal to its first frame showing the home screen,
    and the CPU seconds it had used by then."""
    master, slave = pty.openpty()
    rows, cols = SIZE
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {**env, "TERM": "xterm-256color"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    raw, elapsed, cpu = "", None, None
    try:
        while elapsed is None:
            if time.perf_counter() - t0 > SCREEN_TIMEOUT_S:
                raise SystemExit(
                    f"no home screen within {SCREEN_TIMEOUT_S:g} s; the terminal showed:\n"
                    f"{ESCAPES.sub('', raw)[-2000:]}"
                )
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                if proc.poll() is not None:
                    raise SystemExit(
                        f"the workbench exited {proc.returncode} before its first screen:\n"
                        f"{ESCAPES.sub('', raw)[-2000:]}"
                    )
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                chunk = b""
            if not chunk:
                continue
            now = time.perf_counter()
            raw += decoder.decode(chunk)
            text = ESCAPES.sub("", raw)
            if all(marker in text for marker in SCREEN_MARKERS):
                elapsed, cpu = now - t0, process_cpu(proc.pid)
        os.write(master, b"\x11")  # ctrl+q
        quit_by = time.perf_counter() + 10
        while proc.poll() is None and time.perf_counter() < quit_by:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    os.read(master, 65536)  # keep draining so the app never blocks writing its last frames
                except OSError:
                    break
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        os.close(master)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each figure (default 7)")
    parser.add_argument(
        "--no-bytecode-cache",
        dest="bytecode_cache",
        action="store_false",
        help="keep the environment's bytecode setting (PYTHONDONTWRITEBYTECODE) instead of a private cache",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = clean_env(str(Path(tmp) / "pycache") if args.bytecode_cache else None)
        t0 = time.perf_counter()
        run_once(qualcode("demo", "--no-tui", "-p", "demo.db"), tmp, env)
        print(
            f"demo study built in {time.perf_counter() - t0:.1f} s; {args.repeat} runs of each figure; "
            f"bytecode {'cached' if args.bytecode_cache else 'as the environment says'}"
        )
        commands = {
            "python": ([sys.executable, "-c", "pass"], run_once),
            "help": (qualcode("--help"), run_once),
            "version": (qualcode("--version"), run_once),
            "listing": (qualcode("-p", "demo.db", "transcripts", "list"), run_once),
            "first_screen": (qualcode("-p", "demo.db", "code", "--coder", CODER), first_screen_once),
        }
        for argv, measure in commands.values():
            measure(argv, tmp, env)  # untimed: writes the bytecode cache and warms the file cache
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu_times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, (argv, measure) in commands.items():
                elapsed, cpu = measure(argv, tmp, env)
                times[name].append(elapsed)
                if cpu is not None:
                    cpu_times[name].append(cpu)
    base = min(times["python"])
    figures: dict[str, dict[str, float | bool | None]] = {}
    for name, runs in times.items():
        best = min(runs)
        cpu_runs = cpu_times[name]
        figure: dict[str, float | bool | None] = {
            "min_s": round(best, 3),
            "median_s": round(statistics.median(runs), 3),
            "ratio": round(best / base, 1),
            "cpu_min_s": round(min(cpu_runs), 3) if cpu_runs else None,
            "cpu_median_s": round(statistics.median(cpu_runs), 3) if cpu_runs else None,
        }
        if name in TARGETS:
            figure |= {"target_s": TARGETS[name], "pass": best < TARGETS[name]}
        figures[name] = figure
    print(f"{'':>14}  {'min s':>7}  {'median s':>8}  {'x python':>8}  {'cpu min':>7}  {'cpu med':>7}  target")
    for name, f in figures.items():
        verdict = f"< {f['target_s']:g} s {'pass' if f['pass'] else 'FAIL'}" if "target_s" in f else "(baseline)"
        cpu_cells = "  ".join(
            f"{f[key]:>7.3f}" if f[key] is not None else f"{'-':>7}" for key in ("cpu_min_s", "cpu_median_s")
        )
        print(f"{name:>14}  {f['min_s']:>7.3f}  {f['median_s']:>8.3f}  {f['ratio']:>8.1f}  {cpu_cells}  {verdict}")
    print(
        json.dumps(
            {
                "repeat": args.repeat,
                "bytecode_cache": args.bytecode_cache,
                "figures": figures,
                "all_pass": all(f["pass"] for f in figures.values() if "pass" in f),
            }
        )
    )


if __name__ == "__main__":
    main()
