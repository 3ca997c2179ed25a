"""--pseudonymize: the offset map by hand, and on the demo study every export (tables, matrix quotes,
evidence, the codings CSV; csv, json, md, docx and xlsx) holds no accepted term's original text
anywhere in its bytes (docx and xlsx unzipped), while the same export without the flag does."""

from __future__ import annotations

import csv
import io
import zipfile
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner
from sqlmodel import select

from qualcode.assist.deid import TermRule
from qualcode.assist.pseudonymize import Pseudonymizer, pseudonymize_codings_csv
from qualcode.cli.main import cli
from qualcode.project import Project
from qualcode.store.models import DeidTerm, Transcript
from qualcode.table import Table

# --- the offset map, by hand --------------------------------------------------------------------

RULES = [
    TermRule(1, "Maria Alvarez", "name", "[Teacher A]"),
    TermRule(2, "Alvarez", "name", "[Teacher A]"),
    TermRule(3, "maria@x.org", "email", "[email]"),
    TermRule(4, "Grant", "name", "[Teacher B]"),
]
TEXT = "Call Maria Alvarez at MARIA@x.org. Alvarez's grant, Grant said."
#       0    5             19 22          34 35        45     52


def test_apply_and_offsets_by_hand():
    done = Pseudonymizer(RULES).apply(TEXT)
    assert done.text == "Call [Teacher A] at [email]. [Teacher A]'s grant, [Teacher B] said."
    # "Maria Alvarez" (5-18) became 5-16; the email (22-33) 20-27; "Alvarez" (35-42) 29-40; "Grant" (52-57) 50-61.
    assert [(r.start, r.end, r.new_start, r.new_end) for r in done.replacements] == [
        (5, 18, 5, 16),
        (22, 33, 20, 27),
        (35, 42, 29, 40),
        (52, 57, 50, 61),
    ]
    assert done.span(0, 4) == (0, 4)  # "Call": before any replacement
    assert done.span(19, 21) == (17, 19) and done.text[17:19] == "at"
    assert done.span(5, 18) == (5, 16)  # exactly a term: exactly its pseudonym
    assert done.span(11, 14) == (5, 16)  # inside a term: the whole pseudonym, never half of it
    assert done.span(0, 11) == (0, 16)
    assert done.span(45, 50) == (43, 48) and done.text[43:48] == "grant"  # "grant" is not the name
    assert done.span(58, 63) == (62, 67) and done.text[62:67] == "said."
    assert done.span(len(TEXT), len(TEXT)) == (len(done.text), len(done.text))


def test_table_and_values():
    p = Pseudonymizer(RULES)
    table = Table(
        columns=["Code", "Maria Alvarez"],
        rows=[["SV", "Alvarez said so"], ["SA", 3]],
        title="Cases: Maria Alvarez",
        note="Miscellaneous: Alvarez (1)",
        formats={"Maria Alvarez": ".1f"},
    )
    out = p.table(table)
    assert out.columns == ["Code", "[Teacher A]"]
    assert out.rows == [["SV", "[Teacher A] said so"], ["SA", 3]]
    assert (out.title, out.note, out.formats) == (
        "Cases: [Teacher A]",
        "Miscellaneous: [Teacher A] (1)",
        {"[Teacher A]": ".1f"},
    )
    assert p.value({"Alvarez": ["Grant", 1, None]}) == {"[Teacher A]": ["[Teacher B]", 1, None]}
    assert Pseudonymizer([]).table(table) is table


# --- every export of the demo study --------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_file):
    """The demo study with every roster term, email, phone and date accepted (one scan for the module)."""
    from .conftest import copy_demo

    path = copy_demo(demo_file, tmp_path_factory.mktemp("pseudo"))
    for args in (
        ("deidentify", "scan", "--no-entities"),
        ("deidentify", "accept-all", "--origin", "roster"),
        ("deidentify", "accept-all", "--kind", "date"),
        ("deidentify", "accept-all", "--kind", "email"),
        ("deidentify", "accept-all", "--kind", "phone"),
        ("deidentify", "accept", "Pruitt"),
    ):
        r = CliRunner().invoke(cli, ["--as", "lee", *args, "--project", str(path)], catch_exceptions=False)
        assert r.exit_code == 0, r.output
    return path


def _accepted(path) -> list[str]:
    with Project(path) as project, project.read() as s:
        return [r.text for r in s.exec(select(DeidTerm).where(DeidTerm.decision == "accepted"))]


def _haystacks(data: bytes) -> list[bytes]:
    """The bytes to search: the file, and every member of a docx/xlsx (zip) file."""
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return [z.read(name) for name in z.namelist()]
    return [data]


def _leaks(data: bytes, terms: list[str]) -> list[str]:
    found = []
    for term in terms:
        forms = {term.encode(), escape(term).encode(), escape(term, {"'": "&apos;", '"': "&quot;"}).encode()}
        if any(form in hay for hay in _haystacks(data) for form in forms):
            found.append(term)
    return found


EXPORTS = [
    ("table", "cqr", "--case-unit", "speaker", "-f", "md"),  # the note names single-case speakers
    ("table", "cqr", "--case-unit", "speaker", "--out", "{dir}/cqr.docx"),
    ("table", "cqr", "--evidence", "--out", "{dir}/evidence.xlsx"),
    ("matrix", "--cell", "count,memo,quotes", "--quotes", "4", "--out", "{dir}/matrix.docx"),
    ("matrix", "--cell", "count,memo,quotes", "--rows", "cases", "--out", "{dir}/matrix.xlsx"),
    ("matrix", "--cell", "quotes", "-f", "json"),
    ("matrix", "--evidence", "-f", "csv"),
    ("frequencies", "-f", "csv"),
    ("codings", "export"),
    ("codings", "export", "--coder", "consensus"),
]


def _export(path, tmp_path, args, pseudonymize: bool) -> bytes:
    folder = tmp_path / ("p" if pseudonymize else "plain")
    folder.mkdir(exist_ok=True)
    args = [a.format(dir=folder) for a in args]
    flag = ["--pseudonymize"] if pseudonymize else []
    r = CliRunner().invoke(cli, ["--as", "lee", *args, *flag, "--project", str(path)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    out = next((a for a in args if a.startswith(str(folder))), None)
    return open(out, "rb").read() if out else r.stdout_bytes


@pytest.mark.parametrize("args", EXPORTS, ids=[" ".join(a).replace("{dir}/", "") for a in EXPORTS])
def test_no_accepted_term_in_any_export(demo, tmp_path, args):
    terms = _accepted(demo)
    assert len(terms) > 100
    plain = _export(demo, tmp_path, args, pseudonymize=False)
    assert _leaks(plain, terms), "the export should hold identifiers without --pseudonymize"
    hidden = _export(demo, tmp_path, args, pseudonymize=True)
    assert _leaks(hidden, terms) == []


def test_codings_offsets_follow_the_pseudonymized_text(demo):
    from qualcode.coding.exchange import export_codings

    with Project(demo) as project, project.read() as s:
        p = Pseudonymizer.for_session(s)
        plain = export_codings(s, "lee")
        hidden = pseudonymize_codings_csv(s, plain, p)
        originals = {t.title + "\x00" + str(t.case_id): t.text for t in s.exec(select(Transcript))}
        from qualcode.store.models import Case

        case_ids = {c.name: c.id for c in s.exec(select(Case))}
    rows = list(csv.DictReader(io.StringIO(plain)))
    new_rows = list(csv.DictReader(io.StringIO(hidden)))
    assert len(rows) == len(new_rows) > 1000
    checked = moved = 0
    for old, new in zip(rows, new_rows, strict=True):
        assert (new["segment"], new["coder"], new["round"]) == (old["segment"], old["coder"], old["round"])
        if not old["start"]:
            continue
        text = originals[old["transcript"] + "\x00" + str(case_ids[old["case"]])]
        done = p.apply(text)
        a, b = int(old["start"]), int(old["end"])
        assert (int(new["start"]), int(new["end"])) == done.span(a, b)
        # The quoted words are the same words, pseudonymized (the demo's quotes never cut a name).
        assert done.text[int(new["start"]) : int(new["end"])] == p.text(text[a:b])
        checked += 1
        moved += int(new["start"]) != a
    assert checked > 100 and moved > 50


def test_no_terms_prints_a_note(demo_file, tmp_path):
    from .conftest import copy_demo

    path = copy_demo(demo_file, tmp_path)
    r = CliRunner().invoke(
        cli,
        ["--as", "lee", "frequencies", "-f", "csv", "--pseudonymize", "--project", str(path)],
        catch_exceptions=False,
    )
    assert r.exit_code == 0
    assert "note: no accepted de-identification terms" in r.stderr
