"""Contention benchmark: four coders keep coding while the lead imports codings and accepts agreed codes.

Four coder processes apply codes at a fast typist's pace (one key every ``--pace`` seconds) through
``TranscriptWork``, as the workbench does, on one project, while the lead (this process) runs
``codings import`` of 100,000 rows and then ``reconcile accept-agreed`` through the same functions
as the CLI. Printed per coder: keys, p50/p95/max key-to-commit latency while the lead writes, lost
writes (a key reported saved but not stored) and errors; for all coders together, the same figures
in each phase: quiet (before the lead starts: what a key costs on this machine now, the baseline),
during the import, during accept-agreed; and the ratio of each phase's p95 to the quiet p95 (the
machine is shared: compare ratios). For the lead: rows per second of the import and decisions per
second of accept-agreed; on SQLite also the import alone, before the coders start, in time-bounded
chunks and in one transaction (what the chunks cost). Runs on SQLite, and on PostgreSQL too when
``QUALCODE_TEST_POSTGRES`` holds a server URL (a schema of its own, dropped afterwards).
The last line is one JSON object.

Targets: 0 lost, 0 errors, p95 under 100 ms and max under 1 s for every coder while the lead writes,
import at least 20,000 rows/s. ``--small`` imports a tenth as many rows.

    python benchmarks/bench_contention.py --small
    QUALCODE_TEST_POSTGRES=postgresql://postgres@127.0.0.1:5432/test python benchmarks/bench_contention.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

CODERS = ("ana", "ben", "cam", "dee")
IMPORTED = ("i1", "i2", "i3", "i4", "i5")  # the coders whose rows the lead imports
CODES = ("Shared vision", "Support", "Work design", "Norms")
TARGET_P95_MS, TARGET_MAX_MS, TARGET_ROWS_PER_S = 100.0, 1000.0, 20_000.0


def build(target: str, import_segments: int, coder_segments: int, folder: Path) -> tuple[int, Path]:
    """The project (two transcripts, four codes, coders) and the codings CSV; returns the coders' transcript id."""
    from sqlmodel import select

    from qualcode.project import Project
    from qualcode.store.models import Case, Code, Codebook, Coder, Segment, Transcript

    project = Project(target, create=True)
    try:
        with project.transaction() as s:
            case = Case(name="Site")
            cb = Codebook(name="Conditions", kind="provisional", active=True)
            s.add(case)
            s.add(cb)
            s.flush()
            for i, name in enumerate(CODES):
                s.add(Code(codebook_id=cb.id, guid=f"g{i}", name=name, key=f"K{i}", hotkey=str(i + 1), position=i))
            for name in (*CODERS, *IMPORTED):
                s.add(Coder(name=name, role="coder"))
            s.add(Coder(name="lead", role="lead"))
            ids = []
            for title, count in (("Imported", import_segments), ("Live", coder_segments)):
                turn = "P1: " + "we plan the unit together " * 2
                text = "\n".join([turn] * count)
                t = Transcript(title=title, kind="interview", case_id=case.id, content_hash=title, text=text)
                s.add(t)
                s.flush()
                step = len(turn) + 1
                s.add_all(
                    Segment(transcript_id=t.id, position=n + 1, start=n * step + 4, end=n * step + len(turn))
                    for n in range(count)
                )
                ids.append(t.id)
            s.flush()
            live = s.exec(select(Transcript.id).where(Transcript.title == "Live")).one()
    finally:
        project.close()
    csv_path = folder / "codings.csv"
    lines = ["transcript,segment,coder,code"]
    lines += [f"Imported,{seg},{c},{code}" for seg in range(1, import_segments + 1) for c in IMPORTED for code in CODES]
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return int(live), csv_path


def coder_main(target: str, name: str, transcript_id: int, stop_file: str, pace: float) -> None:
    """One coder: apply codes segment by segment until the lead is done; one JSON line of results."""
    from qualcode.coding.service import TranscriptWork
    from qualcode.project import Project

    project = Project(target, user=name)
    work = TranscriptWork(project, name, transcript_id)
    latencies: list[float] = []
    started_at: list[float] = []  # wall clock (time.time) of each key, to match it with the lead's phases
    saved: list[tuple[int, int]] = []
    errors: list[str] = []
    keys = [(seg.id, code.id) for seg in work.segments for code in work.codes if code.applicable]
    for segment_id, code_id in keys:
        if os.path.exists(stop_file):
            break
        started = time.perf_counter()
        started_at.append(time.time())
        try:
            work.apply(segment_id, code_id)
            saved.append((segment_id, code_id))
        except Exception as exc:  # counted and reported: the benchmark's point is that there are none
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        elapsed = time.perf_counter() - started
        latencies.append(elapsed * 1000)
        if len(latencies) == 1:
            Path(f"{stop_file}.{name}.ready").write_text("keying")  # the lead waits for every coder
        time.sleep(max(0.0, pace - elapsed))
    project.close()
    print(
        json.dumps(
            {
                "coder": name,
                "latencies_ms": latencies,
                "started_at": started_at,
                "saved": saved,
                "errors": errors[:5],
                "n_errors": len(errors),
            }
        )
    )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def solo_import(template: str, csv_path: Path, one_transaction: bool) -> float:
    """Seconds of the lead's import alone into a copy of ``template``: in time-bounded chunks, or (to
    price the chunks) in one transaction. Nothing else runs meanwhile."""
    import shutil

    from qualcode.coding import bulk
    from qualcode.coding.exchange import import_codings_in_chunks
    from qualcode.project import Project

    copy = f"{template}.solo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    shutil.copy(template, copy)
    saved = bulk.TARGET_CHUNK_S, bulk.FIRST_CHUNK_ROWS, bulk.MAX_CHUNK_ROWS
    if one_transaction:
        bulk.TARGET_CHUNK_S, bulk.FIRST_CHUNK_ROWS, bulk.MAX_CHUNK_ROWS = 1e9, 10**9, 10**9
    try:
        lead = Project(copy, user="lead")
        started = time.perf_counter()
        import_codings_in_chunks(lead, csv_path, "lead")
        took = time.perf_counter() - started
        lead.close()
    finally:
        bulk.TARGET_CHUNK_S, bulk.FIRST_CHUNK_ROWS, bulk.MAX_CHUNK_ROWS = saved
    return took


PHASES = ("quiet", "import", "accept")


def run(target: str, label: str, rows: int, pace: float, quiet_s: float, solo: bool) -> dict:
    from sqlmodel import col, select

    from qualcode.agreement.decisions import accept_agreed_in_chunks
    from qualcode.coding.exchange import import_codings_in_chunks
    from qualcode.project import Project
    from qualcode.store.models import Coder, Coding

    import_segments = rows // (len(IMPORTED) * len(CODES))
    solo_s: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not target:
            target = str(folder / "study.db")
        live, csv_path = build(target, import_segments, 2_000, folder)
        if solo and label == "sqlite":
            solo_s["chunked"] = solo_import(target, csv_path, one_transaction=False)
            solo_s["one_transaction"] = solo_import(target, csv_path, one_transaction=True)
        stop_file = folder / "stop"
        procs = [
            subprocess.Popen(
                [sys.executable, __file__, "--coder", target, name, str(live), str(stop_file), str(pace)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in CODERS
        ]
        # The coders open the project and key for a while before the lead begins: their quiet latency.
        deadline = time.monotonic() + 300
        while not all(Path(f"{stop_file}.{name}.ready").exists() for name in CODERS):
            if time.monotonic() > deadline or any(proc.poll() is not None for proc in procs):
                raise SystemExit("the coder processes did not start keying")
            time.sleep(0.05)
        time.sleep(quiet_s)
        lead = Project(target, user="lead")
        phase_at = {"import": time.time()}
        started = time.perf_counter()
        imported = import_codings_in_chunks(lead, csv_path, "lead")
        import_s = time.perf_counter() - started
        phase_at["accept"] = time.time()
        started = time.perf_counter()
        accepted = accept_agreed_in_chunks(lead, "lead", coders=list(IMPORTED))
        accept_s = time.perf_counter() - started
        phase_at["after"] = time.time()
        time.sleep(1.0)  # a little coding after the lead is done
        stop_file.write_text("done")
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=600)
            if proc.returncode != 0:
                raise SystemExit(f"a coder process failed: {err.strip().splitlines()[-1:]}")
            results.append(json.loads(out.strip().splitlines()[-1]))
        with lead.read() as s:
            ids = {c.name: c.id for c in s.exec(select(Coder).where(col(Coder.name).in_(CODERS)))}
            stored = {
                (coder_id, seg, code)
                for coder_id, seg, code in s.exec(
                    select(Coding.coder_id, Coding.segment_id, Coding.code_id).where(
                        col(Coding.coder_id).in_(list(ids.values()))
                    )
                ).all()
            }
        lead.close()

    def phase(at: float) -> str:
        if at < phase_at["import"]:
            return "quiet"
        if at < phase_at["accept"]:
            return "import"
        return "accept" if at < phase_at["after"] else "after"

    coders = []
    pooled: dict[str, list[float]] = {p: [] for p in (*PHASES, "after")}
    for r in results:
        lat = r["latencies_ms"]
        by_phase: dict[str, list[float]] = {p: [] for p in (*PHASES, "after")}
        for at, ms in zip(r["started_at"], lat, strict=True):
            by_phase[phase(at)].append(ms)
            pooled[phase(at)].append(ms)
        busy = by_phase["import"] + by_phase["accept"]  # what the targets are about
        lost = sum(1 for seg, code in r["saved"] if (ids[r["coder"]], seg, code) not in stored)
        coders.append(
            {
                "coder": r["coder"],
                "keys": len(lat),
                "busy_keys": len(busy),
                "p50_ms": round(statistics.median(busy), 1) if busy else 0.0,
                "p95_ms": round(percentile(busy, 0.95), 1),
                "max_ms": round(max(busy), 1) if busy else 0.0,
                "quiet_p95_ms": round(percentile(by_phase["quiet"], 0.95), 1),
                "lost": lost,
                "errors": r["n_errors"],
                "first_errors": r["errors"],
            }
        )
    phases = {
        p: {
            "keys": len(v),
            "p50_ms": round(statistics.median(v), 1) if v else 0.0,
            "p95_ms": round(percentile(v, 0.95), 1),
            "max_ms": round(max(v), 1) if v else 0.0,
        }
        for p, v in pooled.items()
    }
    quiet = phases["quiet"]["p95_ms"]
    for p in PHASES[1:]:
        phases[p]["p95_over_quiet"] = round(phases[p]["p95_ms"] / quiet, 2) if quiet else None
    out = {
        "engine": label,
        "import_rows": imported,
        "import_s": round(import_s, 2),
        "import_rows_per_s": round(imported / import_s),
        "accepted": accepted,
        "accept_s": round(accept_s, 2),
        "accept_per_s": round(accepted / accept_s) if accept_s else 0,
        "phases": phases,
        "coders": coders,
    }
    if solo_s:
        out["solo_import_s"] = {k: round(v, 2) for k, v in solo_s.items()}
        out["solo_chunk_cost"] = round(solo_s["chunked"] / solo_s["one_transaction"], 2)
    return out


def report(result: dict) -> bool:
    ok_import = result["import_rows_per_s"] >= TARGET_ROWS_PER_S
    print(
        f"{result['engine']}: import {result['import_rows']:,} rows in {result['import_s']} s = "
        f"{result['import_rows_per_s']:,} rows/s (target >= {TARGET_ROWS_PER_S:,.0f}) "
        f"{'ok' if ok_import else 'MISSED'}; "
        f"accept-agreed {result['accepted']:,} decisions in {result['accept_s']} s = {result['accept_per_s']:,}/s"
    )
    if "solo_import_s" in result:
        solo = result["solo_import_s"]
        print(
            f"  the import alone (no coders): {solo['chunked']} s in time-bounded chunks, "
            f"{solo['one_transaction']} s in one transaction: the chunks cost {result['solo_chunk_cost']}x"
        )
    for name, p in result["phases"].items():
        over = f", p95 {p['p95_over_quiet']}x the quiet p95" if p.get("p95_over_quiet") else ""
        print(
            f"  all coders while {name if name != 'quiet' else 'nothing else runs'}: {p['keys']} keys, "
            f"p50 {p['p50_ms']} ms, p95 {p['p95_ms']} ms, max {p['max_ms']} ms{over}"
        )
    ok = ok_import
    for c in result["coders"]:
        good = c["lost"] == 0 and c["errors"] == 0 and c["p95_ms"] < TARGET_P95_MS and c["max_ms"] < TARGET_MAX_MS
        ok &= good
        print(
            f"  {c['coder']}: {c['keys']} keys ({c['busy_keys']} while the lead wrote: p50 {c['p50_ms']} ms, "
            f"p95 {c['p95_ms']} ms, max {c['max_ms']} ms; quiet p95 {c['quiet_p95_ms']} ms), "
            f"lost {c['lost']}, errors {c['errors']} {'ok' if good else 'MISSED'}"
            + (f" {c['first_errors']}" if c["first_errors"] else "")
        )
    return ok


def pg_schema(base: str) -> tuple[str, str]:
    import psycopg

    schema = f"qc_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    return schema, f"{base}{sep}options=-csearch_path%3D{schema}"


def drop_pg_schema(base: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--coder":
        target, name, tid, stop, pace = sys.argv[2:7]
        coder_main(target, name, int(tid), stop, float(pace))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="import 10,000 rows instead of 100,000")
    parser.add_argument("--pace", type=float, default=0.15, help="seconds between one coder's keys (default 0.15)")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL even where configured")
    parser.add_argument(
        "--quiet", type=float, default=6.0, help="seconds the coders key before the lead starts (default 6)"
    )
    parser.add_argument(
        "--no-solo", action="store_true", help="skip timing the import alone (chunked, one transaction)"
    )
    args = parser.parse_args()
    rows = 10_000 if args.small else 100_000
    results = [run("", "sqlite", rows, args.pace, args.quiet, not args.no_solo)]
    ok = report(results[0])
    base = os.environ.get("QUALCODE_TEST_POSTGRES")
    if base and not args.sqlite_only:
        schema, url = pg_schema(base)
        try:
            results.append(run(url, "postgresql", rows, args.pace, args.quiet, False))
        finally:
            drop_pg_schema(base, schema)
        ok &= report(results[-1])
    print(json.dumps({"bench": "contention", "rows": rows, "pace_s": args.pace, "ok": ok, "results": results}))


if __name__ == "__main__":
    main()
