"""Other tools' files: transcripts from Zoom, Teams, YouTube, Otter, Markdown and OpenDocument, labels
in lower case and in scripts without capitals, and codebooks from Taguette, requal, QualCoder and
spreadsheets named the ways guides name them. Every fixture is written here by hand; the speakers,
texts and offsets asserted are counted by hand from it."""

from __future__ import annotations

import io
import shutil
import zipfile

import pytest
from click.testing import CliRunner
from sqlmodel import select

from qualcode.cli.main import cli
from qualcode.codebook.formats import read_codebook
from qualcode.codebook.validate import CodebookInvalid
from qualcode.ingest.importer import default_role
from qualcode.ingest.markdown import parse_markdown
from qualcode.ingest.segmentation import segment
from qualcode.ingest.subtitles import parse_vtt
from qualcode.ingest.txt import parse_text
from qualcode.store.models import Segment, Speaker, Transcript


def turns(parsed):
    return [(t.speaker, parsed.text[t.start : t.end]) for t in parsed.turns]


def offsets(parsed):
    return [(t.speaker, t.start, t.end) for t in parsed.turns]


# -- Zoom's "Save transcript" -----------------------------------------------------------------------
ZOOM_TXT = "[Carlos Farías] 11:02:09\nGood morning, everyone.\n[Ana Lee] 11:02:15\nMorning.\nShall we start?\n"


def test_zoom_saved_transcript_names_each_speaker_with_times_from_the_first():
    parsed = parse_text(ZOOM_TXT)
    assert turns(parsed) == [("Carlos Farías", "Good morning, everyone."), ("Ana Lee", "Morning.\nShall we start?")]
    assert offsets(parsed) == [("Carlos Farías", 25, 48), ("Ana Lee", 68, 92)]
    assert [t.time_start for t in parsed.turns] == [0.0, 6.0]
    assert parsed.text == ZOOM_TXT


def test_zoom_meeting_past_midnight_keeps_counting():
    parsed = parse_text("[A B] 23:59:50\nLate.\n[C D] 00:00:10\nVery late.\n")
    assert [t.time_start for t in parsed.turns] == [0.0, 20.0]


def test_zoom_clock_with_am_and_pm():
    parsed = parse_text("[Ana Lee] 11:59:50 AM\nHi.\n[Bo] 12:00:10 PM\nHello.\n[Ana Lee] 12:01:00 p.m.\nBye.\n")
    assert turns(parsed) == [("Ana Lee", "Hi."), ("Bo", "Hello."), ("Ana Lee", "Bye.")]
    assert [t.time_start for t in parsed.turns] == [0.0, 20.0, 70.0]


# -- labels in lower case and in scripts without capitals ---------------------------------------------
def test_lower_case_labels_are_speakers_not_merged_into_the_previous_turn():
    parsed = parse_text("interviewer: how did it start?\nana: slowly.\ninterviewer: and then?\nbo: we met.\n")
    assert turns(parsed) == [
        ("interviewer", "how did it start?"),
        ("ana", "slowly."),
        ("interviewer", "and then?"),
        ("bo", "we met."),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "محمد: صباح الخير\nسارة: أهلا\nمحمد: كيف الحال؟\n",
            [("محمد", "صباح الخير"), ("سارة", "أهلا"), ("محمد", "كيف الحال؟")],
        ),
        (
            "דני: שלום\nרות: היי\nדני: מה נשמע?\n",
            [("דני", "שלום"), ("רות", "היי"), ("דני", "מה נשמע?")],
        ),
        # the full-width colon, with the words straight after it
        (
            "张伟：你好。\n李娜：你好！\n张伟：开始吧。\n",
            [("张伟", "你好。"), ("李娜", "你好！"), ("张伟", "开始吧。")],
        ),
    ],
)
def test_labels_in_scripts_without_capitals(text, expected):
    assert turns(parse_text(text)) == expected


def test_prose_with_colons_stays_in_the_turn():
    text = (
        "Date: 2024-05-01\n"
        "Interviewer: Tell me about the year.\n"
        "The reasons were: time and money.\n"
        "He told me: no.\n"
        "Note: the recorder stopped here.\n"
        "and then she said: fine.\n"
        "At 10:30: we met.\n"
        "See https://example.org: a link.\n"
        "P1: We coped.\n"
    )
    parsed = parse_text(text)
    # what looked like a label but was judged words is named, with its line
    assert parsed.notes == [
        "2 line(s) start like a speaker label but were read as words, not being a name written as a label "
        "more than once: 'The reasons were' (line 3), 'He told me' (line 4); if they are speakers, give "
        "--speaker-pattern"
    ]
    assert turns(parsed) == [
        (
            "Interviewer",
            "Tell me about the year.\nThe reasons were: time and money.\nHe told me: no.\n"
            "Note: the recorder stopped here.\nand then she said: fine.\nAt 10:30: we met.\n"
            "See https://example.org: a link.",
        ),
        ("P1", "We coped."),
    ]


def test_a_sentence_that_recurs_is_not_a_speaker_unless_it_reads_as_a_name():
    # lower-case phrases of three words or more never are; a caseless one-off phrase is not either
    text = "Interviewer: Go on.\nso what happened: nothing.\nso what happened: again nothing.\nقال لي المدير: لا\n"
    assert turns(parse_text(text)) == [
        ("Interviewer", "Go on.\nso what happened: nothing.\nso what happened: again nothing.\nقال لي المدير: لا")
    ]


@pytest.mark.parametrize(
    ("label", "role"),
    [
        ("Interviewer 1", "interviewer"),
        ("interviewer", "interviewer"),
        ("Moderator 2", "moderator"),
        ("Facilitator", "moderator"),
        ("Respondent 3", "participant"),
        ("Teacher_4", "teacher"),
        ("Speaker 1", "unknown"),
        ("P1", "unknown"),
        ("Ana", "unknown"),
    ],
)
def test_numbered_roles(label, role):
    assert default_role(label) == role


# -- VTT from Teams and YouTube --------------------------------------------------------------------
def test_html_entities_in_voice_names_are_decoded():
    vtt = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n<v Carlos Far&#237;as>Hola &amp; bienvenidos.</v>\n"
    parsed = parse_vtt(vtt, "t.vtt")
    assert parsed.text == "Carlos Farías: Hola & bienvenidos."
    assert offsets(parsed) == [("Carlos Farías", 15, 34)]


# Rolling captions as YouTube writes them: a line of one space opens a cue whose line is still empty,
# and one cue runs into the next timing line without a blank line.
ROLLING = (
    "WEBVTT\nKind: captions\nLanguage: en\n\n"
    "00:00:00.000 --> 00:00:02.500 align:start position:0%\n \n"
    "so<00:00:00.480><c> today</c><00:00:00.900><c> we</c>\n\n"
    "00:00:02.500 --> 00:00:02.510 align:start position:0%\nso today we\n \n\n"
    "00:00:02.510 --> 00:00:05.000 align:start position:0%\nso today we\n"
    "talk<00:00:03.000><c> about</c><c> planning</c>\n"
    "00:00:05.000 --> 00:00:05.010 align:start position:0%\ntalk about planning\n\n"
    "00:00:05.010 --> 00:00:07.000 align:start position:0%\ntalk about planning\nand<c> time</c>\n"
)


def test_rolling_captions_read_each_line_once_and_no_timing_line_leaks():
    parsed = parse_vtt(ROLLING, "y.vtt")
    assert parsed.text == "so today we\n\ntalk about planning\n\nand time"
    assert "-->" not in parsed.text
    assert [(t.start, t.end, t.time_start, t.time_end) for t in parsed.turns] == [
        (0, 11, 0.0, 2.51),
        (13, 32, 2.51, 5.01),
        (34, 42, 5.01, 7.0),
    ]
    assert parsed.notes == [
        "rolling captions: 4 repeated line(s) read once",
        "no speaker names in the cues: one unknown speaker",
    ]


def test_ordinary_cues_that_repeat_a_word_are_not_taken_for_rolling_captions():
    vtt = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nAna: No.\n\n00:00:02.000 --> 00:00:03.000\nAna: No.\n\n"
        "00:00:03.000 --> 00:00:04.000\nBo: Why not?\n\n00:00:04.000 --> 00:00:05.000\nAna: Time.\n"
    )
    parsed = parse_vtt(vtt, "z.vtt")
    assert turns(parsed) == [("Ana", "No. No."), ("Bo", "Why not?"), ("Ana", "Time.")]
    assert parsed.notes == []


# -- Otter, continuation lines ------------------------------------------------------------------------
OTTER = (
    "Speaker 1  0:03\nWelcome, everyone.\n\nSpeaker 2  0:09\nThanks for having us.\n\nTranscribed by https://otter.ai\n"
)


def test_otter_footer_stays_out_of_the_last_turn_and_is_named():
    parsed = parse_text(OTTER)
    assert turns(parsed) == [("Speaker 1", "Welcome, everyone."), ("Speaker 2", "Thanks for having us.")]
    assert offsets(parsed)[-1] == ("Speaker 2", 52, 73)
    assert parsed.text == OTTER  # the footer stays in the text, in no segment
    assert parsed.notes == [
        "Otter's footer 'Transcribed by https://otter.ai' kept out of the last turn (it is boilerplate, not speech)"
    ]


def test_continuation_lines_lose_their_indentation():
    text = (
        "Interview 4\n  recorded in May\n"
        "Interviewer: So how did\n              the year start?\nP1:   Slowly,\n\tvery slowly.\n"
    )
    parsed = parse_text(text)
    assert parsed.text == (
        "Interview 4\n  recorded in May\nInterviewer: So how did\nthe year start?\nP1:   Slowly,\nvery slowly.\n"
    )
    assert turns(parsed) == [("Interviewer", "So how did\nthe year start?"), ("P1", "Slowly,\nvery slowly.")]
    assert offsets(parsed) == [("Interviewer", 43, 69), ("P1", 76, 96)]
    assert parsed.notes == ["indentation of 2 continuation line(s) removed, so each turn reads as written"]
    # units still sit exactly on the stored text
    for unit in segment(parsed, "paragraph"):
        assert parsed.text[unit.start : unit.end].strip() == parsed.text[unit.start : unit.end]


# -- Markdown -------------------------------------------------------------------------------------------
MARKDOWN = """# Focus group, Hillside

### Moderator
Welcome, everyone.

### Ana Lee
Thanks. *laughs*

---

## Part two

### Moderator
Next question.

**Bo Chen**  0:42
We plan together.

**Interviewer:** And the coach?
**P2**: She helps.
**Important** to say: this line is speech.
"""


def test_markdown_headings_and_bold_names():
    parsed = parse_markdown(MARKDOWN, None, "fg.md")
    assert turns(parsed) == [
        ("Moderator", "Welcome, everyone."),
        ("Ana Lee", "Thanks. *laughs*"),
        ("Moderator", "Next question."),
        ("Bo Chen", "We plan together."),
        ("Interviewer", "And the coach?"),
        ("P2", "She helps.\n**Important** to say: this line is speech."),
    ]
    assert parsed.text == MARKDOWN and parsed.format == "md"
    assert [t.time_start for t in parsed.turns] == [None, None, None, 42.0, None, None]
    assert offsets(parsed)[0] == ("Moderator", 39, 57)


def test_markdown_without_speaker_marks_reads_as_plain_text():
    parsed = parse_markdown("# Notes\n\nInterviewer: Hello.\nP1: Hi.\n", None, "n.md")
    assert turns(parsed) == [("Interviewer", "Hello."), ("P1", "Hi.")]


# -- end to end from the command line: .md, .odt, Zoom .txt ----------------------------------------------
def odt_bytes(paragraphs: list[tuple[str, str]]) -> bytes:
    """An .odt made with odfpy: (kind, text) with kind ``h`` (heading) or ``p``."""
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P, Span

    document = OpenDocumentText()
    for kind, text in paragraphs:
        if kind == "h":
            document.text.addElement(H(outlinelevel=1, text=text))
        else:
            head, _, tail = text.partition("|")  # a span inside the paragraph, as word processors write runs
            paragraph = P(text=head)
            if tail:
                paragraph.addElement(Span(text=tail))
            document.text.addElement(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def run(tmp_path):
    target = str(tmp_path / "study.db")

    def invoke(*args: str):
        return CliRunner().invoke(cli, [*args, "--project", target])

    invoke.target = target  # type: ignore[attr-defined]
    return invoke


def stored(target: str, title: str):
    from qualcode.project import Project

    project = Project(target)
    try:
        with project.read() as s:
            t = s.exec(select(Transcript).where(Transcript.title == title)).one()
            rows = s.exec(
                select(Segment.start, Segment.end, Speaker.label, Speaker.role)
                .join(Speaker, Speaker.id == Segment.speaker_id)
                .where(Segment.transcript_id == t.id)
                .order_by(Segment.position)
            ).all()
            return t, [(label, role, t.text[a:b]) for a, b, label, role in rows]
    finally:
        project.close()


def test_cli_imports_odt_md_and_zoom_txt(run, tmp_path):
    assert run("init").exit_code == 0
    odt = tmp_path / "coach.odt"
    odt.write_bytes(
        odt_bytes(
            [
                ("h", "Coach interview"),
                ("p", "Interviewer 1: How do you support |teachers?"),
                ("p", "Coach Reyes: By watching lessons."),
                ("p", ""),
                ("p", "interviewer 1: Anything else?"),
            ]
        )
    )
    md = tmp_path / "group.md"
    md.write_text(MARKDOWN, encoding="utf-8")
    zoom = tmp_path / "meeting.txt"
    zoom.write_text(ZOOM_TXT, encoding="utf-8")
    result = run("import", str(odt), str(md), str(zoom))
    assert result.exit_code == 0, result.output
    assert "3 imported, 0 skipped, 0 failed" in result.output
    transcript, rows = stored(run.target, "coach")
    assert transcript.source_format == "odt"
    assert transcript.text == (
        "Coach interview\n\nInterviewer 1: How do you support teachers?\n\nCoach Reyes: By watching lessons."
        "\n\ninterviewer 1: Anything else?"
    )
    assert rows == [
        ("Interviewer 1", "interviewer", "How do you support teachers?"),
        ("Coach Reyes", "unknown", "By watching lessons."),
        ("interviewer 1", "interviewer", "Anything else?"),
    ]
    transcript, rows = stored(run.target, "group")
    assert transcript.source_format == "md" and [r[0] for r in rows][:3] == ["Moderator", "Ana Lee", "Moderator"]
    assert rows[0][1] == "moderator"
    transcript, rows = stored(run.target, "meeting")
    assert rows == [
        ("Carlos Farías", "unknown", "Good morning, everyone."),
        ("Ana Lee", "unknown", "Morning.\nShall we start?"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.odt", b"not a zip at all", "{path}: not a .odt document (not a zip file)"),
        ("empty.md", b"  \n", "{path}: empty file"),
        ("blank.odt", None, "{path}: no text in this document"),
    ],
)
def test_bad_files_are_one_line_naming_the_file(run, tmp_path, name, content, message):
    assert run("init").exit_code == 0
    path = tmp_path / name
    path.write_bytes(content if content is not None else odt_bytes([("p", "  ")]))
    result = run("import", str(path))
    assert result.exit_code == 2
    assert result.output == "error: " + message.format(path=path) + "\n"


def test_a_spreadsheet_saved_as_odt_is_refused(run, tmp_path):
    from odf.opendocument import OpenDocumentSpreadsheet

    buffer = io.BytesIO()
    OpenDocumentSpreadsheet().save(buffer)
    path = tmp_path / "sheet.odt"
    path.write_bytes(buffer.getvalue())
    assert run("init").exit_code == 0
    result = run("import", str(path))
    assert result.exit_code == 2
    assert result.output == (
        f"error: {path}: not an OpenDocument text (it is application/vnd.oasis.opendocument.spreadsheet)\n"
    )


def test_qualcoder_example_transcript(corpora, tmp_path):
    path = corpora / "qualcoder-focus-group.txt"
    if not path.exists():
        pytest.skip("qualcoder-focus-group.txt is not in ../shared/corpora")
    parsed = parse_text(path.read_text(encoding="utf-8"))
    assert [t.speaker for t in parsed.turns] == ["id1", "id2", "id3", "id1", "id3", "id1", "id2"]
    # every turn's words start right after its label and end before the next label
    for turn in parsed.turns:
        label_end = parsed.text.rfind("]", 0, turn.start)
        assert parsed.text[label_end + 1 : turn.start].strip() == ""


# -- codebooks ---------------------------------------------------------------------------------------------
def codes(model):
    return [(depth, node.name, node.applicable, node.definition, node.color) for node, _parent, depth in model.walk()]


def test_taguette_codebook_csv(tmp_path):
    path = tmp_path / "taguette.csv"
    path.write_text(
        "tag,description,number of highlights\n"
        'barriers,Things in the way,12\n"time, lack of","Too little, said twice",3\n',
        encoding="utf-8",
    )
    model = read_codebook(path)
    assert codes(model) == [
        (0, "barriers", True, "Things in the way", None),
        (0, "time, lack of", True, "Too little, said twice", None),
    ]
    assert model.warnings == [f"{path}: column 'number of highlights' left out: counts of codings in the other tool"]


def test_taguette_codebook_of_newer_versions_and_its_xlsx(tmp_path):
    import openpyxl

    path = tmp_path / "taguette.csv"
    path.write_text("tag,description,number of highlights,number of documents\nTrust,Talk of trust,4,2\n")
    model = read_codebook(path)
    assert codes(model) == [(0, "Trust", True, "Talk of trust", None)]
    assert [w.split(": ", 1)[1] for w in model.warnings] == [
        "column 'number of highlights' left out: counts of codings in the other tool",
        "column 'number of documents' left out: counts of codings in the other tool",
    ]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "codebook"  # as Taguette names it
    for row in (["tag", "description", "number of highlights", "number of documents"], ["Trust", "Talk", 4, 2]):
        sheet.append(row)
    book.save(tmp_path / "taguette.xlsx")
    assert codes(read_codebook(tmp_path / "taguette.xlsx")) == [(0, "Trust", True, "Talk", None)]


def test_requal_codebook_csv_with_rgb_and_hex_colours(tmp_path):
    path = tmp_path / "requal.csv"
    path.write_text(
        'code_name,code_description,code_color\nTrust,Talk of trust,"rgb(31, 119, 180)"\nTime,,#FF7F0E\n',
        encoding="utf-8",
    )
    model = read_codebook(path)
    assert codes(model) == [(0, "Trust", True, "Talk of trust", "#1f77b4"), (0, "Time", True, "", "#ff7f0e")]
    assert model.warnings == []


def test_requal_export_with_row_names_ids_and_categories(tmp_path):
    # as R's write.csv writes requal's export: a row-name column, the code's id, and its categories
    # ("name (description)" joined by " | "; NA where it has none)
    path = tmp_path / "requal_codebook.csv"
    path.write_text(
        '"","code_id","code_name","code_description","code_color","categories"\n'
        '"1",1,"Trust","Talk of trust","#1f77b4","Relations (How people relate) | Climate"\n'
        '"2",2,"Time","","#ff7f0e","NA"\n'
        '"3",3,"Buy-in","Staff convinced","#2ca02c","Relations (How people relate)"\n',
        encoding="utf-8",
    )
    model = read_codebook(path)
    assert codes(model) == [
        (0, "Relations", False, "How people relate", None),
        (1, "Trust", True, "Talk of trust", "#1f77b4"),
        (1, "Buy-in", True, "Staff convinced", "#2ca02c"),
        (0, "Time", True, "", "#ff7f0e"),
    ]
    assert model.warnings == [
        f"{path}: column 'code_id' left out: the other tool's own ids",
        f"{path}: row 2: 'Trust' is in 2 categories: placed in 'Relations', not in 'Climate'",
        f"{path}: 1 grouping code(s) made from column 'categories': 'Relations'",
    ]


def test_guide_style_spreadsheet_columns(tmp_path):
    path = tmp_path / "guide.csv"
    path.write_text(
        "Theme,Label,Meaning,Use when,Do not use when,Example quote,Colour,Description\n"
        "Barriers,,Things in the way,,,,,\n"
        "Barriers,Time,Too little time,Schedules named,Money instead,We never meet,#00aa00,other text\n"
        "Support,Coaching,A coach helps,,,,,\n",
        encoding="utf-8",
    )
    model = read_codebook(path)
    # a row with a theme and no code describes the theme; a theme with no row of its own is made a grouping
    assert codes(model) == [
        (0, "Barriers", False, "Things in the way", None),
        (1, "Time", True, "Too little time", "#00aa00"),
        (0, "Support", False, "", None),
        (1, "Coaching", True, "A coach helps", None),
    ]
    time = model.codes[0].children[0]
    assert (time.inclusion, time.exclusion, time.example) == ("Schedules named", "Money instead", "We never meet")
    # a second column for the same field is named, not silently lost
    assert model.warnings == [
        f"{path}: column 'Description' ignored: column 'Meaning' already gives the definition",
        f"{path}: 1 grouping code(s) made from column 'Theme': 'Support'",
    ]


QUALCODER_LIST = (
    "Barriers>>Time\tToo little time for planning\n"
    "Barriers>>Buy-in\tStaff not convinced\n"
    "\n"
    "Leadership\n"
    "Leadership>>Shared\tMany people lead\n"
    "Barriers>>Time\tsaid twice\n"
)


def test_qualcoder_code_list_text(tmp_path):
    path = tmp_path / "codes.txt"
    path.write_text(QUALCODER_LIST, encoding="utf-8")
    model = read_codebook(path)
    assert codes(model) == [
        (0, "Barriers", False, "", None),  # a QualCoder category: groups, is not applied
        (1, "Time", True, "Too little time for planning", None),
        (1, "Buy-in", True, "Staff not convinced", None),
        (0, "Leadership", True, "", None),
        (1, "Shared", True, "Many people lead", None),
    ]
    assert model.warnings == [
        f"{path}:6: 'Barriers>>Time' is named again (first at line 1): left out",
        f"{path}: 1 QualCoder category (named only as part of a path) kept as grouping codes, "
        "not applied to text (applicable: no)",
    ]


def test_qualcoder_code_list_as_csv_without_a_header(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text('Barriers>>Time,"Too little time, often"\nLeadership\n', encoding="utf-8")
    assert codes(read_codebook(path)) == [
        (0, "Barriers", False, "", None),
        (1, "Time", True, "Too little time, often", None),
        (0, "Leadership", True, "", None),
    ]


def test_a_code_list_line_without_a_code_names_the_line(tmp_path):
    path = tmp_path / "codes.txt"
    path.write_text("Barriers>>Time\n>>\tonly a memo\n", encoding="utf-8")
    with pytest.raises(CodebookInvalid) as caught:
        read_codebook(path)
    assert caught.value.problems == [f"{path}:2: no code name before the memo (a line is CATEGORY>>CODE<TAB>MEMO)"]


def test_cli_loads_other_tools_codebooks(run, tmp_path):
    assert run("init").exit_code == 0
    listing = tmp_path / "codes.txt"
    listing.write_text(QUALCODER_LIST, encoding="utf-8")
    result = run("codebook", "load", str(listing))
    assert result.exit_code == 0, result.output
    assert result.output.endswith("loaded 'codes': 5 codes, provisional (active)\n")
    assert "warning: " in result.output  # the repeated line and the category are named
    taguette = tmp_path / "tags.csv"
    taguette.write_text("tag,description,number of highlights\nTrust,Talk of trust,4\n", encoding="utf-8")
    assert run("codebook", "load", str(taguette)).exit_code == 0
    bad = tmp_path / "bad.txt"
    shutil.copy(listing, bad)
    bad.write_text(">>\tonly a memo\n", encoding="utf-8")
    refused = run("codebook", "load", str(bad))
    assert refused.exit_code == 2 and refused.output.count("\n") == 1
    assert f"{bad}:1: no code name before the memo" in refused.output


def test_long_heading_lines_do_not_backtrack():
    # one regular expression for name, time and closing hashes took ~10 s on this line (quadratic)
    line = "### " + "\t " * 20000 + "#" * 20000 + " x\n"
    parsed = parse_markdown(line + "### Ana\nHi.\n### Ana\nBye.\n", None, "long.md")
    assert turns(parsed) == [("Ana", "Hi."), ("Ana", "Bye.")]


def _odt_with_content(body: str) -> bytes:
    """An .odt written by hand (odfpy itself cannot build deeply nested documents)."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content'
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:text>{body}</office:text></office:body></office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", content)
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0"?><manifest:manifest'
            ' xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/"'
            ' manifest:media-type="application/vnd.oasis.opendocument.text"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
    return buffer.getvalue()


def test_odt_nested_deep_is_read_or_refused_in_one_line(tmp_path):
    from qualcode.errors import InputError
    from qualcode.ingest.odt import parse_odt

    sections = "<text:section>" * 5000 + "<text:p>Ana: deep</text:p>" + "</text:section>" * 5000
    parsed = parse_odt(_odt_with_content(sections + "<text:p>Bo: ok</text:p>"), "deep.odt")
    assert turns(parsed) == [("Ana", "deep"), ("Bo", "ok")]
    spans = "<text:p>Ana: " + "<text:span>" * 5000 + "x" + "</text:span>" * 5000 + "</text:p>"
    with pytest.raises(InputError) as caught:
        parse_odt(_odt_with_content(spans), "spans.odt")
    assert str(caught.value) == "spans.odt: not a readable .odt (text nested too deep)"
    # without a manifest odfpy finds no body: refused, not a crash
    bare = io.BytesIO()
    with zipfile.ZipFile(bare, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<x/>")
    with pytest.raises(InputError) as caught:
        parse_odt(bare.getvalue(), "bare.odt")
    assert str(caught.value).startswith("bare.odt: not a readable .odt")


def test_a_folder_leaves_out_markdown_without_speakers(run, tmp_path):
    assert run("init").exit_code == 0
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "README.md").write_text("# About these files\n\nRecorded in May.\n", encoding="utf-8")
    (folder / "group.md").write_text(MARKDOWN, encoding="utf-8")
    result = run("import", str(folder))
    assert result.exit_code == 0, result.output
    assert (
        f"note: {folder / 'README.md'}: Markdown without speakers (a README or notes?), left out: "
        "import it by name to keep it"
    ) in result.output
    assert result.output.rstrip().endswith("1 imported, 0 skipped, 0 failed")


def test_vtt_cues_that_only_look_like_name_colon_are_words():
    vtt = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nDana Whitfield: What changed?\n\n"
        "00:00:03.000 --> 00:00:06.000\nSo the answer is: time.\n\n"
        "00:00:06.000 --> 00:00:08.000\nluis: Yes.\n\n00:00:08.000 --> 00:00:09.000\nluis: Right.\n"
    )
    parsed = parse_vtt(vtt, "z.vtt")
    assert turns(parsed) == [
        ("Dana Whitfield", "What changed?"),
        (None, "So the answer is: time."),
        ("luis", "Yes. Right."),
    ]
    assert parsed.notes == ["1 cue(s) start like 'Name:' but were read as words: 'So the answer is'"]


def test_otter_footer_in_a_docx_is_kept_out_of_the_last_turn(tmp_path):
    import docx

    from qualcode.ingest.sources import read_sources

    document = docx.Document()
    for label, words in (("Speaker 1  0:03", "Welcome."), ("Speaker 2  0:09", "Thanks.")):
        document.add_paragraph().add_run(label).bold = True
        document.add_paragraph(words)
    document.add_paragraph("Transcribed by https://otter.ai")
    path = tmp_path / "otter.docx"
    document.save(str(path))
    (source,), _ = read_sources(path, "docx")
    assert turns(source.parsed) == [("Speaker 1", "Welcome."), ("Speaker 2", "Thanks.")]
    assert source.parsed.text.endswith("\n\nTranscribed by https://otter.ai")
    assert source.parsed.notes == [
        "Otter's footer 'Transcribed by https://otter.ai' kept out of the last turn (it is boilerplate, not speech)"
    ]
