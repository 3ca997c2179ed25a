"""The memo matrix, frequencies and co-occurrence on the study built by hand (test_synthesis_study)."""

import pytest
from sqlalchemy import select

from qualcode.errors import QualcodeError
from qualcode.store.models import AuditEvent, Memo
from qualcode.synthesis.annotations import add_exemplar, set_cell_memo, set_pattern
from qualcode.synthesis.cooccurrence import cooccurrence
from qualcode.synthesis.frequencies import code_frequencies
from qualcode.synthesis.matrix import memo_matrix

from .test_synthesis_study import D1, D2, SCHOOLS, add_memos, build_study


@pytest.fixture
def study(any_project):
    st = build_study(any_project)
    add_memos(any_project, st)
    return any_project, st


def test_counts_segments_and_participants(study):
    project, st = study
    with project.read() as s:
        m = memo_matrix(s, viewer="lee")
    counts = m.counts()
    assert list(counts.columns) == SCHOOLS
    assert list(counts.loc[f"{D2} > Lack of buy-in"]) == [3, 2, 1, 0, 0]
    assert list(counts.loc[D2]) == [5, 4, 3, 0, 2]
    assert list(counts.loc[D1]) == [5, 4, 4, 4, 3]
    adams_buy_in = m.cell(st.code["buy-in"], st.case["Adams"])
    assert (adams_buy_in.segments, adams_buy_in.participants) == (3, 2)  # the interviewer is no participant
    adams_d2 = m.cell(st.code["D2"], st.case["Adams"])
    assert (adams_d2.segments, adams_d2.participants) == (5, 4)


def test_memos_follow_blinding(study):
    project, st = study
    with project.read() as s:
        as_lead = memo_matrix(s, viewer="lee")
        as_ana = memo_matrix(s, viewer="ana", layer="ana")  # a coder reads her own layer while blinded
    support, adams, baker = st.code["support"], st.case["Adams"], st.case["Baker"]
    assert as_lead.cell(support, adams).memos == ["Support is concrete at Adams."]
    assert as_lead.cell(support, baker).memos == ["Ben's private note."]
    # While blinded the lead's analysis is built on every coder's work: a coder sees none of it.
    assert as_ana.cell(support, adams).memos == []
    assert as_ana.cell(support, baker).memos == []  # another coder's memo stays hidden


def test_a_blinded_coder_sees_none_of_the_leads_analysis_until_unblinding(study):
    """Cell memos, row pattern judgements and picked exemplars are the lead's, read from everyone's work."""
    from qualcode.coding.blinding import set_blinded

    project, st = study
    support, adams = st.code["support"], st.case["Adams"]
    with project.transaction() as s:
        add_exemplar(s, "lee", support, st.segment[(1, 2)])
    cell = ["count", "memo", "quotes"]
    with project.read() as s:
        as_ana = memo_matrix(s, viewer="ana", layer="ana", cell=cell)
        as_lead = memo_matrix(s, viewer="lee", layer="ana", cell=cell)
    row = next(r for r in as_ana.rows if r.code_id == support)
    assert (row.pattern, row.pattern_note) == (None, "")
    assert [q.source for q in as_ana.cell(support, adams).quotes] in ([], ["coded"])
    shown = str(as_ana.table().rows)
    assert "Support is concrete at Adams." not in shown and "convergence" not in shown
    lead_row = next(r for r in as_lead.rows if r.code_id == support)
    assert lead_row.pattern == "convergence"
    assert "exemplar" in [q.source for q in as_lead.cell(support, adams).quotes]
    with project.transaction() as s:
        set_blinded(s, "lee", False)
    with project.read() as s:
        unblinded = memo_matrix(s, viewer="ana", layer="ana", cell=cell)
    assert unblinded.cell(support, adams).memos == ["Support is concrete at Adams."]
    assert next(r for r in unblinded.rows if r.code_id == support).pattern == "convergence"


def test_a_span_picked_as_an_exemplar_is_not_shown_again_as_a_coded_span(study):
    project, _st = study
    with project.read() as s:
        before = memo_matrix(s, viewer="lee", cell=["quotes"], max_quotes=5)
    coded = [(c, q) for c, cell in before.cells.items() for q in cell.quotes if q.source == "coded"]
    assert coded, "the study has coded quote spans"
    (code_id, case_id), quote = coded[0]
    with project.transaction() as s:
        add_exemplar(s, "lee", code_id, quote.segment_id, quote.start, quote.end)
    with project.read() as s:
        after = memo_matrix(s, viewer="lee", cell=["quotes"], max_quotes=5)
    spans = [(q.segment_id, q.start, q.end) for q in after.cell(code_id, case_id).quotes]
    assert spans.count((quote.segment_id, quote.start, quote.end)) == 1
    assert after.cell(code_id, case_id).quotes[0].source == "exemplar"


def test_table_cells_pattern_and_transpose(study):
    project, _st = study
    with project.read() as s:
        m = memo_matrix(s, cell=["count", "memo", "quotes"], viewer="lee")
    table = m.table()
    assert table.columns == ["Code"] + SCHOOLS + ["Pattern"]
    support_row = table.rows[1]
    assert support_row[1] == "2 segments, 2 participants\nSupport is concrete at Adams.\n“T1 turn”"
    assert support_row[-1] == "convergence: Every school describes support."
    assert table.rows[4][1] == "3 segments, 2 participants\n“turn 2”"  # the span a coder marked
    flipped = m.table(transpose=True)
    assert flipped.columns[0] == "Case" and flipped.columns[2] == f"{D1} > Administrators provide support"
    assert [r[0] for r in flipped.rows] == SCHOOLS + ["Pattern"]
    assert flipped.rows[-1][2] == "convergence: Every school describes support."
    assert flipped.rows[4][7] == "2 segments, 2 participants"  # Evans x Staff turnover


def test_order_by_a_numeric_attribute_puts_missing_last(study):
    project, _ = study
    with project.read() as s:
        m = memo_matrix(s, viewer="lee", order_by="enrollment")
        with pytest.raises(QualcodeError, match="unknown case attribute 'size'"):
            memo_matrix(s, viewer="lee", order_by="size")
    assert [c.name for c in m.columns] == ["Cole", "Adams", "Dunn", "Baker", "Evans"]  # 90 < 300 < 450 < 1200
    assert m.table().columns[1] == "Cole (enrollment = 90)"


def test_joint_display_attribute_by_code_key(study):
    project, st = study
    with project.read() as s:
        m = memo_matrix(s, viewer="lee", codebook="Seven conditions", cell=["count", "survey"])
        templated = memo_matrix(s, viewer="lee", codebook="Seven conditions", cell=["survey_{key}"])
    assert m.table().rows[0][1:6] == [
        "1 segment, 1 participant\nsurvey_SV = 4.2",
        "1 segment, 1 participant\nsurvey_SV = 3.1",
        "0 segments, 0 participants\nsurvey_SV = 3.9",
        "0 segments, 0 participants\nsurvey_SV = 2.8",
        "0 segments, 0 participants\nsurvey_SV = 4.6",
    ]
    assert m.cell(st.code["SA"], st.case["Cole"]).attributes == {}  # there is no survey_SA
    assert templated.cell(st.code["SV"], st.case["Evans"]).attributes == {"survey_SV": "4.6"}


def test_evidence_of_a_cell(study):
    project, st = study
    with project.read() as s:
        m = memo_matrix(s, viewer="lee")
    assert m.segment_ids(st.code["buy-in"], st.case["Adams"]) == sorted(
        [st.segment[(1, 1)], st.segment[(1, 2)], st.segment[(2, 2)]]
    )


def test_writes_are_audited_and_replace(study):
    project, st = study
    with project.transaction() as s:
        set_cell_memo(s, "lee", st.code["time"], st.case["Cole"], "first")
    with project.transaction() as s:
        set_cell_memo(s, "lee", st.code["time"], st.case["Cole"], "second")
        set_pattern(s, "lee", st.code["time"], "divergence", "Only three schools.")
        add_exemplar(s, "lee", st.code["time"], st.segment[(5, 6)])
    with project.read() as s:
        memos = s.exec(select(Memo).where(Memo.kind == "cell", Memo.code_id == st.code["time"])).scalars().all()
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id)).scalars()]
        m = memo_matrix(s, cell=["memo", "quotes"], viewer="lee")
    assert [m_.text for m_ in memos] == ["second"]
    assert actions == ["memo.cell.write", "memo.cell.write", "memo.pattern.write", "exemplar.add"]
    cell = m.cell(st.code["time"], st.case["Cole"])
    assert cell.memos == ["second"]
    assert [q.text for q in cell.quotes] == [st.text[(5, 6)]]
    with project.transaction() as s:
        with pytest.raises(QualcodeError, match="unknown pattern"):
            set_pattern(s, "lee", st.code["time"], "agreement")
        with pytest.raises(QualcodeError, match="not inside segment"):
            add_exemplar(s, "lee", st.code["time"], st.segment[(5, 6)], 0, 5)


def test_frequencies_by_case(study):
    project, _ = study
    with project.read() as s:
        freq = code_frequencies(s, viewer="lee")
    assert list(freq.columns) == SCHOOLS + ["Total"]
    assert list(freq.loc[f"{D2} > Time constraints"]) == [3, 2, 2, 0, 0, 7]
    assert list(freq.loc[D2]) == [5, 4, 3, 0, 2, 14]


def test_cooccurrence_counts_and_jaccard(study):
    project, _ = study
    with project.read() as s:
        counts = cooccurrence(s, viewer="lee")
        jaccard = cooccurrence(s, viewer="lee", measure="jaccard")
    support, buy_in, time = (
        f"{D1} > Administrators provide support",
        f"{D2} > Lack of buy-in",
        f"{D2} > Time constraints",
    )
    assert counts.loc[support, buy_in] == counts.loc[buy_in, support] == 5  # pos 2 of T1..T5
    assert counts.loc[buy_in, time] == 1  # T1 pos 2
    assert counts.loc[buy_in, buy_in] == 6
    assert jaccard.loc[support, buy_in] == round(5 / 11, 3)
    assert jaccard.loc[buy_in, time] == round(1 / 12, 3)


def test_only_the_analysts_patterns_and_exemplars_show(study):
    """A judgement or exemplar left by a coder (say, before writes were lead-only) is not shown."""
    from qualcode.store.models import Exemplar, Memo, Segment

    project, st = study
    support = st.code["support"]
    with project.transaction() as s:
        seg = s.exec(select(Segment)).scalars().first()
        s.add(
            Memo(kind="pattern", coder_id=st.coder["ana"], code_id=support, label="contradiction", text="ana thinks so")
        )
        s.add(
            Exemplar(
                code_id=support,
                case_id=st.case["Adams"],
                segment_id=seg.id,
                start=seg.start,
                end=seg.start + 3,
                chosen_by="ana",
            )
        )
    with project.read() as s:
        m = memo_matrix(s, cell=["count", "quotes"], viewer="lee")
    row = next(r for r in m.rows if r.code_id == support)
    assert (row.pattern, row.pattern_note) == ("convergence", "Every school describes support.")
    picked = [
        (q.segment_id, q.end - q.start) for q in m.cell(support, st.case["Adams"]).quotes if q.source == "exemplar"
    ]
    assert (seg.id, 3) not in picked  # ana's 3-character pick is not shown


def test_only_the_lead_writes_into_the_matrix(study):
    from qualcode.errors import BlindingError
    from qualcode.store.models import Exemplar
    from qualcode.synthesis.annotations import remove_exemplar

    project, st = study
    with project.transaction() as s:
        with pytest.raises(BlindingError, match="lead analyst; ana is a coder"):
            set_pattern(s, "ana", st.code["time"], "divergence", "Mine.")
        with pytest.raises(BlindingError, match="lead analyst; ana is a coder"):
            set_cell_memo(s, "ana", st.code["time"], st.case["Cole"], "Mine.")
        with pytest.raises(BlindingError, match="lead analyst; ana is a coder"):
            add_exemplar(s, "ana", st.code["time"], st.segment[(5, 6)])
        with pytest.raises(BlindingError, match="--as NAME"):
            set_pattern(s, "", st.code["time"], "divergence")
        exemplar = s.exec(select(Exemplar)).scalars().first()
        with pytest.raises(BlindingError, match="lead analyst; ben is a coder"):
            remove_exemplar(s, "ben", exemplar.id)
    with project.read() as s:
        assert s.exec(select(Memo).where(Memo.code_id == st.code["time"])).scalars().all() == []
        assert len(s.exec(select(Exemplar)).scalars().all()) == 1


def test_exemplar_segment_of_a_repeated_title_must_name_its_case(study):
    """T1 is Adams's; a second "T1" at Baker makes ``T1:2`` ambiguous instead of a silent pick."""
    from qualcode.synthesis.annotations import find_segment

    from .builders import build_transcript

    project, st = study
    build_transcript(project, title="T1", case="Baker")
    with project.read() as s:
        with pytest.raises(QualcodeError, match="ambiguous transcript 'T1': it is in cases Adams, Baker"):
            find_segment(s, "T1:2")
        assert find_segment(s, "Adams/T1:2").id == st.segment[(1, 2)]
        assert find_segment(s, str(st.segment[(1, 2)])).id == st.segment[(1, 2)]  # a bare id, as documented
