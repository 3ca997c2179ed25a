"""Retrieval by code (`qualcode retrieve`, ``coding.retrieval``): the segments of a small project
built here, computed by hand, per layer and as blinding allows; filters, context, exports, bad input."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from sqlmodel import select

from qualcode.cli.main import cli
from qualcode.coding.blinding import set_blinded
from qualcode.coding.retrieval import neighbours, retrieve
from qualcode.errors import BlindingError, InputError, QualcodeError
from qualcode.store.models import Code, Coder, Coding, ConsensusDecision, Segment, Transcript

from .builders import add_coders, build_codebook, build_transcript

LEE = [
    ("Interviewer", "interviewer", "How do you teach fractions?"),
    ("Ms. Lee", "teacher", "I taught fractions with student work."),
    ("Mr. Ortiz", "coach", "We teach together; she teaches and I watch."),
]
PARK = [
    ("Interviewer", "interviewer", "What changed?"),
    ("Ms. Park", "teacher", "Student work came first. Goals followed."),
    ("Ms. Ruiz", "administrator", "I taught for years."),
    ("Ms. Park", "teacher", "The coach listened."),
]
SV = "Shared vision and strategy"
SG = f"{SV} > Shared goals"


def build_study(project) -> dict:
    """North: Lee interview; South: Park interview. Codes: the four of ``build_codebook`` and
    "Shared goals" (SG) under SV.

    ana: SV on Lee #2, SG on Park #2 (quoted "Goals followed."), WD on Lee #3.
    ben: SV on Lee #3.       consensus: SV on Park #2 (and SV absent on Lee #2).
    """
    lee = build_transcript(project, "Lee interview", "North", LEE)
    park = build_transcript(project, "Park interview", "South", PARK)
    codes = build_codebook(project)
    add_coders(project, "ana", "ben", lead="lead")
    with project.transaction() as s:
        s.add(Coder(name="pat", role="auditor"))
        cb = s.get(Code, codes["SV"]).codebook_id
        child = Code(codebook_id=cb, guid="guid-SG", name="Shared goals", key="SG", parent_id=codes["SV"])
        s.add(child)
        s.flush()
        codes["SG"] = child.id
    seg: dict[tuple[str, int], int] = {}
    with project.read() as s:
        for sid, tid, pos in s.exec(select(Segment.id, Segment.transcript_id, Segment.position)).all():
            seg[("lee" if tid == lee else "park", pos)] = sid
        coder = {c.name: c.id for c in s.exec(select(Coder)).all()}
        park_text = s.get(Transcript, park).text
        park2 = s.get(Segment, seg[("park", 2)])
    quote_start = park_text.index("Goals followed.")
    assert park2.start <= quote_start < park2.end
    with project.transaction() as s:
        s.add(Coding(segment_id=seg[("lee", 2)], code_id=codes["SV"], coder_id=coder["ana"]))
        s.add(
            Coding(
                segment_id=seg[("park", 2)],
                code_id=codes["SG"],
                coder_id=coder["ana"],
                quote_start=quote_start,
                quote_end=quote_start + len("Goals followed."),
            )
        )
        s.add(Coding(segment_id=seg[("lee", 3)], code_id=codes["WD"], coder_id=coder["ana"]))
        s.add(Coding(segment_id=seg[("lee", 3)], code_id=codes["SV"], coder_id=coder["ben"]))
        s.add(ConsensusDecision(segment_id=seg[("park", 2)], code_id=codes["SV"], present=True, decided_by="lead"))
        s.add(ConsensusDecision(segment_id=seg[("lee", 2)], code_id=codes["SV"], present=False, decided_by="lead"))
    return {"project": project, "lee": lee, "park": park, "codes": codes, "seg": seg}


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


def where(result) -> list[tuple[str, str, int, tuple[str, ...]]]:
    return [(i.case, i.transcript, i.position, i.codes) for i in result.items]


def test_a_coder_retrieves_their_own_codings_of_the_code_and_codes_under_it(study):
    result = retrieve(study["project"], "ana", "SV")
    assert result.layer == "ana" and result.code == SV and result.layers == ("ana",)
    assert where(result) == [
        ("North", "Lee interview", 2, (SV,)),
        ("South", "Park interview", 2, (SG,)),
    ]
    lee2, park2 = result.items
    assert (lee2.speaker, lee2.role, lee2.text) == ("Ms. Lee", "teacher", "I taught fractions with student work.")
    assert park2.quotes == ("Goals followed.",) and lee2.quotes == ()
    assert [i.number for i in result.items] == [1, 2]
    # the child alone: only its own segment
    assert where(retrieve(study["project"], "ana", "SG")) == [("South", "Park interview", 2, (SG,))]


def test_blinding_a_coder_may_not_read_another_layer_until_unblinded(study):
    project = study["project"]
    for layer in ("ben", "consensus"):
        with pytest.raises(BlindingError, match="blinded"):
            retrieve(project, "ana", "SV", layer=layer)
    with pytest.raises(BlindingError):
        retrieve(project, None, "SV")  # blinded: say who you are
    with project.transaction() as s:
        set_blinded(s, "lead", False)
    assert where(retrieve(project, "ana", "SV", layer="ben")) == [("North", "Lee interview", 3, (SV,))]
    assert retrieve(project, "ana", "SV").layer == "ana"  # still their own by default
    assert retrieve(project, "ana", "SV").layers == ("consensus", "ana", "ben")


def test_the_lead_and_auditor_read_any_layer_consensus_by_default(study):
    project = study["project"]
    for viewer in ("lead", "pat"):
        result = retrieve(project, viewer, "SV")
        assert result.layer == "consensus" and result.layers == ("consensus", "ana", "ben")
        # absent decisions (Lee #2) are not in the consensus layer
        assert where(result) == [("South", "Park interview", 2, (SV,))]
        assert where(retrieve(project, viewer, "SV", layer="ben")) == [("North", "Lee interview", 3, (SV,))]
        assert where(retrieve(project, viewer, "WD", layer="ana")) == [("North", "Lee interview", 3, ("Work design",))]


def test_filters_by_case_and_speaker_role(study):
    project = study["project"]
    assert where(retrieve(project, "ana", "SV", case="South")) == [("South", "Park interview", 2, (SG,))]
    assert len(retrieve(project, "ana", "SV", role="teacher").items) == 2
    assert where(retrieve(project, "lead", "SV", layer="ben", role="coach")) == [("North", "Lee interview", 3, (SV,))]
    assert retrieve(project, "lead", "SV", layer="ben", role="teacher").items == ()
    with pytest.raises(InputError, match="unknown speaker role"):
        retrieve(project, "ana", "SV", role="pilot")
    with pytest.raises(InputError, match="unknown case"):
        retrieve(project, "ana", "SV", case="East")


def test_context_gives_the_neighbouring_segments_and_stops_at_the_edges(study):
    project = study["project"]
    lee2, park2 = retrieve(project, "ana", "SV", context=2).items
    assert [(n.position, n.offset, n.speaker, n.text) for n in lee2.before] == [
        (1, -1, "Interviewer", "How do you teach fractions?")
    ]
    assert [(n.position, n.offset, n.speaker) for n in lee2.after] == [(3, 1, "Mr. Ortiz")]
    assert [n.position for n in park2.before] == [1]
    assert [(n.position, n.offset, n.role) for n in park2.after] == [(3, 1, "administrator"), (4, 2, "teacher")]
    before, after = neighbours(project, study["seg"][("park", 3)], 1)
    assert [n.position for n in before] == [2] and [n.text for n in after] == ["The coach listened."]
    with pytest.raises(InputError, match="0 to 20"):
        retrieve(project, "ana", "SV", context=21)
    with pytest.raises(QualcodeError, match="unknown code"):
        retrieve(project, "ana", "Nothing like it")


def test_cli_table_csv_json_and_files(run, tmp_path):
    text = run("retrieve", "SV", "--as", "ana").output
    assert "Retrieval: Shared vision and strategy: 2 segments in ana's codings" in text
    rows = list(csv.DictReader(io.StringIO(run("retrieve", "SV", "--as", "ana", "-f", "csv").output)))
    assert [(r["case"], r["transcript"], r["segment"], r["speaker"], r["codes"], r["quotes"]) for r in rows] == [
        ("North", "Lee interview", "2", "Ms. Lee", SV, ""),
        ("South", "Park interview", "2", "Ms. Park", SG, "Goals followed."),
    ]
    data = json.loads(run("retrieve", "SV", "--as", "lead", "--layer", "ben", "--context", "1", "-f", "json").output)
    assert data["layer"] == "ben" and len(data["segments"]) == 1
    seg = data["segments"][0]
    assert (seg["position"], seg["speaker"], seg["role"]) == (3, "Mr. Ortiz", "coach")
    assert [n["position"] for n in seg["before"]] == [2] and seg["after"] == []
    rows = list(csv.DictReader(io.StringIO(run("retrieve", "SV", "--as", "ana", "--context", "1", "-f", "csv").output)))
    assert rows[0]["before"] == "[1] Interviewer: How do you teach fractions?"
    assert rows[0]["after"] == "[3] Mr. Ortiz: We teach together; she teaches and I watch."
    out = tmp_path / "sv.xlsx"
    run("retrieve", "SV", "--as", "ana", "--case", "North", "-o", str(out))
    import openpyxl

    sheet = openpyxl.load_workbook(out).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = next(i for i, row in enumerate(values) if row and row[0] == "#")
    assert values[header + 1][1:4] == ["North", "Lee interview", 2]
    docx = tmp_path / "sv.docx"
    run("retrieve", "SV", "--as", "ana", "-o", str(docx))
    assert docx.read_bytes()[:2] == b"PK"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["retrieve", "SV", "--as", "ana", "--layer", "ben"], "the project is blinded: ana may not read ben's codings"),
        (["retrieve", "SV", "--as", "ana", "--layer", "consensus"], "may not read the consensus"),
        (["retrieve", "Nope", "--as", "ana"], "unknown code 'Nope'"),
        (["retrieve", "SV", "--as", "ana", "--role", "pilot"], "unknown speaker role 'pilot'"),
        (["retrieve", "SV", "--as", "ana", "--case", "East"], "unknown case 'East'"),
        (["retrieve", "SV", "--as", "ana", "--context", "99"], "--context 99: give 0 to 20"),
        (["retrieve", "SV", "--as", "nobody"], "unknown coder 'nobody'"),
        (["retrieve", "SV", "--as", "ana", "-o", "x.tex"], "cannot write .tex files"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(run, args, message):
    result = run(*args, ok=False)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert result.stdout == ""
