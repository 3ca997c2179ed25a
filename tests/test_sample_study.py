"""The sample study in sample_transcripts/: files, manifest, case attributes and demo answer key.

These tests read the files directly (not through the importer) so they state what the
sample study promises: every supported layout and encoding is present, every speaker has
a role, and the demo key points at real speaker turns with names from the shared codebooks.
"""

from __future__ import annotations

import csv
import importlib.util
import itertools
import re
from datetime import date
from pathlib import Path

import pytest
from docx import Document

SAMPLES = Path(__file__).resolve().parent.parent / "sample_transcripts"

# Fixed shared names (codebooks/seven_conditions.yaml and codebooks/cqr_collaboration.yaml).
CONDITION_KEYS = ("SV", "SA", "RC", "WD", "SN", "SI", "OI", "CE")
CQR_DOMAINS = {
    "Collaboration between administrators and participants": (
        "Administrators provide support",
        "Administrators provide autonomy",
        "Administrators set expectations",
    ),
    "Collaboration between coaches and participants": (
        "Coaches model instruction",
        "Coaches give feedback",
        "Coaches build trust",
    ),
    "Collaboration among participants": ("Shared planning", "Peer observation", "Informal exchange"),
    "Collaboration between coaches and non-participants": (
        "Coaches reach beyond the program",
        "Limited contact with non-participants",
    ),
    "Site-to-site collaboration": ("Cross-site visits", "Shared resources across sites"),
    "Pre-program collaboration": ("Limited collaboration", "Isolated classrooms"),
    "Barriers to collaboration": ("Variation between groups", "Lack of buy-in", "Time constraints", "Staff turnover"),
    "Conditions for effective collaboration": ("Financial support", "Protected time", "Common goals"),
    "Site-wide collaboration": ("Student focus", "School-wide initiatives"),
    "Teacher leadership": ("Leadership practice", "Leadership identity"),
    "Expectations for future collaboration": ("Sustaining the work", "Expanding the program"),
}
CQR_CATEGORIES = {category: domain for domain, cats in CQR_DOMAINS.items() for category in cats}
KINDS = ("interview", "focus_group", "field_notes", "document")
ROLES = ("teacher", "coach", "administrator", "interviewer", "moderator", "participant", "other")
ASKING_ROLES = ("interviewer", "moderator")
STUDY_FILES = {"manifest.csv", "case_attributes.csv", "demo_key.csv", "make_docx.py"}
MARKERS = (r"\[crosstalk\]", r"\[laughs\]", r"\[inaudible \d\d:\d\d:\d\d\]")


def read_csv(name: str) -> list[dict[str, str]]:
    with open(SAMPLES / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


MANIFEST = read_csv("manifest.csv")
BY_FILE = {row["file"]: row for row in MANIFEST}
KEY = read_csv("demo_key.csv")


def speaker_roles(row: dict[str, str]) -> dict[str, str]:
    pairs = [part.split("=") for part in row["speaker_roles"].split(";") if part.strip()]
    return {label.strip(): role.strip() for label, role in pairs}


def decode(path: Path) -> str:
    """Decode the way a Windows-aware reader must: BOMs first, then UTF-8, then cp1252."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def text_of(path: Path) -> str:
    if path.suffix == ".docx":
        return "\n".join(p.text for p in Document(path).paragraphs)
    return decode(path).replace("\r\n", "\n")


def turns_of(name: str) -> list[tuple[str, str]]:
    """(speaker, first words) of each turn as a reader counts them; field notes give paragraphs.

    A turn starts where a manifest label opens a line (``Name:``, ``<v Name>``, Otter's
    ``Speaker 1  0:03``); adjacent cues or lines of one speaker are one turn.
    """
    row, path = BY_FILE[name], SAMPLES / name
    if row["kind"] == "field_notes":
        return [("", p) for p in re.split(r"\n\s*\n", text_of(path).strip())]
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as handle:
            starts = [(r["speaker"], r["text"]) for r in csv.DictReader(handle)]
    else:
        labels = "|".join(re.escape(label) for label in speaker_roles(row))
        opener = re.compile(rf"^(?:<v )?({labels})(?::|>|  \d+:\d\d)\s*(.*)$", re.MULTILINE)
        starts = [(m.group(1), m.group(2)) for m in opener.finditer(text_of(path))]
    turns: list[tuple[str, str]] = []
    for speaker, words in starts:
        if not turns or turns[-1][0] != speaker:
            turns.append((speaker, words))
    return turns


def transcript_files() -> set[str]:
    return {p.name for p in SAMPLES.iterdir() if p.is_file() and p.name not in STUDY_FILES}


# --- manifest -------------------------------------------------------------------------


def test_manifest_covers_every_file_and_every_file_exists():
    assert set(BY_FILE) == transcript_files()
    assert len(MANIFEST) == len(BY_FILE)  # no file listed twice


def test_manifest_rows_are_well_formed():
    assert list(MANIFEST[0]) == ["file", "title", "case", "kind", "date", "speaker_roles"]
    titles = set()
    for row in MANIFEST:
        assert row["kind"] in KINDS, row["file"]
        date.fromisoformat(row["date"])
        assert (row["case"], row["title"]) not in titles, row["file"]
        titles.add((row["case"], row["title"]))
        roles = speaker_roles(row)
        assert set(roles.values()) <= set(ROLES), row["file"]
        assert bool(roles) == (row["kind"] != "field_notes"), row["file"]


def test_study_size_and_mix():
    kinds = [row["kind"] for row in MANIFEST]
    assert kinds.count("interview") + kinds.count("focus_group") >= 14
    assert kinds.count("field_notes") >= 1
    interviewed = {role for row in MANIFEST if row["kind"] == "interview" for role in speaker_roles(row).values()}
    assert {"teacher", "coach", "administrator"} <= interviewed
    group_roles = [set(speaker_roles(r).values()) - {"moderator"} for r in MANIFEST if r["kind"] == "focus_group"]
    assert {"teacher"} in group_roles and {"coach"} in group_roles and {"administrator"} in group_roles
    assert any(len(roles) > 1 for roles in group_roles)  # a mixed group


@pytest.mark.parametrize("name", sorted(BY_FILE))
def test_every_speaker_has_a_role_and_every_role_speaks(name):
    turns = turns_of(name)
    roles = speaker_roles(BY_FILE[name])
    if BY_FILE[name]["kind"] == "field_notes":
        assert len(turns) >= 5
        assert not re.search(r"^[\w .'-]{1,40}:", text_of(SAMPLES / name), re.MULTILINE)  # no labels
        return
    assert {speaker for speaker, _ in turns} == set(roles)


@pytest.mark.parametrize("name", sorted(n for n, r in BY_FILE.items() if r["kind"] == "interview"))
def test_interviews_have_25_to_60_turns(name):
    assert 25 <= len(turns_of(name)) <= 60


@pytest.mark.parametrize("name", sorted(n for n, r in BY_FILE.items() if r["kind"] == "focus_group"))
def test_focus_groups_have_4_to_7_participants_and_markers(name):
    participants = [label for label, role in speaker_roles(BY_FILE[name]).items() if role not in ASKING_ROLES]
    assert 4 <= len(participants) <= 7
    text = text_of(SAMPLES / name)
    for marker in MARKERS:
        assert re.search(marker, text), (name, marker)


# --- formats and encodings ------------------------------------------------------------


def texts(suffix: str) -> dict[str, str]:
    return {n: text_of(SAMPLES / n) for n in BY_FILE if n.endswith(suffix) and BY_FILE[n]["kind"] != "field_notes"}


def test_plain_text_with_name_labels():
    assert any(re.match(r"[A-Z][a-z]+ [A-Z][\w'-]+: \S", t) for t in texts(".txt").values())


def test_plain_text_with_p1_and_interviewer_labels():
    assert any(
        re.search(r"^P1: \S", t, re.M) and re.search(r"^Interviewer: \S", t, re.M) for t in texts(".txt").values()
    )


def test_otter_layout_header_line_then_words():
    otter = re.compile(r"^Speaker \d+  \d+:\d\d\n[^\n\s]", re.MULTILINE)
    assert any(len(otter.findall(t)) >= 25 for t in texts(".txt").values())


def test_rev_layout_padded_label_and_wrapped_continuation():
    rev = re.compile(r"^([A-Z][\w .'-]+:)( {2,})\S.*\n(?P<indent> +)\S", re.MULTILINE)
    assert any(
        len(m.group(1)) + len(m.group(2)) == len(m.group("indent"))
        for t in texts(".txt").values()
        for m in rev.finditer(t)
    )


def cue_texts(text: str) -> list[str]:
    blocks = [b.splitlines() for b in re.split(r"\n\s*\n", text.strip())]
    return [" ".join(b[2:]) for b in blocks if len(b) > 2 and "-->" in b[1]]


def test_zoom_vtt_with_name_prefixes_and_one_thought_over_adjacent_cues():
    zoom = [t for t in texts(".vtt").values() if t.startswith("WEBVTT") and "<v " not in t]
    assert zoom
    speakers = [cue.split(":", 1)[0] for cue in cue_texts(zoom[0])]
    assert all(re.fullmatch(r"[^\s:][^:]{1,40}", s) for s in speakers)
    assert any(a == b for a, b in itertools.pairwise(speakers))


def test_teams_vtt_with_voice_tags():
    teams = [t for t in texts(".vtt").values() if t.startswith("WEBVTT") and "<v " in t]
    assert teams
    assert all(re.fullmatch(r"<v [^>]+>[^<]+</v>", cue) for cue in cue_texts(teams[0]))


def test_srt_numbered_cues_with_comma_milliseconds():
    (srt,) = texts(".srt").values()
    blocks = [b.splitlines() for b in srt.strip().split("\n\n")]
    assert [int(b[0]) for b in blocks] == list(range(1, len(blocks) + 1))
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", b[1]) for b in blocks)


def test_docx_bold_speaker_names_and_split_runs():
    (name,) = [n for n in BY_FILE if n.endswith(".docx")]
    paragraphs = [p for p in Document(SAMPLES / name).paragraphs if p.text.strip()]
    for paragraph in paragraphs:
        bold = "".join(r.text for r in paragraph.runs if r.bold)
        assert paragraph.runs[0].bold and bold.endswith(":") and paragraph.text.startswith(bold)
    assert sum(len([r for r in p.runs if not r.bold]) > 1 for p in paragraphs) >= 5  # runs split mid-text
    assert any(len([r for r in p.runs if r.bold]) > 1 for p in paragraphs)  # a name split over runs


def runs_of(document) -> list[list[tuple[str, bool | None]]]:
    return [[(run.text, run.bold) for run in paragraph.runs] for paragraph in document.paragraphs]


def test_make_docx_rebuilds_the_committed_docx(tmp_path):
    spec = importlib.util.spec_from_file_location("make_docx", SAMPLES / "make_docx.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rebuilt = Document(module.build(tmp_path / "rebuilt.docx"))
    committed = Document(module.OUTPUT)
    assert runs_of(rebuilt) == runs_of(committed)


def test_csv_one_row_per_turn():
    (name,) = [n for n in BY_FILE if n.endswith(".csv")]
    with open(SAMPLES / name, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["speaker", "text", "timestamp"]
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d", r["timestamp"]) and r["text"] for r in rows)
    assert all(a["speaker"] != b["speaker"] for a, b in itertools.pairwise(rows))


def test_utf8_with_bom_present():
    assert any((SAMPLES / n).read_bytes().startswith(b"\xef\xbb\xbf") for n in BY_FILE)


def test_windows_encodings_are_not_utf8():
    legacy = []
    for name in BY_FILE:
        if name.endswith(".docx"):
            continue
        data = (SAMPLES / name).read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            legacy.append((name, data))
    utf16 = [n for n, d in legacy if d.startswith(b"\xff\xfe")]
    cp1252 = [n for n, d in legacy if not d.startswith(b"\xff\xfe")]
    assert utf16 and cp1252
    assert "\r\n" in (SAMPLES / utf16[0]).read_bytes().decode("utf-16")
    assert "Zoë" in decode(SAMPLES / cp1252[0]) and "’" in decode(SAMPLES / cp1252[0])


# --- case attributes --------------------------------------------------------------------


def test_case_attributes_five_cases_with_survey_means_in_range():
    rows = read_csv("case_attributes.csv")
    assert list(rows[0])[:4] == ["case", "level", "district", "enrollment"]
    assert {r["case"] for r in rows} == {r["case"] for r in MANIFEST}
    assert len(rows) == 5
    survey = [f"survey_{k}" for k in CONDITION_KEYS]
    assert set(survey) <= set(rows[0])
    for row in rows:
        assert int(row["enrollment"]) > 0
        assert all(1 <= float(row[column]) <= 5 for column in survey), row["case"]
    for column in survey:  # varied across schools, not one number pasted five times
        assert len({row[column] for row in rows}) == 5
    assert len({r["level"] for r in rows}) >= 3 and len({r["district"] for r in rows}) >= 2


# --- demo answer key --------------------------------------------------------------------


def split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def test_key_rows_point_at_turns_with_known_codes():
    assert list(KEY[0]) == ["file", "turn", "codes", "cqr"]
    seen = set()
    for row in KEY:
        name, turn = row["file"], int(row["turn"])
        assert (name, turn) not in seen
        seen.add((name, turn))
        assert name in BY_FILE
        assert set(split(row["codes"])) <= set(CONDITION_KEYS), row
        assert set(split(row["cqr"])) <= set(CQR_CATEGORIES), row
        assert split(row["codes"]) or split(row["cqr"]), row
        if BY_FILE[name]["kind"] != "focus_group":
            assert not split(row["cqr"]), row
        turns = turns_of(name)
        assert 1 <= turn <= len(turns), row
        speaker = turns[turn - 1][0]
        assert speaker_roles(BY_FILE[name]).get(speaker) not in ASKING_ROLES, row  # questions are not coded


def test_key_uses_every_code_and_every_cqr_domain():
    codes = {code for row in KEY for code in split(row["codes"])}
    domains = {CQR_CATEGORIES[c] for row in KEY for c in split(row["cqr"])}
    assert codes == set(CONDITION_KEYS)
    assert domains == set(CQR_DOMAINS)


def test_key_covers_every_file_and_coded_rows_carry_one_or_two_codes():
    assert {row["file"] for row in KEY} == set(BY_FILE)
    coded = [len(split(r["codes"])) for r in KEY if r["codes"]]
    assert sum(1 <= n <= 2 for n in coded) == len(coded)


def test_every_case_touches_every_condition():
    for case in {r["case"] for r in MANIFEST}:
        codes = {c for r in KEY if BY_FILE[r["file"]]["case"] == case for c in split(r["codes"])}
        assert codes == set(CONDITION_KEYS), case


# --- originality ------------------------------------------------------------------------


def test_no_text_taken_from_the_shared_corpora(corpora):
    def shingles(text: str) -> set[tuple[str, ...]]:
        words = re.findall(r"[a-z']+", text.lower())
        return {tuple(words[i : i + 8]) for i in range(len(words) - 7)}

    theirs = shingles((corpora / "qualcoder-focus-group.txt").read_text(encoding="utf-8", errors="replace"))
    for name in BY_FILE:
        assert not shingles(text_of(SAMPLES / name)) & theirs, name
