"""Benchmark: the CQR table and the memo matrix over 1,000,000 consensus codings.

5,000 transcripts in 500 cases, 100 segments each (two participants and an
interviewer), 2 codes per segment from a 40-category CQR codebook. Rows are bulk
inserted with raw SQL into a fresh SQLite project; each display is timed against a
plain SQL GROUP BY over the same rows. ``--small`` runs a tenth of the size.
The last line printed is one JSON object.

    python benchmarks/bench_synthesis.py [--small] [--keep FILE]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qualcode.project import Project
from qualcode.synthesis.cqr import cqr_table
from qualcode.synthesis.matrix import memo_matrix

DOMAINS, CATEGORIES_PER_DOMAIN = 10, 4
SEGMENTS_PER_TRANSCRIPT, CODES_PER_SEGMENT = 100, 2
NOW = "2024-01-01 00:00:00"

BASELINE_SQL = """
SELECT c.code_id, t.case_id, COUNT(*) FROM qc_consensus c
JOIN qc_segment s ON s.id = c.segment_id JOIN qc_transcript t ON t.id = s.transcript_id
WHERE c.present = 1 GROUP BY c.code_id, t.case_id
"""


def build(path: Path, transcripts: int, cases: int, seed: int = 1) -> int:
    Project(path, create=True).close()
    rng = np.random.default_rng(seed)
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous = OFF")
    with con:
        # The tables are read by the lead: while blinded, the consensus is the analysts'.
        con.execute("INSERT INTO qc_coder (name, role, created_at) VALUES ('lead', 'lead', ?)", (NOW,))
        con.executemany(
            "INSERT INTO qc_case (id, name, description, created_at) VALUES (?, ?, '', ?)",
            [(i, f"Site {i:04d}", NOW) for i in range(1, cases + 1)],
        )
        con.executemany(
            "INSERT INTO qc_case_attribute (case_id, name, type, value, number) VALUES (?, 'size', 'number', ?, ?)",
            [(i, str(v), float(v)) for i, v in zip(range(1, cases + 1), rng.integers(50, 2000, cases))],
        )
        con.executemany(
            "INSERT INTO qc_transcript (id, title, kind, case_id, source_name, source_format, content_hash, unit, text,"
            " created_at) VALUES (?, ?, 'interview', ?, '', 'txt', ?, 'turn', '', ?)",
            [(t, f"T{t}", (t - 1) % cases + 1, f"h{t}", NOW) for t in range(1, transcripts + 1)],
        )
        speakers = []
        for t in range(1, transcripts + 1):
            base = (t - 1) * 3
            speakers += [(base + 1, t, "I", "interviewer"), (base + 2, t, "A", "teacher"), (base + 3, t, "B", "coach")]
        con.executemany(
            "INSERT INTO qc_speaker (id, transcript_id, label, role, attributes) VALUES (?, ?, ?, ?, '{}')", speakers
        )
        segments = [
            (((t - 1) * SEGMENTS_PER_TRANSCRIPT) + p, t, p, p * 10, p * 10 + 9, (t - 1) * 3 + 1 + p % 3)
            for t in range(1, transcripts + 1)
            for p in range(1, SEGMENTS_PER_TRANSCRIPT + 1)
        ]
        con.executemany(
            "INSERT INTO qc_segment (id, transcript_id, position, start, end, speaker_id, unit)"
            " VALUES (?, ?, ?, ?, ?, ?, 'turn')",
            segments,
        )
        con.execute(
            "INSERT INTO qc_codebook (id, name, kind, description, active, version, source_name, created_at)"
            " VALUES (1, 'Bench CQR', 'cqr', '', 1, 1, '', ?)",
            (NOW,),
        )
        codes, category_ids, next_id = [], [], 1
        for d in range(DOMAINS):
            domain_id = next_id
            codes.append((domain_id, None, f"Domain {d + 1}", d))
            next_id += 1
            for c in range(CATEGORIES_PER_DOMAIN):
                codes.append((next_id, domain_id, f"Category {d + 1}.{c + 1}", c))
                category_ids.append(next_id)
                next_id += 1
        con.executemany(
            "INSERT INTO qc_code (id, codebook_id, parent_id, guid, name, brief, definition, inclusion, exclusion,"
            " example, applicable, position, status, created_version)"
            " VALUES (?, 1, ?, ?, ?, '', '', '', '', '', 1, ?, 'active', 1)",
            [(i, parent, f"g{i}", name, pos) for i, parent, name, pos in codes],
        )
        n_segments = len(segments)
        # Two different categories per segment: a random first one and a random non-zero offset.
        first = rng.integers(0, len(category_ids), n_segments)
        second = (first + rng.integers(1, len(category_ids), n_segments)) % len(category_ids)
        cat = np.array(category_ids)
        seg_ids = np.arange(1, n_segments + 1)
        rows = [
            (int(s), int(c), NOW)
            for s, c in zip(np.concatenate([seg_ids, seg_ids]), np.concatenate([cat[first], cat[second]]))
        ]
        con.executemany(
            "INSERT INTO qc_consensus (segment_id, code_id, present, method, round, decided_by, decided_at)"
            " VALUES (?, ?, 1, 'import', 1, '', ?)",
            rows,
        )
    con.execute("ANALYZE")
    con.close()
    return len(rows)


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a tenth of the size")
    parser.add_argument("--keep", metavar="FILE", help="build the project here and keep it")
    args = parser.parse_args()
    transcripts, cases = (500, 50) if args.small else (5000, 500)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep) if args.keep else Path(tmp) / "bench.db"
        started = time.perf_counter()
        codings = build(path, transcripts, cases)
        print(
            f"built {codings:,} consensus codings over {transcripts:,} transcripts in {cases} cases "
            f"in {time.perf_counter() - started:.1f} s"
        )
        project = Project(path)
        with project.read() as s:
            s.connection().exec_driver_sql(BASELINE_SQL).fetchall()  # warm the page cache for every contender
            baseline_s, _ = timed(lambda: s.connection().exec_driver_sql(BASELINE_SQL).fetchall())
            cqr_s, cqr = timed(lambda: cqr_table(s, case_unit="transcript", viewer="lead"))
            matrix_s, matrix = timed(lambda: memo_matrix(s, order_by="size", viewer="lead"))
        project.close()
    assert int(cqr.frame["blocks"][cqr.frame["depth"] == 1].sum()) == codings  # every coding counted once
    counts = matrix.counts()
    assert int(counts[counts.index.str.contains(" > ")].to_numpy().sum()) == codings  # and once in the matrix
    print(f"SQL GROUP BY baseline: {baseline_s:.3f} s")
    print(f"CQR table:  {cqr_s:.3f} s ({cqr_s / baseline_s:.2f} x baseline)")
    print(
        f"memo matrix ({len(matrix.rows)} codes x {len(matrix.columns)} cases): {matrix_s:.3f} s "
        f"({matrix_s / baseline_s:.2f} x baseline)"
    )
    print(
        json.dumps(
            {
                "codings": codings,
                "baseline_s": round(baseline_s, 3),
                "cqr_s": round(cqr_s, 3),
                "matrix_s": round(matrix_s, 3),
                "cqr_ratio": round(cqr_s / baseline_s, 2),
                "matrix_ratio": round(matrix_s / baseline_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
