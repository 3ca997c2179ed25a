"""De-identification: what the rules find (and leave alone), the roster, the lead's review list and
its refusals, and the measured recall on the seeded transcript of benchmarks/bench_deid.py."""

from __future__ import annotations

import csv
import importlib.util
import io
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import select

from qualcode.assist.deid import (
    PseudonymPlanner,
    decide,
    detect,
    list_terms,
    looks_like_person,
    read_term_list,
    roster_candidates,
    scan,
    school_stem,
)
from qualcode.cli.main import cli
from qualcode.errors import BlindingError, InputError
from qualcode.store.enums import DeidDecision
from qualcode.store.models import AuditEvent, DeidTerm

from .builders import add_coders, build_transcript

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_deid.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_deid", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_deid"] = module
    spec.loader.exec_module(module)
    return module


# --- the seeded transcript: the measured recall ------------------------------------------------


def test_seeded_transcript_recall(tmp_path):
    bench = _bench()
    text, _, planted = bench.seeded_text()
    for p in planted:  # the planting itself is right: each identifier sits where it is recorded
        assert text[p.start : p.end] == p.text
    list_file = tmp_path / "terms.txt"
    list_file.write_text(bench.LEAD_LIST, encoding="utf-8")
    project = bench.build(tmp_path / "seeded.db")
    try:
        result = bench.measure(project, list_file)
    finally:
        project.close()
    assert result.planted == {
        "dates": 7,
        "emails": 2,
        "lead's list": 1,
        "names after a title": 3,
        "phones": 7,
        "places": 1,
        "roster names": 7,
        "schools": 3,
        "unlisted names": 1,
    }
    # The targets: every roster name, email and phone number.
    assert result.recall["roster names"] == 1.0
    assert result.recall["emails"] == 1.0
    assert result.recall["phones"] == 1.0
    # What the rules reach besides (measured; a name with no title and no roster entry needs a trained pipeline).
    for kind in ("dates", "schools", "names after a title", "places", "lead's list"):
        assert result.recall[kind] == 1.0, (kind, result.missed)
    # False findings: at most 2 terms and 2 occurrences (today: "Magic School", from the book series).
    assert len(result.false_terms) <= 2, result.false_terms
    assert result.false_occurrences <= 2


# --- the rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call (555) 123-4567 today", ("(555) 123-4567", "phone")),
        ("call 555-123-4567 today", ("555-123-4567", "phone")),
        ("call 555.123.4567 today", ("555.123.4567", "phone")),
        ("call +44 20 7946 0958 today", ("+44 20 7946 0958", "phone")),
        ("call +1 (555) 010-4477 today", ("+1 (555) 010-4477", "phone")),
        ("call 07700 900123 today", ("07700 900123", "phone")),
        ("write to a.b+c@school-district.k12.us today", ("a.b+c@school-district.k12.us", "email")),
        ("on March 3, 2021 we met", ("March 3, 2021", "date")),
        ("on 3 March 2021 we met", ("3 March 2021", "date")),
        ("on 2021-03-03 we met", ("2021-03-03", "date")),
        ("on 03/03/2021 we met", ("03/03/2021", "date")),
        ("since September 2021 we met", ("September 2021", "date")),
        ("she teaches at Lincoln High School now", ("Lincoln High School", "school")),
        ("she teaches at Northgate STEM Academy now", ("Northgate STEM Academy", "school")),
        ("ask Mrs. Alvarez about it", ("Alvarez", "name")),
        ("ask Dr. Keisha Monroe about it", ("Keisha Monroe", "name")),
    ],
)
def test_rules_find(text, expected):
    assert [(f.text, f.kind) for f in detect(text, entities=False)] == [expected]
    f = detect(text, entities=False)[0]
    assert text[f.start : f.end] == f.text


@pytest.mark.parametrize(
    "text",
    [
        "In 2019 we had 25-30 kids in grades 3-5.",
        "We met from 3:15 to 4:45 in Room 204.",
        "The budget was $1,500 and 40% came.",
        "In April and in May we read more.",
        "The Elementary team and our high school kids.",
        "We are a regional STEM academy.",
        "Version 2.10.5 of the form, page 12-14.",
    ],
)
def test_rules_leave_alone(text):
    assert detect(text, entities=False) == []


def test_roster_helpers():
    assert looks_like_person("Gloria Anaya") and looks_like_person("Tomás")
    assert not any(looks_like_person(x) for x in ("P1", "Speaker 2", "Interviewer", "Unknown", "Teacher"))
    assert school_stem("Birchwood Elementary") == "Birchwood"
    assert school_stem("Lincoln High School") == "Lincoln"
    assert school_stem("Harlow Valley Unified") is None
    planner = PseudonymPlanner(["[Teacher A]", "[School 1]"])
    assert [planner.propose("name", "teacher"), planner.propose("name", "teacher")] == ["[Teacher B]", "[Teacher C]"]
    assert planner.propose("name", "coach") == "[Coach A]"
    assert planner.propose("school") == "[School 2]"
    assert (planner.propose("email"), planner.propose("phone"), planner.propose("date")) == (
        "[email]",
        "[phone]",
        "[date]",
    )


# --- the roster and the review list -------------------------------------------------------------

TURNS = [
    ("Interviewer", "interviewer", "Tell me about Westbrook Elementary."),
    ("Ms. Lee", "teacher", "Lee here. Omar Ruiz and I plan on Tuesdays; mail me at lee@westbrook.edu."),
    ("Omar Ruiz", "coach", "Ms. Lee is right. Call me on 555-201-3344. Omar is my name, Ruiz my surname."),
]


@pytest.fixture
def study(project):
    add_coders(project, "ana", lead="lee")
    build_transcript(project, "Interview 1", case="Westbrook Elementary", turns=TURNS)
    return project


def test_roster_candidates(study):
    with study.read() as s:
        got = {(c.text, c.kind, c.pseudonym) for c in roster_candidates(s)}
    assert got == {
        ("Ms. Lee", "name", ""),
        ("Lee", "name", "@Ms. Lee"),
        ("Omar Ruiz", "name", ""),
        ("Omar", "name", "@Omar Ruiz"),
        ("Ruiz", "name", "@Omar Ruiz"),
        ("Westbrook Elementary", "school", ""),
        ("Westbrook", "school", "@Westbrook Elementary"),
    }


def test_scan_list_and_counts(study):
    result = scan(study, "lee", entities=False)
    assert result.transcripts == 1
    terms = {(t.text, t.kind): t for t in list_terms(study, "lee")}
    # Pseudonyms by kind and role, a part sharing its full name's; counted by hand in TURNS (the
    # transcript text is "Label: words" per turn, so the labels count too; a longer term wins).
    expected = {
        ("Ms. Lee", "name"): ("[Teacher A]", 2),  # the label, and "Ms. Lee is right"
        ("Lee", "name"): ("[Teacher A]", 1),  # "Lee here"
        ("Omar Ruiz", "name"): ("[Coach A]", 2),
        ("Omar", "name"): ("[Coach A]", 1),
        ("Ruiz", "name"): ("[Coach A]", 1),
        ("Westbrook Elementary", "school"): ("[School 1]", 1),
        ("Westbrook", "school"): ("[School 1]", 0),
        ("lee@westbrook.edu", "email"): ("[email]", 1),
        ("555-201-3344", "phone"): ("[phone]", 1),
    }
    assert {k: (t.pseudonym, t.count) for k, t in terms.items()} == expected
    assert all(t.decision == "pending" for t in terms.values())
    assert terms[("Omar", "name")].contexts == (
        "…right. Call me on 555-201-3344. [Omar] is my name, Ruiz my surname.…",
    )
    # Scanning again adds nothing and keeps the decisions.
    decide(study, "lee", "Omar", DeidDecision.ACCEPTED)
    again = scan(study, "lee", entities=False)
    assert again.added == 0 and again.known >= len(expected)
    assert {t.text: t.decision for t in list_terms(study, "lee")}["Omar"] == "accepted"


def _run(project_path, *args, who="lee"):
    return CliRunner().invoke(cli, ["--as", who, *args, "--project", str(project_path)], catch_exceptions=False)


def test_cli_review(study, project_path, tmp_path):
    listed = tmp_path / "terms.txt"
    listed.write_text("# ours\nTuesdays | date\nWestbrook Valley\n", encoding="utf-8")
    r = _run(project_path, "deidentify", "scan", "--list", str(listed))
    assert r.exit_code == 0, r.output
    assert "11 new terms" in r.output
    r = _run(project_path, "deidentify", "accept", "Omar Ruiz", "--pseudonym", "[Coach K]")
    assert r.exit_code == 0 and "accepted, pseudonym [Coach K]" in r.output
    r = _run(project_path, "deidentify", "reject", "Westbrook Valley")
    assert r.exit_code == 0, r.output
    r = _run(project_path, "deidentify", "set", "Lee", "--pseudonym", "[Teacher Q]")
    assert r.exit_code == 0 and "pending, pseudonym [Teacher Q]" in r.output
    r = _run(project_path, "deidentify", "accept-all", "--kind", "email")
    assert r.exit_code == 0 and "accepted 1 pending terms (email)" in r.output
    with study.read() as s:
        rows = {r.text: r for r in s.exec(select(DeidTerm))}
        actions = [e.action for e in s.exec(select(AuditEvent)) if e.action.startswith("deid.")]
        texts = " ".join(str(e.before) + str(e.after) for e in s.exec(select(AuditEvent)))
    assert (rows["Omar Ruiz"].decision, rows["Omar Ruiz"].pseudonym, rows["Omar Ruiz"].decided_by) == (
        "accepted",
        "[Coach K]",
        "lee",
    )
    assert rows["Westbrook Valley"].decision == "rejected" and rows["Westbrook Valley"].origin == "list"
    assert rows["Tuesdays"].kind == "date"
    assert rows["lee@westbrook.edu"].decision == "accepted"
    assert actions == ["deid.scan", "deid.decide", "deid.decide", "deid.decide", "deid.decide_all"]
    assert "Omar" not in texts and "westbrook" not in texts.lower()  # the trail names terms by id only
    r = _run(project_path, "deidentify", "list", "--decision", "accepted", "-f", "csv")
    assert r.exit_code == 0
    assert [row["term"] for row in csv.DictReader(io.StringIO(r.output))] == ["lee@westbrook.edu", "Omar Ruiz"]


def test_coder_is_refused(study, project_path, tmp_path):
    scan(study, "lee", entities=False)
    with study.read() as s:
        before = [(r.text, r.decision, r.pseudonym) for r in s.exec(select(DeidTerm))]
    for args in (
        ("deidentify", "list"),
        ("deidentify", "scan"),
        ("deidentify", "accept", "Omar"),
        ("deidentify", "set", "Omar", "--pseudonym", "x"),
        ("deidentify", "accept-all"),
    ):
        r = _run(project_path, *args, who="ana")
        assert r.exit_code == 2, r.output
        assert r.output.strip().splitlines() == ["error: de-identification is for the lead analyst; ana is a coder"]
    with study.read() as s:
        assert [(r.text, r.decision, r.pseudonym) for r in s.exec(select(DeidTerm))] == before
    with pytest.raises(BlindingError):
        list_terms(study, "ana")
    with pytest.raises(BlindingError):
        list_terms(study, None)


def test_bad_input(study, project_path, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("Oakdale | place\nRiver | town\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.txt:2: unknown kind 'town'"):
        read_term_list(bad)
    r = _run(project_path, "deidentify", "scan", "--list", str(bad))
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "bad.txt:2" in r.output
    with study.read() as s:
        assert s.exec(select(DeidTerm)).first() is None  # nothing stored
    r = _run(project_path, "deidentify", "accept", "Nobody")
    assert r.exit_code == 2 and "no de-identification term 'Nobody'" in r.output
    scan(study, "lee", entities=False)
    r = _run(project_path, "deidentify", "set", "Omar", "--pseudonym", "omar")
    assert r.exit_code == 2 and "must differ" in r.output
    r = _run(project_path, "deidentify", "set", "Omar", "--pseudonym", " ")
    assert r.exit_code == 2 and "1 to 200 characters" in r.output
