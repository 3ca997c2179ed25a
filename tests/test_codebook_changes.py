"""Codebooks in the store: load, versions, and changes that keep every coding (both engines)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from qualcode.codebook import changes, persist
from qualcode.codebook.diff import diff_snapshots
from qualcode.codebook.formats import read_codebook
from qualcode.codebook.lookup import CodeResolver, get_codebook
from qualcode.errors import QualcodeError
from qualcode.store.models import (
    AuditEvent,
    Code,
    Coder,
    Coding,
    ConsensusDecision,
    Exemplar,
    Memo,
    Segment,
    Transcript,
)

CODEBOOKS = Path(__file__).resolve().parent.parent / "codebooks"


def load(project, name="seven_conditions.yaml", actor="lead"):
    model = read_codebook(CODEBOOKS / name)
    with project.transaction() as s:
        return persist.store_model(s, model, actor, source_name=name)


def code(s, text):
    return CodeResolver(s, get_codebook(s)).resolve(text)


@pytest.fixture
def coded(any_project):
    """The seven conditions, one transcript of four segments, and two coders' codings."""
    project = any_project
    load(project)
    with project.transaction() as s:
        transcript = Transcript(title="Interview 1", content_hash="0" * 64, text="abcdefghijklmnop")
        s.add(transcript)
        s.flush()
        segments = [Segment(transcript_id=transcript.id, position=i + 1, start=4 * i, end=4 * i + 4) for i in range(4)]
        ann, ben = Coder(name="ann"), Coder(name="ben")
        s.add_all(segments + [ann, ben])
        s.flush()
        sv, sa, wd = code(s, "SV"), code(s, "SA"), code(s, "WD")
        plan = [  # (segment, coder, code)
            (0, ann, sv),
            (0, ann, sa),  # ann has both codes of a later merge on one segment
            (1, ann, sa),
            (1, ben, sv),
            (2, ben, sa),
            (2, ben, wd),
            (3, ann, wd),
        ]
        s.add_all([Coding(segment_id=segments[i].id, coder_id=c.id, code_id=k.id, round=1) for i, c, k in plan])
        s.add_all(
            [
                ConsensusDecision(segment_id=segments[0].id, code_id=sv.id, present=False),
                ConsensusDecision(segment_id=segments[0].id, code_id=sa.id, present=True),
                ConsensusDecision(segment_id=segments[1].id, code_id=sa.id, present=True),
                Memo(kind="code", code_id=sa.id, text="watch the overlap with SI"),
                Exemplar(code_id=sa.id, segment_id=segments[2].id, start=8, end=12),
            ]
        )
    return project


def coding_rows(s):
    """Every coding as (segment position, coder, code name), independent of ids."""
    rows = s.exec(
        select(Segment.position, Coder.name, Code.name)
        .join(Coding, Coding.segment_id == Segment.id)
        .join(Coder, Coder.id == Coding.coder_id)
        .join(Code, Code.id == Coding.code_id)
    ).all()
    return sorted(tuple(r) for r in rows)


def test_load_stores_the_tree_with_version_1_and_an_audit_event(any_project):
    cb = load(any_project)
    with any_project.read() as s:
        assert cb.active and cb.version == 1
        model = persist.model_from_store(s, get_codebook(s))
        assert model.signature() == read_codebook(CODEBOOKS / "seven_conditions.yaml").signature()
        versions = persist.versions_of(s, cb)
        assert [(v.number, v.change, len(v.snapshot)) for v in versions] == [(1, "load", 8)]
        assert [e.action for e in s.exec(select(AuditEvent)).scalars()] == ["codebook.load"]


def test_the_first_codebook_is_active_and_activate_switches(any_project):
    load(any_project)
    load(any_project, "cqr_collaboration.yaml")
    with any_project.transaction() as s:
        assert get_codebook(s).name == "Seven conditions of collective leadership"
        persist.activate(s, get_codebook(s, "CQR: collaboration in a mathematics leadership program"), "lead")
    with any_project.read() as s:
        assert get_codebook(s).kind == "cqr"
        assert sum(cb.active for cb in persist.list_codebooks(s)) == 1


def test_a_name_cannot_be_loaded_twice(any_project):
    load(any_project)
    with pytest.raises(QualcodeError, match="already loaded"):
        load(any_project)


def test_rename_keeps_the_code_and_its_codings(coded):
    with coded.read() as s:
        before = coding_rows(s)
    with coded.transaction() as s:
        sa = code(s, "SA")
        changes.rename_code(s, get_codebook(s), "lead", sa, "Administrative support")
    with coded.read() as s:
        after = coding_rows(s)
        assert after == sorted(
            (p, c, "Administrative support" if k == "Supportive administration" else k) for p, c, k in before
        )
        assert code(s, "Administrative support").key == "SA"
        assert get_codebook(s).version == 2


def test_merge_moves_codings_consensus_memos_and_exemplars_without_losing_any(coded):
    with coded.transaction() as s:
        report = changes.merge_codes(s, get_codebook(s), "lead", code(s, "SA"), code(s, "SV"))
    assert report.codings_moved == 2 and len(report.codings_combined) == 1
    assert report.consensus_moved == 1 and len(report.consensus_combined) == 1
    assert (report.memos_moved, report.exemplars_moved) == (1, 1)
    with coded.read() as s:
        sv = code(s, "SV")
        # Every (segment, coder) that had SA or SV now has SV exactly once; WD untouched.
        assert coding_rows(s) == [
            (1, "ann", "Shared vision and strategy"),
            (2, "ann", "Shared vision and strategy"),
            (2, "ben", "Shared vision and strategy"),
            (3, "ben", "Shared vision and strategy"),
            (3, "ben", "Work design"),
            (4, "ann", "Work design"),
        ]
        decisions = s.exec(
            select(Segment.position, ConsensusDecision.code_id, ConsensusDecision.present).join(
                Segment, Segment.id == ConsensusDecision.segment_id
            )
        ).all()
        # SA was present on segment 1 where SV was absent: the merged code is present there.
        assert sorted(tuple(d) for d in decisions) == [(1, sv.id, True), (2, sv.id, True)]
        assert s.exec(select(Memo.code_id)).scalars().all() == [sv.id]
        assert s.exec(select(Exemplar.code_id)).scalars().all() == [sv.id]
        sa = s.exec(select(Code).where(Code.key == "SA")).scalars().one()
        assert (sa.status, sa.merged_into_id, sa.retired_version) == ("retired", sv.id, 2)
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "codebook.merge")).scalars().one()
        assert len(event.after["codings_combined"]) == 1 and event.after["codings_combined"][0]["coder_id"] is not None


def test_merge_moves_sub_codes_and_refuses_merging_into_a_descendant(any_project):
    load(any_project, "cqr_collaboration.yaml")
    with pytest.raises(QualcodeError, match="own sub-code"), any_project.transaction() as s:
        changes.merge_codes(
            s, get_codebook(s), "lead", code(s, "Pre-program collaboration"), code(s, "Isolated classrooms")
        )
    with any_project.transaction() as s:
        changes.merge_codes(
            s, get_codebook(s), "lead", code(s, "Pre-program collaboration"), code(s, "Barriers to collaboration")
        )
    with any_project.read() as s:
        assert code(s, "Isolated classrooms").parent_id == code(s, "Barriers to collaboration").id
        assert get_codebook(s).version == 2  # the refused merge left no version behind


def test_split_retires_the_old_code_and_keeps_its_codings(coded):
    with coded.transaction() as s:
        new = changes.split_code(s, get_codebook(s), "lead", code(s, "WD"), ["Team structures", "Schedules"])
    with coded.read() as s:
        assert [c.name for c in new] == ["Team structures", "Schedules"]
        assert code(s, "Team structures").created_version == 2
        assert CodeResolver(s, get_codebook(s)).find("WD") is None
        assert sum(1 for r in coding_rows(s) if r[2] == "Work design") == 2
        names = [c.name for c in persist.model_from_store(s, get_codebook(s)).codes]
        assert names[3:5] == ["Team structures", "Schedules"]


def test_move_add_retire_and_refusals(any_project):
    load(any_project, "cqr_collaboration.yaml")
    with any_project.transaction() as s:
        cb = get_codebook(s)
        changes.add_code(
            s,
            cb,
            "lead",
            "Scheduling conflicts",
            code(s, "Barriers to collaboration"),
            0,
            brief="Schedules that clash",
            color="#ABC",
        )
        changes.move_code(s, cb, "lead", code(s, "Time constraints"), code(s, "Conditions for effective collaboration"))
        retired = changes.retire_code(s, cb, "lead", code(s, "Teacher leadership"))
        assert len(retired) == 3
    refusals = [
        (
            "under itself",
            lambda s, cb: changes.move_code(
                s, cb, "lead", code(s, "Barriers to collaboration"), code(s, "Lack of buy-in")
            ),
        ),
        (
            "duplicate code name 'Lack of buy-in'",
            lambda s, cb: changes.add_code(s, cb, "lead", "Lack of buy-in", code(s, "Barriers to collaboration")),
        ),
        ("bad colour", lambda s, cb: changes.edit_code(s, cb, "lead", code(s, "Staff turnover"), color="teal")),
    ]
    for message, change in refusals:
        with pytest.raises(QualcodeError, match=message), any_project.transaction() as s:
            change(s, get_codebook(s))
    with any_project.read() as s:
        model = persist.model_from_store(s, get_codebook(s))
        barriers = next(d for d in model.codes if d.name == "Barriers to collaboration")
        assert [c.name for c in barriers.children] == [
            "Scheduling conflicts",
            "Variation between groups",
            "Lack of buy-in",
            "Staff turnover",
        ]
        assert barriers.children[0].color == "#aabbcc"
        assert "Teacher leadership" not in [d.name for d in model.codes]
        assert get_codebook(s).version == 4
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id)).scalars()]
        assert actions == ["codebook.load", "codebook.add", "codebook.move", "codebook.retire"]


def test_a_clashing_hotkey_is_refused(any_project):
    load(any_project)
    with pytest.raises(QualcodeError, match="hotkey '3'"), any_project.transaction() as s:
        changes.add_code(s, get_codebook(s), "lead", "Policy context", hotkey="3")
    with any_project.read() as s:
        assert CodeResolver(s, get_codebook(s)).find("Policy context") is None


def test_diff_reports_every_kind_of_change(any_project):
    load(any_project)
    with any_project.transaction() as s:
        cb = get_codebook(s)
        changes.add_code(s, cb, "lead", "Policy context")
        changes.rename_code(s, cb, "lead", code(s, "RC"), "Resources")
        changes.move_code(s, cb, "lead", code(s, "CE"), code(s, "OI"))
        changes.merge_codes(s, cb, "lead", code(s, "SI"), code(s, "SA"))
        changes.retire_code(s, cb, "lead", code(s, "WD"))
        changes.edit_code(s, cb, "lead", code(s, "SN"), definition="Trust among staff.", hotkey="t")
    with any_project.read() as s:
        versions = persist.versions_of(s, get_codebook(s))
        assert [v.number for v in versions] == [1, 2, 3, 4, 5, 6, 7]
        found = {(c.kind, c.code, c.detail) for c in diff_snapshots(versions[0].snapshot, versions[-1].snapshot)}
        assert found == {
            ("added", "Policy context", ""),
            ("renamed", "Resources", "from 'Resources and capacity'"),
            (
                "moved",
                "Orientation toward improvement > Collective efficacy",
                "from the top level to Orientation toward improvement",
            ),
            ("merged", "Shared influence", "into Supportive administration"),
            ("retired", "Work design", ""),
            ("definition changed", "Supportive norms and relationships", "definition"),
            ("changed", "Supportive norms and relationships", "hotkey '5' -> 't'"),
        }
        only_rename = diff_snapshots(versions[1].snapshot, versions[2].snapshot)
        assert [(c.kind, c.code) for c in only_rename] == [("renamed", "Resources")]
