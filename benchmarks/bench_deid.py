"""Benchmark: de-identification recall on a seeded transcript with known planted identifiers.

A small project (written here, fictional) holds one school case with a text attribute, four
speakers and one interview whose text plants, at known places, roster names and their parts,
emails, phone numbers in national and international formats, dates in seven formats, schools,
a name after a title, a name mentioned with no title, and a place from the lead's list, among
distractors (years, grade ranges, times, sums, room numbers, a children's book).

``qualcode deidentify scan`` (the core ``scan``) runs with the lead's list; then every stored term
is matched in the text as ``--pseudonymize`` would match it, and

- recall of each kind = planted occurrences wholly covered by a match / planted occurrences;
- false findings = stored terms that are not (part of) a planted identifier, and matched
  occurrences that overlap no planted identifier.

It also times the scan (in-process, min and median of repeats) against a baseline doing the same
pass with the regular expressions alone (no spaCy), and a fresh ``qualcode deidentify scan``
process. The last line printed is one JSON object.

    python benchmarks/bench_deid.py [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qualcode.project import Project

# (label, role, words). Planted identifiers are written {kind:text} and recorded with their offsets.
TURNS = [
    ("Interviewer", "interviewer", "Thanks for meeting me. Could you each say your name and what you do?"),
    (
        "Teresa Alvarado",
        "teacher",
        "I'm {roster:Teresa Alvarado}, fourth grade at {school:Maplewood Elementary}, since {date:September 2021}. "
        "Before that I taught at {school:Oak Park Middle School} for six years.",
    ),
    (
        "Marcus Feld",
        "coach",
        "{roster:Marcus Feld}, math coach for {place:Riverside County Schools}. I split my week between "
        "{roster:Maplewood} and two other buildings, so {roster:Teresa} sees me on Tuesdays.",
    ),
    ("Interviewer", "interviewer", "How do people reach you when something comes up?"),
    (
        "Marcus Feld",
        "coach",
        "Email is best: {email:m.feld@riverside-schools.org}, or my cell, {phone:(555) 014-9921}. Teachers at "
        "{roster:Maplewood}'s upper grades text {phone:555.019.2837} because that's the team line.",
    ),
    (
        "Teresa Alvarado",
        "teacher",
        "Mine is {email:T.Alvarado@maplewood.k12.us}. When {roster:Feld}'s out, we call the district office on "
        "{phone:555-013-4470}, extension 12.",
    ),
    (
        "P3",
        "teacher",
        "Our exchange partners in London gave us {phone:+44 20 7946 0958} and the Berlin school "
        "{phone:+49 30 901820}. Their coordinator also has {phone:020 7946 0123} and {phone:+1 (555) 010-4477}.",
    ),
    ("Interviewer", "interviewer", "When did the lesson study cycle start?"),
    (
        "Teresa Alvarado",
        "teacher",
        "The first cycle was {date:March 4, 2022}; the planning sheet says {date:2022-03-04} and the district "
        "calendar says {date:03/14/2022}. The visitors came on {date:14.03.2022} and again on {date:4 March 2022}. "
        "{roster:Marcus} ran the debrief with {title:Kowalski} from the union, Mrs. {title:Kowalski} I mean.",
    ),
    (
        "P3",
        "teacher",
        "I remember {other:Jamal} stayed late that night. We had 25-30 kids in grades 3-5, and in 2019 the budget "
        "was $1,500 for the whole year. Room 204 is where we met, from 3:15 to 4:45. In April we read the Magic "
        "School Bus books, and we visited {list:Oakdale} for the science fair on {date:Sept. 12}.",
    ),
    (
        "Marcus Feld",
        "coach",
        "Dr. {title:Okonkwo} visited from {school:Lincoln High School} too. About 40% of the teachers came, "
        "which for a Title I school in May is a lot.",
    ),
]
CASE = "Maplewood Elementary"
ATTRIBUTES = {"district": "Riverside County Schools", "level": "elementary", "enrollment": "412"}
LEAD_LIST = "# the lead's own terms\nOakdale | place\n"
# Category of each planted tag → the kind it is reported under.
REPORT_KIND = {
    "roster": "roster names",
    "email": "emails",
    "phone": "phones",
    "date": "dates",
    "school": "schools",
    "place": "places",
    "title": "names after a title",
    "other": "unlisted names",
    "list": "lead's list",
}
TAG = re.compile(r"\{(\w+):([^}]*)\}")


@dataclass(frozen=True)
class Planted:
    category: str
    text: str
    start: int
    end: int


def seeded_text() -> tuple[str, list[tuple[str, str, int, int]], list[Planted]]:
    """The transcript text, its turns (label, role, start, end of the words) and the planted identifiers."""
    parts, turns, planted, pos = [], [], [], 0
    for label, role, words in TURNS:
        clean, found, last, out = [], [], 0, 0
        for m in TAG.finditer(words):
            clean.append(words[last : m.start()])
            out += m.start() - last
            found.append((m.group(1), m.group(2), out))
            clean.append(m.group(2))
            out += len(m.group(2))
            last = m.end()
        clean.append(words[last:])
        said = "".join(clean)
        line = f"{label}: {said}"
        start = pos + len(label) + 2
        turns.append((label, role, start, start + len(said)))
        planted += [Planted(cat, text, start + at, start + at + len(text)) for cat, text, at in found]
        parts.append(line)
        pos += len(line) + 2
    return "\n\n".join(parts), turns, planted


def build(path: Path) -> Project:
    """The seeded project at ``path`` (a lead ``lee``), ready to scan."""
    from qualcode.store.models import Case, CaseAttribute, Coder, Segment, Speaker, Transcript

    text, turns, _ = seeded_text()
    project = Project(path, create=True)
    with project.transaction() as s:
        s.add(Coder(name="lee", role="lead"))
        case = Case(name=CASE)
        s.add(case)
        s.flush()
        for name, value in ATTRIBUTES.items():
            kind = "number" if value.isdigit() else "text"
            s.add(CaseAttribute(case_id=case.id, name=name, type=kind, value=value))
        t = Transcript(title="Grade-level team interview", case_id=case.id, content_hash="seeded", text=text)
        s.add(t)
        s.flush()
        speakers: dict[str, int] = {}
        for i, (label, role, a, b) in enumerate(turns, 1):
            if label not in speakers:
                sp = Speaker(transcript_id=t.id, label=label, role=role)
                s.add(sp)
                s.flush()
                assert sp.id is not None
                speakers[label] = sp.id
            s.add(Segment(transcript_id=t.id, position=i, start=a, end=b, speaker_id=speakers[label]))
    return project


@dataclass(frozen=True)
class Measure:
    recall: dict[str, float]
    planted: dict[str, int]
    missed: dict[str, list[str]]
    false_terms: list[str]
    false_occurrences: int
    terms: int


def measure(project: Project, list_file: Path) -> Measure:
    """Scan the seeded project as the lead (with the lead's list) and score the stored terms."""
    from qualcode.assist.deid import TermIndex, list_terms, read_term_list, scan

    scan(project, "lee", extra=read_term_list(list_file))
    terms = list_terms(project, "lee", contexts=0)
    text, _, planted = seeded_text()
    index = TermIndex([(t.text, t.kind) for t in terms])
    matches = list(index.finditer(text))
    found: dict[str, int] = {}
    total: dict[str, int] = {}
    missed: dict[str, list[str]] = {}
    for p in planted:
        kind = REPORT_KIND[p.category]
        total[kind] = total.get(kind, 0) + 1
        if any(a <= p.start and p.end <= b for a, b, _ in matches):
            found[kind] = found.get(kind, 0) + 1
        else:
            missed.setdefault(kind, []).append(p.text)
    truth = [p.text for p in planted] + [label for label, *_ in TURNS] + [CASE, *ATTRIBUTES.values()]
    false_terms = sorted(
        t.text for t in terms if not any(re.search(rf"(?<!\w){re.escape(t.text)}(?!\w)", x) for x in truth)
    )
    labels = {label for label, *_ in TURNS}
    false_occurrences = sum(
        1
        for a, b, _ in matches
        if not any(p.start < b and a < p.end for p in planted) and text[a:b] not in labels  # speaker labels count
    )
    return Measure(
        recall={k: round(found.get(k, 0) / n, 4) for k, n in sorted(total.items())},
        planted=dict(sorted(total.items())),
        missed=missed,
        false_terms=false_terms,
        false_occurrences=false_occurrences,
        terms=len(terms),
    )


def _regex_pass(text: str) -> int:
    from qualcode.assist.deid import NUMERIC_DATE, PHONE

    return len(PHONE.findall(text)) + len(NUMERIC_DATE.findall(text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        list_file = folder / "terms.txt"
        list_file.write_text(LEAD_LIST, encoding="utf-8")
        project = build(folder / "seeded.db")
        result = measure(project, list_file)
        project.close()

        from qualcode.assist.deid import detect

        text, _, _ = seeded_text()
        long_text = "\n\n".join([text] * 50)  # ~30,000 words' worth of the same talk
        detect(long_text[:2000])  # load spaCy once
        scans, baseline = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            detect(long_text)
            scans.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            _regex_pass(long_text)
            baseline.append(time.perf_counter() - t0)
        fresh = []
        env = {**os.environ, "QUALCODE_PROJECT": str(folder / "seeded.db")}
        for _ in range(max(1, args.repeats // 2)):
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "qualcode", "--as", "lee", "deidentify", "scan"],
                check=True,
                env=env,
                capture_output=True,
            )
            fresh.append(time.perf_counter() - t0)

    print("De-identification recall on the seeded transcript (planted identifiers)")
    for kind, r in result.recall.items():
        miss = f"  missed: {', '.join(result.missed[kind])}" if kind in result.missed else ""
        print(f"  {kind:22} {r:5.2f}  ({result.planted[kind]} planted){miss}")
    print(
        f"  terms stored: {result.terms}; false findings: {len(result.false_terms)} terms {result.false_terms}, "
        f"{result.false_occurrences} occurrences outside the planted identifiers"
    )
    words = len(long_text.split())
    print(
        f"rule scan of {words:,} words: min {min(scans):.3f} s, median {statistics.median(scans):.3f} s; "
        f"regex-only baseline median {statistics.median(baseline):.4f} s "
        f"(ratio {statistics.median(scans) / statistics.median(baseline):.0f}x)"
    )
    print(f"fresh process `qualcode deidentify scan`: min {min(fresh):.2f} s, median {statistics.median(fresh):.2f} s")
    print(
        json.dumps(
            {
                "recall": result.recall,
                "planted": result.planted,
                "false_terms": len(result.false_terms),
                "false_occurrences": result.false_occurrences,
                "scan_words": words,
                "scan_min_s": round(min(scans), 4),
                "scan_median_s": round(statistics.median(scans), 4),
                "baseline_median_s": round(statistics.median(baseline), 5),
                "ratio": round(statistics.median(scans) / statistics.median(baseline), 1),
                "fresh_cli_min_s": round(min(fresh), 3),
                "fresh_cli_median_s": round(statistics.median(fresh), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
