"""User text is checked once, the same way on both engines: a NUL character or a value longer than
its column is one clear line naming the field (and file:line), and nothing is stored. PostgreSQL
refused both with a driver traceback where SQLite stored them."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import func, select

from qualcode.codebook.changes import add_code, rename_code
from qualcode.codebook.model import CodebookModel, CodeNode, Origin
from qualcode.codebook.persist import store_model
from qualcode.coding.team import add_coder
from qualcode.errors import InputError
from qualcode.ingest.attributes import read_case_attributes, store_case_attributes
from qualcode.ingest.importer import ImportOptions, import_paths
from qualcode.store.models import Case, CaseAttribute, Code, Codebook, Coder, Transcript

from .builders import build_codebook


def count(project, model) -> int:
    with project.read() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_a_transcript_title_longer_than_its_column_fails_on_one_line(any_project, tmp_path):
    write(tmp_path / "a.txt", "P1: hello\n")
    write(tmp_path / "manifest.csv", f"file,case,title\na.txt,North,{'t' * 301}\n")
    [outcome] = import_paths(any_project, [tmp_path])
    assert outcome.status == "failed"
    assert outcome.message == f"{tmp_path / 'a.txt'}: transcript title longer than 300 characters"
    assert count(any_project, Transcript) == 0 and count(any_project, Case) == 0


@pytest.mark.parametrize(
    ("text", "case", "message"),
    [
        ("P1: hello\n", "No\x00rth", "NUL character in case name"),
        (f"{'S' * 201}: hello\n", "North", "speaker label longer than 200 characters"),
        ("P1: hello\n", "c" * 201, "case name longer than 200 characters"),
    ],
)
def test_transcript_text_speakers_and_case_are_checked_before_anything_is_stored(
    any_project, tmp_path, text, case, message
):
    path = write(tmp_path / "a.txt", text)
    options = ImportOptions(case=case, speaker_pattern=r"^(?P<speaker>S+):" if "S" * 201 in text else None)
    [outcome] = import_paths(any_project, [path], options)
    assert (outcome.status, outcome.message) == ("failed", f"{path}: {message}")
    assert count(any_project, Transcript) == 0 and count(any_project, Case) == 0


def test_code_names_and_texts_are_checked_when_loaded_added_and_renamed(any_project):
    model = CodebookModel("Book", codes=[CodeNode("ok"), CodeNode("n" * 301, origin=Origin("book.yaml", 7))])
    with any_project.transaction() as s, pytest.raises(InputError) as caught:
        store_model(s, model, "lead", "book.yaml")
    assert str(caught.value) == "book.yaml:7: code name longer than 300 characters"
    assert count(any_project, Codebook) == 0
    model = CodebookModel("Book", codes=[CodeNode("ok", definition="a\x00b")])
    with any_project.transaction() as s, pytest.raises(InputError, match=r"^book\.yaml: NUL character in code defi"):
        store_model(s, model, "lead", "book.yaml")
    build_codebook(any_project)
    with any_project.transaction() as s:
        codebook = s.exec(select(Codebook)).one()
        code = s.exec(select(Code)).first()
        with pytest.raises(InputError, match=r"^code name longer than 300 characters$"):
            add_code(s, codebook, "lead", "x" * 301)
        with pytest.raises(InputError, match=r"^NUL character in code name$"):
            rename_code(s, codebook, "lead", code, "a\x00b")
        with pytest.raises(InputError, match=r"^NUL character in code brief$"):
            add_code(s, codebook, "lead", "fine", brief="\x00")
    with any_project.read() as s:
        assert all(len(c.name) <= 300 and "\x00" not in c.name for c in s.exec(select(Code)))


@pytest.mark.parametrize(
    ("name", "login", "message"),
    [
        ("c" * 101, None, "coder name longer than 100 characters"),
        ("a\x00b", None, "NUL character in coder name"),
        ("ana", "l" * 101, "login name longer than 100 characters"),
    ],
)
def test_coder_names_and_logins_are_checked(any_project, name, login, message):
    with any_project.transaction() as s, pytest.raises(InputError) as caught:
        add_coder(s, name, "coder", viewer=None, actor="lead", login=login)
    assert str(caught.value) == message
    assert count(any_project, Coder) == 0


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("case,level\n{long},x\n", "attrs.csv:2: case name longer than 200 characters"),
        ("case,{long}\nNorth,x\n", "attrs.csv:2: attribute name longer than 200 characters"),
        ("case,level\nNorth,x\nSouth,a{nul}b\n", "attrs.csv:3: NUL character in attribute 'level'"),
    ],
)
def test_case_names_and_attributes_are_checked_before_the_first_write(any_project, tmp_path, csv, message):
    path = write(tmp_path / "attrs.csv", csv.format(long="z" * 201, nul="<NUL>"))
    # A file holding NUL is refused as binary when read; a caller may still pass one in a value.
    values = [replace(v, value=v.value.replace("<NUL>", "\x00")) for v in read_case_attributes(path)]
    with any_project.transaction() as s, pytest.raises(InputError) as caught:
        store_case_attributes(s, path, values, "lead", create_cases=True)
    assert str(caught.value) == f"{tmp_path / message}"
    assert count(any_project, Case) == 0 and count(any_project, CaseAttribute) == 0
