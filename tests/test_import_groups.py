"""PostgreSQL imports commit transcripts in groups, each transcript still whole or absent."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from qualcode.ingest import writer as writer_module
from qualcode.ingest.importer import ImportOptions, import_paths
from qualcode.store.models import AuditEvent, Segment, Speaker, Transcript


def _files(folder, n):
    for i in range(1, n + 1):
        (folder / f"t{i}.txt").write_text(
            f"Interviewer: How does planning go at school {i}?\nTeacher: We plan on Mondays, week {i}.\n",
            encoding="utf-8",
        )
    return folder


def _counts(project):
    with project.read() as s:
        models = (Transcript, Speaker, Segment, AuditEvent)
        return tuple(s.exec(select(func.count()).select_from(model)).one() for model in models)


@pytest.mark.parametrize("group", [1, 2, 50])
def test_a_failed_transcript_inside_a_group_leaves_nothing_and_the_others_are_stored(
    any_project, tmp_path, monkeypatch, group
):
    monkeypatch.setattr(writer_module, "GROUP_TRANSCRIPTS", group)
    real = writer_module.TranscriptWriter.insert_segments
    calls = []

    def fail_second(self, rows):
        calls.append(len(rows))
        real(self, rows)  # the rows are written, then the transcript fails: its savepoint must undo them
        if len(calls) == 2:
            raise writer_module.sa_exc.IntegrityError("insert", {}, Exception("simulated conflict"))

    monkeypatch.setattr(writer_module.TranscriptWriter, "insert_segments", fail_second)
    (tmp_path / "in").mkdir()
    outcomes = import_paths(any_project, [_files(tmp_path / "in", 3)])
    assert [o.status for o in outcomes] == ["imported", "failed", "imported"]
    # Two transcripts, two speakers and two segments each, one audit event each: the failed one left nothing.
    assert _counts(any_project) == (2, 4, 4, 2)
    with any_project.read() as s:
        assert sorted(s.exec(select(Transcript.title)).all()) == ["t1", "t3"]


def test_an_interrupted_import_keeps_only_whole_committed_groups(any_project, tmp_path, monkeypatch):
    """A kill (here KeyboardInterrupt) mid-group drops that uncommitted group, never half a transcript."""
    monkeypatch.setattr(writer_module, "GROUP_TRANSCRIPTS", 2)
    real = writer_module.TranscriptWriter.record_audit
    calls = []

    def interrupt_third(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real(self, *args, **kwargs)

    monkeypatch.setattr(writer_module.TranscriptWriter, "record_audit", interrupt_third)
    (tmp_path / "in").mkdir()
    with pytest.raises(KeyboardInterrupt):
        import_paths(any_project, [_files(tmp_path / "in", 4)], ImportOptions())
    # PostgreSQL committed the first group of two and dropped the third, never reported; SQLite
    # committed each of the first two on its own. Either way: two whole transcripts, nothing partial.
    assert _counts(any_project) == (2, 4, 4, 2)


def test_postgresql_commits_once_per_group_not_once_per_transcript(any_project, tmp_path, monkeypatch):
    if any_project.write_engine.dialect.name != "postgresql":
        pytest.skip("SQLite commits each transcript (its log flush is cheap)")
    monkeypatch.setattr(writer_module, "GROUP_TRANSCRIPTS", 3)
    commits = []
    real = writer_module.TranscriptWriter._commit_group
    monkeypatch.setattr(writer_module.TranscriptWriter, "_commit_group", lambda self: commits.append(1) or real(self))
    (tmp_path / "in").mkdir()
    assert len(import_paths(any_project, [_files(tmp_path / "in", 7)])) == 7
    assert len(commits) == 3  # 3 + 3 + the last one when the batch ends
    assert _counts(any_project)[0] == 7
