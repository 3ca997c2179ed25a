"""Benchmark: the agreement report, in-process and through a fresh ``qualcode`` process, at several sizes.

Each study has 4 coders and 200 codes; density is the share of (segment, code) cells
each coder applies (seeded: a shared "truth" each coder copies with 10% of it
dropped and as many cells added at random), so the number of segments follows from
the codings: 5% density packs 1M codings into 25,000 segments, 0.5% spreads them
over 250,000. Every coder marks every segment done.

For each size and density it times, ``REPEATS`` times (min and median):
- ``qualcode agreement --format json`` through a fresh process (what the user waits
  for: imports, opening the project, the report, printing it);
- the same report in-process (``agreement_json``);
- the baseline: the report's own bulk read of the same codings into numpy
  (``reading.int_groups``), in-process and through a fresh process;
and prints the ratios (report / read, fresh process / fresh-process read) and the
growth factor between consecutive sizes (time ratio; the codings grow 10x, or 5x
from 1M to 5M). The projects are new files and are never ``ANALYZE``d; nothing runs
before the timed repeats to warm them (the OS page cache holds a file just written,
as it does for a user who has just worked in the project).

``--small`` runs 10k and 100k codings, one density pair, 2 repeats (under a minute);
``--large`` adds 5M codings. The last line is one JSON object.

    python benchmarks/bench_agreement.py [--small | --large] [--sizes N,N] [--densities D,D] [--repeats N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CODERS, CODES = 4, 200
DENSITIES = (0.05, 0.005)
SIZES = (10_000, 100_000, 1_000_000)
SMALL_SIZES = (10_000, 100_000)
LARGE_SIZES = (*SIZES, 5_000_000)
SEGMENTS_PER_TRANSCRIPT = 500
REPEATS = 3
SEED = 20240501
NOW = "2024-05-01 00:00:00"
ROOT = Path(__file__).resolve().parent.parent


def segments_for(codings: int, density: float) -> int:
    return max(SEGMENTS_PER_TRANSCRIPT, round(codings / (CODERS * CODES * density)))


def _distinct(cells: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort and mask: linear after the sort at every size)."""
    cells = np.sort(cells)
    return cells[np.concatenate([[True], cells[1:] != cells[:-1]])] if len(cells) else cells


def build(path: Path, codings: int, density: float) -> int:
    """A new project with about ``codings`` codings at ``density``; returns the codings written."""
    from qualcode.project import Project

    Project(path, create=True).close()
    segments = segments_for(codings, density)
    rng = np.random.default_rng(SEED)
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous = OFF")  # building only; the timed runs open the file as qualcode does
    con.execute("INSERT INTO qc_case (id, name, description, created_at) VALUES (1, 'Case', '', ?)", (NOW,))
    per = SEGMENTS_PER_TRANSCRIPT
    n_transcripts = -(-segments // per)
    con.executemany(
        "INSERT INTO qc_transcript (id, title, kind, case_id, source_name, source_format, content_hash, unit, text,"
        " created_at) VALUES (?, ?, 'interview', 1, '', '', ?, 'turn', ?, ?)",
        [(t + 1, f"Transcript {t + 1}", f"h{t}", "x" * per, NOW) for t in range(n_transcripts)],
    )
    con.executemany(
        "INSERT INTO qc_segment (id, transcript_id, position, start, \"end\", unit) VALUES (?, ?, ?, ?, ?, 'turn')",
        ((i + 1, i // per + 1, i % per + 1, i % per, i % per + 1) for i in range(segments)),
    )
    con.execute(
        "INSERT INTO qc_codebook (id, name, kind, description, active, version, source_name, created_at)"
        " VALUES (1, 'Bench', 'provisional', '', 1, 1, '', ?)",
        (NOW,),
    )
    con.executemany(
        "INSERT INTO qc_code (id, codebook_id, guid, name, brief, definition, inclusion, exclusion, example,"
        " applicable, position, status, created_version) VALUES (?, 1, ?, ?, '', '', '', '', '', 1, ?, 'active', 1)",
        [(k + 1, f"g{k}", f"Code {k + 1}", k) for k in range(CODES)],
    )
    con.executemany(
        "INSERT INTO qc_coder (id, name, role, created_at) VALUES (?, ?, ?, ?)",
        [(c + 1, f"coder{c + 1}", "coder", NOW) for c in range(CODERS)] + [(CODERS + 1, "lead", "lead", NOW)],
    )
    cells = segments * CODES
    per_coder = round(cells * density)
    truth = _distinct(rng.integers(0, cells, per_coder))
    written = 0
    for c in range(CODERS):
        kept = truth[rng.random(len(truth)) >= 0.1]
        mine = _distinct(np.concatenate([kept, rng.integers(0, cells, len(truth) - len(kept))]))
        written += len(mine)
        seg, code = np.divmod(mine, CODES)
        con.executemany(
            "INSERT INTO qc_coding (segment_id, code_id, coder_id, round, created_at) VALUES (?, ?, ?, 1, ?)",
            ((int(s) + 1, int(k) + 1, c + 1, NOW) for s, k in zip(seg.tolist(), code.tolist())),
        )
    con.executemany(
        "INSERT INTO qc_segment_status (segment_id, coder_id, round, done_at) VALUES (?, ?, 1, ?)",
        ((s + 1, c + 1, NOW) for c in range(CODERS) for s in range(segments)),
    )
    con.commit()
    con.close()
    return written


def bulk_read(path: Path) -> float:
    """Only read every coding into numpy, with the report's own bulk read (one joined string per coder and round)."""
    from qualcode.agreement.reading import int_groups, max_id, packed, unpack
    from qualcode.project import Project
    from qualcode.store.models import Code, Coding

    start = time.perf_counter()
    with Project(path) as p, p.read() as s:
        base = max_id(s, Code.id) + 1
        for _coder, _round, values in int_groups(
            s, packed(Coding.segment_id, Coding.code_id, base), Coding.coder_id, Coding.round
        ):
            unpack(values, base)
    return time.perf_counter() - start


def in_process(path: Path) -> tuple[float, dict]:
    from qualcode.agreement.report import agreement_json
    from qualcode.project import Project

    start = time.perf_counter()
    with Project(path) as p, p.read() as s:
        doc = agreement_json(s, "lead")
    return time.perf_counter() - start, doc


CPU: dict[str, list[float]] = {}  # CPU seconds (user + system) of each timed fresh process, by what it ran


def fresh(args: list[str], label: str = "") -> float:
    """Wall time of a new Python process running ``args`` (output discarded; a failure stops the benchmark).

    Its CPU time (user + system) is kept in ``CPU[label]``: on a loaded machine the wall time
    mostly measures the queue for a core, the CPU time what the process itself did.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.setdefault(label, []).append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if done.returncode:
        raise SystemExit(done.stderr.decode())
    return wall


def cli_report(path: Path) -> float:
    return fresh(["-m", "qualcode", "agreement", "-p", str(path), "--as", "lead", "--format", "json"], "cli")


def cli_read(path: Path) -> float:
    """The bulk read through a fresh process: Python start, the imports it needs, opening the project, the read."""
    here = str(ROOT / "benchmarks")
    code = f"import sys; sys.path.insert(0, {here!r}); import bench_agreement as b; b.bulk_read(b.Path({str(path)!r}))"
    return fresh(["-c", code], "cli_read")


def timings(run, repeats: int) -> dict[str, float]:
    times = [run() for _ in range(repeats)]
    return {"min": round(min(times), 3), "median": round(float(np.median(times)), 3)}


def measure(path: Path, repeats: int) -> dict:
    """Repeats interleaved (report, read, CLI report, CLI read), so a burst of load hits all of them alike.

    Beside each wall time, the CPU time (user + system) of the same run: on a shared machine
    the wall time includes waiting for a core, the CPU time does not.
    """
    runs: dict[str, list[float]] = {"inproc": [], "read": [], "cli": [], "cli_read": []}
    doc: dict = {}
    CPU.clear()
    for _ in range(repeats):
        cpu = time.process_time()
        wall, doc = in_process(path)
        runs["inproc"].append(wall)
        CPU.setdefault("inproc", []).append(time.process_time() - cpu)
        cpu = time.process_time()
        runs["read"].append(bulk_read(path))
        CPU.setdefault("read", []).append(time.process_time() - cpu)
        runs["cli"].append(cli_report(path))
        runs["cli_read"].append(cli_read(path))
    out: dict = {k: {"min": round(min(v), 3), "median": round(float(np.median(v)), 3)} for k, v in runs.items()}
    for name, (top, bottom) in {
        "ratio_inproc": ("inproc", "read"),
        "ratio_cli_to_read": ("cli", "read"),
        "ratio_cli_to_cli_read": ("cli", "cli_read"),
    }.items():
        out[name] = {s: round(out[top][s] / out[bottom][s], 2) for s in ("min", "median")}
    for label, values in CPU.items():
        out[f"{label}_cpu"] = {"min": round(min(values), 3), "median": round(float(np.median(values)), 3)}
    out["ratio_cpu_inproc"] = round(out["inproc_cpu"]["median"] / out["read_cpu"]["median"], 2)
    out["ratio_cpu_cli_to_cli_read"] = round(out["cli_cpu"]["median"] / out["cli_read_cpu"]["median"], 2)
    out["units"] = doc["units"]
    out["pooled_kappa"] = doc["pooled_kappa"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--small", action="store_true", help="10k and 100k codings, 2 repeats (under a minute)")
    size.add_argument("--large", action="store_true", help="add 5M codings")
    parser.add_argument("--sizes", help="codings per study, comma-separated (instead of the default sizes)")
    parser.add_argument("--densities", help="comma-separated (default 0.05,0.005)")
    parser.add_argument("--repeats", type=int, help=f"timed runs of each (default {REPEATS}; 2 with --small)")
    parser.add_argument("--keep", type=Path, help="build (or reuse) the projects in this folder")
    args = parser.parse_args()
    sizes = SMALL_SIZES if args.small else LARGE_SIZES if args.large else SIZES
    if args.sizes:
        sizes = tuple(int(n) for n in args.sizes.split(","))
    repeats = args.repeats or (2 if args.small else REPEATS)
    startup = timings(lambda: fresh(["-m", "qualcode", "--help"]), repeats)
    print(f"qualcode --help through a fresh process: min {startup['min']:.2f} s, median {startup['median']:.2f} s")
    figures: dict = {"coders": CODERS, "codes": CODES, "repeats": repeats, "help_s": startup, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        densities = tuple(float(d) for d in args.densities.split(",")) if args.densities else DENSITIES
        for density in densities:
            previous = None
            for target in sizes:
                path = folder / f"agreement-{target}-{density}.db"
                if not path.exists():
                    t = time.perf_counter()
                    build(path, target, density)
                    print(f"built {path.name} in {time.perf_counter() - t:.1f} s")
                con = sqlite3.connect(path)
                codings = con.execute("SELECT count(*) FROM qc_coding").fetchone()[0]
                con.close()
                m = measure(path, repeats)
                m.update({"density": density, "codings": codings, "segments": segments_for(target, density)})
                if previous is not None:
                    m["growth"] = {
                        "codings": round(codings / previous["codings"], 2),
                        "cli": round(m["cli"]["median"] / previous["cli"]["median"], 2),
                        "cli_cpu": round(m["cli_cpu"]["median"] / previous["cli_cpu"]["median"], 2),
                        "inproc": round(m["inproc"]["median"] / previous["inproc"]["median"], 2),
                        "inproc_cpu": round(m["inproc_cpu"]["median"] / previous["inproc_cpu"]["median"], 2),
                        "read": round(m["read"]["median"] / previous["read"]["median"], 2),
                    }
                previous = m
                figures["runs"].append(m)
                growth = (
                    f"; growth x{m['growth']['codings']} codings: CLI x{m['growth']['cli']},"
                    f" in-process x{m['growth']['inproc']}, read x{m['growth']['read']}"
                    if "growth" in m
                    else ""
                )
                print(
                    f"{density:.1%} density, {codings:,} codings over {m['segments']:,} segments"
                    f" (units {m['units']:,}, pooled kappa {m['pooled_kappa']}):"
                    f" CLI {m['cli']['min']:.2f}/{m['cli']['median']:.2f} s,"
                    f" in-process {m['inproc']['min']:.2f}/{m['inproc']['median']:.2f} s,"
                    f" bulk read {m['read']['min']:.2f}/{m['read']['median']:.2f} s"
                    f" (fresh process {m['cli_read']['min']:.2f}/{m['cli_read']['median']:.2f} s) [min/median];"
                    f" ratio in-process/read {m['ratio_inproc']['median']},"
                    f" CLI/read {m['ratio_cli_to_read']['median']},"
                    f" CLI/fresh-process read {m['ratio_cli_to_cli_read']['median']} (medians);"
                    f" CPU medians: in-process report {m['inproc_cpu']['median']:.2f} s,"
                    f" read {m['read_cpu']['median']:.2f} s (ratio {m['ratio_cpu_inproc']}),"
                    f" fresh CLI {m['cli_cpu']['median']:.2f} s, fresh read {m['cli_read_cpu']['median']:.2f} s"
                    f" (ratio {m['ratio_cpu_cli_to_cli_read']}){growth}"
                )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
