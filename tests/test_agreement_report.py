"""The project report on a small hand-built study whose statistics are worked out by hand below."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from qualcode.agreement import binary
from qualcode.agreement.report import agreement_json as agreement_report
from qualcode.agreement.statistics import fleiss_kappa, gwet_ac1, krippendorff_alpha
from qualcode.errors import BlindingError
from qualcode.store.models import Case, Code, Codebook, Coder, Coding, Segment, SegmentStatus, Transcript

KEYS = ("SV", "SA", "RC")


def build_study(
    project,
    codings: dict[str, dict[int, set[str]]],
    done: dict[str, set[int]],
    *,
    rounds=None,
    segments: int = 6,
    kind: str = "provisional",
) -> dict:
    """One case, one transcript of ``segments`` segments, coders with role coder plus a lead and an auditor.

    ``codings[coder][position]`` = code keys; ``done[coder]`` = positions marked done (round 1 unless
    ``rounds[coder]`` says otherwise).
    """
    rounds = rounds or {}
    ids: dict = {}
    with project.transaction() as s:
        case = Case(name="Lincoln Elementary")
        s.add(case)
        s.flush()
        text = "".join(f"Turn {i} text. " for i in range(1, segments + 1))
        t = Transcript(title="Principal interview", case_id=case.id, content_hash="x", text=text)
        s.add(t)
        s.flush()
        segs = {}
        offset = 0
        for i in range(1, segments + 1):
            piece = f"Turn {i} text. "
            seg = Segment(transcript_id=t.id, position=i, start=offset, end=offset + len(piece))
            offset += len(piece)
            s.add(seg)
            s.flush()
            segs[i] = seg.id
        cb = Codebook(name="Seven conditions of collective leadership", kind=kind, active=True)
        s.add(cb)
        s.flush()
        codes = {}
        for pos, key in enumerate(KEYS):
            c = Code(
                codebook_id=cb.id,
                guid=key,
                name={
                    "SV": "Shared vision and strategy",
                    "SA": "Supportive administration",
                    "RC": "Resources and capacity",
                }[key],
                key=key,
                position=pos,
                definition=f"Definition of {key}",
            )
            s.add(c)
            s.flush()
            codes[key] = c.id
        coders = {}
        for name, role in [
            *((n, "coder") for n in sorted(set(codings) | set(done))),
            ("lead", "lead"),
            ("audrey", "auditor"),
        ]:
            c = Coder(name=name, role=role)
            s.add(c)
            s.flush()
            coders[name] = c.id
        for name, by_pos in codings.items():
            for pos, keys in by_pos.items():
                for key in keys:
                    s.add(
                        Coding(
                            segment_id=segs[pos], code_id=codes[key], coder_id=coders[name], round=rounds.get(name, 1)
                        )
                    )
        for name, positions in done.items():
            for pos in positions:
                s.add(SegmentStatus(segment_id=segs[pos], coder_id=coders[name], round=rounds.get(name, 1)))
        ids.update(case=case.id, transcript=t.id, segments=segs, codes=codes, coders=coders, codebook=cb.id)
    return ids


# A and B finished segments 1-4. Segment 5 only A finished (missing for B); B coded 6 without finishing it.
CODINGS = {
    "ann": {1: {"SV"}, 2: {"SV", "SA"}, 4: {"SA"}, 5: {"SV"}},
    "ben": {1: {"SV"}, 2: {"SA"}, 4: {"SA"}, 6: {"RC"}},
}
DONE = {"ann": {1, 2, 3, 4, 5}, "ben": {1, 2, 3, 4}}


def report_of(project, **kw):
    with project.read() as s:
        return agreement_report(s, "lead", **kw)


def test_per_code_and_pooled_statistics_by_hand(any_project):
    build_study(any_project, CODINGS, DONE)
    r = report_of(any_project)
    by = {row["key"]: row for row in r["per_code"]}
    assert r["units"] == 4  # segments both finished; 5 and 6 do not count for kappa
    # SV over segments 1-4: ann 1100, ben 1000. p_o = 3/4; p_e = .5*.25 + .5*.75 = .5; kappa = .5
    assert by["SV"]["p_o"] == pytest.approx(0.75)
    assert by["SV"]["p_e"] == pytest.approx(0.5)
    assert by["SV"]["cohen_kappa"] == pytest.approx(0.5)
    assert by["SV"]["prevalence"] == {"ann": 0.5, "ben": 0.25}
    # Scott's pi (Fleiss with two coders): p1 = 3/8, p_e = 9/64 + 25/64 = 34/64, (3/4 - 34/64)/(30/64) = 7/15
    assert by["SV"]["fleiss_kappa"] == pytest.approx(7 / 15)
    # alpha: segment 5 has one coder (not pairable). o_01 = 1, n_1 = 3, n_0 = 5, n = 8: 1 - 7 * 1/15 = 8/15
    assert by["SV"]["krippendorff_alpha"] == pytest.approx(8 / 15)
    assert by["SA"]["cohen_kappa"] == pytest.approx(1.0)
    assert by["RC"]["cohen_kappa"] is None  # never used in finished segments: undefined, not 0 or 1
    assert by["SV"]["disagreements"] == 1
    # pooled: mean p_o = (3/4 + 1 + 1)/3 = 11/12, mean p_e = (1/2 + 1/2 + 1)/3 = 2/3 -> (11/12 - 2/3)/(1/3) = 0.75
    assert r["pooled_kappa"] == pytest.approx(0.75)
    assert r["pooled_kappa_pairs"][0]["coders"] == ["ann", "ben"]
    assert r["landis_koch"] == "substantial" and r["cicchetti"] == "excellent"


def test_report_alpha_matches_the_krippendorff_package(any_project):
    build_study(any_project, CODINGS, DONE)
    r = report_of(any_project)
    sv = next(row for row in r["per_code"] if row["key"] == "SV")
    # coders x segments 1-6 for SV, NaN where not finished (B's segment-6 coding does not count)
    data = np.array([[1, 1, 0, 0, 1, np.nan], [1, 0, 0, 0, np.nan, np.nan]])
    assert sv["krippendorff_alpha"] == pytest.approx(krippendorff_alpha(data))


def test_the_latest_round_every_coder_started_counts_unless_a_round_is_given(any_project):
    """Round 1: ann SV and ben SA on segment 1, both finish segments 1-2 (SV p_o = 1/2).
    Round 2 opens: while only ben has recoded, round 1 still counts for both (coders are
    compared round with round); once ann recodes too, round 2 counts (both SV: p_o = 1)."""
    codings = {"ann": {1: {"SV"}}, "ben": {1: {"SA"}}}
    build_study(any_project, codings, {"ann": {1, 2}, "ben": {1, 2}})

    def recode(name: str) -> None:
        with any_project.transaction() as s:
            from sqlalchemy import select

            coder = s.exec(select(Coder).where(Coder.name == name)).scalars().one()
            seg1 = s.exec(select(Segment).where(Segment.position == 1)).scalars().one()
            seg2 = s.exec(select(Segment).where(Segment.position == 2)).scalars().one()
            sv = s.exec(select(Code).where(Code.key == "SV")).scalars().one()
            s.add(Coding(segment_id=seg1.id, code_id=sv.id, coder_id=coder.id, round=2))
            s.add(SegmentStatus(segment_id=seg1.id, coder_id=coder.id, round=2))
            s.add(SegmentStatus(segment_id=seg2.id, coder_id=coder.id, round=2))

    recode("ben")
    midway = {row["key"]: row for row in report_of(any_project)["per_code"]}
    assert midway["SV"]["p_o"] == pytest.approx(0.5) and midway["SA"]["p_o"] == pytest.approx(0.5)
    slices = report_of(any_project, by="round")["slices"]
    assert [s["round"] for s in slices] == [1, 2]
    assert slices[1]["units"] == 0  # ann has not coded round 2

    recode("ann")
    latest = {row["key"]: row for row in report_of(any_project)["per_code"]}
    assert latest["SV"]["p_o"] == pytest.approx(1.0) and latest["SA"]["p_o"] == pytest.approx(
        1.0
    )  # nobody applied SA in round 2
    first = {row["key"]: row for row in report_of(any_project, round=1)["per_code"]}
    assert first["SV"]["p_o"] == pytest.approx(0.5)
    assert report_of(any_project, by="round")["slices"][1]["units"] == 2


def test_blinded_report_is_for_lead_and_auditor(any_project):
    build_study(any_project, CODINGS, DONE)
    with any_project.read() as s:
        with pytest.raises(BlindingError):
            agreement_report(s, "ann")
        with pytest.raises(BlindingError):
            agreement_report(s, None)
        assert agreement_report(s, "audrey")["units"] == 4


def test_bootstrap_ci_is_seeded(any_project):
    build_study(any_project, CODINGS, DONE)
    one = report_of(any_project, ci=True, resamples=200, seed=3)
    two = report_of(any_project, ci=True, resamples=200, seed=3)
    assert one["ci"] == two["ci"]
    low, high = one["ci"]["pooled_kappa"]
    assert low <= high


def test_slices_by_case_and_transcript(any_project):
    build_study(any_project, CODINGS, DONE)
    r = report_of(any_project, by="case")
    assert r["slices"][0]["case"] == "Lincoln Elementary"
    assert r["slices"][0]["pooled_kappa"] == pytest.approx(0.75)
    assert report_of(any_project, by="transcript")["slices"][0]["transcript"] == "Principal interview"


def test_cqr_domain_level_counts_a_domain_when_any_category_is_present(any_project):
    ids = build_study(any_project, {"ann": {1: {"SA"}}, "ben": {1: {"RC"}}}, {"ann": {1, 2}, "ben": {1, 2}}, kind="cqr")
    with any_project.transaction() as s:
        # make SV a domain holding SA and RC as its categories
        for key in ("SA", "RC"):
            code = s.get(Code, ids["codes"][key])
            code.parent_id = ids["codes"]["SV"]
    cat = {row["key"]: row for row in report_of(any_project)["per_code"]}
    assert set(cat) == {"SA", "RC"} and cat["SA"]["p_o"] == pytest.approx(0.5)
    dom = report_of(any_project, level="domain")["per_code"]
    assert [row["key"] for row in dom] == ["SV"] and dom[0]["p_o"] == pytest.approx(1.0)


def test_binary_parts_equal_the_general_functions():
    rng = np.random.default_rng(5)
    raters = rng.integers(0, 2, size=(3, 40, 4)).astype(bool)
    applied = raters.sum(axis=0)
    k = binary.kappas(binary.multi_parts(applied, 3))
    for code in range(4):
        table = np.stack([3 - applied[:, code], applied[:, code]], axis=1)
        assert k["fleiss"][code] == pytest.approx(fleiss_kappa(table))
        assert k["ac1"][code] == pytest.approx(gwet_ac1(table))
    finished = np.full(40, 3)
    a = binary.alpha_parts(applied, finished)
    alpha = binary.alpha_from_parts(a["o01"], a["n0"], a["n1"])
    for code in range(4):
        assert alpha[code] == pytest.approx(krippendorff_alpha(raters[:, :, code].astype(float)))


def test_agreement_command_json_keys(project, project_path):
    from qualcode.cli.main import cli

    build_study(project, CODINGS, DONE)
    result = CliRunner().invoke(cli, ["agreement", "-p", str(project_path), "--as", "lead", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for key in ("pooled_kappa", "per_code", "fleiss_kappa", "krippendorff_alpha", "units"):
        assert key in data
    assert data["pooled_kappa"] == pytest.approx(0.75)
    blinded = CliRunner().invoke(cli, ["agreement", "-p", str(project_path), "--as", "ann"])
    assert blinded.exit_code == 2 and "lead" in blinded.output


def test_agreement_command_table_and_slices(project, project_path):
    from qualcode.cli.main import cli

    build_study(project, CODINGS, DONE)
    result = CliRunner().invoke(
        cli, ["agreement", "-p", str(project_path), "--as", "lead", "--format", "csv", "--by", "case"]
    )
    assert result.exit_code == 0, result.output
    assert "Lincoln Elementary" in result.output and "0.75" in result.output


def add_coder_without_work(project, name: str = "cat") -> None:
    with project.transaction() as s:
        s.add(Coder(name=name, role="coder"))


def test_a_coder_without_work_is_left_out_and_named(any_project):
    build_study(any_project, CODINGS, DONE)
    add_coder_without_work(any_project)
    r = report_of(any_project)
    assert r["coders"] == ["ann", "ben"] and r["coders_without_work"] == ["cat"]
    assert r["units"] == 4 and r["pooled_kappa"] == pytest.approx(0.75)  # as without cat (hand-computed above)
    assert [s["units"] for s in report_of(any_project, by="round")["slices"]] == [4]
    explicit = report_of(any_project, coders=["ann", "ben", "cat"])
    assert explicit["coders"] == ["ann", "ben", "cat"] and explicit["coders_without_work"] == []
    assert explicit["units"] == 0  # cat finished nothing: no segment all three finished
    round_two = report_of(any_project, round=2)  # nobody worked in round 2: nothing to leave out
    assert round_two["coders"] == ["ann", "ben", "cat"] and round_two["units"] == 0


def test_agreement_table_note_names_who_was_left_out(project, project_path):
    from qualcode.cli.main import cli

    build_study(project, CODINGS, DONE)
    add_coder_without_work(project)
    result = CliRunner().invoke(cli, ["agreement", "-p", str(project_path), "--as", "lead", "--format", "md"])
    assert result.exit_code == 0, result.output
    assert "Coders: ann, ben." in result.output and "Left out (no segment marked done): cat." in result.output


def test_queue_and_consensus_ignore_a_coder_without_work(any_project):
    from qualcode.agreement.decisions import accept_agreed
    from qualcode.agreement.queue import disagreement_queue

    build_study(any_project, CODINGS, DONE)
    add_coder_without_work(any_project)
    with any_project.read() as s:
        assert [i.position for i in disagreement_queue(s, "lead")] == [2]
    with any_project.transaction() as s:
        assert accept_agreed(s, "lead") == 3  # SV on 1, SA on 2 and 4, as in test_reconcile
    # the consensus counts as done where ann and ben (the coders with work) both finished: 1-4
    with any_project.read() as s:
        assert agreement_report(s, "lead", coders=["ann", "consensus"])["units"] == 4


def test_the_bulk_round_rule_matches_the_per_transcript_rule():
    """``counting_rounds`` (arrays, every transcript at once) keeps exactly the rows that
    ``round_that_counts`` (one transcript's coders and rounds) says count, on random work."""
    from qualcode.agreement.data import Decisions, counting_rounds, round_that_counts

    rng = np.random.default_rng(5)
    n_transcripts, per_transcript = 6, 4
    transcript_of = np.repeat(np.arange(n_transcripts), per_transcript)
    for _ in range(40):
        groups = []
        for coder in (1, 2, 3):
            for rnd in (1, 2, 3):
                segments = np.flatnonzero(rng.random(len(transcript_of)) < 0.25)
                if len(segments):
                    groups.append(Decisions(coder, rnd, segments))
        kept = counting_rounds(groups, transcript_of, n_transcripts)
        for t in range(n_transcripts):
            worked: dict[int, set[int]] = {}
            for g in groups:
                if (transcript_of[g.segment_ids] == t).any():
                    worked.setdefault(g.coder_id, set()).add(g.round)
            counts = round_that_counts(worked)
            for g, k in zip(groups, kept):
                on_t = transcript_of[k.segment_ids] == t
                expected = counts.get(g.coder_id) == g.round
                assert on_t.any() == (expected and (transcript_of[g.segment_ids] == t).any())
