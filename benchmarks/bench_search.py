"""Corpus search benchmark: how long ``qualcode search`` takes, in-process and as a fresh process.

Studies: the demo study (17 transcripts, 507 segments, built with ``qualcode demo --no-tui``) and a
larger one made from it: the demo's transcripts copied ``--copies`` times (default 10: 170
transcripts, 5,070 segments), each copy a transcript of its own.

In-process figures (``qualcode.assist.search.search`` on an open project, the first run untimed so
no figure pays for imports or the lemma table): words (``teach``), a phrase (``"student work"``),
lemmas (``teach --lemma``), a regular expression (``co-?teach\\w*``). The baseline does the same
work with nothing of qualcode: one SQL query through the standard ``sqlite3`` module for every
segment's text, sliced from its transcript, and the standard ``re`` module's ``finditer`` with the
same pattern (for lemmas, the pattern of the words the table maps to ``teach``); the ratio divides
a figure's best by its baseline's best.

Fresh-process figures (what the user waits for): ``qualcode -p STUDY search teach --as ana -f csv``
and the same with ``--lemma``, against ``python -c pass`` and against a listing that opens the same
project (``qualcode -p STUDY transcripts list -f csv``: what any command pays to start and open a
project), timed in the same run.

Each figure runs ``--repeat`` times (default 5), interleaved; min and median are printed (the
machine is shared: the best run measures the work, slower ones other people's load).
Run from the repository root:  python benchmarks/bench_search.py [--repeat 5] [--copies 10]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUERIES = {
    "words": ("teach", False, False, r"(?<!\w)(?:teach)(?!\w)"),
    "phrase": ('"student work"', False, False, r"(?<!\w)(?:student\s+work)(?!\w)"),
    "lemmas": ("teach", True, False, None),  # baseline pattern: the table's forms of teach
    "regex": (r"co-?teach\w*", False, True, r"co-?teach\w*"),
}


def build_demo(folder: Path) -> Path:
    path = folder / "demo.db"
    subprocess.run(
        [sys.executable, "-m", "qualcode", "demo", "--no-tui", "-p", str(path)], check=True, capture_output=True
    )
    return path


def build_copies(demo: Path, folder: Path, copies: int) -> Path:
    """The demo with every transcript (its speakers and segments) copied ``copies`` times in all."""
    import shutil

    from sqlmodel import select

    from qualcode.project import Project
    from qualcode.store.models import Segment, Speaker, Transcript

    path = folder / f"demo_x{copies}.db"
    shutil.copy(demo, path)
    with Project(path) as project, project.transaction() as s:
        originals = list(s.exec(select(Transcript)).all())
        for n in range(2, copies + 1):
            for t in originals:
                copy = Transcript(
                    title=f"{t.title} ({n})",
                    kind=t.kind,
                    case_id=t.case_id,
                    content_hash=f"{t.content_hash}-{n}",
                    unit=t.unit,
                    text=t.text,
                )
                s.add(copy)
                s.flush()
                speakers = {}
                for sp in s.exec(select(Speaker).where(Speaker.transcript_id == t.id)).all():
                    new = Speaker(transcript_id=copy.id, label=sp.label, role=sp.role, pseudonym=sp.pseudonym)
                    s.add(new)
                    s.flush()
                    speakers[sp.id] = new.id
                for seg in s.exec(select(Segment).where(Segment.transcript_id == t.id)).all():
                    s.add(
                        Segment(
                            transcript_id=copy.id,
                            position=seg.position,
                            start=seg.start,
                            end=seg.end,
                            speaker_id=speakers.get(seg.speaker_id),
                            unit=seg.unit,
                        )
                    )
    return path


def baseline(path: Path, pattern: str) -> int:
    """Every segment's text by one SQL query, matched with ``re``: the floor of the same work."""
    compiled = re.compile(pattern, re.IGNORECASE)
    conn = sqlite3.connect(path)
    try:
        texts = dict(conn.execute("SELECT id, text FROM qc_transcript"))
        hits = 0
        for tid, a, b in conn.execute('SELECT transcript_id, start, "end" FROM qc_segment'):
            hits += sum(1 for _ in compiled.finditer(texts[tid][a:b]))
        return hits
    finally:
        conn.close()


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def in_process(path: Path, repeat: int) -> dict[str, dict[str, float]]:
    from qualcode.assist.language import forms_of
    from qualcode.assist.search import SearchQuery, search
    from qualcode.project import Project

    lemma_pattern = r"(?<!\w)(?:" + "|".join(sorted(forms_of("teach") or {"teach"}, key=len, reverse=True)) + r")(?!\w)"
    figures: dict[str, dict[str, float]] = {}
    with Project(path) as project:
        runs: dict[str, list[float]] = {name: [] for name in QUERIES}
        base: dict[str, list[float]] = {name: [] for name in QUERIES}
        hits: dict[str, int] = {}
        for name, (text, lemma, is_regex, _) in QUERIES.items():  # untimed: imports, the lemma table
            hits[name] = len(search(project, "ana", SearchQuery(text, lemma=lemma, regex=is_regex)).hits)
        for _ in range(repeat):
            for name, (text, lemma, is_regex, pattern) in QUERIES.items():
                query = SearchQuery(text, lemma=lemma, regex=is_regex)
                seconds, _ = timed(lambda query=query: search(project, "ana", query))
                runs[name].append(seconds)
                seconds, base_hits = timed(lambda pattern=pattern: baseline(path, pattern or lemma_pattern))
                base[name].append(seconds)
                if name != "lemmas" and base_hits != hits[name]:
                    raise SystemExit(f"{name}: qualcode found {hits[name]} hits, the baseline {base_hits}")
        for name in QUERIES:
            figures[name] = {
                "hits": hits[name],
                "min_s": min(runs[name]),
                "median_s": statistics.median(runs[name]),
                "baseline_min_s": min(base[name]),
                "baseline_median_s": statistics.median(base[name]),
                "ratio": min(runs[name]) / min(base[name]),
            }
    return figures


def fresh(path: Path, repeat: int) -> dict[str, dict[str, float]]:
    env = {k: v for k, v in os.environ.items() if k not in {"QUALCODE_PROJECT", "QUALCODE_USER", "COLUMNS"}}
    qc = [sys.executable, "-m", "qualcode", "-p", str(path)]
    commands = {
        "python_pass": [sys.executable, "-c", "pass"],
        "cli_listing": [*qc, "transcripts", "list", "-f", "csv"],
        "cli_words": [*qc, "search", "teach", "--as", "ana", "-f", "csv"],
        "cli_lemmas": [*qc, "search", "teach", "--lemma", "--as", "ana", "-f", "csv"],
    }
    runs: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():  # untimed: bytecode compiled once
        subprocess.run(cmd, env=env, check=True, capture_output=True)
    for _ in range(repeat):
        for name, cmd in commands.items():
            seconds, _ = timed(lambda cmd=cmd: subprocess.run(cmd, env=env, check=True, capture_output=True))
            runs[name].append(seconds)
    floor, listing = min(runs["python_pass"]), min(runs["cli_listing"])
    return {
        name: {
            "min_s": min(r),
            "median_s": statistics.median(r),
            "ratio_to_python": min(r) / floor,
            "ratio_to_listing": min(r) / listing,
        }
        for name, r in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    result: dict[str, object] = {"repeat": args.repeat}
    with tempfile.TemporaryDirectory() as folder:
        demo = build_demo(Path(folder))
        big = build_copies(demo, Path(folder), args.copies)
        for label, path in (("demo", demo), (f"demo_x{args.copies}", big)):
            figures = in_process(path, args.repeat)
            segments = sqlite3.connect(path).execute("SELECT count(*) FROM qc_segment").fetchone()[0]
            print(f"{label}: {segments} segments, in-process (min / median; baseline sqlite3 + re min; ratio)")
            for name, f in figures.items():
                print(
                    f"  {name:7} {f['hits']:5} hits  {f['min_s'] * 1000:8.1f} / {f['median_s'] * 1000:8.1f} ms"
                    f"   baseline {f['baseline_min_s'] * 1000:7.1f} ms   ×{f['ratio']:.1f}"
                )
            result[label] = {"segments": segments, "in_process": figures}
        cli = fresh(demo, args.repeat)
        print("demo, fresh process (min / median; ratio to python -c pass; to `transcripts list`)")
        for name, f in cli.items():
            print(
                f"  {name:12} {f['min_s'] * 1000:8.1f} / {f['median_s'] * 1000:8.1f} ms"
                f"   ×{f['ratio_to_python']:.1f}   ×{f['ratio_to_listing']:.2f}"
            )
        result["fresh_process_demo"] = cli
    print(json.dumps(result))


if __name__ == "__main__":
    main()
