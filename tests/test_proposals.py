"""Code proposals (`qualcode proposals ...`, ``coding.proposals``): a coder proposes, the lead
accepts (a new codebook version), merges or declines with a reason; blinding of the list, the
audit trail, and bad input (one line, exit 2, nothing changed)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlmodel import col, func, select

from qualcode.cli.main import cli
from qualcode.coding.blinding import set_blinded
from qualcode.coding.proposals import accept_proposal, decline_proposal, proposal_list, propose
from qualcode.coding.retrieval import retrieve
from qualcode.store.models import AuditEvent, Code, Codebook, CodeProposal

from .test_retrieval import SV, build_study


@pytest.fixture
def study(project):
    return build_study(project)


@pytest.fixture
def run(study, project_path):
    def invoke(*args, ok=True):
        result = CliRunner().invoke(cli, [*args, "--project", str(project_path)], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def state(project) -> tuple:
    """What a refused command must leave alone: proposals, codes, the codebook's version, events."""
    with project.read() as s:
        proposals = [(p.id, p.name, p.status, p.decided_by) for p in s.exec(select(CodeProposal)).all()]
        codes = s.exec(select(func.count()).select_from(Code)).one()
        version = s.exec(select(Codebook.version)).one()
        events = s.exec(select(func.count()).select_from(AuditEvent)).one()
    return proposals, codes, version, events


def listed(project, viewer) -> list[tuple[int, str, str, str]]:
    return [(p.id, p.name, p.coder, p.status) for p in proposal_list(project, viewer).proposals]


def test_coders_propose_and_see_only_their_own_while_blinded(study, run):
    project = study["project"]
    out = run(
        "proposals", "add", "Time for play", "--description", "Unstructured time children choose",
        "--parent", "SV", "--segment", "Lee interview:2", "--as", "ana",
    ).output  # fmt: skip
    assert out.strip() == "proposal 1: 'Time for play' awaits the lead"
    run("proposals", "add", "Parent voice", "--as", "ben")
    assert listed(project, "ana") == [(1, "Time for play", "ana", "open")]
    assert listed(project, "ben") == [(2, "Parent voice", "ben", "open")]
    for viewer in ("lead", "pat"):
        assert listed(project, viewer) == [(1, "Time for play", "ana", "open"), (2, "Parent voice", "ben", "open")]
    first = proposal_list(project, "lead").proposals[0]
    assert (first.parent, first.description, first.transcript, first.case, first.position, first.segment_ref) == (
        SV, "Unstructured time children choose", "Lee interview", "North", 2, "Lee interview:2"
    )  # fmt: skip
    with project.transaction() as s:
        set_blinded(s, "lead", False)
    assert [p[0] for p in listed(project, "ana")] == [1, 2]
    with project.read() as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "proposal.add")).first()
    assert (event.actor, event.entity, event.entity_id, event.after["name"]) == (
        "ana", "qc_code_proposal", 1, "Time for play"
    )  # fmt: skip


def test_accept_adds_the_code_as_a_new_codebook_version(study, run):
    project = study["project"]
    run("proposals", "add", "Time for play", "--description", "Unstructured time", "--parent", "SV", "--as", "ana")
    _, codes_before, version_before, _ = state(project)
    out = run("proposals", "accept", "1", "--as", "lead").output
    assert out.strip() == "proposal 1 accepted: 'Time for play' added to the codebook"
    with project.read() as s:
        code = s.exec(select(Code).where(Code.name == "Time for play")).one()
        parent = s.get(Code, code.parent_id)
        version = s.exec(select(Codebook.version)).one()
        actions = [
            (e.actor, e.action)
            for e in s.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
            if e.action.startswith(("codebook.", "proposal."))
        ]
        codes_after = s.exec(select(func.count()).select_from(Code)).one()
    assert (parent.name, code.definition, code.status) == (SV, "Unstructured time", "active")
    assert version == version_before + 1 and codes_after == codes_before + 1
    assert actions == [("ana", "proposal.add"), ("lead", "codebook.add"), ("lead", "proposal.accept")]
    (p,) = proposal_list(project, "ana").proposals
    assert (p.status, p.decided_by, p.outcome) == ("accepted", "lead", f"added {SV} > Time for play")
    # accepted under another parent than proposed
    run("proposals", "add", "Coach talk", "--parent", "SV", "--as", "ben")
    run("proposals", "accept", "2", "--parent", "WD", "--as", "lead")
    assert proposal_list(project, "lead").proposals[1].outcome == "added Work design > Coach talk"


def test_merge_adds_nothing_and_decline_keeps_the_reason(study, run):
    project = study["project"]
    run("proposals", "add", "Parent voice", "--as", "ben")
    run("proposals", "add", "Vague idea", "--as", "ana")
    _, codes_before, version_before, _ = state(project)
    assert run("proposals", "merge", "1", "--into", "SA", "--as", "lead").output.strip() == (
        "proposal 1 merged into 'Supportive administration'"
    )
    assert run("proposals", "decline", "2", "--reason", "too vague to code", "--as", "lead").output.strip() == (
        "proposal 2 declined"
    )
    _, codes_after, version_after, _ = state(project)
    assert (codes_after, version_after) == (codes_before, version_before)
    data = json.loads(run("proposals", "list", "--as", "lead", "-f", "json").output)
    assert [(d["id"], d["status"], d["outcome"], d["decided_by"]) for d in data] == [
        (1, "accepted", "merged into Supportive administration", "lead"),
        (2, "declined", "declined: too vague to code", "lead"),
    ]
    assert [d["id"] for d in json.loads(run("proposals", "list", "--as", "ana", "-f", "json").output)] == [2]
    assert json.loads(run("proposals", "list", "--as", "lead", "--status", "open", "-f", "json").output) == []
    with project.read() as s:
        merge = s.exec(select(AuditEvent).where(AuditEvent.action == "proposal.merge")).one()
        decline = s.exec(select(AuditEvent).where(AuditEvent.action == "proposal.decline")).one()
    assert (merge.actor, merge.after["merged_into"], merge.before["status"]) == (
        "lead", "Supportive administration", "open"
    )  # fmt: skip
    assert (decline.after["reason"], decline.after["status"]) == ("too vague to code", "declined")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["proposals", "accept", "1", "--as", "ana"],
            "accepting a code proposal is for the lead analyst; ana is a coder",
        ),
        (["proposals", "accept", "1", "--as", "pat"], "is for the lead analyst; pat is an auditor"),
        (["proposals", "decline", "1", "--reason", "no", "--as", "ben"], "for the lead analyst; ben is a coder"),
        (["proposals", "accept", "9", "--as", "lead"], "no proposal 9"),
        (["proposals", "accept", "1", "--parent", "Nope", "--as", "lead"], "unknown code 'Nope'"),
        (["proposals", "merge", "1", "--into", "Nope", "--as", "lead"], "unknown code 'Nope'"),
        (["proposals", "decline", "1", "--reason", "  ", "--as", "lead"], "say why the proposal is declined"),
        (["proposals", "decline", "1", "--as", "lead"], "say why the proposal is declined: --reason TEXT"),
        (["proposals", "merge", "1", "--as", "lead"], "say which code covers the proposal: --into CODE"),
        (["proposals", "add", "Play", "--as", "pat"], "pat is an auditor"),
        (["proposals", "add", "Work design", "--as", "ana"], "'Work design' is already a code"),
        (["proposals", "add", "Time for play", "--as", "ana"], "you already proposed 'Time for play'"),
        (["proposals", "add", "Play", "--parent", "Nope", "--as", "ana"], "unknown code 'Nope'"),
        (["proposals", "add", "Play", "--segment", "Lee interview:9", "--as", "ana"], "no segment 9"),
        (["proposals", "add", "  ", "--as", "ana"], "a proposed code needs a name"),
        (["proposals", "add", "Play"], "say who is proposing"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(study, run, args, message, monkeypatch):
    monkeypatch.delenv("QUALCODE_USER", raising=False)
    run("proposals", "add", "Time for play", "--as", "ana")
    before = state(study["project"])
    result = run(*args, ok=False)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert state(study["project"]) == before


def test_a_decided_proposal_cannot_be_decided_again(study, run):
    run("proposals", "add", "Time for play", "--as", "ana")
    run("proposals", "decline", "1", "--reason", "covered by SV", "--as", "lead")
    before = state(study["project"])
    for args in (["accept", "1"], ["merge", "1", "--into", "SV"], ["decline", "1", "--reason", "again"]):
        result = run("proposals", *args, "--as", "lead", ok=False)
        assert result.exit_code == 2 and "proposal 1 ('Time for play') was already declined" in result.stderr
    assert state(study["project"]) == before


def test_retrieval_memos_and_proposals_on_each_engine(any_project):
    """The same answers on SQLite and PostgreSQL (skipped where PostgreSQL is not configured)."""
    from qualcode.coding.memo_queries import memo_list
    from qualcode.coding.proposals import accept_proposal, decline_proposal, merge_proposal, propose
    from qualcode.coding.retrieval import retrieval_choices, retrieve

    from .test_memo_browser import build_memos

    project = any_project
    study = build_memos(project)
    result = retrieve(project, "ana", "SV", context=1)
    assert [(i.transcript, i.position, [n.position for n in i.before]) for i in result.items] == [
        ("Lee interview", 2, [1]),
        ("Park interview", 2, [1]),
    ]
    assert [i.position for i in retrieve(project, "lead", "SV", layer="ben", role="coach").items] == [3]
    choices = retrieval_choices(project, "lead")
    assert choices.layers == ("consensus", "ana", "ben") and choices.cases == ("North", "South")
    assert choices.roles == ("teacher", "coach", "administrator", "interviewer")
    assert [m.kind for m in memo_list(project, "ana").memos] == ["code", "segment"]
    assert [m.kind for m in memo_list(project, "lead", case="North").memos] == ["cell", "reconciliation", "segment"]
    first = propose(project, "ana", "Time for play", parent="SV", segment_id=study["seg"][("lee", 2)])
    second = propose(project, "ben", "Parent voice")
    third = propose(project, "ana", "Vague idea")
    with project.transaction() as s:
        accept_proposal(s, "lead", first)
        merge_proposal(s, "lead", second, "SA")
        decline_proposal(s, "lead", third, "too vague")
    assert [(p.name, p.outcome) for p in proposal_list(project, "ana").proposals] == [
        ("Time for play", f"added {SV} > Time for play"),
        ("Vague idea", "declined: too vague"),
    ]


@pytest.mark.postgres
def test_on_a_team_server_each_coder_proposes_over_their_own_connection():
    """Row-level security (qualcode server init) as well as the core's blinding: over her own
    connection alice proposes and reads only her own proposals and memos; the lead decides over his;
    alice then sees each decision, but not the lead's reason (his audit events are his)."""
    pytest.importorskip("psycopg")
    from qualcode.coding.memo_queries import memo_list
    from qualcode.coding.service import TranscriptWork
    from qualcode.project import Project
    from qualcode.store.server import add_login, init_server

    from .builders import build_codebook, build_transcript
    from .test_server_rls import team_database

    with team_database("qct_prop") as (owner, _group):
        with Project(owner, create=True) as p:
            tid = build_transcript(p)
            codes = build_codebook(p)
            init_server(p.write_engine)
            urls = {
                n: add_login(p.write_engine, n, r).url
                for n, r in (("alice", "coder"), ("bob", "coder"), ("lee", "lead"))
            }
        for name in ("alice", "bob"):
            with Project(urls[name]) as p:
                work = TranscriptWork(p, name, tid)
                work.toggle(work.segments[1].id, codes["SV"])
                work.set_memo(work.segments[1].id, f"{name}'s memo")
                propose(p, name, f"{name}'s idea", description="why", segment_id=work.segments[1].id)
        with Project(urls["alice"]) as p:
            assert [x.name for x in proposal_list(p, "alice").proposals] == ["alice's idea"]
            assert [m.text for m in memo_list(p, "alice").memos] == ["alice's memo"]
            assert [(i.position, i.codes) for i in retrieve(p, "alice", "SV").items] == [(2, (SV,))]
        with Project(urls["lee"]) as p:
            ids = {x.name: x.id for x in proposal_list(p, "lee").proposals}
            assert set(ids) == {"alice's idea", "bob's idea"}
            with p.transaction() as s:
                decline_proposal(s, "lee", ids["alice's idea"], "covered by SV")
                accept_proposal(s, "lee", ids["bob's idea"])
            assert [x.outcome for x in proposal_list(p, "lee").proposals] == [
                "declined: covered by SV",
                "added bob's idea",
            ]
        with Project(urls["alice"]) as p:
            # The outcome is on the row, which alice may read; the lead's audit events she may not.
            assert [(x.status, x.outcome) for x in proposal_list(p, "alice").proposals] == [
                ("declined", "declined: covered by SV")
            ]
