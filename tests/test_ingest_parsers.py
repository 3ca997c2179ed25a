"""Parsers, hygiene and segmentation: hand-made inputs with hand-counted turns and offsets."""

from __future__ import annotations

import io
import itertools

import pytest

from qualcode.decoding import decode_bytes
from qualcode.errors import InputError
from qualcode.ingest.csv_turns import parse_csv
from qualcode.ingest.docx_parser import parse_docx
from qualcode.ingest.markers import find_markers
from qualcode.ingest.segmentation import segment
from qualcode.ingest.speakers import compile_speaker_pattern
from qualcode.ingest.subtitles import parse_srt, parse_vtt
from qualcode.ingest.txt import parse_text

ZOOM_VTT = """WEBVTT

1
00:00:01.000 --> 00:00:04.000
Dana Whitfield: We started meeting on Tuesdays

2
00:00:04.000 --> 00:00:06.500
Dana Whitfield: after the coach came.

3
00:00:07.000 --> 00:00:09.000
Luis Ortega: That helped &amp; it stuck.
"""

TEAMS_VTT = """WEBVTT

NOTE produced by Teams

00:00:00.000 --> 00:00:02.000
<v Ms. Park>Good morning.</v>

00:00:02.000 --> 00:00:05.000
<v Coach Reyes>Morning. Shall we look at the data?</v>
"""

SRT = """1
00:00:01,000 --> 00:00:03,000
Interviewer: How did planning change?

2
00:00:03,500 --> 00:00:08,000
P1: We plan together now.
"""

REV = """Interview, site B

Max Rowe:         So how did the year
start for your team?

Teacher 2:     Slowly. We had [inaudible 00:12:03] a lot of
turnover, honestly [laughs].
"""


def texts(parsed, unit="turn"):
    return [(u.speaker, parsed.text[u.start : u.end]) for u in segment(parsed, unit)]


def test_plain_labels_name_p1_interviewer():
    parsed = parse_text("Interviewer: Tell me about it.\nP1: It was hard.\nMs. Diaz: I agree.\n")
    assert texts(parsed) == [("Interviewer", "Tell me about it."), ("P1", "It was hard."), ("Ms. Diaz", "I agree.")]


def test_rev_style_padding_and_wrapped_lines_and_title_outside_turns():
    parsed = parse_text(REV)
    assert texts(parsed) == [
        ("Max Rowe", "So how did the year\nstart for your team?"),
        ("Teacher 2", "Slowly. We had [inaudible 00:12:03] a lot of\nturnover, honestly [laughs]."),
    ]


def test_otter_header_lines_give_speaker_and_time():
    parsed = parse_text("Speaker 1  0:03\nWelcome, everyone.\n\nSpeaker 2  1:05:10\nThanks.\n")
    assert texts(parsed) == [("Speaker 1", "Welcome, everyone."), ("Speaker 2", "Thanks.")]
    assert [t.time_start for t in parsed.turns] == [3.0, 3910.0]


def test_bracket_id_labels_but_markers_at_line_start_are_not_speakers():
    parsed = parse_text("[id1] hello there\n[crosstalk]\n[id2] yes\n")
    assert texts(parsed) == [("id1", "hello there\n[crosstalk]"), ("id2", "yes")]


def test_sentences_ending_in_a_colon_are_not_labels():
    parsed = parse_text("Interviewer: Go on.\nand then she said: fine.\n")
    assert texts(parsed) == [("Interviewer", "Go on.\nand then she said: fine.")]


def test_custom_speaker_pattern_named_and_first_group():
    text = "<<ANA>> first words\n<<BO>> second\n"
    named = parse_text(text, compile_speaker_pattern(r"<<(?P<speaker>\w+)>>\s*"))
    first = parse_text(text, compile_speaker_pattern(r"^<<(\w+)>>\s*"))
    assert texts(named) == texts(first) == [("ANA", "first words"), ("BO", "second")]


def test_bad_custom_pattern_is_an_input_error():
    with pytest.raises(InputError):
        compile_speaker_pattern("(unclosed")
    with pytest.raises(InputError):
        compile_speaker_pattern("no groups")


def test_no_labels_becomes_paragraphs_with_a_note():
    parsed = parse_text("First paragraph\nstill first.\n\n\nSecond one.\n")
    assert parsed.turns == [] and parsed.notes
    assert texts(parsed, "turn") == [(None, "First paragraph\nstill first."), (None, "Second one.")]


def test_zoom_vtt_merges_adjacent_cues_of_one_speaker_and_keeps_times():
    parsed = parse_vtt(ZOOM_VTT, "z.vtt")
    assert texts(parsed) == [
        ("Dana Whitfield", "We started meeting on Tuesdays after the coach came."),
        ("Luis Ortega", "That helped & it stuck."),
    ]
    assert [(t.time_start, t.time_end) for t in parsed.turns] == [(1.0, 6.5), (7.0, 9.0)]


def test_teams_vtt_voice_tags():
    parsed = parse_vtt(TEAMS_VTT, "t.vtt")
    assert texts(parsed) == [("Ms. Park", "Good morning."), ("Coach Reyes", "Morning. Shall we look at the data?")]


def test_srt():
    parsed = parse_srt(SRT, "s.srt")
    assert texts(parsed) == [("Interviewer", "How did planning change?"), ("P1", "We plan together now.")]
    assert parsed.turns[1].time_start == 3.5


@pytest.mark.parametrize(
    "parser, text, line",
    [
        (parse_vtt, "WEBVTT\n\n00:00:01.000 -> 00:00:02.000\nhello\n", 3),
        (parse_vtt, "not a vtt\n", 1),
        (parse_srt, "1\n00:00:01,000 --> 00:00:02,000\nok\n\nx\n00:00:03,000 --> 00:00:04,000\nno\n", 5),
        (parse_srt, "1\n00:00:01 --> 00:00:02\nok\n", 2),
    ],
)
def test_malformed_subtitles_name_the_line(parser, text, line):
    with pytest.raises(InputError, match=rf"^bad\.sub:{line}: "):
        parser(text, "bad.sub")


def test_csv_turn_rows_with_timestamps():
    parsed = parse_csv('speaker,text,timestamp\nAna,"Hello, all.",00:01\nBo,Hi.,1:02:03\n', "t.csv")
    assert texts(parsed) == [("Ana", "Hello, all."), ("Bo", "Hi.")]
    assert [t.time_start for t in parsed.turns] == [1.0, 3723.0]


def test_csv_without_columns_names_line_1():
    with pytest.raises(InputError, match=r"^t\.csv:1: "):
        parse_csv("who,said\nA,b\n", "t.csv")


def _docx_bytes(paragraphs) -> bytes:
    import docx

    document = docx.Document()
    for runs in paragraphs:
        p = document.add_paragraph()
        for text, bold in runs:
            p.add_run(text).bold = bold
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_bold_names_with_runs_split_at_arbitrary_points():
    data = _docx_bytes(
        [
            [("Princ", True), ("ipal Ode", True), ("ll:", True), (" We gave te", False), ("ams an hour.", False)],
            [("Coach", True), (" ", False), ("Kim", True), (" It mattered.", False)],
            [("And it still does.", False)],
            [("Speaker 3 00:41", True)],
            [("Late words.", False)],
        ]
    )
    parsed = parse_docx(data, "d.docx")
    assert texts(parsed) == [
        ("Principal Odell", "We gave teams an hour."),
        ("Coach Kim", "It mattered.\n\nAnd it still does."),
        ("Speaker 3", "Late words."),
    ]
    assert parsed.turns[2].time_start == 41.0


def test_docx_without_bold_falls_back_to_text_labels():
    parsed = parse_docx(_docx_bytes([[("P1: one", False)], [("P2: two", False)]]), "d.docx")
    assert texts(parsed) == [("P1", "one"), ("P2", "two")]


def test_docx_that_is_not_a_zip():
    with pytest.raises(InputError, match=r"^d\.docx: "):
        parse_docx(b"plain bytes", "d.docx")


@pytest.mark.parametrize(
    "data",
    [
        "Ana: caf\u00e9 \u2013 done\r\nBo: ok\r\n".encode("utf-8"),
        "\ufeffAna: caf\u00e9 \u2013 done\nBo: ok\n".encode("utf-8"),
        "Ana: caf\u00e9 \u2013 done\r\nBo: ok\r\n".encode("utf-16"),
        "Ana: caf\u00e9 \u2013 done\r\nBo: ok\r\n".encode("utf-16-le"),
        "Ana: caf\u00e9 \u2013 done\rBo: ok\r".encode("cp1252"),
    ],
)
def test_encodings_and_line_endings_read_the_same(data):
    assert decode_bytes(data, "f.txt") == "Ana: caf\u00e9 \u2013 done\nBo: ok\n"


def test_binary_and_undecodable_bytes_name_the_file():
    with pytest.raises(InputError, match=r"^f\.txt: binary"):
        decode_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00", "f.txt")
    with pytest.raises(InputError, match=r"^f\.txt:2: undecodable"):
        decode_bytes(b"ok\n\x81\x8d\x8f", "f.txt")


def test_find_markers():
    text = "We [inaudible 00:12:03] then [crosstalk] and [Pallis 00:00:52] [laughs]. [id1] no."
    found = find_markers(text)
    assert [m.text for m in found] == ["[inaudible 00:12:03]", "[crosstalk]", "[Pallis 00:00:52]", "[laughs]"]
    assert [m.kind for m in found] == ["inaudible", "crosstalk", "guess", "laughs"]
    assert all(text[m.start : m.end] == m.text for m in found)


def test_sentence_units():
    parsed = parse_text("Ana: One thing. Another thing!\nBo: Is it? Yes.\n")
    assert texts(parsed, "sentence") == [
        ("Ana", "One thing."),
        ("Ana", "Another thing!"),
        ("Bo", "Is it?"),
        ("Bo", "Yes."),
    ]


ALL_FORMATS = [
    lambda: parse_text(REV),
    lambda: parse_text("[id1] a b.\n\nc d.\n[id2] e"),
    lambda: parse_text("no labels here.\n\nTwo paragraphs. Yes."),
    lambda: parse_vtt(ZOOM_VTT, "z"),
    lambda: parse_vtt(TEAMS_VTT, "t"),
    lambda: parse_srt(SRT, "s"),
    lambda: parse_csv('speaker,text\nA,"x. y.\n\nz"\nB,w\n', "c"),
    lambda: parse_docx(_docx_bytes([[("A:", True), (" one. two.", False)], [("three", False)]]), "d"),
]


@pytest.mark.parametrize("make", ALL_FORMATS)
@pytest.mark.parametrize("unit", ["turn", "paragraph", "sentence"])
def test_every_unit_is_the_text_between_its_offsets(make, unit):
    parsed = make()
    units = segment(parsed, unit)
    assert units
    for u in units:
        piece = parsed.text[u.start : u.end]
        assert piece and piece == piece.strip()
    assert [u.start for u in units] == sorted(u.start for u in units)
    # Units never overlap and every turn's words are covered.
    assert all(a.end <= b.start for a, b in itertools.pairwise(units))
    words = lambda s: "".join(s.split())  # noqa: E731
    for t in parsed.turns:
        inside = "".join(parsed.text[u.start : u.end] for u in units if t.start <= u.start < t.end)
        assert words(inside) == words(parsed.text[t.start : t.end])


def test_labels_at_the_very_start_and_back_to_back_otter_headers():
    # An Otter header ends in a newline; the header on the very next line must still count.
    parsed = parse_text("Speaker 1  0:03\nSpeaker 2  0:05\nHello there.\nP1: Hi.")
    assert texts(parsed) == [("Speaker 2", "Hello there."), ("P1", "Hi.")]
    assert [t.time_start for t in parsed.turns] == [5.0, None]


def test_docx_asks_each_character_style_once_not_once_per_run(monkeypatch):
    """python-docx scans every style on each ``run.style``: 7 ms a run made a long transcript take
    seconds. The parser asks once per style id and still reads bold set by a style."""
    import io

    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.text.run import Run

    from qualcode.ingest.docx_parser import parse_docx

    document = docx.Document()
    label = document.styles.add_style("Speaker label", WD_STYLE_TYPE.CHARACTER)
    label.font.bold = True
    for i in range(40):
        paragraph = document.add_paragraph()
        paragraph.add_run(f"Speaker {i % 2 + 1}:", style="Speaker label")
        paragraph.add_run(f" we plan lesson {i} together")
    buffer = io.BytesIO()
    document.save(buffer)
    asked = []
    real = Run.style.fget
    monkeypatch.setattr(Run, "style", property(lambda run: asked.append(run._r.style) or real(run)))
    parsed = parse_docx(buffer.getvalue(), "styled.docx")
    assert [t.speaker for t in parsed.turns[:3]] == ["Speaker 1", "Speaker 2", "Speaker 1"]
    assert len(parsed.turns) == 40
    assert len(asked) == len(set(asked)) <= 2  # the label style and the default, once each
