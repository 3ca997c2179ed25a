"""Team load benchmark: ten coders, each in a process of their own, plus a lead reconciling.

A 200-transcript study (eight segments each, six codes); every transcript is double-coded, so each
of the ten coders' share is 40 transcripts. Each coder process codes its share through
``TranscriptWork`` (the workbench's core: one key = one transaction with its audit event), one code
and a done mark per segment, first at a fast typist's pace (one key every 300-500 ms, for
``--paced-seconds``) and then flat out (the whole share, no pause). Meanwhile the lead (a process
of its own) reconciles: accept-agreed for each pair of coders, the disagreement queue, and a
manual decision on its first items, over and over until the coders finish.

On PostgreSQL (when ``QUALCODE_TEST_POSTGRES`` or ``--postgres URL`` names a server) the study is a
database of its own, set up with ``qualcode server init`` and ``add-coder``: each coder and the lead
connect as their own login role, under row-level security, and are known from the connection.
On SQLite the same ten processes share one file. Both are dropped afterwards.

Printed per run: keys written, lost writes (a key reported saved but not found when the rows are
counted after), errors, p50/p95/max latency from key to commit, the lead's decisions, and the
ratio of p95 to a baseline: the same coder's share keyed flat out by one process alone on the
same engine (on PostgreSQL also over the owner's connection, which the policies let through: the
ratio is what row-level security costs a key). Why a key is slow is split in two: the process's
own CPU time per key, and (SQLite) the time spent asking for the write lock; the rest is waiting
for a CPU or the disk. Targets: lost 0, errors 0, p95 < 100 ms. The last line is one JSON object.

    QUALCODE_TEST_POSTGRES=postgresql://postgres@127.0.0.1:5432/test python benchmarks/bench_team.py
    python benchmarks/bench_team.py --sqlite-only --paced-seconds 20 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

CODERS = tuple(f"c{i:02d}" for i in range(1, 11))
LEAD = "lead"
CODES = ("Vision", "Support", "Design", "Norms", "Time", "Data")
TARGET_P95_MS = 100.0
SEGMENTS = 8
TURN = "P1: we look at the student work first and then plan the unit backwards together"


def shares(transcript_ids: list[int], coders: tuple[str, ...]) -> dict[str, list[int]]:
    """Transcript ``i`` goes to coders ``i`` and ``i + 1`` (mod n): every transcript double-coded."""
    out: dict[str, list[int]] = {c: [] for c in coders}
    for i, tid in enumerate(transcript_ids):
        out[coders[i % len(coders)]].append(tid)
        out[coders[(i + 1) % len(coders)]].append(tid)
    return out


def build(target: str, transcripts: int) -> list[int]:
    """The study, written by the owner in one transaction; returns the transcript ids."""
    from qualcode.project import Project
    from qualcode.store.models import Case, Code, Codebook, Coder, Segment, Transcript

    text = "\n".join([TURN] * SEGMENTS)
    step = len(TURN) + 1
    with Project(target, create=True) as project, project.transaction() as s:
        cb = Codebook(name="Conditions", kind="provisional", active=True)
        s.add(cb)
        s.flush()
        for i, name in enumerate(CODES):
            s.add(Code(codebook_id=cb.id, guid=f"g{i}", name=name, key=f"K{i}", hotkey=str(i + 1), position=i))
        for name in CODERS:
            s.add(Coder(name=name, role="coder"))
        s.add(Coder(name=LEAD, role="lead"))
        cases = [Case(name=f"School {k:02d}") for k in range(transcripts // 10 or 1)]
        s.add_all(cases)
        s.flush()
        ids = []
        for n in range(transcripts):
            t = Transcript(
                title=f"Interview {n + 1:03d}",
                kind="interview",
                case_id=cases[n % len(cases)].id,
                content_hash=f"h{n}",
                text=text,
            )
            s.add(t)
            s.flush()
            s.add_all(
                Segment(transcript_id=t.id, position=k + 1, start=k * step + 4, end=k * step + len(TURN))
                for k in range(SEGMENTS)
            )
            ids.append(int(t.id))  # type: ignore[arg-type]
    return ids


def pick_code(segment_id: int, coder: str, codes: list[int]) -> int:
    """Coders agree on about two segments in three: a code per segment, sometimes another."""
    rng = random.Random(f"{segment_id}:{coder}")
    base = codes[segment_id % len(codes)]
    return base if rng.random() < 0.67 else rng.choice(codes)


# -- the processes ------------------------------------------------------------------------------
def ready_and_wait(spec: dict, name: str) -> None:
    """Say this process has opened the project, then wait for the parent's go (every process is
    open before the first key: opening eleven fresh processes is not what is measured)."""
    folder = Path(spec["folder"])
    (folder / f"ready-{name}").write_text("ok")
    go = folder / "go"
    while not go.exists():
        time.sleep(0.005)
    start_at = float(go.read_text() or 0)
    while time.time() < start_at:
        time.sleep(0.002)


def coder_main(spec: dict) -> None:
    """One coder: key their share (a code, then done, per segment); prints one JSON line."""
    from qualcode.coding.service import TranscriptWork
    from qualcode.project import Project

    lock_waits: list[float] = []  # SQLite: time spent asking for the write lock (BEGIN IMMEDIATE)
    if not spec["target"].startswith("postgresql"):
        from qualcode.store import engine

        begin = engine._begin_immediate
        if spec.get("poll_ms"):  # an experiment: how often a waiting writer asks for the lock
            engine.WRITE_LOCK_POLL_S = spec["poll_ms"] / 1000

        def timed_begin(conn) -> None:
            started = time.perf_counter()
            begin(conn)
            lock_waits.append((time.perf_counter() - started) * 1000)

        engine._begin_immediate = timed_begin  # looked up by name at each BEGIN: every transaction timed
    opened = time.perf_counter()
    project = Project(spec["target"], user=spec["user"])
    name = project.user
    assert name == spec["coder"], (name, spec["coder"])  # on PostgreSQL: known from the connection
    open_s = time.perf_counter() - opened
    ready_and_wait(spec, name)
    deadline = time.monotonic() + spec["seconds"] if spec["seconds"] else None
    lo, hi = spec["pace"]
    rng = random.Random(name)
    latencies: list[float] = []
    cpu: list[float] = []  # this process's own CPU time per key: the rest of a key's latency is waiting
    waited: list[float] = []  # of which waiting for SQLite's write lock
    saved: list[list[int]] = []
    done: list[int] = []
    errors: list[str] = []

    def key(action, *args) -> bool:
        lock_waits.clear()
        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            action(*args)
            ok = True
        except Exception as exc:  # counted and reported: the point is that there are none
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            ok = False
        elapsed = time.perf_counter() - started
        latencies.append(elapsed * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        waited.append(sum(lock_waits))
        if hi:
            time.sleep(max(0.0, rng.uniform(lo, hi) - elapsed))
        return ok

    finished = True
    for tid in spec["transcripts"]:
        work = TranscriptWork(project, name, tid)
        codes = [int(c.id) for c in work.codes]  # type: ignore[arg-type]
        for seg in work.segments:
            if deadline is not None and time.monotonic() > deadline:
                finished = False
                break
            code = pick_code(seg.id, name, codes)
            if key(work.toggle, seg.id, code):
                saved.append([seg.id, code])
            if key(work.set_done, seg.id):
                done.append(seg.id)
        if not finished:
            break
    project.close()
    out = {
        "coder": name,
        "open_s": open_s,
        "latencies_ms": latencies,
        "cpu_ms": cpu,
        "lock_ms": waited,
        "saved": saved,
        "done": done,
    }
    print(json.dumps({**out, "errors": errors[:5], "n_errors": len(errors)}))


def lead_main(spec: dict) -> None:
    """The lead: accept-agreed per pair of coders, the disagreement queue, a decision on its first items."""
    from qualcode.agreement.decisions import accept_agreed_in_chunks, decide
    from qualcode.agreement.queue import disagreement_queue
    from qualcode.project import Project

    if spec.get("poll_ms"):
        from qualcode.store import engine

        engine.WRITE_LOCK_POLL_S = spec["poll_ms"] / 1000
    project = Project(spec["target"], user=spec["user"])
    name = project.user
    assert name == LEAD, name
    ready_and_wait(spec, name)
    pairs = [[CODERS[i], CODERS[(i + 1) % len(CODERS)]] for i in range(len(CODERS))]
    accepted = decided = rounds = 0
    decide_ms: list[float] = []
    accept_ms: list[float] = []
    decisions: list[list[int]] = []
    errors: list[str] = []
    stop = Path(spec["stop_file"])
    while not stop.exists():
        pair = pairs[rounds % len(pairs)]
        rounds += 1
        try:
            started = time.perf_counter()
            accepted += accept_agreed_in_chunks(project, name, coders=pair)
            accept_ms.append((time.perf_counter() - started) * 1000)
            with project.read() as s:
                queue = disagreement_queue(s, name, coders=pair)
            for item in queue[:3]:
                code_id = int(item.disputed[0]["code_id"])
                started = time.perf_counter()
                with project.transaction() as s:
                    decide(s, name, item.segment_id, code_id, "manual", present=True)
                decide_ms.append((time.perf_counter() - started) * 1000)
                decisions.append([item.segment_id, code_id])
                decided += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        time.sleep(spec["pause"])  # a person reads the queue between decisions
    project.close()
    out = {"accepted": accepted, "decided": decided, "passes": rounds, "decisions": decisions}
    print(
        json.dumps(
            {**out, "decide_ms": decide_ms, "accept_ms": accept_ms, "errors": errors[:5], "n_errors": len(errors)}
        )
    )


# -- one run --------------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def spawn(role: str, spec: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, __file__, f"--{role}", json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def collect(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"a process failed: {err.strip().splitlines()[-3:]}")
    return json.loads(out.strip().splitlines()[-1])


class Study:
    """A fresh study on one engine: ``targets`` maps each member to what they open (and as whom)."""

    def __init__(self, engine: str, transcripts: int, base: str | None, folder: Path):
        self.engine, self.base, self.database = engine, base, None
        if engine == "sqlite":
            self.owner = str(folder / f"team-{uuid.uuid4().hex[:6]}.db")
            self.ids = build(self.owner, transcripts)
            self.targets = {m: (self.owner, m) for m in (*CODERS, LEAD)}
            return
        import psycopg

        from qualcode.project import Project
        from qualcode.store.server import add_login, init_server

        assert base is not None
        self.database = f"bench_team_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {self.database}")
        self.owner = base.rsplit("/", 1)[0] + f"/{self.database}"
        self.ids = build(self.owner, transcripts)
        with Project(self.owner) as p:
            init_server(p.write_engine)
            # user None: each member is known from the role they connect as
            self.targets = {m: (add_login(p.write_engine, m).url, None) for m in (*CODERS, LEAD)}

    def counts(self) -> tuple[set[tuple[str, int, int]], set[tuple[str, int]], set[tuple[int, int]]]:
        """Every stored coding, done mark and decision, read by the owner."""
        from sqlmodel import col, select

        from qualcode.project import Project
        from qualcode.store.models import Coder, Coding, ConsensusDecision, SegmentStatus

        with Project(self.owner) as p, p.read() as s:
            names = {c.id: c.name for c in s.exec(select(Coder))}
            codings = {
                (names[c], seg, code)
                for c, seg, code in s.exec(select(Coding.coder_id, Coding.segment_id, Coding.code_id))
            }
            marks = {(names[c], seg) for c, seg in s.exec(select(SegmentStatus.coder_id, SegmentStatus.segment_id))}
            decisions = set(s.exec(select(col(ConsensusDecision.segment_id), col(ConsensusDecision.code_id))).all())
        return codings, marks, decisions

    def drop(self) -> None:
        if self.database is None:
            return
        import psycopg

        assert self.base is not None
        with psycopg.connect(self.base, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
            group = f"qc_{self.database}"
            for (role,) in conn.execute(
                "SELECT rolname FROM pg_roles WHERE rolname LIKE %s ORDER BY length(rolname) DESC", (f"{group}%",)
            ).fetchall():
                conn.execute(f'DROP ROLE "{role}"')


def run(
    study: Study,
    mode: str,
    pace: tuple[float, float],
    seconds: float,
    coders: tuple[str, ...],
    lead: bool,
    as_owner: bool = False,
    poll_ms: float = 0.0,
) -> dict:
    """The coders (and the lead) at once on ``study``; counts the rows after."""
    share = shares(study.ids, CODERS)
    targets = {c: (study.owner, c) for c in coders} if as_owner else study.targets
    with tempfile.TemporaryDirectory() as tmp:
        stop = Path(tmp) / "stop"
        procs = [
            spawn(
                "coder",
                {
                    "target": targets[c][0],
                    "user": targets[c][1],
                    "coder": c,
                    "transcripts": share[c],
                    "pace": list(pace),
                    "seconds": seconds,
                    "folder": tmp,
                    "poll_ms": poll_ms,
                },
            )
            for c in coders
        ]
        lead_proc = None
        if lead:
            target, user = study.targets[LEAD]
            lead_spec = {
                "target": target,
                "user": user,
                "folder": tmp,
                "stop_file": str(stop),
                "pause": 1.0,
                "poll_ms": poll_ms,
            }
            lead_proc = spawn("lead", lead_spec)
        expected = len(procs) + (1 if lead_proc else 0)
        while len(list(Path(tmp).glob("ready-*"))) < expected:
            if any(p.poll() is not None for p in [*procs, *([lead_proc] if lead_proc else [])]):
                break  # a process died before it was ready: collect() reports it
            time.sleep(0.02)
        load = os.getloadavg()[0]
        (Path(tmp) / "go").write_text(str(time.time() + 0.2))
        results = [collect(p) for p in procs]
        stop.write_text("done")
        lead_result = collect(lead_proc) if lead_proc else None
    codings, marks, decisions = study.counts()
    latencies = [x for r in results for x in r["latencies_ms"]]
    keys = len(latencies)
    lost = sum((r["coder"], seg, code) not in codings for r in results for seg, code in r["saved"])
    lost += sum((r["coder"], seg) not in marks for r in results for seg in r["done"])
    errors = sum(r["n_errors"] for r in results)
    first_errors = [e for r in results for e in r["errors"]][:3]
    out = {
        "engine": study.engine,
        "mode": mode,
        "coders": len(coders),
        "keys": keys,
        "writes": sum(len(r["saved"]) + len(r["done"]) for r in results),
        "lost": lost,
        "errors": errors,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else 0.0,
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1) if latencies else 0.0,
        "cpu_p50_ms": round(statistics.median(c for r in results for c in r["cpu_ms"]), 1) if latencies else 0.0,
        "cpu_p95_ms": round(percentile([c for r in results for c in r["cpu_ms"]], 0.95), 1),
        "lock_wait_p50_ms": round(statistics.median(w for r in results for w in r["lock_ms"]), 1) if latencies else 0.0,
        "lock_wait_p95_ms": round(percentile([w for r in results for w in r["lock_ms"]], 0.95), 1),
        "open_s_max": round(max(r["open_s"] for r in results), 2),
        "load_1min": round(load, 1),
        "first_errors": first_errors,
    }
    if lead_result is not None:
        lost_decisions = sum(tuple(d) not in decisions for d in lead_result["decisions"])
        out["lead"] = {
            "passes": lead_result["passes"],
            "accepted": lead_result["accepted"],
            "decided": lead_result["decided"],
            "lost": lost_decisions,
            "errors": lead_result["n_errors"],
            "first_errors": lead_result["errors"][:3],
            "decide_p95_ms": round(percentile(lead_result["decide_ms"], 0.95), 1),
            "accept_p50_ms": round(statistics.median(lead_result["accept_ms"]), 1) if lead_result["accept_ms"] else 0.0,
        }
        out["lost"] += lost_decisions
        out["errors"] += lead_result["n_errors"]
    return out


def show(r: dict, baseline_p95: float | None = None) -> None:
    ok = r["lost"] == 0 and r["errors"] == 0 and r["p95_ms"] < TARGET_P95_MS
    ratio = f", {r['p95_ms'] / baseline_p95:.2f}x the solo p95" if baseline_p95 else ""
    print(
        f"{r['engine']:<10} {r['mode']:<10} {r['coders']:>2} coders: {r['writes']:>5} writes, lost {r['lost']}, "
        f"errors {r['errors']}, p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, max {r['max_ms']} ms"
        f"{ratio}; CPU per key p50 {r['cpu_p50_ms']} / p95 {r['cpu_p95_ms']} ms"
        + (
            f"; waiting for the write lock p50 {r['lock_wait_p50_ms']} / p95 {r['lock_wait_p95_ms']} ms"
            if r["engine"] == "sqlite"
            else ""
        )
        + f"; slowest open {r['open_s_max']} s; "
        f"machine load {r['load_1min']} {'ok' if ok else 'MISSED'}"
        + (f" {r['first_errors']}" if r["first_errors"] else "")
    )
    lead = r.get("lead")
    if lead:
        print(
            f"{'':<22}lead: {lead['passes']} passes, {lead['accepted']} agreed accepted, {lead['decided']} decided "
            f"(p95 {lead['decide_p95_ms']} ms), accept-agreed p50 {lead['accept_p50_ms']} ms, lost {lead['lost']}, "
            f"errors {lead['errors']}" + (f" {lead['first_errors']}" if lead["first_errors"] else "")
        )


def bench_engine(engine: str, args, base: str | None, folder: Path) -> dict:
    """Baseline (one coder alone, flat out), then paced and flat-out teams, each on a fresh study."""
    runs: dict[str, list[dict]] = {"solo": [], "paced": [], "flat": []}
    modes = [m for m in ("solo", "paced", "flat") if m in args.modes.split(",")]
    if engine == "postgresql" and "solo" in modes:  # the same share over the owner's connection: the policies' cost
        runs["solo-owner"] = []
        modes.insert(1, "solo-owner")
    for _ in range(args.repeat):
        for mode in modes:
            if mode == "paced" and args.paced_seconds <= 0:
                continue
            study = Study(engine, args.transcripts, base, folder)
            try:
                if mode == "solo":
                    r = run(study, mode, (0.0, 0.0), 0, CODERS[:1], lead=False, poll_ms=args.sqlite_poll_ms)
                elif mode == "solo-owner":
                    r = run(study, mode, (0.0, 0.0), 0, CODERS[:1], lead=False, as_owner=True)
                elif mode == "paced":
                    r = run(study, mode, (0.3, 0.5), args.paced_seconds, CODERS, lead=True, poll_ms=args.sqlite_poll_ms)
                else:
                    r = run(study, mode, (0.0, 0.0), 0, CODERS, lead=True, poll_ms=args.sqlite_poll_ms)
            finally:
                study.drop()
            show(r, runs["solo"][-1]["p95_ms"] if mode not in ("solo", "solo-owner") and runs["solo"] else None)
            runs[mode].append(r)
    summary: dict[str, dict] = {}
    for mode, rs in runs.items():
        if not rs:
            continue
        p95s = [r["p95_ms"] for r in rs]
        summary[mode] = {
            "p95_ms_min": min(p95s),
            "p95_ms_median": statistics.median(p95s),
            "p50_ms_median": statistics.median(r["p50_ms"] for r in rs),
            "writes": sum(r["writes"] for r in rs),
            "lost": sum(r["lost"] for r in rs),
            "errors": sum(r["errors"] for r in rs),
        }
    solo = summary["solo"]["p95_ms_median"] if "solo" in summary else None
    for mode in ("paced", "flat"):
        if mode in summary and solo:
            summary[mode]["p95_ratio_to_solo"] = round(summary[mode]["p95_ms_median"] / solo, 2)
    if "solo-owner" in summary and summary["solo-owner"]["p50_ms_median"]:
        # the same keys as the coder's own role (row-level security) over the owner's connection
        summary["solo"]["p50_ratio_to_owner"] = round(
            summary["solo"]["p50_ms_median"] / summary["solo-owner"]["p50_ms_median"], 2
        )
    print(
        f"{engine}: "
        + "; ".join(f"{m} p95 min {s['p95_ms_min']} / median {s['p95_ms_median']} ms" for m, s in summary.items())
    )
    return {"engine": engine, "summary": summary, "runs": runs}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] in ("--coder", "--lead"):
        spec = json.loads(sys.argv[2])
        (coder_main if sys.argv[1] == "--coder" else lead_main)(spec)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=int, default=200)
    parser.add_argument("--paced-seconds", type=float, default=30.0, help="how long the paced team keys (0: skip)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each kind (min and median are printed)")
    parser.add_argument("--postgres", metavar="URL", default=os.environ.get("QUALCODE_TEST_POSTGRES"))
    parser.add_argument(
        "--sqlite-poll-ms",
        type=float,
        default=0.0,
        help="experiment: a waiting SQLite writer asks for the lock every N ms (default: qualcode's own)",
    )
    parser.add_argument("--modes", default="solo,paced,flat", help="which runs (solo, paced, flat)")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    args = parser.parse_args()
    base = args.postgres.replace("postgresql+psycopg://", "postgresql://") if args.postgres else None
    engines = [] if args.postgres_only else ["sqlite"]
    if base and not args.sqlite_only:
        engines.append("postgresql")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for engine in engines:
            results.append(bench_engine(engine, args, base, Path(tmp)))
    ok = all(
        s["lost"] == 0 and s["errors"] == 0 and (mode in ("solo", "solo-owner") or s["p95_ms_median"] < TARGET_P95_MS)
        for r in results
        for mode, s in r["summary"].items()
    )
    summary = {r["engine"]: r["summary"] for r in results}
    print(
        json.dumps(
            {
                "bench": "team",
                "transcripts": args.transcripts,
                "sqlite_poll_ms": args.sqlite_poll_ms or None,
                "coders": len(CODERS),
                "target_p95_ms": TARGET_P95_MS,
                "ok": ok,
                "results": summary,
            }
        )
    )


if __name__ == "__main__":
    main()
