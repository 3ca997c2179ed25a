"""Saturation curves on a tiny project computed by hand: the coding order (first done-mark per coder,
first decision for the consensus), new codes and new CQR categories, the exact CSV, blinding, and
the figure from the CLI."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlmodel import select

from qualcode.assist.saturation import saturation
from qualcode.cli.main import cli
from qualcode.errors import BlindingError
from qualcode.store.models import Code, Codebook, Coder, Coding, ConsensusDecision, Segment, SegmentStatus

from .builders import add_coders, build_transcript


def _at(minute: int) -> datetime:
    return datetime(2024, 3, 1, 9, minute, tzinfo=UTC)


@pytest.fixture
def tiny(project):
    """Three transcripts (T1, T2, T3; five segments each) and a CQR codebook:

    domain D1 > categories C1, C2 (C2 > subcategory C2a); domain D2 > category C3.
    ana marks T2 done first (9:01), then T1 (9:05), then T3 (9:09); ben marks T3 (9:02) then T1
    (9:03) and codes T2 without marking it; the lead decides T1 (9:20), then T3 (9:21).
    """
    add_coders(project, "ana", "ben", lead="lee")
    tids = {t: build_transcript(project, t, case=f"School {t}") for t in ("T1", "T2", "T3")}
    with project.transaction() as s:
        cb = Codebook(name="CQR study", kind="cqr", active=True)
        s.add(cb)
        s.flush()
        ids: dict[str, int] = {}
        for name, parent in [("D1", None), ("C1", "D1"), ("C2", "D1"), ("C2a", "C2"), ("D2", None), ("C3", "D2")]:
            c = Code(codebook_id=cb.id, guid=name, name=name, parent_id=ids.get(parent) if parent else None)
            c.position = len(ids)
            s.add(c)
            s.flush()
            ids[name] = c.id
        seg = {
            (title, sg.position): sg.id
            for title, tid in tids.items()
            for sg in s.exec(select(Segment).where(Segment.transcript_id == tid))
        }
        coder = {c.name: c.id for c in s.exec(select(Coder))}

        def code(who, t, pos, name, minute=0):
            s.add(Coding(segment_id=seg[(t, pos)], code_id=ids[name], coder_id=coder[who], created_at=_at(minute)))

        def done(who, t, minute):
            for pos in range(1, 6):
                s.add(SegmentStatus(segment_id=seg[(t, pos)], coder_id=coder[who], done_at=_at(minute + pos % 2)))

        # ana: T2 first {C1, C2a}; then T1 {C1, C2, D1}; then T3 {C3, C2a}
        code("ana", "T2", 2, "C1")
        code("ana", "T2", 3, "C2a")
        code("ana", "T1", 2, "C1")
        code("ana", "T1", 3, "C2")
        code("ana", "T1", 5, "D1")
        code("ana", "T3", 2, "C3")
        code("ana", "T3", 5, "C2a")
        done("ana", "T2", 1)
        done("ana", "T1", 5)
        done("ana", "T3", 9)
        # ben: T3 first {C3}; then T1 {C3, C1}; then T2, never marked done, coded at 9:30 {C2}
        code("ben", "T3", 2, "C3")
        code("ben", "T1", 2, "C3")
        code("ben", "T1", 3, "C1")
        code("ben", "T2", 4, "C2", minute=30)
        done("ben", "T3", 2)
        done("ben", "T1", 3)
        # consensus: T1 at 9:20 {C1, C2a present; C3 absent}; T3 at 9:21 {C3, D2}
        for t, pos, name, present, minute in [
            ("T1", 2, "C1", True, 20),
            ("T1", 3, "C2a", True, 22),
            ("T1", 4, "C3", False, 23),
            ("T3", 2, "C3", True, 21),
            ("T3", 5, "D2", True, 21),
        ]:
            s.add(
                ConsensusDecision(
                    segment_id=seg[(t, pos)],
                    code_id=ids[name],
                    present=present,
                    decided_by="lee",
                    decided_at=_at(minute),
                )
            )
    return project


# By hand: (series, order, transcript, new codes, cumulative codes, new categories, cumulative categories, names)
EXPECTED = [
    ("ana", 1, "T2", 2, 2, 2, 2, "C1; C2a"),  # categories C1 and C2 (C2a counts for C2)
    ("ana", 2, "T1", 2, 4, 0, 2, "D1; C2"),  # D1 is a domain: no category
    ("ana", 3, "T3", 1, 5, 1, 3, "C3"),
    ("ben", 1, "T3", 1, 1, 1, 1, "C3"),
    ("ben", 2, "T1", 1, 2, 1, 2, "C1"),
    ("ben", 3, "T2", 1, 3, 1, 3, "C2"),  # never marked done: after the marked ones, by its coding
    ("consensus", 1, "T1", 2, 2, 2, 2, "C1; C2a"),  # C3 decided absent: not applied
    ("consensus", 2, "T3", 2, 4, 1, 3, "D2; C3"),
]


def test_curves_by_hand(tiny):
    result = saturation(tiny, "lee")
    assert result.codebook == "CQR study" and result.categories
    got = [
        (
            c.series,
            p.order,
            p.transcript,
            p.new_codes,
            p.cumulative_codes,
            p.new_categories,
            p.cumulative_categories,
            "; ".join(p.new_code_names),
        )
        for c in result.curves
        for p in c.points
    ]
    assert got == EXPECTED


CSV = """series,order,transcript,case,new_codes,cumulative_codes,new_categories,cumulative_categories,new_code_names
ana,1,T2,School T2,2,2,2,2,C1; C2a
ana,2,T1,School T1,2,4,0,2,D1; C2
ana,3,T3,School T3,1,5,1,3,C3
ben,1,T3,School T3,1,1,1,1,C3
ben,2,T1,School T1,1,2,1,2,C1
ben,3,T2,School T2,1,3,1,3,C2
consensus,1,T1,School T1,2,2,2,2,C1; C2a
consensus,2,T3,School T3,2,4,1,3,D2; C3
"""


def _run(path, *args, who="lee"):
    return CliRunner().invoke(cli, ["--as", who, *args, "--project", str(path)], catch_exceptions=False)


def test_cli_png_svg_and_exact_csv(tiny, project_path, tmp_path):
    r = _run(project_path, "plot", "saturation", "--out", str(tmp_path / "sat.png"), "--csv", str(tmp_path / "s.csv"))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "sat.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "s.csv").read_text(encoding="utf-8") == CSV
    r = _run(project_path, "plot", "saturation", "--format", "svg", "--out", str(tmp_path / "sat"))
    assert r.exit_code == 0, r.output
    svg = (tmp_path / "sat.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "consensus" in svg and "Cumulative categories" in svg
    r = _run(project_path, "plot", "saturation", "--format", "svg", "--out", str(tmp_path / "x.png"))
    assert r.exit_code == 2 and "--format svg but --out" in r.output and not (tmp_path / "x.png").exists()
    r = _run(project_path, "plot", "saturation", "--out", str(tmp_path / "x.pdf"))
    assert r.exit_code == 2 and "plots are written as .png or .svg" in r.output


def test_blinded_coder_sees_only_their_own_curve(tiny, project_path, tmp_path):
    assert [c.series for c in saturation(tiny, "ben").curves] == ["ben"]
    r = _run(
        project_path,
        "plot",
        "saturation",
        "--out",
        str(tmp_path / "b.svg"),
        "--csv",
        str(tmp_path / "b.csv"),
        who="ben",
    )
    assert r.exit_code == 0, r.output
    rows = (tmp_path / "b.csv").read_text(encoding="utf-8").splitlines()
    assert rows[1:] == [line for line in CSV.splitlines() if line.startswith("ben,")]
    svg = (tmp_path / "b.svg").read_text(encoding="utf-8")
    assert ">ana<" not in svg and ">consensus<" not in svg and ">ben<" in svg  # legend entries
    with pytest.raises(BlindingError):
        saturation(tiny, None)


def test_provisional_codebook_has_no_categories(tiny, project_path):
    with tiny.transaction() as s:
        cb = s.exec(select(Codebook)).one()
        cb.kind = "provisional"
    result = saturation(tiny, "lee")
    assert not result.categories and "new_categories" not in result.table().columns
    assert [p.cumulative_codes for p in result.curves[0].points] == [2, 4, 5]
