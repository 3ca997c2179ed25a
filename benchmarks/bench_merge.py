"""Merge benchmark: four coders' hand-outs of a 200-transcript study, coded apart, merged back.

A generated study (200 transcripts of 125 segments, an eight-code codebook, four coders and a lead)
is handed out four times (``qualcode handout``); each copy gets its coder's share bulk-inserted:
one coding and one done mark per segment, 25,000 codings per coder, 100,000 in all. Then the four
copies are merged into a fresh copy of the lead's project:

- through the CLI in fresh processes (what the lead waits for): ``qualcode merge A B C D`` in one,
  and ``qualcode merge COPY`` in a process per copy;
- in-process, ``merge_copy`` four times.

Baseline: the same 100,000 codings and 100,000 done marks inserted into the lead's project with one
bulk INSERT each, in one transaction, no checks and no audit. Printed: min and median of the
repeats, and the ratio of each to the baseline. Target: all four merges under 10 s. The last line
is one JSON object.

    python benchmarks/bench_merge.py [--small] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CODERS = ("ana", "ben", "cam", "dee")
CODES = ("SV", "SA", "RS", "WD", "SN", "SI", "OI", "IO")
TARGET_S = 10.0
WORDS = ("we", "plan", "the", "unit", "together", "and", "the", "principal", "protects", "that", "time")


def build(path: Path, transcripts: int, segments: int) -> None:
    """The lead's project, written with bulk inserts (the material only: no codings)."""
    from qualcode.project import Project
    from qualcode.store.ids import table_of
    from qualcode.store.models import Case, Code, Codebook, Coder, Segment, Speaker, Transcript

    rng = random.Random(7)
    project = Project(path, create=True)
    try:
        with project.transaction() as s:
            conn = s.connection()
            conn.execute(table_of(Case).insert(), [{"id": i + 1, "name": f"School {i + 1}"} for i in range(5)])
            conn.execute(table_of(Codebook).insert(), [{"id": 1, "name": "Conditions", "active": True, "version": 1}])
            conn.execute(
                table_of(Code).insert(),
                [
                    {
                        "id": i + 1,
                        "codebook_id": 1,
                        "guid": f"00000000-0000-4000-8000-{i:012d}",
                        "name": key,
                        "key": key,
                    }
                    for i, key in enumerate(CODES)
                ],
            )
            conn.execute(
                table_of(Coder).insert(),
                [{"name": name, "role": "coder"} for name in CODERS] + [{"name": "lee", "role": "lead"}],
            )
            speakers, segs, texts = [], [], []
            seg_id = 0
            for t in range(1, transcripts + 1):
                parts, spans, pos = [], [], 0
                for n in range(segments):
                    words = " ".join(rng.choice(WORDS) for _ in range(12)) + f" ({t}.{n})"
                    line = f"P{n % 3 + 1}: {words}"
                    spans.append((pos + 4, pos + len(line)))
                    parts.append(line)
                    pos += len(line) + 1
                text = "\n".join(parts)
                texts.append(
                    {
                        "id": t,
                        "title": f"Interview {t:03d}",
                        "kind": "interview",
                        "case_id": t % 5 + 1,
                        "content_hash": f"{t:064x}",
                        "text": text,
                        "unit": "turn",
                    }
                )
                speakers += [
                    {"id": (t - 1) * 3 + k, "transcript_id": t, "label": f"P{k}", "attributes": {}} for k in (1, 2, 3)
                ]
                for n, (a, b) in enumerate(spans):
                    seg_id += 1
                    segs.append(
                        {
                            "id": seg_id,
                            "transcript_id": t,
                            "position": n + 1,
                            "start": a,
                            "end": b,
                            "speaker_id": (t - 1) * 3 + n % 3 + 1,
                        }
                    )
            conn.execute(table_of(Transcript).insert(), texts)
            conn.execute(table_of(Speaker).insert(), speakers)
            conn.execute(table_of(Segment).insert(), segs)
    finally:
        project.close()


def shares(path: Path) -> dict[str, tuple[list[dict], list[dict]]]:
    """Each coder's codings and done marks (as rows for a bulk insert): one code and one done mark a segment."""
    from sqlmodel import select

    from qualcode.project import Project
    from qualcode.store.models import Coder, Segment

    rng = random.Random(11)
    with Project(path) as project, project.read() as s:
        coder_ids = {n: i for n, i in s.exec(select(Coder.name, Coder.id)).all()}
        segment_ids = list(s.exec(select(Segment.id).order_by(Segment.id)).all())
    out: dict[str, tuple[list[dict], list[dict]]] = {}
    for name in CODERS:
        cid = coder_ids[name]
        codings = [
            {"segment_id": sid, "code_id": rng.randrange(len(CODES)) + 1, "coder_id": cid, "round": 1}
            for sid in segment_ids
        ]
        done = [{"segment_id": sid, "coder_id": cid, "round": 1} for sid in segment_ids]
        out[name] = (codings, done)
    return out


def bulk_insert(path: Path, codings: list[dict], done: list[dict], coder: str | None = None) -> tuple[float, float]:
    """One bulk INSERT of codings and one of done marks, in one transaction; returns wall and CPU seconds.
    With ``coder``, the rows are that coder's in ``path`` (a hand-out numbers its coders afresh)."""
    from sqlmodel import select

    from qualcode.project import Project
    from qualcode.store.ids import table_of
    from qualcode.store.models import Coder, Coding, SegmentStatus

    with Project(path) as project:
        if coder is not None:
            with project.read() as s:
                coder_id = s.exec(select(Coder.id).where(Coder.name == coder)).one()
            codings = [{**row, "coder_id": coder_id} for row in codings]
            done = [{**row, "coder_id": coder_id} for row in done]
        cpu = time.process_time()
        started = time.perf_counter()
        with project.transaction() as s:
            s.connection().execute(table_of(Coding).insert(), codings)
            s.connection().execute(table_of(SegmentStatus).insert(), done)
        return time.perf_counter() - started, time.process_time() - cpu


def merge_cli(lead: Path, copies: list[Path]) -> tuple[float, float]:
    """Wall-clock seconds of the four merges, and the CPU seconds the processes used."""
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    for copy in copies:
        proc = subprocess.run(
            [sys.executable, "-m", "qualcode", "-p", str(lead), "--as", "lee", "merge", str(copy)],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise SystemExit(f"merge of {copy} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime


def merge_cli_one(lead: Path, copies: list[Path]) -> tuple[float, float]:
    """``qualcode merge`` of all four copies in one fresh process: wall and CPU seconds."""
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "qualcode", "-p", str(lead), "--as", "lee", "merge", *map(str, copies)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"merge of the four copies failed: {proc.stderr.strip() or proc.stdout.strip()}")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime


def merge_in_process(lead: Path, copies: list[Path]) -> tuple[float, float]:
    from qualcode.exchange.merge import Outcome, merge_copy
    from qualcode.project import Project

    cpu = time.process_time()
    started = time.perf_counter()
    with Project(lead, user="lee") as project:
        for copy in copies:
            result = merge_copy(project, "lee", copy)
            if result.outcome is not Outcome.MERGED:
                raise SystemExit(f"merge of {copy}: {result.outcome}")
    return time.perf_counter() - started, time.process_time() - cpu


def count_codings(path: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM qc_coding WHERE source = 'merge'").fetchone()[0])
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="20 transcripts (10,000 codings) instead of 200")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    transcripts, segments = (20, 125) if args.small else (200, 125)
    from qualcode.exchange.handout import make_handout
    from qualcode.project import Project

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pristine = folder / "lead.db"
        build(pristine, transcripts, segments)
        rows = shares(pristine)
        handout_s = []
        copies = []
        with Project(pristine, user="lee") as lead:
            for name in CODERS:
                copy = folder / f"{name}.db"
                started = time.perf_counter()
                make_handout(lead, "lee", name, copy)
                handout_s.append(time.perf_counter() - started)
                bulk_insert(copy, *rows[name], coder=name)
                copies.append(copy)
        total = sum(len(c) for c, _d in rows.values())
        all_codings = [r for c, _d in rows.values() for r in c]
        all_done = [r for _c, d in rows.values() for r in d]
        cli, one, inproc, base = [], [], [], []
        cli_cpu, one_cpu, inproc_cpu, base_cpu = [], [], [], []
        load_before = os.getloadavg()[0]
        for repeat in range(args.repeats):
            for kind, timings in (("cli", cli), ("cli-one", one), ("in-process", inproc), ("baseline", base)):
                target = folder / f"run-{kind}-{repeat}.db"
                shutil.copy(pristine, target)
                if kind == "cli":
                    wall, cpu = merge_cli(target, copies)
                    timings.append(wall)
                    cli_cpu.append(cpu)
                elif kind == "cli-one":
                    wall, cpu = merge_cli_one(target, copies)
                    timings.append(wall)
                    one_cpu.append(cpu)
                elif kind == "in-process":
                    wall, cpu = merge_in_process(target, copies)
                    timings.append(wall)
                    inproc_cpu.append(cpu)
                else:
                    wall, cpu = bulk_insert(target, all_codings, all_done)
                    timings.append(wall)
                    base_cpu.append(cpu)
                if kind != "baseline" and count_codings(target) != total:
                    raise SystemExit(f"{kind}: {count_codings(target)} codings merged, expected {total}")
                target.unlink()
                for extra in (f"{target}-wal", f"{target}-shm"):
                    Path(extra).unlink(missing_ok=True)

    def fig(values: list[float]) -> tuple[float, float]:
        return round(min(values), 3), round(statistics.median(values), 3)

    cli_min, cli_med = fig(cli)
    in_min, in_med = fig(inproc)
    base_min, base_med = fig(base)
    one_min, one_med = fig(one)
    ok = one_med < TARGET_S
    print(
        f"study: {transcripts} transcripts, {transcripts * segments:,} segments, "
        f"{len(CODERS)} coders, {total:,} codings"
    )
    print(f"handout: {min(handout_s):.2f} s min, {statistics.median(handout_s):.2f} s median per copy")
    print(
        f"merge 4 copies, CLI, one fresh process (`qualcode merge A B C D`): min {one_min} s, median {one_med} s "
        f"(target < {TARGET_S:.0f} s) {'ok' if ok else 'MISSED'}; ratio to baseline {one_med / base_med:.1f}"
    )
    print(
        f"merge 4 copies, CLI, a fresh process per copy: min {cli_min} s, median {cli_med} s; "
        f"ratio to baseline {cli_med / base_med:.1f}"
    )
    print(f"merge 4 copies, in-process: min {in_min} s, median {in_med} s; ratio to baseline {in_med / base_med:.1f}")
    print(f"baseline (one bulk INSERT of the same codings and done marks): min {base_min} s, median {base_med} s")
    print(
        f"CPU time (user+sys): CLI one process median {statistics.median(one_cpu):.2f} s, "
        f"a process per copy median {statistics.median(cli_cpu):.2f} s, in-process median "
        f"{statistics.median(inproc_cpu):.2f} s, baseline median {statistics.median(base_cpu):.2f} s "
        f"(ratio CLI one process {statistics.median(one_cpu) / statistics.median(base_cpu):.1f}, in-process "
        f"{statistics.median(inproc_cpu) / statistics.median(base_cpu):.1f}); "
        f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs (wall times above grow with the machine's load)"
    )
    print(
        json.dumps(
            {
                "benchmark": "merge",
                "transcripts": transcripts,
                "segments": transcripts * segments,
                "coders": len(CODERS),
                "codings": total,
                "repeats": args.repeats,
                "handout_s_median": round(statistics.median(handout_s), 3),
                "merge_cli_one_process_s_min": one_min,
                "merge_cli_one_process_s_median": one_med,
                "merge_cli_one_process_cpu_s_median": round(statistics.median(one_cpu), 3),
                "merge_cli_s_min": cli_min,
                "merge_cli_s_median": cli_med,
                "merge_in_process_s_min": in_min,
                "merge_in_process_s_median": in_med,
                "baseline_s_min": base_min,
                "baseline_s_median": base_med,
                "ratio_cli_one_process": round(one_med / base_med, 2),
                "ratio_cli": round(cli_med / base_med, 2),
                "ratio_in_process": round(in_med / base_med, 2),
                "merge_cli_cpu_s_median": round(statistics.median(cli_cpu), 3),
                "merge_in_process_cpu_s_median": round(statistics.median(inproc_cpu), 3),
                "baseline_cpu_s_median": round(statistics.median(base_cpu), 3),
                "load_average": round(load_before, 2),
                "target_s": TARGET_S,
                "ok": ok,
            }
        )
    )


if __name__ == "__main__":
    main()
