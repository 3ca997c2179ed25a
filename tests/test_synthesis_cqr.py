"""The CQR table on a study whose counts are known by construction (see test_synthesis_study)."""

import pytest
from sqlalchemy import delete

from qualcode.coding.blinding import set_blinded
from qualcode.errors import BlindingError, QualcodeError
from qualcode.store.models import ConsensusDecision
from qualcode.synthesis.cqr import cqr_table

from .test_synthesis_study import D1, D2, D3, build_study


@pytest.fixture
def study(any_project):
    return any_project, build_study(any_project)


def rows(result):
    return {r.path.split(" > ")[-1]: (r.blocks, r.cases, r.label) for r in result.frame.itertuples()}


def test_transcript_cases(study):
    project, _ = study
    with project.read() as s:
        result = cqr_table(s, viewer="lee")
    assert result.n_cases == 10
    assert rows(result) == {
        D1: (20, 10, ""),
        "Administrators provide support": (10, 10, "general"),
        "Administrators provide autonomy": (10, 9, "general"),  # all but one; the absent decision does not count
        D2: (14, 7, ""),  # T1 pos 2 carries buy-in and time: one block for the domain
        "Lack of buy-in": (6, 5, "variant"),  # exactly half
        "Time constraints": (7, 6, "typical"),
        "Staff turnover": (2, 1, "miscellaneous"),
        D3: (3, 3, ""),  # the domain coded directly counts too
        "Leadership practice": (2, 2, "variant"),
    }


def test_table_moves_single_case_categories_to_the_note(study):
    project, _ = study
    with project.read() as s:
        table = cqr_table(s, viewer="lee").table()
    assert table.columns == ["Domain", "Category", "Blocks", "Cases", "Label"]
    assert [r[1] for r in table.rows if r[1]] == [
        "Administrators provide support",
        "Administrators provide autonomy",
        "Lack of buy-in",
        "Time constraints",
        "Leadership practice",
    ]
    assert table.rows[0] == [D1, "", 20, 10, ""]
    assert table.group_rows == {0, 3, 6}
    assert "Miscellaneous (single case): Barriers to collaboration > Staff turnover (T10; 2 blocks)." in table.note
    assert "general = 9–10 cases; typical = 6–8 cases; variant = 2–5 cases" in table.note


def test_participants_over_fifteen_get_rare(study):
    project, _ = study
    with project.read() as s:
        result = cqr_table(s, viewer="lee", case_unit="speaker")
    assert result.n_cases == 20  # two participants in each of ten transcripts; interviewers are not cases
    got = rows(result)
    assert got["Lack of buy-in"] == (6, 5, "variant")  # the interviewer's block is no case
    assert got["Time constraints"] == (7, 7, "variant")
    assert got["Staff turnover"] == (2, 2, "rare")
    assert got["Leadership practice"] == (2, 2, "rare")
    assert got[D1] == (20, 19, "")


def test_sites_and_case_attributes_as_units(study):
    project, _ = study
    with project.read() as s:
        sites = rows(cqr_table(s, viewer="lee", case_unit="case"))
        levels = rows(cqr_table(s, viewer="lee", case_unit="level"))
    assert sites["Administrators provide autonomy"] == (10, 5, "general")
    assert sites["Lack of buy-in"] == (6, 3, "typical")  # Adams, Baker, Cole of 5
    assert sites["Staff turnover"] == (2, 1, "miscellaneous")
    assert sites["Leadership practice"] == (2, 2, "variant")
    assert levels["Lack of buy-in"] == (6, 3, "general")  # elementary, middle, high: all three levels
    assert levels["Staff turnover"] == (2, 1, "miscellaneous")


def test_speaker_attributes_as_units(study):
    project, _ = study
    with project.read() as s:
        roles = cqr_table(s, viewer="lee", case_unit="role")
        cohorts = rows(cqr_table(s, viewer="lee", case_unit="cohort"))
    assert roles.unit.universe == ["administrator", "coach", "teacher"]
    assert rows(roles)["Time constraints"] == (7, 3, "general")
    assert cohorts["Lack of buy-in"] == (6, 1, "miscellaneous")  # only teachers (cohort 1) raised it


def test_group_columns_count_blocks_per_role(study):
    project, _ = study
    with project.read() as s:
        table = cqr_table(s, viewer="lee", groups="role").table()
    assert table.columns[-3:] == ["administrator", "coach", "teacher"]
    by_name = {(r[0] or r[1]): r[5:] for r in table.rows}
    assert by_name["Administrators provide autonomy"] == [4, 5, 1]
    assert by_name["Time constraints"] == [3, 3, 1]
    assert by_name[D2] == [4, 3, 6]  # the interviewer's block belongs to no group


def test_each_group_number_opens_to_its_own_segments(study):
    """Every number is traceable: a group column's count is the length of that group's evidence."""
    project, _st = study
    with project.read() as s:
        result = cqr_table(s, viewer="lee", groups="role")
    for record in result.frame.to_dict("records"):
        code_id = int(record["code_id"])
        for group in result.groups:
            assert len(result.segment_ids(code_id, group=group)) == record[group]
        assert len(result.segment_ids(code_id)) == record["blocks"]
    autonomy = int(result.frame.loc[result.frame["category"].str.endswith("provide autonomy"), "code_id"].iloc[0])
    by_teachers = result.evidence(autonomy, group="teacher")
    assert len(by_teachers) == 1 and set(by_teachers["group"]) == {"teacher"}
    with pytest.raises(QualcodeError, match="no group column 'parent'"):
        result.segment_ids(autonomy, group="parent")


def test_order_by_count_keeps_categories_under_domains(study):
    project, _ = study
    with project.read() as s:
        result = cqr_table(s, viewer="lee", order="count")
    names = [p.split(" > ")[-1] for p in result.frame["path"]]
    assert names == [
        D1,
        "Administrators provide support",
        "Administrators provide autonomy",
        D2,
        "Time constraints",
        "Lack of buy-in",
        "Staff turnover",
        D3,
        "Leadership practice",
    ]


def test_hill1997_labels(study):
    project, _ = study
    with project.read() as s:
        got = rows(cqr_table(s, viewer="lee", labels="hill1997"))
    assert got["Administrators provide autonomy"][2] == "typical"  # 9 of 10 is not all
    assert got["Lack of buy-in"][2] == "typical"  # exactly half is "at least half"


def test_evidence_behind_a_row(study):
    project, st = study
    with project.read() as s:
        result = cqr_table(s, viewer="lee")
    turnover = st.code["turnover"]
    assert result.segment_ids(turnover) == sorted([st.segment[(10, 2)], st.segment[(10, 4)]])
    assert result.segment_ids(st.code["buy-in"], "T1") == sorted([st.segment[(1, 1)], st.segment[(1, 2)]])


def test_coder_layer_uses_latest_round_and_blinding(study):
    project, _st = study
    with project.read() as s:
        got = rows(cqr_table(s, layer="ana", viewer="lee"))
        assert got["Administrators provide support"] == (1, 1, "miscellaneous")  # T2; T1 was recoded in round 2
        assert got["Administrators provide autonomy"] == (1, 1, "miscellaneous")
        assert rows(cqr_table(s, layer="ana", viewer="ana"))["Lack of buy-in"] == (0, 0, "")
        with pytest.raises(BlindingError):
            cqr_table(s, layer="ana", viewer="ben")
        with pytest.raises(BlindingError, match="consensus"):  # made of everyone's work: analysts only
            cqr_table(s, viewer="ben")
        with pytest.raises(BlindingError, match="say who you are"):
            cqr_table(s)
    with project.transaction() as s:
        set_blinded(s, "lee", False)
    with project.read() as s:
        assert rows(cqr_table(s, viewer="ben"))["Lack of buy-in"] == (6, 5, "variant")  # unblinded: for everyone


def test_unknown_unit_and_missing_consensus(any_project):
    build_study(any_project)
    with any_project.read() as s, pytest.raises(QualcodeError, match="unknown case unit 'district'"):
        cqr_table(s, viewer="lee", case_unit="district")
    with any_project.transaction() as s:
        s.execute(delete(ConsensusDecision))
    with any_project.read() as s, pytest.raises(QualcodeError, match="choose a coder's layer with --layer CODER"):
        cqr_table(s, viewer="lee")
