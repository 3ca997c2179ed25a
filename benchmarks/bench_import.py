"""Import benchmark: 1,000 seeded transcripts of ~8,000 words in speaker turns.

Prints wall time, segments per second and peak memory of ``qualcode`` import, and the
ratio to a baseline that reads the same files, splits turns with one regular expression
and inserts the same rows with raw ``sqlite3`` ``executemany`` in one transaction.
The last line is one JSON object. ``--small`` runs a tenth of the size.

Both sides include creating their tables and insert the same rows (every column of the
case, transcripts, speakers, segments and audit events). qualcode commits each file on its
own (a failed file leaves nothing behind) into its full schema (constraints, indexes,
foreign keys, WAL journal); the baseline does the same reading, splitting and inserting
without those guarantees (one commit, bare tables), so it is the floor to measure against.

The machine is shared and noisy, so both sides run ``--repeat`` times (default 5),
interleaved, each into a fresh database; the ratio compares the best run of each side
(as ``timeit`` does: slower runs measure other people's load, not the code). Every run
is printed, with the median of the per-run ratios beside it. Processor (CPU) seconds of
this process are printed too: they move less with other people's load.

    python benchmarks/bench_import.py --small
    python benchmarks/bench_import.py --project postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

WORDS = (
    "we",
    "planning",
    "coach",
    "the",
    "students",
    "data",
    "time",
    "team",
    "lesson",
    "and",
    "a",
    "to",
    "principal",
    "shared",
    "goals",
    "trust",
    "math",
    "feedback",
    "meeting",
    "together",
    "really",
    "think",
)
SPEAKERS = ("Interviewer", "P1", "P2", "Coach Reyes", "Ms. Park")
TURN_RE = re.compile(r"^([^\n:]{1,40}):[ \t]+", re.MULTILINE)


def generate(folder: Path, files: int, words_per_file: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    for n in range(files):
        turns, count = [], 0
        while count < words_per_file:
            length = rng.randint(20, 140)
            sentence = " ".join(rng.choice(WORDS) for _ in range(length))
            turns.append(f"{rng.choice(SPEAKERS)}: {sentence.capitalize()}.")
            count += length
        (folder / f"t{n:04d}.txt").write_text("\n\n".join(turns) + "\n", encoding="utf-8")


def baseline(folder: Path, db: Path) -> tuple[float, float, int]:
    """Read, split with one regex, insert the same rows with sqlite3 executemany, one transaction.

    The same rows means every column qualcode stores for the case, each transcript, its
    speakers, its segments and its audit event, with the same values; the tables are bare
    (no constraints or indexes) and the journal is SQLite's default. Offsets are the
    regex's, untrimmed. Returns wall seconds, processor seconds and the number of segments.
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE qc_case (id INTEGER PRIMARY KEY, name TEXT, description TEXT, created_at TEXT);"
        "CREATE TABLE qc_transcript (id INTEGER PRIMARY KEY, title TEXT, kind TEXT, case_id INT, date TEXT,"
        " source_name TEXT, source_format TEXT, content_hash TEXT, unit TEXT, text TEXT, created_at TEXT);"
        "CREATE TABLE qc_speaker (id INTEGER PRIMARY KEY, transcript_id INT, label TEXT, role TEXT, pseudonym TEXT,"
        " attributes TEXT);"
        'CREATE TABLE qc_segment (id INTEGER PRIMARY KEY, transcript_id INT, position INT, start INT, "end" INT,'
        " speaker_id INT, unit TEXT, time_start REAL, time_end REAL);"
        "CREATE TABLE qc_audit (id INTEGER PRIMARY KEY, at TEXT, actor TEXT, action TEXT, entity TEXT, entity_id INT,"
        ' "before" TEXT, "after" TEXT);'
    )
    segments = 0
    with conn:
        now = str(datetime.now(UTC).replace(tzinfo=None))
        conn.execute("INSERT INTO qc_case VALUES (1, 'bench', '', ?)", (now,))
        for tid, path in enumerate(sorted(folder.glob("*.txt")), start=1):
            text = path.read_text(encoding="utf-8")
            digest = hashlib.sha256(text.encode()).hexdigest()
            now = str(datetime.now(UTC).replace(tzinfo=None))
            conn.execute(
                "INSERT INTO qc_transcript VALUES (?, ?, 'interview', 1, NULL, ?, 'txt', ?, 'turn', ?, ?)",
                (tid, path.stem, path.name, digest, text, now),
            )
            labels = list(TURN_RE.finditer(text))
            speaker_ids: dict[str, int] = {}
            for m in labels:
                if m.group(1) not in speaker_ids:
                    cur = conn.execute(
                        "INSERT INTO qc_speaker (transcript_id, label, role, pseudonym, attributes)"
                        " VALUES (?, ?, 'unknown', NULL, '{}')",
                        (tid, m.group(1)),
                    )
                    speaker_ids[m.group(1)] = cur.lastrowid
            rows = [
                (tid, i, m.end(), labels[i].start() if i < len(labels) else len(text), speaker_ids[m.group(1)])
                for i, m in enumerate(labels, start=1)
            ]
            conn.executemany(
                'INSERT INTO qc_segment (transcript_id, position, start, "end", speaker_id, unit,'
                " time_start, time_end) VALUES (?, ?, ?, ?, ?, 'turn', NULL, NULL)",
                rows,
            )
            conn.execute(
                'INSERT INTO qc_audit (at, actor, action, entity, entity_id, "before", "after")'
                " VALUES (?, '', 'transcript.import', 'qc_transcript', ?, 'null', ?)",
                (
                    now,
                    tid,
                    json.dumps(
                        {
                            "title": path.stem,
                            "case": "bench",
                            "kind": "interview",
                            "source_name": path.name,
                            "content_hash": digest,
                            "segments": len(rows),
                            "speakers": len(speaker_ids),
                        }
                    ),
                ),
            )
            segments += len(rows)
    conn.close()
    return time.perf_counter() - started, time.process_time() - cpu_started, segments


def baseline_postgres(folder: Path, url: str) -> tuple[float, float, int]:
    """PostgreSQL's floor: the same reading, splitting and rows as ``baseline``, streamed with COPY.

    Bare tables (no constraints, indexes or foreign keys) in a fresh schema, one transaction,
    one COPY per table for the whole corpus: the fastest way PostgreSQL takes these rows.
    """
    import psycopg

    target, drop = fresh_postgres(url)
    plain = target.replace("postgresql+psycopg://", "postgresql://")
    started, cpu_started = time.perf_counter(), time.process_time()
    segments = 0
    try:
        with psycopg.connect(plain) as conn, conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE qc_case (id INT, name TEXT, description TEXT, created_at TIMESTAMP);"
                "CREATE TABLE qc_transcript (id INT, title TEXT, kind TEXT, case_id INT, date TEXT,"
                " source_name TEXT, source_format TEXT, content_hash TEXT, unit TEXT, text TEXT,"
                " created_at TIMESTAMP);"
                "CREATE TABLE qc_speaker (id INT, transcript_id INT, label TEXT, role TEXT, pseudonym TEXT,"
                " attributes JSON);"
                'CREATE TABLE qc_segment (transcript_id INT, position INT, start INT, "end" INT,'
                " speaker_id INT, unit TEXT, time_start FLOAT, time_end FLOAT);"
                "CREATE TABLE qc_audit (at TIMESTAMP, actor TEXT, action TEXT, entity TEXT, entity_id INT,"
                ' "before" JSON, "after" JSON)'
            )
            now = datetime.now(UTC).replace(tzinfo=None)
            cur.execute("INSERT INTO qc_case VALUES (1, 'bench', '', %s)", (now,))
            transcripts, speakers, segment_rows, audits = [], [], [], []
            speaker_id = 0
            for tid, path in enumerate(sorted(folder.glob("*.txt")), start=1):
                text = path.read_text(encoding="utf-8")
                digest = hashlib.sha256(text.encode()).hexdigest()
                now = datetime.now(UTC).replace(tzinfo=None)
                transcripts.append((tid, path.stem, "interview", 1, None, path.name, "txt", digest, "turn", text, now))
                labels = list(TURN_RE.finditer(text))
                speaker_ids: dict[str, int] = {}
                for m in labels:
                    if m.group(1) not in speaker_ids:
                        speaker_id += 1
                        speaker_ids[m.group(1)] = speaker_id
                        speakers.append((speaker_id, tid, m.group(1), "unknown", None, "{}"))
                rows = [
                    (tid, i, m.end(), labels[i].start() if i < len(labels) else len(text), speaker_ids[m.group(1)])
                    for i, m in enumerate(labels, start=1)
                ]
                segment_rows.extend((*row, "turn", None, None) for row in rows)
                after = {
                    "title": path.stem,
                    "case": "bench",
                    "kind": "interview",
                    "source_name": path.name,
                    "content_hash": digest,
                    "segments": len(rows),
                    "speakers": len(speaker_ids),
                }
                audits.append((now, "", "transcript.import", "qc_transcript", tid, None, json.dumps(after)))
                segments += len(rows)
            for table, rows in (
                ("qc_transcript", transcripts),
                ("qc_speaker", speakers),
                ("qc_segment", segment_rows),
                ("qc_audit", audits),
            ):
                with cur.copy(f"COPY {table} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            conn.commit()
        return time.perf_counter() - started, time.process_time() - cpu_started, segments
    finally:
        drop()


def fresh_postgres(url: str) -> tuple[str, callable]:
    """A URL whose search_path is a new schema, and a function that drops it."""
    import psycopg

    schema = f"qc_bench_{uuid.uuid4().hex[:10]}"
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")

    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", drop


def qualcode_import(folder: Path, target: str, durability: str = "normal") -> tuple[float, float, int]:
    from qualcode.ingest.importer import ImportOptions, import_paths
    from qualcode.project import Project

    started, cpu_started = time.perf_counter(), time.process_time()
    if durability != "normal":  # set as `qualcode durability full` would, before the project is reopened
        with Project(target, create=True) as project, project.transaction() as s:
            from qualcode.store.models import Meta

            s.add(Meta(key="durability", value=durability))
    with Project(target, create=durability == "normal") as project:
        outcomes = import_paths(project, [folder], ImportOptions(case="bench"))
    failed = [o for o in outcomes if o.status != "imported"]
    if failed:
        sys.exit(f"benchmark import failed: {failed[0].message}")
    return time.perf_counter() - started, time.process_time() - cpu_started, sum(o.segments for o in outcomes)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a tenth of the size (100 transcripts)")
    parser.add_argument("--project", help="database URL to import into (default: a temporary SQLite file)")
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs of each side; the best of each is compared (default 5)"
    )
    parser.add_argument(
        "--durability",
        choices=("normal", "full"),
        default="normal",
        help="the project's durability setting (SQLite: full flushes the journal at every commit)",
    )
    args = parser.parse_args()
    files = 100 if args.small else 1000
    engine = "postgresql" if args.project and "://" in args.project else "sqlite"
    if args.project and engine == "sqlite" and args.repeat > 1:
        sys.exit("--project with a SQLite file imports once: pass --repeat 1 (later runs would skip every file)")
    base_runs, qc_runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        folder = tmp_path / "corpus"
        folder.mkdir()
        generate(folder, files, 8000)
        for run in range(max(1, args.repeat)):
            if engine == "postgresql":
                base_s, base_cpu, base_segments = baseline_postgres(folder, args.project)
            else:
                base_s, base_cpu, base_segments = baseline(folder, tmp_path / f"baseline{run}.db")
            drop = None
            target = str(tmp_path / f"bench{run}.db")
            if args.project:
                target, drop = fresh_postgres(args.project) if engine == "postgresql" else (args.project, None)
            try:
                wall_s, cpu_s, segments = qualcode_import(folder, target, args.durability)
            finally:
                if drop:
                    drop()
            if segments != base_segments:
                sys.exit(f"segment counts differ: qualcode {segments}, baseline {base_segments}")
            base_runs.append((base_s, base_cpu))
            qc_runs.append((wall_s, cpu_s))
    print(
        f"transcripts: {files} (~8,000 words each), segments: {segments}, engine: {engine},"
        f" durability: {args.durability}, runs: {len(qc_runs)}"
    )
    for n, ((b_s, b_cpu), (q_s, q_cpu)) in enumerate(zip(base_runs, qc_runs), start=1):
        print(
            f"  run {n}: baseline {b_s:.2f} s (cpu {b_cpu:.2f}), qualcode {q_s:.2f} s (cpu {q_cpu:.2f}),"
            f" ratio {q_s / b_s:.2f}"
        )
    base_s, base_cpu = min(r[0] for r in base_runs), min(r[1] for r in base_runs)
    wall_s, cpu_s = min(r[0] for r in qc_runs), min(r[1] for r in qc_runs)
    median_ratio = statistics.median(q[0] / b[0] for b, q in zip(base_runs, qc_runs))
    rate = segments / wall_s
    floor = "regex + COPY into bare PostgreSQL tables" if engine == "postgresql" else "regex + sqlite3 executemany"
    print(f"baseline ({floor}), best: {base_s:.2f} s (cpu {base_cpu:.2f} s)")
    print(
        f"qualcode import, best: {wall_s:.2f} s (cpu {cpu_s:.2f} s), {rate:,.0f} segments/s,"
        f" peak RSS {peak_rss_mb():.0f} MB"
    )
    print(
        f"ratio (best to best): {wall_s / base_s:.2f} (target <= 2.0); median of per-run ratios {median_ratio:.2f}; "
        f"cpu ratio {cpu_s / base_cpu:.2f}"
        + (" (the database server's work is not in the cpu figure)" if engine == "postgresql" else "")
    )
    print(
        json.dumps(
            {
                "ratio": round(wall_s / base_s, 3),
                "peak_rss_mb": round(peak_rss_mb(), 1),
                "segments_per_s": round(rate, 1),
                "wall_s": round(wall_s, 3),
                "median_run_ratio": round(median_ratio, 3),
                "runs": len(qc_runs),
                "engine": engine,
                "durability": args.durability,
            }
        )
    )


if __name__ == "__main__":
    main()
