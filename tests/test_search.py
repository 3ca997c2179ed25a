"""Corpus search (`qualcode search`): hits and counts computed by hand on a small project built
here, lemmas, phrases, regular expressions, blinding of --code, auto-coding and its undo."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from sqlmodel import col, select

from qualcode.assist import search as search_mod
from qualcode.assist.search import Hit, Scope, SearchQuery, cell_width, kwic_lines
from qualcode.cli.main import cli
from qualcode.coding.service import TranscriptWork
from qualcode.errors import BlindingError, InputError, QualcodeError
from qualcode.store.models import AuditEvent, Code, Coder, Coding, ConsensusDecision, Segment, Transcript

from .builders import add_coders, build_codebook, build_transcript

LEE = [
    ("Interviewer", "interviewer", "How do you teach fractions?"),
    ("Ms. Lee", "teacher", "I taught fractions with student work. Teaching is planning."),
    ("Mr. Ortiz", "coach", "We teach together; she teaches and I watch."),
]
PARK = [
    ("Interviewer", "interviewer", "What changed?"),
    ("Ms. Park", "teacher", "Student  work\ncame first. The teachers teach."),
    ("Ms. Ruiz", "administrator", "I taught for years."),
    ("Ms. Park", "teacher", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"),
]


@pytest.fixture
def study(project):
    return build_study(project)


def build_study(project):
    """Two cases, one transcript each; ana coded Lee #2 and ben Lee #3 with SV; the consensus has SV on Park #2."""
    lee = build_transcript(project, "Lee interview", "North", LEE)
    park = build_transcript(project, "Park interview", "South", PARK)
    codes = build_codebook(project)
    add_coders(project, "ana", "ben", lead="lead")
    with project.transaction() as s:
        s.add(Coder(name="pat", role="auditor"))
    seg = {}
    with project.read() as s:
        for sid, tid, pos in s.exec(select(Segment.id, Segment.transcript_id, Segment.position)).all():
            seg[("lee" if tid == lee else "park", pos)] = sid
    TranscriptWork(project, "ana", lee).toggle(seg[("lee", 2)], codes["SV"])
    TranscriptWork(project, "ben", lee).toggle(seg[("lee", 3)], codes["SV"])
    with project.transaction() as s:
        s.add(ConsensusDecision(segment_id=seg[("park", 2)], code_id=codes["SV"], present=True, decided_by="lead"))
    return {"project": project, "lee": lee, "park": park, "codes": codes, "seg": seg}


@pytest.fixture
def run(study, project_path):
    def invoke(*args, ok=True):
        result = CliRunner().invoke(cli, ["search", *args, "--project", str(project_path)], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def where(hits) -> list[tuple[str, int, str]]:
    return [(h.transcript, h.position, h.match) for h in hits]


def find(study, text, viewer="lead", scope=None, **kw):
    return search_mod.search(study["project"], viewer, SearchQuery(text, **kw), scope or Scope())


# --- what is found ---------------------------------------------------------------------------


def test_words_match_whole_words_case_insensitively(study):
    result = find(study, "teach")
    # Lee #2 has "taught" and "Teaching", Park #2 "teachers": not the word teach.
    assert where(result.hits) == [
        ("Lee interview", 1, "teach"),
        ("Lee interview", 3, "teach"),
        ("Park interview", 2, "teach"),
    ]
    assert [h.number for h in result.hits] == [1, 2, 3]
    assert (result.segments_searched, result.transcripts_searched) == (7, 2)
    h = result.hits[1]
    with study["project"].read() as s:
        assert s.get_one(Transcript, study["lee"]).text[h.start : h.end] == "teach"
    assert (h.left, h.right, h.speaker, h.role, h.case) == (
        "We ",
        " together; she teaches and I watch.",
        "Mr. Ortiz",
        "coach",
        "North",
    )


def test_counts_by_case_and_by_role(study):
    result = find(study, "teach")
    assert [(r.name, r.hits, r.segments, r.transcripts) for r in result.by_case] == [
        ("North", 2, 2, 1),
        ("South", 1, 1, 1),
    ]
    assert [(r.name, r.hits) for r in result.by_role] == [("coach", 1), ("interviewer", 1), ("teacher", 1)]


def test_lemmas_find_every_form(study):
    result = find(study, "teach", lemma=True)
    assert where(result.hits) == [
        ("Lee interview", 1, "teach"),
        ("Lee interview", 2, "taught"),
        ("Lee interview", 2, "Teaching"),
        ("Lee interview", 3, "teach"),
        ("Lee interview", 3, "teaches"),
        ("Park interview", 2, "teach"),  # "teachers" is the lemma teacher, not teach
        ("Park interview", 3, "taught"),
    ]
    assert [(r.name, r.hits, r.segments) for r in result.by_role] == [
        ("teacher", 3, 2),
        ("coach", 2, 1),
        ("administrator", 1, 1),
        ("interviewer", 1, 1),
    ]
    assert result.lemmatizer


def test_the_table_forms_find_what_spacy_tokens_find(study, monkeypatch):
    queries = ["teach", '"student work"', "be", "teach* watch", "fraction"]
    fast = [where(find(study, q, lemma=True).hits) for q in queries]
    # Without listed forms (as with the rule lemmatizer) every segment goes through spaCy's tokenizer.
    monkeypatch.setattr("qualcode.assist.language.forms_of", lambda lemma: None)
    monkeypatch.setattr("qualcode.assist.language.forms_of_prefix", lambda prefix: None)
    assert [where(find(study, q, lemma=True).hits) for q in queries] == fast
    assert [len(hits) for hits in fast] == [7, 2, 1, 9, 2]  # "be": Lee #2 "is"; "teach*": taught too


def test_phrases_prefixes_and_regex(study):
    assert where(find(study, '"student work"').hits) == [
        ("Lee interview", 2, "student work"),
        ("Park interview", 2, "Student work"),  # two spaces and a newline in the text: shown flattened
    ]
    assert len(find(study, "teach*").hits) == 6  # teach, Teaching, teach, teaches, teachers, teach
    assert where(find(study, "taught|teaches", regex=True).hits) == [
        ("Lee interview", 2, "taught"),
        ("Lee interview", 3, "teaches"),
        ("Park interview", 3, "taught"),
    ]
    assert where(find(study, "^we", regex=True).hits) == [("Lee interview", 3, "We")]  # ^: where a segment starts
    assert where(find(study, 'planning "student work" watch').hits) == [
        ("Lee interview", 2, "student work"),
        ("Lee interview", 2, "planning"),
        ("Lee interview", 3, "watch"),
        ("Park interview", 2, "Student work"),
    ]
    assert where(find(study, '"student work"', lemma=True).hits)[1] == ("Park interview", 2, "Student work")


def test_scopes(study):
    assert where(find(study, "teach", scope=Scope(role="teacher")).hits) == [("Park interview", 2, "teach")]
    assert where(find(study, "teach", scope=Scope(case="South")).hits) == [("Park interview", 2, "teach")]
    assert len(find(study, "teach", scope=Scope(transcript="North/Lee interview")).hits) == 2
    with pytest.raises(InputError, match="unknown case 'West'"):
        find(study, "teach", scope=Scope(case="West"))
    with pytest.raises(InputError, match="unknown speaker role"):
        find(study, "teach", scope=Scope(role="pupil"))


def test_code_scope_respects_blinding(study):
    by_code = Scope(code="SV")
    assert where(find(study, "teach", "ana", by_code, lemma=True).hits) == [
        ("Lee interview", 2, "taught"),
        ("Lee interview", 2, "Teaching"),
    ]
    assert where(find(study, "teach", "ben", by_code, lemma=True).hits) == [
        ("Lee interview", 3, "teach"),
        ("Lee interview", 3, "teaches"),
    ]
    assert where(find(study, "teach", "lead", by_code, lemma=True).hits) == [
        ("Park interview", 2, "teach")
    ]  # consensus
    assert len(find(study, "teach", "lead", Scope(code="SV", layer="ana"), lemma=True).hits) == 2
    assert len(find(study, "teach", "pat", Scope(code="SV", layer="ben"), lemma=True).hits) == 2  # an auditor sees all
    with pytest.raises(BlindingError, match="may not search ben's codings"):
        find(study, "teach", "ana", Scope(code="SV", layer="ben"))
    with pytest.raises(BlindingError, match="may not search the consensus"):
        find(study, "teach", "ana", Scope(code="SV", layer="consensus"))
    with pytest.raises(BlindingError):
        find(study, "teach", None, by_code)


def test_code_scope_once_unblinded(study, run):
    run("--as", "lead", "teach")  # warm: the CLI works for the lead
    from qualcode.coding.blinding import set_blinded

    with study["project"].transaction() as s:
        set_blinded(s, "lead", False)
    assert len(find(study, "teach", "ana", Scope(code="SV", layer="ben"), lemma=True).hits) == 2
    assert len(find(study, "teach", "ana", Scope(code="SV"), lemma=True).hits) == 2  # still her own by default


def test_bad_regex_is_one_line_exit_2(run):
    result = run("--as", "ana", "(teach", "--regex", ok=False)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: --regex: not a valid regular expression (missing ) at position 6)"
    ]


def test_runaway_regex_is_stopped(run, monkeypatch):
    monkeypatch.setattr(search_mod, "REGEX_SECONDS", 0.05)
    result = run("--as", "ana", "(a|aa)+$", "--regex", ok=False)
    assert result.exit_code == 2
    assert "--regex took more than 0.05 s and was stopped" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_bad_input_lines(run):
    assert run("--as", "ana", '"open', ok=False).output == "error: query '\"open': a quote mark is not closed\n"
    assert run("--as", "ana", "teach", "--lemma", "--regex", ok=False).exit_code == 2
    assert "--only and --preview go with --apply" in run("--as", "ana", "teach", "--only", "1", ok=False).output
    assert "--layer says whose codings" in run("--as", "lead", "teach", "--layer", "ana", ok=False).output


# --- the CLI's output ----------------------------------------------------------------------------


def test_cli_kwic_lines_and_formats(run):
    lines = run("--as", "ana", "teach", "--context", "12").stdout.splitlines()
    assert len(lines) == 3
    bars = {line.index("│") for line in lines}
    assert len(bars) == 1  # the hit starts in the same column on every line
    assert lines[1].split()[:3] == ["2", "Lee", "interview"]
    assert lines[1].endswith("│ teach │ together; s…")
    rows = list(csv.DictReader(io.StringIO(run("--as", "ana", "teach", "-f", "csv").stdout)))
    assert [(r["hit"], r["case"], r["segment"], r["speaker"], r["match"]) for r in rows] == [
        ("1", "North", "1", "Interviewer", "teach"),
        ("2", "North", "3", "Mr. Ortiz", "teach"),
        ("3", "South", "2", "Ms. Park", "teach"),
    ]
    data = json.loads(run("--as", "ana", "teach", "--lemma", "--counts", "-f", "json").stdout)
    assert data["hits"] == 7
    assert data["by_case"] == [
        {"name": "North", "hits": 5, "segments": 3, "transcripts": 1},
        {"name": "South", "hits": 2, "segments": 2, "transcripts": 1},
    ]


def test_cli_out_file(run, tmp_path):
    out = tmp_path / "hits.json"
    run("--as", "ana", "teach", "-o", str(out))
    assert [h["segment"] for h in json.loads(out.read_text())] == [1, 3, 2]


def test_kwic_alignment_is_measured_in_cells():
    assert (cell_width("漢字"), cell_width("e\u0301"), cell_width("abc")) == (4, 1, 3)

    def hit(n, left, match):
        return Hit(n, 1, "T", "C", n, n, "S", "teacher", 0, 1, match, left, " after")

    lines = kwic_lines([hit(1, "教師は毎日 ", "teach"), hit(2, "we ", "teach"), hit(3, "\x1b[31mred ", "teach")], 8)
    prefix = [line[: line.index("│")] for line in lines]
    assert len({cell_width(p) for p in prefix}) == 1
    assert "\x1b" not in "".join(lines)  # control characters are shown escaped


# --- auto-coding ---------------------------------------------------------------------------------


def codings_of(study, coder_name):
    with study["project"].read() as s:
        coder_id = s.exec(select(Coder.id).where(Coder.name == coder_name)).one()
        return sorted(
            (r.segment_id, r.code_id, r.round, r.source)
            for r in s.exec(select(Coding).where(Coding.coder_id == coder_id)).all()
        )


def events(study, *actions):
    with study["project"].read() as s:
        return list(s.exec(select(AuditEvent).where(col(AuditEvent.action).in_(actions)).order_by(col(AuditEvent.id))))


def test_preview_writes_nothing(study, run):
    before = codings_of(study, "ana"), len(events(study, "coding.apply", "search.apply"))
    result = run("--as", "ana", "teach", "--apply", "WD", "--preview", "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["transcript"], r["segment"], r["hits"], r["already_coded"]) for r in rows] == [
        ("Lee interview", "1", "1", "false"),
        ("Lee interview", "3", "2", "false"),
        ("Park interview", "2", "3", "false"),
    ]
    assert (
        "would code 3 segments with Work design as ana"
        in run("--as", "ana", "teach", "--apply", "WD", "--preview").stderr
    )
    assert (codings_of(study, "ana"), len(events(study, "coding.apply", "search.apply"))) == before


def test_apply_all_then_undo(study, run):
    seg, wd, sv = study["seg"], study["codes"]["WD"], study["codes"]["SV"]
    result = run("--as", "ana", "teach", "--lemma", "--apply", "WD")
    # 7 hits in 5 segments: Lee 1, 2, 3 and Park 2, 3
    assert "coded 5 segments with Work design as ana" in result.output
    wanted = [(seg[k], wd, 1, "search") for k in [("lee", 1), ("lee", 2), ("lee", 3), ("park", 2), ("park", 3)]]
    assert codings_of(study, "ana") == sorted([(seg[("lee", 2)], sv, 1, None), *wanted])
    applied = events(study, "coding.apply")
    assert [e.after["source"] for e in applied[-5:]] == ["search"] * 5
    (batch,) = events(study, "search.apply")
    assert batch.actor == "ana"
    assert batch.after["code"] == "Work design" and batch.after["query"] == "teach" and batch.after["lemma"]
    assert sorted(batch.after["segment_ids"]) == sorted(w[0] for w in wanted)
    assert batch.after["hits"] == [1, 2, 3, 4, 5, 6, 7]
    # Again: everything is coded already, nothing new, no batch.
    assert (
        "coded 0 segments with Work design as ana (5 already coded)"
        in run("--as", "ana", "teach", "--lemma", "--apply", "WD").output
    )
    assert len(events(study, "search.apply")) == 1
    undo = run("undo", "--as", "ana")
    assert "removed 5 codings" in undo.output
    assert codings_of(study, "ana") == [(seg[("lee", 2)], sv, 1, None)]  # her own keystroke stays
    (undone,) = events(study, "search.undo")
    assert undone.entity_id == batch.id and undone.actor == "ana"
    assert len(events(study, "coding.remove")) == 5
    again = run("undo", "--as", "ana", ok=False)
    assert (again.exit_code, again.output) == (2, "error: ana has no auto-coding to undo\n")


def test_apply_only_chosen_hits_and_undo_is_per_coder(study, run):
    seg, wd = study["seg"], study["codes"]["WD"]
    run("--as", "ana", "teach", "--apply", "WD", "--only", "2")
    run("--as", "ben", "teach", "--apply", "SA", "--only", "1,3")
    assert codings_of(study, "ana")[-1:] == [(seg[("lee", 3)], wd, 1, "search")]
    run("undo", "--as", "ana")
    assert [c[3] for c in codings_of(study, "ben")].count("search") == 2  # ben's batch is his own
    bad = run("--as", "ana", "teach", "--apply", "WD", "--only", "2,9", ok=False)
    assert bad.output == "error: --only 9: no such hit (this search has 3 hits, numbered from 1)\n"
    assert run("--as", "ana", "teach", "--apply", "WD", "--only", "x", ok=False).exit_code == 2


def test_apply_codes_each_transcript_in_its_current_round(study, run):
    from qualcode.coding.rounds import open_round

    with study["project"].transaction() as s:
        open_round(s, "lead", [study["park"]], "recode")
    run("--as", "ana", "teach", "--apply", "WD")
    seg, wd = study["seg"], study["codes"]["WD"]
    got = [c for c in codings_of(study, "ana") if c[3] == "search"]
    assert got == sorted(
        [(seg[("lee", 1)], wd, 1, "search"), (seg[("lee", 3)], wd, 1, "search"), (seg[("park", 2)], wd, 2, "search")]
    )
    # The lead moves Lee to round 2 after the auto-coding: undoing it would change round 1, so it is refused.
    with study["project"].transaction() as s:
        open_round(s, "lead", [study["lee"]], "recode")
    refused = run("undo", "--as", "ana", ok=False)
    assert refused.exit_code == 2 and "the lead opened round 2 for 'Lee interview' since" in refused.output
    assert len([c for c in codings_of(study, "ana") if c[3] == "search"]) == 3


def test_apply_refusals(study, run):
    with study["project"].transaction() as s:
        code = s.get(Code, study["codes"]["WD"])
        code.status = "retired"
        s.add(code)
    retired = run("--as", "ana", "teach", "--apply", "WD", ok=False)
    assert (retired.exit_code, retired.output) == (
        2,
        "error: code 'Work design' was retired by the lead: pick another\n",
    )
    auditor = run("--as", "pat", "teach", "--apply", "SV", ok=False)
    assert auditor.output == "error: pat is an auditor: auditors review the coding, they do not code\n"
    nobody = run("teach", "--apply", "SV", ok=False)
    assert nobody.exit_code == 2 and "--as NAME" in nobody.output
    unknown = run("--as", "ana", "teach", "--apply", "Nope", ok=False)
    assert unknown.output == "error: unknown code 'Nope'\n"
    assert codings_of(study, "ana") == [(study["seg"][("lee", 2)], study["codes"]["SV"], 1, None)]
    assert events(study, "search.apply") == []


def test_search_undo_and_search_for_the_word_undo(run):
    assert "no auto-coding to undo" in run("undo", "--as", "ana", ok=False).output
    assert run("query", "undo", "--as", "ana").stdout == ""  # "undo" as a word: no hits


def test_search_apply_and_undo_on_each_engine(any_project):
    """The core on SQLite and PostgreSQL: the same hits, codings with source "search", one batch, one undo."""
    study = build_study(any_project)
    result = search_mod.search(any_project, "ana", SearchQuery("teach", lemma=True), Scope(code="SV"))
    assert where(result.hits) == [("Lee interview", 2, "taught"), ("Lee interview", 2, "Teaching")]
    result = search_mod.search(any_project, "ana", SearchQuery("teach"))
    outcome = search_mod.apply_search(any_project, "ana", result, "WD", only=[2, 3])
    seg, wd = study["seg"], study["codes"]["WD"]
    assert sorted(c for c in codings_of(study, "ana") if c[3] == "search") == sorted(
        [(seg[("lee", 3)], wd, 1, "search"), (seg[("park", 2)], wd, 1, "search")]
    )
    (batch,) = events(study, "search.apply")
    assert (batch.id, sorted(batch.after["coding_ids"])) == (outcome.batch, sorted(outcome.coding_ids))
    undone = search_mod.undo_last_batch(any_project, "ana")
    assert (undone.removed, undone.gone, undone.code) == (2, 0, "Work design")
    assert [c for c in codings_of(study, "ana") if c[3] == "search"] == []
    with pytest.raises(QualcodeError, match="no auto-coding to undo"):
        search_mod.undo_last_batch(any_project, "ana")
