"""Codebook changes and coder additions from two processes at once serialize on both engines:
the second waits for the first, then sees its rows (no IntegrityError, no lost version bump)."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from qualcode.codebook import changes
from qualcode.coding.team import add_coder
from qualcode.errors import QualcodeError
from qualcode.project import Project
from qualcode.store.models import Code, Codebook, Coder

from .builders import add_coders, build_codebook


def _race(project: Project, first, second) -> list[BaseException | None]:
    """Run ``first`` in a transaction held open until ``second`` (another transaction) has started
    its change; return each one's exception (None when it committed)."""
    first_done_its_write = threading.Event()
    outcomes: list[BaseException | None] = [None, None]

    def one() -> None:
        try:
            with project.transaction() as s:
                first(s)
                s.flush()
                first_done_its_write.set()
                threading.Event().wait(0.8)  # hold the transaction open while the other starts
        except BaseException as exc:
            outcomes[0] = exc
            first_done_its_write.set()

    def two() -> None:
        first_done_its_write.wait(10)
        try:
            with project.transaction() as s:
                second(s)
        except BaseException as exc:
            outcomes[1] = exc

    threads = [threading.Thread(target=one), threading.Thread(target=two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def test_two_leads_adding_the_same_coder_get_one_coder_and_one_clear_error(any_project):
    add_coders(any_project, lead="lee")

    def add(s):
        add_coder(s, "ana", "coder", viewer="lee", actor="lee")

    first, second = _race(any_project, add, add)
    assert first is None
    assert isinstance(second, QualcodeError) and "already exists" in str(second)
    with any_project.read() as s:
        assert len(s.exec(select(Coder).where(Coder.name == "ana")).all()) == 1


def test_two_codebook_changes_at_once_each_bump_the_version(any_project):
    add_coders(any_project, lead="lee")
    build_codebook(any_project)

    def add_named(name: str):
        def change(s):
            codebook = s.exec(select(Codebook)).one()
            changes.add_code(s, codebook, "lee", name)

        return change

    first, second = _race(any_project, add_named("Trust"), add_named("Time"))
    assert first is None and second is None
    with any_project.read() as s:
        codebook = s.exec(select(Codebook)).one()
        names = set(s.exec(select(Code.name).where(Code.codebook_id == codebook.id)).all())
    assert {"Trust", "Time"} <= names
    assert codebook.version == 3  # 1, then one bump per change: neither bump was lost


@pytest.mark.parametrize("name", ["Trust"])
def test_two_adds_of_one_code_name_are_one_code_and_one_clear_error(any_project, name):
    add_coders(any_project, lead="lee")
    build_codebook(any_project)

    def add(s):
        codebook = s.exec(select(Codebook)).one()
        changes.add_code(s, codebook, "lee", name)

    first, second = _race(any_project, add, add)
    assert first is None
    assert isinstance(second, QualcodeError), repr(second)
