"""Shared material is the lead's in the core too, not only in the CLI (issue 12): a notebook that
calls the import, speaker or case-attribute functions as a coder is refused and nothing changes."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from qualcode.errors import BlindingError
from qualcode.ingest.attributes import AttributeValue, store_case_attributes
from qualcode.ingest.catalog import set_speaker
from qualcode.ingest.importer import ImportOptions, import_paths
from qualcode.store.models import AuditEvent, CaseAttribute, Speaker, Transcript
from tests.builders import add_coders


def _transcript(folder):
    folder.mkdir()
    (folder / "one.txt").write_text("Interviewer: How do you plan?\nTeacher: Together.\n", encoding="utf-8")
    return folder


def _count(project, model):
    with project.read() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_a_coder_cannot_import_set_speakers_or_case_data_through_the_core(project, tmp_path):
    folder = _transcript(tmp_path / "in")
    assert import_paths(project, [folder], ImportOptions(case="Adams"))[0].status == "imported"  # no lead yet
    add_coders(project, "ana", lead="lee")
    events = _count(project, AuditEvent)
    (tmp_path / "in" / "two.txt").write_text("Interviewer: And now?\nTeacher: Still.\n", encoding="utf-8")
    for actor in ("ana", None):
        with pytest.raises(BlindingError, match="importing transcripts is for the lead analyst"):
            import_paths(project, [folder], ImportOptions(case="Adams", actor=actor))
    with project.transaction() as s, pytest.raises(BlindingError, match="speakers' roles"):
        set_speaker(s, "one", "Teacher", role="coach", actor="ana")
    value = AttributeValue(case="Adams", name="level", value="elementary", type="text", number=None, line=2)
    with project.transaction() as s, pytest.raises(BlindingError, match="case attributes"):
        store_case_attributes(s, tmp_path / "a.csv", [value], "ana")
    assert _count(project, Transcript) == 1 and _count(project, CaseAttribute) == 0
    with project.read() as s:
        assert {sp.role for sp in s.exec(select(Speaker)).all()} == {"interviewer", "teacher"}
    assert _count(project, AuditEvent) == events
    # The lead may.
    assert import_paths(project, [folder], ImportOptions(case="Adams", actor="lee"))[1].status == "imported"
    with project.transaction() as s:
        assert set_speaker(s, "one", "Teacher", role="coach", actor="lee").role == "coach"
        assert store_case_attributes(s, tmp_path / "a.csv", [value], "lee") == (1, 1)
