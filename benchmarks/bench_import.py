"""Import benchmark: 1,000 seeded transcripts of ~8,000 words in speaker turns.

Prints wall time, segments per second and peak memory of ``qualcode`` import, and the
ratio to a baseline that reads the same files, splits turns with one regular expression
and inserts the same rows with raw ``sqlite3`` ``executemany`` in one transaction.
The last line is one JSON object. ``--small`` runs a tenth of the size.

Both sides include creating their tables. qualcode commits each file on its own (a failed
file leaves nothing behind) into its full schema (indexes, foreign keys, audit trail, WAL
journal); the baseline does the same reading, splitting and inserting without those
guarantees (one commit, three bare tables), so it is the floor to measure against. Processor (CPU) seconds of this process are printed beside wall time
because the machine is shared: they move less with other people's load.

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
import sys
import tempfile
import time
import uuid
from pathlib import Path

WORDS = ("we", "planning", "coach", "the", "students", "data", "time", "team", "lesson", "and", "a", "to",
         "principal", "shared", "goals", "trust", "math", "feedback", "meeting", "together", "really", "think")
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

    Returns wall seconds, processor seconds and the number of segments.
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE transcript (id INTEGER PRIMARY KEY, title TEXT, content_hash TEXT, text TEXT);"
        "CREATE TABLE speaker (id INTEGER PRIMARY KEY, transcript_id INT, label TEXT);"
        "CREATE TABLE segment (id INTEGER PRIMARY KEY, transcript_id INT, position INT, start INT, \"end\" INT, speaker_id INT);"
    )
    segments = 0
    with conn:
        for tid, path in enumerate(sorted(folder.glob("*.txt")), start=1):
            text = path.read_text(encoding="utf-8")
            conn.execute("INSERT INTO transcript VALUES (?, ?, ?, ?)",
                         (tid, path.stem, hashlib.sha256(text.encode()).hexdigest(), text))
            labels = list(TURN_RE.finditer(text))
            speaker_ids: dict[str, int] = {}
            for m in labels:
                if m.group(1) not in speaker_ids:
                    cur = conn.execute("INSERT INTO speaker (transcript_id, label) VALUES (?, ?)", (tid, m.group(1)))
                    speaker_ids[m.group(1)] = cur.lastrowid
            rows = [(tid, i, m.end(), labels[i].start() if i < len(labels) else len(text), speaker_ids[m.group(1)])
                    for i, m in enumerate(labels, start=1)]
            conn.executemany("INSERT INTO segment (transcript_id, position, start, \"end\", speaker_id) VALUES (?, ?, ?, ?, ?)", rows)
            segments += len(rows)
    conn.close()
    return time.perf_counter() - started, time.process_time() - cpu_started, segments


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


def qualcode_import(folder: Path, target: str) -> tuple[float, float, int]:
    from qualcode.ingest.importer import ImportOptions, import_paths
    from qualcode.project import Project

    started, cpu_started = time.perf_counter(), time.process_time()
    with Project(target, create=True) as project:
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
    args = parser.parse_args()
    files = 100 if args.small else 1000
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        folder = tmp_path / "corpus"
        folder.mkdir()
        generate(folder, files, 8000)
        base_s, base_cpu, base_segments = baseline(folder, tmp_path / "baseline.db")
        drop = None
        target = str(tmp_path / "bench.db")
        if args.project:
            target, drop = fresh_postgres(args.project) if "://" in args.project else (args.project, None)
        try:
            wall_s, cpu_s, segments = qualcode_import(folder, target)
        finally:
            if drop:
                drop()
    if segments != base_segments:
        sys.exit(f"segment counts differ: qualcode {segments}, baseline {base_segments}")
    engine = "postgresql" if args.project and "://" in args.project else "sqlite"
    rate = segments / wall_s
    print(f"transcripts: {files} (~8,000 words each), segments: {segments}, engine: {engine}")
    print(f"baseline (regex + sqlite3 executemany): {base_s:.2f} s (cpu {base_cpu:.2f} s)")
    print(f"qualcode import: {wall_s:.2f} s (cpu {cpu_s:.2f} s), {rate:,.0f} segments/s, peak RSS {peak_rss_mb():.0f} MB")
    print(f"ratio: {wall_s / base_s:.2f} (target <= 2.0); cpu ratio {cpu_s / base_cpu:.2f}"
          + (" (the database server's work is not in the cpu figure)" if engine == "postgresql" else ""))
    print(json.dumps({"ratio": round(wall_s / base_s, 3), "peak_rss_mb": round(peak_rss_mb(), 1),
                      "segments_per_s": round(rate, 1), "wall_s": round(wall_s, 3)}))


if __name__ == "__main__":
    main()
