"""Benchmark: REFI-QDA export and re-import of a study of 200 transcripts, 4 coders, 100,000 codings.

The study (seeded) has 200 interviews of 125 turns each (25,000 segments), a codebook of 40 codes,
and 4 coders who each coded every segment once (100,000 codings) and marked everything done.

Timed, each ``REPEATS`` times (min and median printed):

- export in-process (``export_refi_project``) and as a fresh process (``qualcode export qdpx``);
- import in-process (``import_refi_project`` into a new project) and as a fresh process
  (``qualcode import study.qdpx``);
- the baselines: writing the same XML with lxml alone (the same elements and attributes built from
  rows already in memory, serialised, zipped with the sources) and reading it with lxml alone
  (unzip, parse, walk every selection and coding for its attributes).

Ratios are export / lxml write and import / lxml read (medians; target at most 2). The import also
writes 100,000 codings, their audit events and the done marks into the database, which the lxml
baseline does not. The last line is one JSON object.

    python benchmarks/bench_exchange.py [--small] [--repeats N]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

TRANSCRIPTS, TURNS, CODERS, CODES = 200, 125, 4, 40
REPEATS = 3
SEED = 20241202
WORDS = [
    "we",
    "plan",
    "together",
    "every",
    "week",
    "and",
    "the",
    "coach",
    "helps",
    "us",
    "look",
    "at",
    "student",
    "work",
    "before",
    "we",
    "decide",
    "what",
    "to",
    "try",
    "next",
    "time",
    "is",
    "short",
    "but",
    "the",
    "principal",
    "protects",
    "our",
    "common",
    "period",
    "so",
    "that",
    "teams",
    "can",
    "meet",
    "and",
    "share",
    "lessons",
]
P = "{urn:QDA-XML:project:1.0}"


def build(path: Path, transcripts: int, folder: Path) -> int:
    """The study in ``path``; returns the number of codings."""
    from qualcode.codebook.model import CodebookModel, CodeNode
    from qualcode.codebook.persist import store_model
    from qualcode.coding.team import add_coder
    from qualcode.ingest.importer import import_paths
    from qualcode.project import Project

    rng = random.Random(SEED)
    texts = folder / "texts"
    texts.mkdir()
    for t in range(transcripts):
        lines = []
        for turn in range(TURNS):
            speaker = "Interviewer" if turn % 2 == 0 else "Teacher"
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))
            lines.append(f"{speaker}: {words}.")
        (texts / f"interview_{t + 1:03d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Project(path, create=True) as project:
        import_paths(project, [texts])
        with project.transaction() as s:
            add_coder(s, "lead", "lead", viewer=None, actor="bench")
            for c in range(CODERS):
                add_coder(s, f"coder{c + 1}", "coder", viewer="lead", actor="bench")
            model = CodebookModel(
                name="Bench",
                codes=[
                    CodeNode(name=f"Code {k + 1}", guid=str(uuid.UUID(int=rng.getrandbits(128), version=4)))
                    for k in range(CODES)
                ],
            )
            store_model(s, model, "bench")
    con = sqlite3.connect(path)
    segments = [r[0] for r in con.execute("SELECT id FROM qc_segment ORDER BY id")]
    codes = [r[0] for r in con.execute("SELECT id FROM qc_code")]
    coders = [r[0] for r in con.execute("SELECT id FROM qc_coder WHERE role = 'coder'")]
    now = "2024-12-02 00:00:00"
    rows = [(seg, rng.choice(codes), coder, 1, now) for coder in coders for seg in segments]
    con.executemany(
        "INSERT INTO qc_coding (segment_id, code_id, coder_id, round, created_at) VALUES (?, ?, ?, ?, ?)", rows
    )
    con.executemany(
        "INSERT INTO qc_segment_status (segment_id, coder_id, round, done_at) VALUES (?, ?, 1, ?)",
        [(seg, coder, now) for coder in coders for seg in segments],
    )
    con.commit()
    con.close()
    return len(rows)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(run) -> tuple[float, float]:
    """Wall seconds and CPU seconds (this process's and its children's: a fresh CLI process is a child).
    On a shared, busy machine the CPU time is the steadier figure."""
    wall, cpu, children = time.perf_counter(), time.process_time(), children_cpu()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu + children_cpu() - children


def export_in_process(db: Path, out: Path) -> None:
    from qualcode.exchange.refi_export import export_refi_project
    from qualcode.project import Project

    with Project(db) as project:
        export_refi_project(project, "lead", out)


def import_in_process(qdpx: Path, db: Path) -> None:
    from qualcode.exchange.refi_import import import_refi_project
    from qualcode.project import Project

    db.unlink(missing_ok=True)
    with Project(db, create=True) as project:
        import_refi_project(project, qdpx, viewer=None)


def cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "qualcode", *args], check=True, stdout=subprocess.DEVNULL)


def import_cli(qdpx: Path, db: Path) -> None:
    db.unlink(missing_ok=True)
    cli("init", str(db))
    cli("import", str(qdpx), "-p", str(db))


def rows_of(qdpx: Path) -> tuple[list, dict[str, bytes]]:
    """What the lxml baseline writes, as plain Python data: users, codes, and per source its
    attributes and selections (attributes and codings), with the source files."""
    from lxml import etree

    with zipfile.ZipFile(qdpx) as archive:
        root = etree.fromstring(archive.read("project.qde"))
        files = {n: archive.read(n) for n in archive.namelist() if n != "project.qde"}
    users = [dict(u.attrib) for u in root.iter(f"{P}User")]
    codes = [dict(c.attrib) for c in root.iter(f"{P}Code")]
    sources = [
        (
            dict(s.attrib),
            [
                (dict(sel.attrib), [(dict(c.attrib), c[0].get("targetGUID")) for c in sel])
                for sel in s.iter(f"{P}PlainTextSelection")
            ],
        )
        for s in root.iter(f"{P}TextSource")
    ]
    return [users, codes, sources], files


def lxml_write(data: list, files: dict[str, bytes], out: Path) -> None:
    from lxml import etree

    users, codes, sources = data
    root = etree.Element(f"{P}Project", nsmap={None: P[1:-1]})
    root.set("name", "bench")
    block = etree.SubElement(root, f"{P}Users")
    for attrs in users:
        etree.SubElement(block, f"{P}User", attrs)
    book = etree.SubElement(etree.SubElement(root, f"{P}CodeBook"), f"{P}Codes")
    for attrs in codes:
        etree.SubElement(book, f"{P}Code", attrs)
    block = etree.SubElement(root, f"{P}Sources")
    for attrs, selections in sources:
        source = etree.SubElement(block, f"{P}TextSource", attrs)
        for sel_attrs, codings in selections:
            selection = etree.SubElement(source, f"{P}PlainTextSelection", sel_attrs)
            for coding_attrs, target in codings:
                coding = etree.SubElement(selection, f"{P}Coding", coding_attrs)
                etree.SubElement(coding, f"{P}CodeRef").set("targetGUID", target)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
        for name, data_ in files.items():
            archive.writestr(name, data_)


def lxml_read(qdpx: Path) -> int:
    from lxml import etree

    count = 0
    with zipfile.ZipFile(qdpx) as archive:
        root = etree.parse(io.BytesIO(archive.read("project.qde"))).getroot()
        for source in root.iter(f"{P}TextSource"):
            archive.read("sources/" + source.get("plainTextPath").removeprefix("internal://")).decode("utf-8")
            for selection in source.iter(f"{P}PlainTextSelection"):
                int(selection.get("startPosition")), int(selection.get("endPosition"))
                for coding in selection.iter(f"{P}Coding"):
                    coding.get("creatingUser"), coding[0].get("targetGUID")
                    count += 1
    return count


def stats(values: list[float]) -> tuple[float, float]:
    return min(values), statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a tenth of the size (20 transcripts, 10,000 codings)")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    transcripts = TRANSCRIPTS // 10 if args.small else TRANSCRIPTS
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db, out, again = folder / "study.db", folder / "study.qdpx", folder / "again.db"
        start = time.perf_counter()
        codings = build(db, transcripts, folder)
        print(
            f"built {transcripts} transcripts, {CODERS} coders, {codings} codings"
            f" in {time.perf_counter() - start:.1f} s"
        )
        export_in_process(db, out)  # warm imports and the page cache
        data, files = rows_of(out)
        assert lxml_read(out) == codings, "the export holds every coding"
        runs = {
            "export": [timed(lambda: export_in_process(db, out)) for _ in range(args.repeats)],
            "export_cli": [
                timed(lambda: cli("export", "qdpx", "--out", str(out), "-p", str(db), "--as", "lead"))
                for _ in range(args.repeats)
            ],
            "lxml_write": [timed(lambda: lxml_write(data, files, folder / "plain.qdpx")) for _ in range(args.repeats)],
            "import": [timed(lambda: import_in_process(out, again)) for _ in range(args.repeats)],
            "import_cli": [timed(lambda: import_cli(out, again)) for _ in range(args.repeats)],
            "lxml_read": [timed(lambda: lxml_read(out)) for _ in range(args.repeats)],
        }
        figures: dict[str, float] = {}
        for name, values in runs.items():
            low, mid = stats([wall for wall, _ in values])
            cpu_low, cpu_mid = stats([cpu for _, cpu in values])
            figures[f"{name}_min_s"], figures[f"{name}_median_s"] = round(low, 3), round(mid, 3)
            figures[f"{name}_cpu_median_s"] = round(cpu_mid, 3)
            print(
                f"{name:12s} wall min {low:7.2f} s  median {mid:7.2f} s"
                f"   cpu min {cpu_low:7.2f} s  median {cpu_mid:7.2f} s"
            )
        for name, base in (("export", "lxml_write"), ("import", "lxml_read")):
            for kind in (name, f"{name}_cli"):
                figures[f"{kind}_ratio"] = round(figures[f"{kind}_median_s"] / figures[f"{base}_median_s"], 2)
                figures[f"{kind}_cpu_ratio"] = round(
                    figures[f"{kind}_cpu_median_s"] / figures[f"{base}_cpu_median_s"], 2
                )
        figures["codings"] = codings
        figures["size_mb"] = round(os.path.getsize(out) / 1e6, 2)
        print(
            f"export / lxml write: {figures['export_ratio']} wall, {figures['export_cpu_ratio']} cpu"
            f" (fresh process {figures['export_cli_ratio']}, {figures['export_cli_cpu_ratio']});"
            f" import / lxml read: {figures['import_ratio']} wall, {figures['import_cpu_ratio']} cpu"
            f" (fresh process {figures['import_cli_ratio']}, {figures['import_cli_cpu_ratio']}); target <= 2"
        )
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
