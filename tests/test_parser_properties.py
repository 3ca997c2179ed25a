"""Property tests over every parser and loader: a parsed result or one clear InputError, never another exception.

Transcripts (txt, vtt, srt, csv, docx, qdpx), codebooks (yaml, csv, qdc), manifests and case attributes get
inputs built from the pieces their formats are made of, and damaged copies of valid files. Examples are few
and have no deadline, so the suite stays quick; a failure prints the input that broke the promise.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualcode.codebook.formats import read_codebook
from qualcode.errors import InputError
from qualcode.ingest.attributes import read_case_attributes
from qualcode.ingest.manifest import read_manifest
from qualcode.ingest.sources import read_sources
from qualcode.ingest.speakers import compile_speaker_pattern
from tests.hostile.make_corpus import PROJECT_QDE, qdpx_bytes

# QUALCODE_PROPERTY_EXAMPLES=2000 for a long hunt; the default keeps the suite quick.
EXAMPLES = int(os.environ.get("QUALCODE_PROPERTY_EXAMPLES", "60"))
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
_FOLDER = Path(tempfile.mkdtemp(prefix="qualcode-properties-"))


def write(name: str, data: str | bytes) -> Path:
    path = _FOLDER / name
    path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    return path


def answers_or_refuses(read, path: Path, *, one_line: bool = True):
    """Call ``read(path)``: a result, or an InputError whose every line names the file."""
    try:
        return read(path)
    except InputError as exc:
        message = str(exc)
        assert message.strip(), "an empty error message"
        lines = message.split("\n")  # what a terminal shows as lines (a form feed in a quoted name is no break)
        if one_line:
            assert len(lines) == 1, message
        for line in lines:
            assert str(path) in line or line.startswith("--"), message
        return None


def pieces(*fragments: str, size: int = 40) -> st.SearchStrategy[str]:
    """Texts joined from the fragments a format is made of, with some arbitrary text between them."""
    return st.lists(st.one_of(st.sampled_from(fragments), st.text(max_size=6)), max_size=size).map("".join)


def mutated(data: bytes) -> st.SearchStrategy[bytes]:
    """``data`` with a few bytes overwritten, cut short, or both."""

    @st.composite
    def build(draw) -> bytes:
        out = bytearray(data)
        for _ in range(draw(st.integers(0, 6))):
            out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
        if draw(st.booleans()):
            out = out[: draw(st.integers(0, len(out)))]
        return bytes(out)

    return build()


_XML_TEXT_PLAIN = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
TEXT_PIECES = ("Ana: ", "P1: ", "\n", "\n\n", "[id1] ", "Speaker 1  0:03\n", "(00:01:02):", " ", ":", "é", "\r\n", "\t")
VTT_PIECES = (
    "WEBVTT\n\n",
    "00:00:01.000 --> 00:00:02.000\n",
    "1:02:03.5 --> 1:02:04,0 align:start\n",
    "<v Ana>",
    "</v>",
    "<v.loud Bo Lee>",
    "<",
    ">",
    "<b>",
    "&amp;",
    "Ana: ",
    "NOTE x\n",
    "\n\n",
    "\n",
    "words ",
    "-->",
)
SRT_PIECES = ("1\n", "2\n", "00:00:01,000 --> 00:00:02,000\n", "Ana: ", "<i>", "</i>", "\n\n", "\n", "words ")
CSV_PIECES = ("speaker,text\n", "Speaker;Text;Start\n", ",", ";", '"', '""', "\n", "\r\n", "Ana", "00:01", "x" * 20)


@FAST
@given(st.one_of(st.binary(max_size=300), pieces(*TEXT_PIECES).map(lambda t: t.encode("utf-8"))))
def test_txt(data):
    answers_or_refuses(lambda p: read_sources(p, "txt"), write("t.txt", data))


@FAST
@given(pieces(*TEXT_PIECES), st.sampled_from([r"^(?P<speaker>\w+):", r"(\w+)>", r"^(?P<speaker>(a|b)*)"]))
def test_txt_with_a_speaker_pattern(text, pattern):
    answers_or_refuses(lambda p: read_sources(p, "txt", compile_speaker_pattern(pattern)), write("p.txt", text))


@FAST
@given(st.one_of(pieces(*VTT_PIECES, size=60), st.binary(max_size=200).map(lambda b: b"WEBVTT\n\n" + b)))
def test_vtt(data):
    answers_or_refuses(lambda p: read_sources(p, "vtt"), write("t.vtt", data))


# Other tools' text: Zoom headers, lower-case and caseless labels, the full-width colon, Otter's footer,
# indented continuation lines, rolling VTT cues; Markdown headings and bold names.
OTHER_TOOL_PIECES = (
    "[Ana Lee] 11:02:09\n",
    "[x] 00:00:00\n",
    "interviewer: ",
    "محمد: ",
    "张伟：",
    "\n   ",
    "\nTranscribed by https://otter.ai\n",
    "Interviewer 1: ",
    "\n",
    " ",
)
MD_PIECES = (
    "# Title\n",
    "### Ana\n",
    "## Part 2 ##\n",
    "**Bo**  0:42\n",
    "**P1:** ",
    "**x**: ",
    "---\n",
    "\n",
    "*",
    "#",
)


@FAST
@given(pieces(*TEXT_PIECES, *OTHER_TOOL_PIECES, size=50))
def test_txt_from_other_tools_keeps_turns_on_the_text(text):
    sources = answers_or_refuses(lambda p: read_sources(p, "txt"), write("o.txt", text))
    for source in sources[0] if sources else []:
        parsed = source.parsed
        for turn in parsed.turns:
            words = parsed.text[turn.start : turn.end]
            assert words and words == words.strip()


@FAST
@given(pieces(*MD_PIECES, *TEXT_PIECES, size=50))
def test_markdown(text):
    answers_or_refuses(lambda p: read_sources(p, "md"), write("t.md", text))


@FAST
@given(
    st.one_of(
        pieces(
            *VTT_PIECES, "00:00:01.000 --> 00:00:02.000 align:start position:0%\n \n", "so<00:00:00.480><c> x</c>\n"
        ),
        st.just("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\na\n00:00:02.000 --> 00:00:03.000\na\nb\n"),
    )
)
def test_rolling_vtt(text):
    answers_or_refuses(lambda p: read_sources(p, "vtt"), write("r.vtt", text))


def _odt(paragraphs: list[str]) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    document = OpenDocumentText()
    for text in paragraphs:
        document.text.addElement(P(text=text))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


_VALID_ODT = _odt(["Ana: hello", "Bo: hi"])


@settings(
    max_examples=max(EXAMPLES // 2, 1), deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
@given(st.one_of(mutated(_VALID_ODT), st.lists(_XML_TEXT_PLAIN, max_size=4).map(_odt)))
def test_odt(data):
    answers_or_refuses(lambda p: read_sources(p, "odt"), write("t.odt", data))


@FAST
@given(pieces("A>>B\tmemo\n", ">>", "\t", "A", "\n", '"', "x>>y>>z", size=30))
def test_codebook_qualcoder_list(text):
    answers_or_refuses(read_codebook, write("c.txt", text), one_line=False)


@FAST
@given(pieces(*SRT_PIECES, size=60))
def test_srt(text):
    answers_or_refuses(lambda p: read_sources(p, "srt"), write("t.srt", text))


@FAST
@given(pieces(*CSV_PIECES, size=60))
def test_transcript_csv(text):
    answers_or_refuses(lambda p: read_sources(p, "csv"), write("t.csv", text))


def _docx(paragraphs: list[tuple[str, bool]]) -> bytes:
    import docx

    document = docx.Document()
    for text, bold in paragraphs:
        paragraph = document.add_paragraph()
        paragraph.add_run(text).bold = bold
        paragraph.add_run(" words")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


_VALID_DOCX = _docx([("Ana:", True), ("Bo 00:03", True)])
_XML_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)


@settings(
    max_examples=max(EXAMPLES // 2, 1), deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
@given(st.one_of(mutated(_VALID_DOCX), st.lists(st.tuples(_XML_TEXT, st.booleans()), max_size=4).map(_docx)))
def test_docx(data):
    answers_or_refuses(lambda p: read_sources(p, "docx"), write("t.docx", data))


def _qdpx(project: str, members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", project)
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


QDE_PIECES = (
    PROJECT_QDE,
    '<TextSource name="b" plainTextPath="b.txt"/>',
    '<TextSource plainTextPath="internal://a.txt"/>',
    '<TextSource plainTextPath="/etc/passwd"/>',
    '<Project xmlns="urn:QDA-XML:project:1.0">',
    "</Project>",
    "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>",
    "&e;",
)


@FAST
@given(
    st.one_of(
        mutated(qdpx_bytes()),
        st.builds(
            _qdpx,
            pieces(*QDE_PIECES, size=8),
            st.dictionaries(st.sampled_from(["sources/a.txt", "sources/b.txt"]), st.binary(max_size=60), max_size=2),
        ),
    )
)
def test_qdpx(data):
    answers_or_refuses(lambda p: read_sources(p, "qdpx"), write("t.qdpx", data))


YAML_PIECES = (
    "name: x\n",
    "kind: cqr\n",
    "codes:\n",
    "  - name: A\n",
    "    codes:\n",
    "      - name: B\n",
    "    parent: A\n",
    "    hotkey: 1\n",
    "    applicable: maybe\n",
    "    color: '#fff'\n",
    "&a ",
    "*a",
    "[",
    "]",
    "{",
    "}",
    "- ",
    ": ",
    "\n",
    "  ",
    "!!python/object:os.system ",
    "? ",
    "|\n",
    "---\n",
)


@FAST
@given(pieces(*YAML_PIECES, size=30))
def test_codebook_yaml(text):
    answers_or_refuses(read_codebook, write("c.yaml", text), one_line=False)


@FAST
@given(pieces("code,parent,definition\n", "Path;Hotkey\n", "A", "A > B", ",", ";", '"', "\n", "yes", "1", size=40))
def test_codebook_csv(text):
    answers_or_refuses(read_codebook, write("c.csv", text), one_line=False)


QDC_PIECES = (
    '<?xml version="1.0"?>',
    '<CodeBook xmlns="urn:QDA-XML:codebook:1.0">',
    "</CodeBook>",
    "<Codes>",
    "</Codes>",
    '<Code name="A" isCodable="true" guid="{0000}">',
    '<Code name="" isCodable="perhaps" color="#zz">',
    "</Code>",
    "<Description>Key: A\nHotkey: 1</Description>",
    "<Sets><Set/></Sets>",
)


@FAST
@given(st.one_of(pieces(*QDC_PIECES, size=20), mutated(qdpx_bytes()).map(lambda b: b.decode("latin-1"))))
def test_codebook_qdc(text):
    answers_or_refuses(read_codebook, write("c.qdc", text), one_line=False)


@FAST
@given(mutated(_qdpx(PROJECT_QDE.replace("</Project>", "<CodeBook><Codes/></CodeBook></Project>"), {})))
def test_codebook_from_qdpx(data):
    answers_or_refuses(read_codebook, write("c.qdpx", data), one_line=False)


def _xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Codebook"
    for row in (["code", "parent", "hotkey"], ["A", "", "1"], ["B", "A", "2"]):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@settings(
    max_examples=max(EXAMPLES // 2, 1), deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
@given(mutated(_xlsx()))
def test_codebook_xlsx(data):
    answers_or_refuses(read_codebook, write("c.xlsx", data), one_line=False)


@FAST
@given(pieces("file,case,title,kind,date,speaker_roles\n", "a.txt", "b.txt", "x", "interview", "2024-02-30", ",", "\n"))
def test_manifest(text):
    write("a.txt", "P1: hi\n")
    answers_or_refuses(read_manifest, write("manifest.csv", text))


@FAST
@given(
    pieces(
        "case,level,started\n",
        "case,attribute,value,type\n",
        "Lincoln",
        "2024-02-30",
        "2024-01-01",
        "3.5",
        "1,000",
        "number",
        "date",
        ",",
        "\n",
        '"',
    )
)
def test_case_attributes(text):
    answers_or_refuses(read_case_attributes, write("attributes.csv", text))


@pytest.mark.parametrize("fmt", ["txt", "vtt", "srt", "csv", "docx", "qdpx", "md", "odt"])
def test_every_transcript_format_refuses_random_bytes_clearly(fmt):
    @FAST
    @given(st.binary(max_size=200))
    def check(data):
        answers_or_refuses(lambda p: read_sources(p, fmt), write(f"r.{fmt}", data))

    check()
