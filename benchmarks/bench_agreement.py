"""Benchmark: the full agreement report on 4 coders x 50,000 segments x 200 codes (~5% density, seeded).

Prints the wall time of ``qualcode agreement --format json`` (run in-process; median of
``REPEATS`` runs), its ratio to a baseline that only reads the same codings into numpy
(with the same bulk read the report uses), and its speed-up over doing it by hand per
code (scikit-learn's cohen_kappa_score per pair, statsmodels' fleiss_kappa and the
krippendorff package). The by-hand figure reads the codings once and times the per-code
work on ``NAIVE_CODES`` codes, scaled to all codes. The last line is one JSON object:
wall_s, ratio, speedup_vs_naive.

    python benchmarks/bench_agreement.py [--small] [--keep PATH]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

CODERS, SEGMENTS, CODES, DENSITY = 4, 50_000, 200, 0.05
SEGMENTS_PER_TRANSCRIPT = 500
NAIVE_CODES = 20
REPEATS = 3  # timed runs of the report and the baseline; the median is reported
SEED = 20240501


def build(path: Path, segments: int) -> None:
    from qualcode.project import Project

    Project(path, create=True).close()
    rng = np.random.default_rng(SEED)
    con = sqlite3.connect(path)
    now = "2024-05-01 00:00:00"
    con.execute("INSERT INTO qc_case (id, name, description, created_at) VALUES (1, 'Case', '', ?)", (now,))
    n_transcripts = segments // SEGMENTS_PER_TRANSCRIPT
    per = SEGMENTS_PER_TRANSCRIPT
    con.executemany(
        "INSERT INTO qc_transcript (id, title, kind, case_id, source_name, source_format, content_hash, unit, text,"
        " created_at) VALUES (?, ?, 'interview', 1, '', '', '', 'turn', ?, ?)",
        [(t + 1, f"Transcript {t + 1}", "x" * SEGMENTS_PER_TRANSCRIPT, now) for t in range(n_transcripts)],
    )
    con.executemany(
        "INSERT INTO qc_segment (id, transcript_id, position, start, \"end\", unit) VALUES (?, ?, ?, ?, ?, 'turn')",
        [(i + 1, i // per + 1, i % per + 1, i % per, i % per + 1) for i in range(segments)],
    )
    con.execute(
        "INSERT INTO qc_codebook (id, name, kind, description, active, version, source_name, created_at)"
        " VALUES (1, 'Bench', 'provisional', '', 1, 1, '', ?)",
        (now,),
    )
    con.executemany(
        "INSERT INTO qc_code (id, codebook_id, guid, name, brief, definition, inclusion, exclusion, example,"
        " applicable, position, status, created_version) VALUES (?, 1, ?, ?, '', '', '', '', '', 1, ?, 'active', 1)",
        [(k + 1, f"g{k}", f"Code {k + 1}", k) for k in range(CODES)],
    )
    con.executemany(
        "INSERT INTO qc_coder (id, name, role, created_at) VALUES (?, ?, ?, ?)",
        [(c + 1, f"coder{c + 1}", "coder", now) for c in range(CODERS)] + [(CODERS + 1, "lead", "lead", now)],
    )
    # A shared "truth" per segment and code; each coder copies it with 10% noise, so agreement is realistic.
    truth = rng.random((segments, CODES)) < DENSITY
    rows = []
    for c in range(CODERS):
        flip = rng.random((segments, CODES)) < 0.1 * DENSITY * 2
        mine = truth ^ flip
        seg, code = np.nonzero(mine)
        rows.append(np.column_stack([seg + 1, code + 1, np.full(seg.size, c + 1)]))
    allrows = np.concatenate(rows)
    con.executemany(
        "INSERT INTO qc_coding (segment_id, code_id, coder_id, round, created_at) VALUES (?, ?, ?, 1, ?)",
        ((int(s), int(k), int(c), now) for s, k, c in allrows),
    )
    con.executemany(
        "INSERT INTO qc_segment_status (segment_id, coder_id, round, done_at) VALUES (?, ?, 1, ?)",
        ((s + 1, c + 1, now) for c in range(CODERS) for s in range(segments)),
    )
    con.commit()
    con.close()


def baseline(path: Path) -> float:
    """Only read every coding into numpy (segment and code arrays per coder and round), the fastest way we know.

    It is the report's own bulk read (one joined string per coder and round, parsed by
    numpy), so the ratio measures what the report adds to reading, not a slower reader.
    """
    from qualcode.agreement.reading import int_groups, max_id, packed, unpack
    from qualcode.project import Project
    from qualcode.store.models import Code, Coding

    start = time.perf_counter()
    with Project(path) as p, p.read() as s:
        base = max_id(s, Code.id) + 1
        pairs = packed(Coding.segment_id, Coding.code_id, base)
        for _coder, _round, values in int_groups(s, pairs, Coding.coder_id, Coding.round):
            unpack(values, base)
    return time.perf_counter() - start


def plain_read(path: Path) -> float:
    """For context: the same codings through the driver row by row (``fetchall``), as most code would."""
    start = time.perf_counter()
    con = sqlite3.connect(path)
    np.array(con.execute("SELECT segment_id, code_id, coder_id, round FROM qc_coding").fetchall(), dtype=np.int64)
    con.close()
    return time.perf_counter() - start


def full_report(path: Path) -> tuple[float, dict]:
    from click.testing import CliRunner

    from qualcode.cli.main import cli

    start = time.perf_counter()
    result = CliRunner().invoke(cli, ["agreement", "-p", str(path), "--as", "lead", "--format", "json"])
    wall = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return wall, json.loads(result.output)


def naive(path: Path, segments: int) -> float:
    """By hand, per code: dense 0/1 vectors, then the usual library calls.

    The codings are read once; the per-code work is timed on NAIVE_CODES codes and scaled to all codes.
    """
    from itertools import combinations

    import krippendorff
    from sklearn.metrics import cohen_kappa_score
    from statsmodels.stats.inter_rater import fleiss_kappa

    start = time.perf_counter()
    con = sqlite3.connect(path)
    rows = np.array(con.execute("SELECT segment_id, code_id, coder_id FROM qc_coding").fetchall())
    con.close()
    read = time.perf_counter() - start
    start = time.perf_counter()
    for k in range(1, NAIVE_CODES + 1):
        sel = rows[rows[:, 1] == k]
        x = np.zeros((CODERS, segments), dtype=int)
        x[sel[:, 2] - 1, sel[:, 0] - 1] = 1
        for a, b in combinations(range(CODERS), 2):
            cohen_kappa_score(x[a], x[b])
        s = x.sum(axis=0)
        fleiss_kappa(np.column_stack([CODERS - s, s]))
        krippendorff.alpha(reliability_data=x, level_of_measurement="nominal")
    return read + (time.perf_counter() - start) * CODES / NAIVE_CODES


def median_time(run, repeats: int = REPEATS) -> float:
    return float(np.median([run() for _ in range(repeats)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a tenth of the size (5,000 segments)")
    parser.add_argument("--keep", type=Path, help="keep the generated project here")
    args = parser.parse_args()
    segments = SEGMENTS // 10 if args.small else SEGMENTS
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.db"
        if not path.exists():
            t = time.perf_counter()
            build(path, segments)
            print(f"built {CODERS} coders x {segments} segments x {CODES} codes in {time.perf_counter() - t:.1f} s")
        _, report = full_report(path)  # warm the page cache and imports once
        wall = median_time(lambda: full_report(path)[0])
        base = median_time(lambda: baseline(path))
        plain = plain_read(path)
        by_hand = naive(path, segments)
        print(
            f"codings read baseline (bulk read into numpy): {base:.2f} s;"
            f" the same read row by row (fetchall): {plain:.2f} s"
        )
        print(
            f"qualcode agreement --format json: {wall:.2f} s"
            f" (pooled kappa {report['pooled_kappa']:.3f}, units {report['units']})"
        )
        print(
            f"by hand (sklearn/statsmodels/krippendorff per code, {NAIVE_CODES} codes scaled to {CODES}):"
            f" {by_hand:.1f} s"
        )
        figures = {
            "wall_s": round(wall, 3),
            "ratio": round(wall / base, 2),
            "speedup_vs_naive": round(by_hand / wall, 1),
        }
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
