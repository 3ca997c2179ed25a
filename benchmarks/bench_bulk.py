"""Bulk-write benchmark: ``codings import`` rows per second and ``reconcile accept-agreed`` decisions per second.

The study is the contention benchmark's (``bench_contention.build``): one transcript whose segments
five coders each coded with four codes, 100,000 rows in the codings CSV (``--small``: 10,000), so
accept-agreed then writes one "agreed" decision per (segment, code), 20,000 (2,000).

Each repeat times, into fresh copies of the same project (no ``ANALYZE``, no warm cache a user's
project would not have):
- **cli**: ``qualcode -p study.db --as lead codings import codings.csv`` then
  ``qualcode ... reconcile accept-agreed``, each a fresh process, wall time as the user waits for it;
- **in-process**: ``import_codings_in_chunks`` and ``accept_agreed_in_chunks``, timed around the call
  alone (in a child process, so that ``--code`` applies to it too);
- **baseline**: the same rows with their audit rows through raw ``sqlite3`` ``executemany`` in one
  transaction: the CSV read and mapped to ids with dictionaries, the codings and one audit row
  each (``json.dumps`` of the coding); for accept-agreed the agreed (segment, code) pairs found with
  one SQL query and inserted with one audit row each. No checks, no chunks: the floor.

The machine is shared and loaded, so the three run interleaved, ``--repeat`` times (default 3), and
the figures to compare are the ratios (qualcode's time over the baseline's time, best against best,
and the median of the per-repeat ratios). Processor seconds (user + system) of each side are printed
too, with their ratio: on a loaded machine wall time is mostly waiting for a processor, and
processor time moves much less with other people's load. ``--code DIR`` runs the cli and in-process sides with the
qualcode package found in DIR (an unpacked older commit, say), for a before/after in one run.
The last line is one JSON object.

    python benchmarks/bench_bulk.py --small
    python benchmarks/bench_bulk.py --repeat 5
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_contention import IMPORTED, build

TARGET_ROWS_PER_S = 20_000.0  # issue 12: codings import through the CLI
TARGET_DECISIONS_PER_S = 20_000.0  # issue 13: accept-agreed


def _env(code: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = code + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


CPU: dict[str, list[float]] = {}  # processor seconds of each side's work, beside the wall times


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(args: list[str], env: dict[str, str], cpu_key: str | None = None) -> tuple[float, str]:
    started, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    took = time.perf_counter() - started
    if cpu_key:
        CPU.setdefault(cpu_key, []).append(_children_cpu() - cpu)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}: {done.stderr.strip().splitlines()[-1:]}")
    return took, done.stdout + done.stderr


def run_cli(db: Path, csv_path: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """Wall times of the import, of accept-agreed, and of ``qualcode --version`` (what starting costs)."""
    base = [sys.executable, "-m", "qualcode", "-p", str(db), "--as", "lead"]
    startup_s, _ = _timed([sys.executable, "-m", "qualcode", "--version"], env)
    import_s, said = _timed([*base, "codings", "import", str(csv_path)], env, "cli_import")
    assert "imported" in said, said
    accept_s, said = _timed([*base, "reconcile", "accept-agreed", "--coders", ",".join(IMPORTED)], env, "cli_accept")
    assert "accepted" in said, said
    return import_s, accept_s, startup_s


def in_process_main(db: str, csv_path: str) -> None:
    """Child process: time the two calls alone; one JSON line."""
    from qualcode.agreement.decisions import accept_agreed_in_chunks
    from qualcode.coding.exchange import import_codings_in_chunks
    from qualcode.project import Project

    project = Project(db, user="lead")
    started, cpu = time.perf_counter(), time.process_time()
    rows = import_codings_in_chunks(project, csv_path, "lead")
    import_s, import_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    decisions = accept_agreed_in_chunks(project, "lead", coders=list(IMPORTED))
    accept_s, accept_cpu = time.perf_counter() - started, time.process_time() - cpu
    project.close()
    print(
        json.dumps(
            {
                "rows": rows,
                "decisions": decisions,
                "import_s": import_s,
                "accept_s": accept_s,
                "import_cpu": import_cpu,
                "accept_cpu": accept_cpu,
            }
        )
    )


def run_in_process(db: Path, csv_path: Path, env: dict[str, str]) -> dict:
    _, out = _timed([sys.executable, __file__, "--in-process", str(db), str(csv_path)], env)
    return json.loads(out.strip().splitlines()[-1])


def run_baseline(db: Path, csv_path: Path) -> tuple[float, float, int, int]:
    """The same rows and audit rows with raw sqlite3 executemany, one transaction each: the floor."""
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    started, cpu = time.perf_counter(), time.process_time()
    now = datetime.now(UTC)
    at, iso = now.strftime("%Y-%m-%d %H:%M:%S.%f"), now.isoformat()
    titles = dict(con.execute("SELECT title, id FROM qc_transcript"))
    coders = dict(con.execute("SELECT name, id FROM qc_coder"))
    codes = dict(con.execute("SELECT name, id FROM qc_code"))
    segments = {(t, p): s for s, t, p in con.execute("SELECT id, transcript_id, position FROM qc_segment")}
    with open(csv_path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = [(segments[(titles[t], int(p))], codes[code], coders[coder]) for t, p, coder, code in reader]
    first = (con.execute("SELECT max(id) FROM qc_coding").fetchone()[0] or 0) + 1
    codings = [(first + n, s, k, c, 1, None, None, "import", at) for n, (s, k, c) in enumerate(rows)]
    audits = [
        (
            at,
            "lead",
            "coding.import",
            "qc_coding",
            i,
            "null",
            json.dumps(
                {
                    "id": i,
                    "segment_id": s,
                    "code_id": k,
                    "coder_id": c,
                    "round": r,
                    "quote_start": qs,
                    "quote_end": qe,
                    "source": src,
                    "created_at": iso,
                }
            ),
        )
        for i, s, k, c, r, qs, qe, src, _ in codings
    ]
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO qc_coding (id, segment_id, code_id, coder_id, round, quote_start, quote_end, source, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        codings,
    )
    con.executemany(
        'INSERT INTO qc_audit (at, actor, action, entity, entity_id, "before", "after") VALUES (?, ?, ?, ?, ?, ?, ?)',
        audits,
    )
    con.execute("COMMIT")
    import_s = time.perf_counter() - started
    CPU.setdefault("raw_import", []).append(time.process_time() - cpu)
    started, cpu = time.perf_counter(), time.process_time()
    agreed = con.execute(
        "SELECT segment_id, code_id FROM qc_coding WHERE coder_id IN (SELECT id FROM qc_coder WHERE name IN"
        f" ({', '.join('?' * len(IMPORTED))})) GROUP BY segment_id, code_id HAVING count(*) = ?"
        " ORDER BY segment_id, code_id",
        (*IMPORTED, len(IMPORTED)),
    ).fetchall()
    first = (con.execute("SELECT max(id) FROM qc_consensus").fetchone()[0] or 0) + 1
    decisions = [(first + n, s, k, 1, "agreed", 1, "lead", None, None, at) for n, (s, k) in enumerate(agreed)]
    audits = [
        (
            at,
            "lead",
            "consensus.decide",
            "qc_consensus",
            i,
            "null",
            json.dumps(
                {
                    "id": i,
                    "segment_id": s,
                    "code_id": k,
                    "present": True,
                    "method": "agreed",
                    "round": 1,
                    "decided_by": "lead",
                    "quote_start": None,
                    "quote_end": None,
                    "decided_at": iso,
                }
            ),
        )
        for i, s, k, *_ in decisions
    ]
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO qc_consensus (id, segment_id, code_id, present, method, round, decided_by, quote_start,"
        " quote_end, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        decisions,
    )
    con.executemany(
        'INSERT INTO qc_audit (at, actor, action, entity, entity_id, "before", "after") VALUES (?, ?, ?, ?, ?, ?, ?)',
        audits,
    )
    con.execute("COMMIT")
    accept_s = time.perf_counter() - started
    CPU.setdefault("raw_accept", []).append(time.process_time() - cpu)
    con.close()
    return import_s, accept_s, len(codings), len(decisions)


def summary(times: list[float], count: int) -> dict:
    return {
        "min_s": round(min(times), 3),
        "median_s": round(statistics.median(times), 3),
        "best_per_s": round(count / min(times)),
        "median_per_s": round(count / statistics.median(times)),
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--in-process":
        in_process_main(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="10,000 rows instead of 100,000")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved repeats of each side (default 3)")
    parser.add_argument("--code", help="run qualcode from this folder (the one holding the qualcode package)")
    args = parser.parse_args()
    rows = 10_000 if args.small else 100_000
    env = _env(args.code)
    times: dict[str, list[float]] = {k: [] for k in ("cli_import", "cli_accept", "in_import", "in_accept")}
    times |= {"raw_import": [], "raw_accept": [], "cli_startup": []}
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template = folder / "template.db"
        build(str(template), rows // (len(IMPORTED) * 4), 10, folder)
        csv_path = folder / "codings.csv"

        def fresh(name: str) -> Path:
            target = folder / f"{name}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            shutil.copy(template, target)
            return target

        for n in range(args.repeat):
            raw_import, raw_accept, counts["rows"], counts["decisions"] = run_baseline(fresh("raw"), csv_path)
            cli_import, cli_accept, startup = run_cli(fresh("cli"), csv_path, env)
            inner = run_in_process(fresh("inner"), csv_path, env)
            CPU.setdefault("in_import", []).append(inner["import_cpu"])
            CPU.setdefault("in_accept", []).append(inner["accept_cpu"])
            if (inner["rows"], inner["decisions"]) != (counts["rows"], counts["decisions"]):
                raise SystemExit(f"qualcode wrote {inner['rows']}/{inner['decisions']}, the baseline {counts}")
            for key, value in (
                ("raw_import", raw_import),
                ("raw_accept", raw_accept),
                ("cli_import", cli_import),
                ("cli_accept", cli_accept),
                ("in_import", inner["import_s"]),
                ("in_accept", inner["accept_s"]),
                ("cli_startup", startup),
            ):
                times[key].append(value)
            print(
                f"repeat {n + 1}: import raw {raw_import:.2f} s, cli {cli_import:.2f} s, in-process "
                f"{inner['import_s']:.2f} s; accept-agreed raw {raw_accept:.2f} s, cli {cli_accept:.2f} s, "
                f"in-process {inner['accept_s']:.2f} s; qualcode --version {startup:.2f} s"
            )
    figures: dict = {}
    for work, count_key in (("import", "rows"), ("accept", "decisions")):
        raw = times[f"raw_{work}"]
        for side in ("cli", "in"):
            mine = times[f"{side}_{work}"]
            mine_cpu, raw_cpu = CPU[f"{side}_{work}"], CPU[f"raw_{work}"]
            figures[f"{side}_{work}"] = summary(mine, counts[count_key]) | {
                "ratio_best": round(min(mine) / min(raw), 2),
                "ratio_median": round(statistics.median(m / r for m, r in zip(mine, raw, strict=True)), 2),
                "cpu_min_s": round(min(mine_cpu), 3),
                "per_cpu_s": round(counts[count_key] / min(mine_cpu)),
                "cpu_ratio_best": round(min(mine_cpu) / min(raw_cpu), 2),
            }
        figures[f"raw_{work}"] = summary(raw, counts[count_key]) | {"cpu_min_s": round(min(CPU[f"raw_{work}"]), 3)}
    figures["cli_startup"] = {"min_s": round(min(times["cli_startup"]), 3)}
    figures["cli_startup"]["median_s"] = round(statistics.median(times["cli_startup"]), 3)
    ok = (
        figures["cli_import"]["best_per_s"] >= TARGET_ROWS_PER_S
        and figures["cli_accept"]["best_per_s"] >= TARGET_DECISIONS_PER_S
    )
    for key, f in figures.items():
        if key == "cli_startup":
            print(f"qualcode --version (start-up alone): best {f['min_s']} s, median {f['median_s']} s")
            continue
        ratio = f" ({f['ratio_best']}x the baseline best, {f['ratio_median']}x median" if "ratio_best" in f else ""
        if ratio:
            ratio += (
                f"; processor time {f['cpu_min_s']} s = {f['per_cpu_s']:,} per processor second, "
                f"{f['cpu_ratio_best']}x the baseline's)"
            )
        else:
            ratio = f" (processor time {f['cpu_min_s']} s)"
        unit = "rows" if "import" in key else "decisions"
        print(
            f"{key}: best {f['min_s']} s = {f['best_per_s']:,} {unit}/s, median {f['median_s']} s = "
            f"{f['median_per_s']:,}/s{ratio}"
        )
    verdicts = {
        key: f"{figures[key]['best_per_s']:,} ({'ok' if figures[key]['best_per_s'] >= target else 'MISSED'})"
        for key, target in (
            ("cli_import", TARGET_ROWS_PER_S),
            ("cli_accept", TARGET_DECISIONS_PER_S),
            ("in_accept", TARGET_DECISIONS_PER_S),
        )
    }
    print(
        f"targets: cli import >= {TARGET_ROWS_PER_S:,.0f} rows/s: {verdicts['cli_import']}; accept-agreed >= "
        f"{TARGET_DECISIONS_PER_S:,.0f}/s: cli {verdicts['cli_accept']}, in-process {verdicts['in_accept']} "
        "(on a loaded machine compare the ratios)"
    )
    print(
        json.dumps(
            {
                "bench": "bulk",
                "rows": counts["rows"],
                "decisions": counts["decisions"],
                "repeat": args.repeat,
                "code": args.code or "",
                "ok": ok,
                "figures": figures,
            }
        )
    )


if __name__ == "__main__":
    main()
