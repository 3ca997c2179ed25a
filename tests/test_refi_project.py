"""REFI-QDA projects in and out: every coding arrives, the span rule, bad projects refused whole,
exports valid against the published schema, blinding, and the demo study's round trip."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlmodel import col, select

from qualcode.cli.main import cli
from qualcode.codebook.formats import read_codebook, write_codebook
from qualcode.codebook.model import CodebookModel, CodeNode, CodeSetNode
from qualcode.codebook.refi import describe, parse_description
from qualcode.exchange.refi_export import build_refi_project
from qualcode.exchange.refi_import import import_refi_project
from qualcode.project import Project
from qualcode.store.models import (
    AuditEvent,
    Case,
    CaseAttribute,
    Code,
    Coder,
    CodeSet,
    CodeSetMember,
    Coding,
    ConsensusDecision,
    Memo,
    QuoteSpan,
    Segment,
    SegmentStatus,
    Transcript,
)

NS = {"q": "urn:QDA-XML:project:1.0"}
P = "{urn:QDA-XML:project:1.0}"


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def qde(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as archive:
        return etree.parse(io.BytesIO(archive.read("project.qde"))).getroot()


def make_qdpx(path: Path, xml: str, files: dict[str, str | bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", xml)
        for name, data in (files or {}).items():
            archive.writestr(name, data)
    return path


U1 = "11111111-1111-4111-8111-111111111111"
U2 = "22222222-2222-4222-8222-222222222222"
C1 = "AAAAAAAA-0000-4000-8000-00000000000A"  # upper case: must stay so
C2 = "{bbbbbbbb-0000-4000-8000-00000000000b}"  # braced: must stay so
S1 = "33333333-3333-4333-8333-333333333333"
S2 = "44444444-4444-4444-8444-444444444444"
# Two turns on CR LF lines: "Ann: " is the label, the words are the segment.
TEXT = "Ann: We plan together.\r\nBob: We rarely meet.\r\n"


def small_project(selections: str = "", extra_sources: str = "", extra: str = "") -> str:
    default = (
        # inside Ann's words "plan" (offsets in the CR LF text = offsets in the stored LF text here)
        f'<PlainTextSelection guid="{S1}" startPosition="8" endPosition="12" creatingUser="{U1}">'
        f'<Coding guid="{S1}" creatingUser="{U1}"><CodeRef targetGUID="{C1}"/></Coding>'
        f'<NoteRef targetGUID="55555555-5555-4555-8555-555555555555"/></PlainTextSelection>'
        # from Ann's "together." into Bob's "We rarely": after the CR LF, stored offsets are one less
        f'<PlainTextSelection guid="{S2}" startPosition="13" endPosition="33" creatingUser="{U2}">'
        f'<Coding guid="{S2}" creatingUser="{U2}"><CodeRef targetGUID="{C2.upper()}"/></Coding>'
        "</PlainTextSelection>"
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="Small study" origin="hand">'
        f'<Users><User guid="{U1}" name="ann"/><User guid="{U2}" name="bob"/></Users>'
        f'<CodeBook><Codes><Code guid="{C1}" name="Planning" isCodable="true">'
        "<Description>Talk about planning.</Description></Code>"
        f'<Code guid="{C2}" name="Meeting" isCodable="true"/></Codes></CodeBook>'
        '<Variables><Variable guid="66666666-6666-4666-8666-666666666666" name="enrolment" typeOfVariable="Integer"/>'
        "</Variables>"
        '<Cases><Case guid="77777777-7777-4777-8777-777777777777" name="Oak School">'
        '<VariableValue><VariableRef targetGUID="66666666-6666-4666-8666-666666666666"/>'
        "<IntegerValue>420</IntegerValue></VariableValue>"
        '<SourceRef targetGUID="88888888-8888-4888-8888-888888888888"/></Case></Cases>'
        '<Sources><TextSource guid="88888888-8888-4888-8888-888888888888" name="Interview 1">'
        f"<PlainTextContent>{TEXT.replace(chr(13), '&#13;')}</PlainTextContent>"
        f"{selections or default}</TextSource>"
        '<PDFSource guid="99999999-9999-4999-8999-999999999999" name="Scan" path="internal://scan.pdf"/>'
        f"{extra_sources}</Sources>"
        '<Notes><Note guid="55555555-5555-4555-8555-555555555555" name="On planning" '
        f'creatingUser="{U1}"><PlainTextContent>Ann plans.</PlainTextContent></Note></Notes>'
        f'<Sets><Set guid="12121212-1212-4121-8121-121212121212" name="Collaboration">'
        f'<MemberCode targetGUID="{C1}"/><MemberCode targetGUID="{C2}"/></Set></Sets>'
        f"{extra}</Project>"
    )


# -- import --------------------------------------------------------------------------------------------
def test_inline_project_imports_codings_by_the_span_rule(any_project, tmp_path):
    project = any_project
    path = make_qdpx(tmp_path / "small.qdpx", small_project())
    summary = import_refi_project(project, path, viewer=None)
    assert summary.codings_by_user == (("ann", 1), ("bob", 1))
    assert "1 PDF sources skipped: no text" in summary.left_out
    with project.read() as s:
        transcript = s.exec(select(Transcript)).one()
        assert transcript.text == TEXT.replace("\r\n", "\n")
        assert transcript.guid == "88888888-8888-4888-8888-888888888888"
        segments = {seg.id: (seg.start, seg.end) for seg in s.exec(select(Segment).order_by(col(Segment.start)))}
        assert list(segments.values()) == [(5, 22), (28, 43)]  # "We plan together." and "We rarely meet."
        guids = {c.id: c.guid for c in s.exec(select(Code))}
        assert sorted(guids.values()) == sorted([C1, C2])  # kept exactly: case and braces
        names = {c.id: c.name for c in s.exec(select(Coder))}
        rows = sorted(
            (names[c.coder_id], guids[c.code_id], segments[c.segment_id], c.quote_start, c.quote_end, c.source)
            for c in s.exec(select(Coding))
        )
        # ann: "plan" is narrower than the turn -> quote 8-12. bob: 13-33 in the CR LF text is 13-32 stored:
        # "together." (13-22) in the first turn, "We rarely" (28-32) in the second.
        assert rows == [
            ("ann", C1, (5, 22), 8, 12, "import"),
            ("bob", C2, (5, 22), 13, 22, "import"),
            ("bob", C2, (28, 43), 28, 32, "import"),
        ]
        assert transcript.text[8:12] == "plan" and transcript.text[28:32] == "We r"
        done = {(names[d.coder_id], d.round) for d in s.exec(select(SegmentStatus))}
        assert done == {("ann", 1), ("bob", 1)}
        assert len(s.exec(select(SegmentStatus)).all()) == 4  # both users, both segments: their work is done
        memo = s.exec(select(Memo)).one()
        assert (memo.kind, memo.text, names[memo.coder_id]) == ("segment", "Ann plans.", "ann")
        case = s.exec(select(Case)).one()
        assert (case.name, case.guid, transcript.case_id) == (
            "Oak School",
            "77777777-7777-4777-8777-777777777777",
            case.id,
        )
        attribute = s.exec(select(CaseAttribute)).one()
        assert (attribute.name, attribute.type, attribute.value, attribute.number) == (
            "enrolment",
            "number",
            "420",
            420,
        )
        code_set = s.exec(select(CodeSet)).one()
        assert code_set.name == "Collaboration"
        assert len(s.exec(select(CodeSetMember)).all()) == 2
        description = s.exec(select(Code).where(Code.guid == C1)).one().definition
        assert description == "Talk about planning."


def test_second_selection_in_a_segment_is_a_further_quote_span(project, tmp_path):
    two = (
        f'<PlainTextSelection guid="{S1}" startPosition="5" endPosition="7" creatingUser="{U1}">'
        f'<Coding guid="{S1}" creatingUser="{U1}"><CodeRef targetGUID="{C1}"/></Coding></PlainTextSelection>'
        f'<PlainTextSelection guid="{S2}" startPosition="13" endPosition="22" creatingUser="{U1}">'
        f'<Coding guid="{S2}" creatingUser="{U1}"><CodeRef targetGUID="{C1}"/></Coding></PlainTextSelection>'
        # a selection of the label only ("Bob: ") overlaps no segment: left out, and said so
        f'<PlainTextSelection guid="{U2}" startPosition="24" endPosition="28" creatingUser="{U1}">'
        f'<Coding guid="{U2}" creatingUser="{U1}"><CodeRef targetGUID="{C1}"/></Coding></PlainTextSelection>'
    )
    path = make_qdpx(tmp_path / "spans.qdpx", small_project(two))
    summary = import_refi_project(project, path, viewer=None)
    assert summary.codings_by_user == (("ann", 2),)
    assert any(line.startswith("1 codings skipped: their selection covers no segment") for line in summary.left_out)
    with project.read() as s:
        coding = s.exec(select(Coding)).one()
        assert (coding.quote_start, coding.quote_end) == (5, 7)
        span = s.exec(select(QuoteSpan)).one()
        assert (span.coding_id, span.start, span.end) == (coding.id, 13, 22)


def test_qc_demo_every_coding_arrives(project, corpora):
    path = corpora / "qc-demo.qdpx"
    summary = import_refi_project(project, path, viewer=None)
    assert summary.codings_by_user == (("cp", 205),)
    assert summary.left_out == ()  # nothing silently dropped: nothing dropped at all
    root = qde(path)
    with project.read() as s:
        texts = {t.guid: t for t in s.exec(select(Transcript))}
        guids = {c.id: c.guid for c in s.exec(select(Code))}
        segs = {seg.id: seg for seg in s.exec(select(Segment))}
        spans: dict[int, list[tuple[int, int]]] = {}
        for span in s.exec(select(QuoteSpan)):
            spans.setdefault(span.coding_id, []).append((span.start, span.end))
        stored = set()
        for c in s.exec(select(Coding)):
            seg = segs[c.segment_id]
            quotes = [(c.quote_start, c.quote_end)] + spans.get(c.id, [])
            for q in quotes:
                stored.add((seg.transcript_id, guids[c.code_id], seg.start, seg.end, q))
    count = 0
    for source in root.iter(f"{P}TextSource"):
        transcript = texts[source.get("guid")]
        with zipfile.ZipFile(path) as archive:
            raw = archive.read("sources/" + source.get("plainTextPath")).decode("utf-8")
        assert transcript.text == raw  # LF text, NFC already: offsets unchanged
        seg_rows = [x for x in segs.values() if x.transcript_id == transcript.id]
        for selection in source.iter(f"{P}PlainTextSelection"):
            a, b = int(selection.get("startPosition")), int(selection.get("endPosition"))
            for coding in selection.iter(f"{P}Coding"):
                code = coding.find("q:CodeRef", NS).get("targetGUID")
                hits = [x for x in seg_rows if x.start < b and x.end > a]
                assert hits, (a, b)
                for x in hits:
                    q = (max(a, x.start), min(b, x.end))
                    quote = (None, None) if q == (x.start, x.end) else q
                    assert (transcript.id, code, x.start, x.end, quote) in stored
                count += 1
    assert count == 205


def test_nvivo_export_imports_codebook_users_and_names_what_it_skips(project, corpora):
    summary = import_refi_project(project, corpora / "nvivo-export.qdpx", viewer=None)
    assert summary.codes == 262 and summary.codebook_new
    assert sorted(summary.coders_new) == ["chrisp", "cp"]
    assert summary.left_out == (
        "2 text sources skipped: their text is empty "
        "('66653866-6334-3535-3435-366637306566', '33663939-3636-3632-3038-613431643463')",
    )
    with project.read() as s:
        assert {c.guid for c in s.exec(select(Coder))} == {
            "1b0b1791-be46-4557-9957-7333544cfaf2",
            "39633935-3331-3962-6632-373436373264",
        }


def test_import_twice_adds_nothing_and_says_so(project, tmp_path):
    path = make_qdpx(tmp_path / "small.qdpx", small_project())
    import_refi_project(project, path, viewer=None)
    again = import_refi_project(project, path, viewer=None)
    assert (again.transcripts_new, again.transcripts_existing, again.codings_stored) == (0, 1, 0)
    assert again.codings_already == (("ann", 1), ("bob", 1))
    assert not again.codebook_new


BAD = {
    "not a zip": (None, "not a .qdpx archive"),
    "zip slip": ({"../evil.txt": "x"}, "points outside the archive"),
    "doctype": ('<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY x "boom">]><Project name="x"/>', "DOCTYPE"),
    "missing source": (
        '<Project xmlns="urn:QDA-XML:project:1.0" name="x"><Sources>'
        f'<TextSource guid="{S1}" name="Gone" plainTextPath="internal://gone.txt"/></Sources></Project>',
        "missing from the archive",
    ),
    "outside": (
        small_project(
            f'<PlainTextSelection guid="{S1}" startPosition="3" endPosition="400" creatingUser="{U1}">'
            f'<Coding guid="{S1}" creatingUser="{U1}"><CodeRef targetGUID="{C1}"/></Coding></PlainTextSelection>'
        ),
        "lies outside its source's text (0-46)",
    ),
    "unknown code": (
        small_project(
            f'<PlainTextSelection guid="{S1}" startPosition="3" endPosition="9" creatingUser="{U1}">'
            f'<Coding guid="{S1}" creatingUser="{U1}"><CodeRef targetGUID="{U2}"/></Coding></PlainTextSelection>'
        ),
        f"unknown code '{U2}'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_projects_are_one_line_exit_2_and_change_nothing(project_path, tmp_path, case):
    Project(project_path, create=True).close()
    content, expected = BAD[case]
    path = tmp_path / "bad.qdpx"
    if content is None:
        path.write_bytes(b"this is not a zip file")
    elif isinstance(content, dict):
        make_qdpx(path, small_project(), content)
    else:
        make_qdpx(path, content)
    good = make_qdpx(tmp_path / "good.qdpx", small_project())
    assert run("import", good, "-p", project_path).exit_code == 0
    with Project(project_path) as p, p.read() as s:
        before = (len(s.exec(select(AuditEvent)).all()), len(s.exec(select(Coding)).all()))
    result = run("import", path, "-p", project_path)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and str(path) in lines[0], result.output
    with Project(project_path) as p, p.read() as s:
        assert (len(s.exec(select(AuditEvent)).all()), len(s.exec(select(Coding)).all())) == before


def test_cli_refuses_transcript_options_for_a_project(project_path, tmp_path):
    Project(project_path, create=True).close()
    path = make_qdpx(tmp_path / "small.qdpx", small_project())
    result = run("import", path, "--case", "X", "-p", project_path)
    assert result.exit_code == 2 and "--case do not apply to a .qdpx project" in result.output


# -- export --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def project_schema():
    root = Path(__file__).resolve().parents[1].parent / "shared" / "refi-qda" / "Project-mrt2019.xsd"
    if not root.exists():
        pytest.skip("../shared/refi-qda is not here")
    return etree.XMLSchema(etree.parse(str(root)))


def _layer(session, coder: str) -> set[tuple]:
    """A coder's codings as (transcript title, segment position, code guid, quote); a quote of the
    whole segment is the segment (no quote), as the span rule reads it."""
    rows = session.exec(
        select(
            Transcript.title,
            Segment.position,
            Code.guid,
            Coding.quote_start,
            Coding.quote_end,
            Segment.start,
            Segment.end,
        )
        .join(Segment, col(Segment.id) == Coding.segment_id)
        .join(Transcript, col(Transcript.id) == Segment.transcript_id)
        .join(Code, col(Code.id) == Coding.code_id)
        .join(Coder, col(Coder.id) == Coding.coder_id)
        .where(Coder.name == coder)
    ).all()
    return {(t, p, g, None, None) if (qs, qe) == (a, b) else (t, p, g, qs, qe) for t, p, g, qs, qe, a, b in rows}


def test_demo_round_trip_keeps_transcripts_codebook_codings_and_agreement(demo_copy, tmp_path, project_schema):
    out = tmp_path / "study.qdpx"
    result = run("export", "qdpx", "--out", out, "-p", demo_copy, "--as", "lee")
    assert result.exit_code == 0, result.output
    assert project_schema.validate(qde(out)), project_schema.error_log
    target = tmp_path / "again.db"
    assert run("init", target, "--lead", "lee").exit_code == 0
    imported = run("import", out, "-p", target, "--as", "lee")
    assert imported.exit_code == 0, imported.output
    assert "not imported" not in imported.output
    with Project(demo_copy) as a, Project(target) as b, a.read() as sa, b.read() as sb:
        for session in (sa, sb):
            session.info["texts"] = sorted((t.title, t.text, t.kind) for t in session.exec(select(Transcript)))
            session.info["segments"] = sorted(
                (t, s.position, s.start, s.end)
                for t, s in session.exec(
                    select(Transcript.title, Segment).join(Segment, col(Segment.transcript_id) == Transcript.id)
                ).all()
            )
            session.info["codes"] = sorted(
                (c.guid, c.name, c.definition, c.applicable) for c in session.exec(select(Code))
            )
            session.info["consensus"] = len(
                session.exec(select(ConsensusDecision).where(ConsensusDecision.present == True)).all()  # noqa: E712
            )
        for key in ("texts", "segments", "codes", "consensus"):
            assert sa.info[key] == sb.info[key], key
        for coder in ("ana", "ben", "cam"):
            assert _layer(sa, coder) == _layer(sb, coder) != set()
    figures = [run("agreement", "-p", db, "--as", "lee", "--format", "csv").output for db in (demo_copy, target)]
    assert figures[0] == figures[1] and "Kappa" in figures[0]


def test_blinded_coder_exports_only_own_codings_and_memos(demo_copy, tmp_path, project_schema):
    with Project(demo_copy) as p, p.read() as s:
        ana = s.exec(select(Coder).where(Coder.name == "ana")).one()
        own_memos = len(s.exec(select(Memo).where(Memo.coder_id == ana.id, Memo.text != "")).all())
        document, files, summary = build_refi_project(s, "ana", "ana.qdpx")
        lead_doc, _, lead_summary = build_refi_project(s, "lee", "lee.qdpx")
    root = etree.fromstring(document)
    assert project_schema.validate(root), project_schema.error_log
    users = {u.get("guid"): u.get("name") for u in root.iter(f"{P}User")}
    assert sorted(users.values()) == ["ana"]
    creators = {c.get("creatingUser") for c in root.iter(f"{P}Coding")}
    assert {users[c] for c in creators} == {"ana"}
    memo_notes = [n for n in root.iter(f"{P}Note") if n.get("name") != "qualcode project data"]
    assert len(memo_notes) == own_memos and all(users[n.get("creatingUser")] == "ana" for n in memo_notes)
    assert [u for u, _ in summary.codings_by_user] == ["ana"]
    lead_users = {u.get("name") for u in etree.fromstring(lead_doc).iter(f"{P}User")}
    assert {"ana", "ben", "cam", "consensus"} <= lead_users
    assert [u for u, _ in lead_summary.codings_by_user] == ["ana", "ben", "cam", "consensus"]
    assert len(files) == summary.transcripts == 17
    blinded_cli = run("export", "qdpx", "--out", tmp_path / "x.qdpx", "-p", demo_copy)
    assert blinded_cli.exit_code == 2 and "blinded" in blinded_cli.output


# -- codebook (.qdc) fixes -------------------------------------------------------------------------------
def test_qdc_invalid_guids_replaced_with_warning_descriptions_verbatim_sets_kept(tmp_path, refi_schemas):
    model = CodebookModel(
        name="book",
        codes=[
            CodeNode(name="A", guid="code-001-aaaa", definition="Verbatim text from NVivo."),
            CodeNode(name="B", guid="ABCDEF01-2345-4789-8BCD-EF0123456789", definition="x", example="y"),
        ],
        sets=[CodeSetNode(name="Pair", guid="0f0f0f0f-0000-4000-8000-000000000001", members=["code-001-aaaa"])],
    )
    data = write_codebook(model, "qdc")
    schema = etree.XMLSchema(etree.parse(str(refi_schemas / "Codebook.xsd")))
    assert schema.validate(etree.fromstring(data)), schema.error_log
    assert any("'code-001-aaaa' is not a GUID" in w for w in model.warnings)
    path = tmp_path / "book.qdc"
    path.write_bytes(data)
    again = read_codebook(path)
    assert again.codes[1].guid == "ABCDEF01-2345-4789-8BCD-EF0123456789"  # never lower-cased
    assert again.codes[0].definition == "Verbatim text from NVivo."
    assert b"<Description>Verbatim text from NVivo.</Description>" in data  # not "Full definition: ..."
    assert [(s.name, s.members) for s in again.sets] == [("Pair", [again.codes[0].guid])]
    assert describe(CodeNode(name="x", definition="only this")) == "only this"
    assert parse_description(describe(again.codes[1])) == {"definition": "x", "example": "y"}


def test_qdc_reader_replaces_invalid_guids_with_a_warning(tmp_path):
    path = tmp_path / "bad.qdc"
    path.write_text(
        '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
        '<Code guid="code-001-aaaa" name="A" isCodable="true"/></Codes></CodeBook>',
        encoding="utf-8",
    )
    model = read_codebook(path)
    assert model.codes[0].guid != "code-001-aaaa" and len(model.codes[0].guid) == 36
    assert any("not a GUID" in w for w in model.warnings)


def test_cli_export_writes_a_summary_and_refuses_another_suffix(project_path, tmp_path, project_schema):
    Project(project_path, create=True).close()
    assert run("import", make_qdpx(tmp_path / "small.qdpx", small_project()), "-p", project_path).exit_code == 0
    wrong = run("export", "qdpx", "--out", tmp_path / "x.zip", "-p", project_path)
    assert wrong.exit_code == 2 and "x.zip" in wrong.output and not (tmp_path / "x.zip").exists()
    own = run("export", "qdpx", "--out", tmp_path / "ann.qdpx", "-p", project_path, "--as", "ann")
    assert own.exit_code == 0, own.output  # blinded: ann's export holds ann's work only
    assert own.output.splitlines()[:2] == [
        f"wrote {tmp_path / 'ann.qdpx'}: 1 sources, 2 codes, 1 sets, 1 users, 1 notes, 1 cases, 1 variables",
        "codings by ann: 1",
    ]
    with Project(project_path) as p, p.transaction() as s:
        s.add(Coder(name="lee", role="lead"))
    result = run("export", "qdpx", "--out", tmp_path / "out.qdpx", "-p", project_path, "--as", "lee")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:3] == [
        f"wrote {tmp_path / 'out.qdpx'}: 1 sources, 2 codes, 1 sets, 3 users, 1 notes, 1 cases, 1 variables",
        "codings by ann: 1",
        "codings by bob: 2",
    ]
    root = qde(tmp_path / "out.qdpx")
    assert project_schema.validate(root), project_schema.error_log
    assert [c.get("guid") for c in root.iter(f"{P}Code")] == [C1, C2]  # as the other tool wrote them
