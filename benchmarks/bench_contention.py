"""Contention benchmark: four coders keep coding while the lead imports codings and accepts agreed codes.

Four coder processes apply codes at a fast typist's pace (one key every ``--pace`` seconds) through
``TranscriptWork``, as the workbench does, on one project, while the lead (this process) runs
``codings import`` of 100,000 rows and then ``reconcile accept-agreed`` through the same functions
as the CLI. Printed per coder: keys, p50/p95/max key-to-commit latency, lost writes (a key reported
saved but not stored) and errors; for the lead: rows per second of the import and decisions per
second of accept-agreed. Runs on SQLite, and on PostgreSQL too when ``QUALCODE_TEST_POSTGRES`` holds
a server URL (a schema of its own, dropped afterwards). The last line is one JSON object.

Targets: 0 lost, 0 errors, p95 under 100 ms and max under 1 s for every coder, import at least
20,000 rows/s. ``--small`` imports a tenth as many rows.

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
    saved: list[tuple[int, int]] = []
    errors: list[str] = []
    keys = [(seg.id, code.id) for seg in work.segments for code in work.codes if code.applicable]
    for segment_id, code_id in keys:
        if os.path.exists(stop_file):
            break
        started = time.perf_counter()
        try:
            work.apply(segment_id, code_id)
            saved.append((segment_id, code_id))
        except Exception as exc:  # counted and reported: the benchmark's point is that there are none
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        elapsed = time.perf_counter() - started
        latencies.append(elapsed * 1000)
        time.sleep(max(0.0, pace - elapsed))
    project.close()
    print(
        json.dumps(
            {"coder": name, "latencies_ms": latencies, "saved": saved, "errors": errors[:5], "n_errors": len(errors)}
        )
    )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(target: str, label: str, rows: int, pace: float) -> dict:
    from sqlmodel import col, select

    from qualcode.agreement.decisions import accept_agreed_in_chunks
    from qualcode.coding.exchange import import_codings_in_chunks
    from qualcode.project import Project
    from qualcode.store.models import Coder, Coding

    import_segments = rows // (len(IMPORTED) * len(CODES))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not target:
            target = str(folder / "study.db")
        live, csv_path = build(target, import_segments, 2_000, folder)
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
        time.sleep(3.0)  # the coders open the project and start keying before the lead begins
        lead = Project(target, user="lead")
        started = time.perf_counter()
        imported = import_codings_in_chunks(lead, csv_path, "lead")
        import_s = time.perf_counter() - started
        started = time.perf_counter()
        accepted = accept_agreed_in_chunks(lead, "lead", coders=list(IMPORTED))
        accept_s = time.perf_counter() - started
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
    coders = []
    for r in results:
        lat = r["latencies_ms"]
        lost = sum(1 for seg, code in r["saved"] if (ids[r["coder"]], seg, code) not in stored)
        coders.append(
            {
                "coder": r["coder"],
                "keys": len(lat),
                "p50_ms": round(statistics.median(lat), 1) if lat else 0.0,
                "p95_ms": round(percentile(lat, 0.95), 1),
                "max_ms": round(max(lat), 1) if lat else 0.0,
                "lost": lost,
                "errors": r["n_errors"],
                "first_errors": r["errors"],
            }
        )
    return {
        "engine": label,
        "import_rows": imported,
        "import_s": round(import_s, 2),
        "import_rows_per_s": round(imported / import_s),
        "accepted": accepted,
        "accept_s": round(accept_s, 2),
        "accept_per_s": round(accepted / accept_s) if accept_s else 0,
        "coders": coders,
    }


def report(result: dict) -> bool:
    ok_import = result["import_rows_per_s"] >= TARGET_ROWS_PER_S
    print(
        f"{result['engine']}: import {result['import_rows']:,} rows in {result['import_s']} s = "
        f"{result['import_rows_per_s']:,} rows/s (target >= {TARGET_ROWS_PER_S:,.0f}) "
        f"{'ok' if ok_import else 'MISSED'}; "
        f"accept-agreed {result['accepted']:,} decisions in {result['accept_s']} s = {result['accept_per_s']:,}/s"
    )
    ok = ok_import
    for c in result["coders"]:
        good = c["lost"] == 0 and c["errors"] == 0 and c["p95_ms"] < TARGET_P95_MS and c["max_ms"] < TARGET_MAX_MS
        ok &= good
        print(
            f"  {c['coder']}: {c['keys']} keys, p50 {c['p50_ms']} ms, p95 {c['p95_ms']} ms, max {c['max_ms']} ms, "
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
    args = parser.parse_args()
    rows = 10_000 if args.small else 100_000
    results = [run("", "sqlite", rows, args.pace)]
    ok = report(results[0])
    base = os.environ.get("QUALCODE_TEST_POSTGRES")
    if base and not args.sqlite_only:
        schema, url = pg_schema(base)
        try:
            results.append(run(url, "postgresql", rows, args.pace))
        finally:
            drop_pg_schema(base, schema)
        ok &= report(results[-1])
    print(json.dumps({"bench": "contention", "rows": rows, "pace_s": args.pace, "ok": ok, "results": results}))


if __name__ == "__main__":
    main()
