"""Codebook formats: the shipped codebooks, round trips through every format, REFI-QDA files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from qualcode.codebook.formats import read_codebook, write_codebook
from qualcode.codebook.model import CodebookModel, CodeNode
from qualcode.codebook.refi import describe, parse_description

CODEBOOKS = Path(__file__).resolve().parent.parent / "codebooks"

SEVEN = [
    ("SV", "Shared vision and strategy"),
    ("SA", "Supportive administration"),
    ("RC", "Resources and capacity"),
    ("WD", "Work design"),
    ("SN", "Supportive norms and relationships"),
    ("SI", "Shared influence"),
    ("OI", "Orientation toward improvement"),
    ("CE", "Collective efficacy"),
]
CQR_CATEGORIES = {
    "Collaboration between administrators and participants": [
        "Administrators provide support",
        "Administrators provide autonomy",
        "Administrators set expectations",
    ],
    "Collaboration between coaches and participants": [
        "Coaches model instruction",
        "Coaches give feedback",
        "Coaches build trust",
    ],
    "Collaboration among participants": ["Shared planning", "Peer observation", "Informal exchange"],
    "Collaboration between coaches and non-participants": [
        "Coaches reach beyond the program",
        "Limited contact with non-participants",
    ],
    "Site-to-site collaboration": ["Cross-site visits", "Shared resources across sites"],
    "Pre-program collaboration": ["Limited collaboration", "Isolated classrooms"],
    "Barriers to collaboration": ["Variation between groups", "Lack of buy-in", "Time constraints", "Staff turnover"],
    "Conditions for effective collaboration": ["Financial support", "Protected time", "Common goals"],
    "Site-wide collaboration": ["Student focus", "School-wide initiatives"],
    "Teacher leadership": ["Leadership practice", "Leadership identity"],
    "Expectations for future collaboration": ["Sustaining the work", "Expanding the program"],
}
SHIPPED = ["seven_conditions.yaml", "cqr_collaboration.yaml", "four_drivers.yaml"]
ROUND_TRIP_FORMATS = [("yaml", ".yaml"), ("csv", ".csv"), ("xlsx", ".xlsx"), ("qdc", ".qdc")]


def test_seven_conditions_has_the_shared_names_keys_and_hotkeys():
    model = read_codebook(CODEBOOKS / "seven_conditions.yaml")
    assert model.name == "Seven conditions of collective leadership"
    assert model.kind == "provisional"
    assert [(c.key, c.name) for c in model.codes] == SEVEN
    assert [c.hotkey for c in model.codes] == [str(n) for n in range(1, 9)]


def test_cqr_codebook_has_eleven_domains_with_their_categories():
    model = read_codebook(CODEBOOKS / "cqr_collaboration.yaml")
    assert model.name == "CQR: collaboration in a mathematics leadership program"
    assert model.kind == "cqr"
    assert {d.name: [c.name for c in d.children] for d in model.codes} == CQR_CATEGORIES
    assert list({d.name: 0 for d in model.codes}) == list(CQR_CATEGORIES)  # the published order
    assert all(d.applicable for d in model.codes)


def test_four_drivers_codebook():
    model = read_codebook(CODEBOOKS / "four_drivers.yaml")
    assert [c.name for c in model.codes] == [
        "Clarity of focus",
        "Shared leadership",
        "Collective expertise",
        "Continuous improvement",
    ]


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_code_has_definitions_rules_and_an_example(name):
    model = read_codebook(CODEBOOKS / name)
    assert model.warnings == []
    for node, _, _ in model.walk():
        for field in ("brief", "definition", "inclusion", "exclusion", "example"):
            assert len(getattr(node, field)) > 20, f"{node.name}: {field}"


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("fmt,suffix", ROUND_TRIP_FORMATS)
def test_every_format_round_trips_the_shipped_codebooks(tmp_path, name, fmt, suffix):
    original = read_codebook(CODEBOOKS / name)
    path = tmp_path / f"out{suffix}"
    data = write_codebook(original, fmt)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    # spreadsheets and .qdc carry no codebook name or kind: the loader is told them
    again = read_codebook(path, name=original.name, kind=original.kind)
    if fmt in ("csv", "xlsx", "qdc"):
        again.description = original.description
    assert again.signature() == original.signature()
    assert [n.guid for n, _, _ in again.walk()] == [n.guid for n, _, _ in original.walk()]


def _tricky_model() -> CodebookModel:
    """Texts that could break a format: several lines, labels inside text, quotes, commas, unicode."""
    child = CodeNode(
        name="Sub, with comma",
        brief='Quote "inside"',
        definition="Line one\nWhen to use: not a label here",
        example="Naïve — “curly” ✓",
        applicable=True,
        hotkey="x",
    )
    return CodebookModel(
        name="Tricky",
        kind="cqr",
        codes=[
            CodeNode(
                name="Domain",
                key="D",
                definition="Para one.\n\nPara two.",
                applicable=False,
                color="#a1b2c3",
                children=[child],
            ),
            CodeNode(name="Other > not a path", inclusion="yes", exclusion="no"),
        ],
    )


@pytest.mark.parametrize("fmt,suffix", [("yaml", ".yaml"), ("xlsx", ".xlsx"), ("qdc", ".qdc")])
def test_round_trip_keeps_awkward_texts(tmp_path, fmt, suffix):
    original = _tricky_model()
    original.codes[1].name = "Other"  # spreadsheets read " > " in a code column as a path
    data = write_codebook(original, fmt)
    path = tmp_path / f"t{suffix}"
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    again = read_codebook(path, name="Tricky", kind="cqr")
    if fmt == "qdc":
        # a label at a line start inside a text is where the description convention draws its line
        original.codes[0].children[0].definition = "Line one"
        original.codes[0].children[0].inclusion = "not a label here"
    assert again.signature() == original.signature()


def test_csv_round_trip_keeps_awkward_texts(tmp_path):
    original = _tricky_model()
    original.codes[1].name = "Other"
    path = tmp_path / "t.csv"
    path.write_text(write_codebook(original, "csv"), encoding="utf-8")
    assert read_codebook(path, name="Tricky", kind="cqr").signature() == original.signature()


def test_qdc_export_validates_against_the_refi_schema(refi_schemas):
    schema = etree.XMLSchema(etree.parse(str(refi_schemas / "Codebook.xsd")))
    for name in SHIPPED + [None]:
        model = read_codebook(CODEBOOKS / name) if name else _tricky_model()
        document = etree.fromstring(write_codebook(model, "qdc"))
        assert schema.validate(document), schema.error_log


def test_description_convention():
    node = CodeNode(
        name="x", brief="b", definition="d1\nd2", inclusion="i", exclusion="e", example="ex", key="K", hotkey="3"
    )
    text = describe(node)
    assert (
        text == "Brief definition: b\nFull definition: d1\nd2\nWhen to use: i\nWhen not to use: e\nExample: ex\n"
        "Key: K\nHotkey: 3"
    )
    assert parse_description(text) == {
        "brief": "b",
        "definition": "d1\nd2",
        "inclusion": "i",
        "exclusion": "e",
        "example": "ex",
        "key": "K",
        "hotkey": "3",
    }
    assert parse_description("A plain note from NVivo.\nSecond line.") == {
        "definition": "A plain note from NVivo.\nSecond line."
    }


def test_qdc_import_tolerates_braced_guids_empty_sets_and_no_descriptions(tmp_path):
    path = tmp_path / "other.qdc"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="Some tool">\n'
        " <Codes>\n"
        '  <Code guid="{0A1B2C3D-0000-4000-8000-000000000001}" name="Parent" isCodable="false" color="#ABC">\n'
        '   <Code guid="0a1b2c3d-0000-4000-8000-000000000002" name="Child" isCodable="true">\n'
        "    <Description>Written by another tool.</Description>\n"
        "   </Code>\n"
        "  </Code>\n"
        " </Codes>\n"
        " <Sets/>\n"
        "</CodeBook>\n",
        encoding="utf-8",
    )
    model = read_codebook(path)
    parent = model.codes[0]
    assert (parent.name, parent.guid, parent.applicable, parent.color) == (
        "Parent",
        "{0A1B2C3D-0000-4000-8000-000000000001}",  # kept as written: the other tool finds its own GUID again
        False,
        "#aabbcc",
    )
    assert (parent.children[0].name, parent.children[0].definition) == ("Child", "Written by another tool.")
    assert model.warnings == []


def _qdpx_codebook(path):
    """Count the <Code> elements of the project's <CodeBook> independently of our reader."""
    with zipfile.ZipFile(path) as archive:
        root = etree.parse(io.BytesIO(archive.read("project.qde"))).getroot()
    ns = {"q": "urn:QDA-XML:project:1.0"}
    book = root.find("q:CodeBook", ns)
    return book.findall(".//q:Code", ns), book.find("q:Codes", ns).findall("q:Code", ns)


@pytest.mark.parametrize("name", ["nvivo-export.qdpx", "qc-demo.qdpx"])
def test_real_qdpx_codebooks_import(corpora, tmp_path, name):
    path = corpora / name
    model = read_codebook(path)
    every, top = _qdpx_codebook(path)
    assert model.count() == len(every)
    assert [c.name for c in model.codes] == [e.get("name") for e in top]
    assert {n.guid for n, _, _ in model.walk()} == {e.get("guid") for e in every}
    # and it exports again as a valid .qdc that reads back the same
    out = tmp_path / "again.qdc"
    out.write_bytes(write_codebook(model, "qdc"))
    assert read_codebook(out, name=model.name).signature() == model.signature()


def test_spreadsheet_headers_match_aliases_case_insensitively_and_report_unknown_columns(tmp_path):
    path = tmp_path / "team.csv"
    path.write_text(
        "Code,Parent Code,Short Definition,Definition,When to Use,WHEN NOT TO USE,Examples,Color,Shortcut,Reviewer\n"
        'Barriers,,Obstacles,Anything that hinders,Named obstacles,Helps,"We lack time",#ff0000,b,Ann\n'
        'Time,Barriers,Too little time,Time is short,No common period,Protected time,"Ten minutes left",,t,Ben\n',
        encoding="utf-8",
    )
    model = read_codebook(path)
    barriers = model.codes[0]
    assert (barriers.brief, barriers.definition, barriers.inclusion, barriers.exclusion, barriers.example) == (
        "Obstacles",
        "Anything that hinders",
        "Named obstacles",
        "Helps",
        "We lack time",
    )
    assert (barriers.color, barriers.hotkey) == ("#ff0000", "b")
    assert [c.name for c in barriers.children] == ["Time"]
    assert len(model.warnings) == 1 and "'Reviewer'" in model.warnings[0] and "team.csv" in model.warnings[0]


def test_spreadsheet_codes_may_be_written_as_paths(tmp_path):
    path = tmp_path / "paths.csv"
    path.write_text("code;brief definition\nA;top\nA > B;middle\nA > B > C;leaf\n", encoding="utf-8")
    model = read_codebook(path)
    assert [(p, n.brief) for p, n, _, _ in model.paths()] == [("A", "top"), ("A > B", "middle"), ("A > B > C", "leaf")]


def test_markdown_appendix_has_a_heading_per_code_and_its_rules():
    model = read_codebook(CODEBOOKS / "cqr_collaboration.yaml")
    text = write_codebook(model, "md")
    assert text.startswith("# Appendix: CQR: collaboration in a mathematics leadership program\n")
    assert text.count("\n## ") == 11 and text.count("\n### ") == 28
    assert "\n### D7b: Lack of buy-in\n" in text
    lack = next(n for n, _, _ in model.walk() if n.name == "Lack of buy-in")
    section = text.split("### D7b: Lack of buy-in")[1].split("\n### ")[0]
    assert f"**When to use.** {lack.inclusion}" in section
    assert f"**When not to use.** {lack.exclusion}" in section


def test_docx_appendix_has_a_heading_per_code(tmp_path):
    from docx import Document

    model = read_codebook(CODEBOOKS / "seven_conditions.yaml")
    path = tmp_path / "appendix.docx"
    path.write_bytes(write_codebook(model, "docx"))
    document = Document(str(path))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [f"{key}: {name}" for key, name in SEVEN]
    body = "\n".join(p.text for p in document.paragraphs)
    assert f"When not to use. {model.codes[1].exclusion}" in body


def test_code_sets_survive_codebook_load_and_export(tmp_path):
    """A .qdc's Sets are stored with the codebook and written back by `codebook export`."""
    from click.testing import CliRunner

    from qualcode.cli.main import cli
    from qualcode.codebook.model import CodebookModel, CodeNode, CodeSetNode
    from qualcode.codebook.refi import read_refi, write_qdc

    a, b, c = (
        "8E0BB7B2-1C1B-4F6E-9E3A-2D0C1A4B5C61",
        "8E0BB7B2-1C1B-4F6E-9E3A-2D0C1A4B5C62",
        "8E0BB7B2-1C1B-4F6E-9E3A-2D0C1A4B5C63",
    )
    model = CodebookModel(
        name="With sets",
        codes=[
            CodeNode(name="Trust", guid=a, children=[CodeNode(name="Doubt", guid=b)]),
            CodeNode(name="Time", guid=c),
        ],
        sets=[CodeSetNode("Relational", "8E0BB7B2-1C1B-4F6E-9E3A-2D0C1A4B5C70", "About people", [b, c])],
    )
    source = tmp_path / "in.qdc"
    source.write_bytes(write_qdc(model))
    project = tmp_path / "study.db"
    run = CliRunner().invoke
    assert run(cli, ["init", str(project)]).exit_code == 0
    assert run(cli, ["-p", str(project), "codebook", "load", str(source)]).exit_code == 0
    out = tmp_path / "out.qdc"
    result = run(cli, ["-p", str(project), "codebook", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    back, _ = read_refi(out)
    assert [(s.name, s.guid, s.description, s.members) for s in back.sets] == [
        ("Relational", "8E0BB7B2-1C1B-4F6E-9E3A-2D0C1A4B5C70", "About people", [b, c])
    ]
