"""`qualcode transcripts remove` and `reimport`: lead only, one transaction, audited; refused while
coders' work hangs on the segments unless --drop-codings, and the counts named are the rows made here."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlmodel import func, select

from qualcode.cli.main import cli
from qualcode.store.models import (
    AuditEvent,
    Coding,
    Memo,
    QuoteSpan,
    RoundTranscript,
    Segment,
    SegmentStatus,
    Speaker,
    Transcript,
)
from tests.builders import add_coders, build_codebook

# Three labelled turns; the second speaker's label is one --speaker-pattern must find (``>>Bo``).
INTERVIEW = "Interviewer: How do you plan?\n>>Bo We plan on Tuesdays.\nInterviewer: Who leads?\n>>Bo The coach.\n"
OTHER = "Interviewer: A different talk.\nP1: Yes.\n"


@pytest.fixture
def study(any_project, tmp_path):
    """A project with a lead and a coder, ``interview.txt`` imported (2 turns: the ``>>Bo`` lines are
    inside the interviewer's turns), and on its segments: 2 codings (one with a quote span), 1 done
    mark, 1 segment memo; plus 1 memo on the transcript as a whole."""
    add_coders(any_project, "ana", lead="lee")
    codes = build_codebook(any_project)
    file = tmp_path / "interview.txt"
    file.write_text(INTERVIEW, encoding="utf-8")
    target = any_project.target

    def run(*args: str):
        return CliRunner().invoke(cli, [*args, "--project", target])

    assert run("import", str(file), "--case", "Site A", "--as", "lee").exit_code == 0
    with any_project.transaction() as s:
        tid = s.exec(select(Transcript.id)).one()
        seg1, seg2 = s.exec(select(Segment.id).where(Segment.transcript_id == tid).order_by(Segment.position)).all()
        ana = 1  # add_coders adds ana first
        coding = Coding(segment_id=seg1, code_id=codes["SV"], coder_id=ana, quote_start=13, quote_end=29)
        s.add(coding)
        s.add(Coding(segment_id=seg2, code_id=codes["WD"], coder_id=ana))
        s.flush()
        s.add(QuoteSpan(coding_id=coding.id, coder_id=ana, start=13, end=17))
        s.add(SegmentStatus(segment_id=seg1, coder_id=ana))
        s.add(Memo(kind="segment", coder_id=ana, segment_id=seg1, transcript_id=tid, text="on a segment"))
        s.add(Memo(kind="transcript", coder_id=ana, transcript_id=tid, text="on the whole interview"))
        s.add(RoundTranscript(round=2, transcript_id=tid))
    return any_project, run, file, tid


def count(project, model, *where) -> int:
    with project.read() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def events(project, action: str) -> list[AuditEvent]:
    with project.read() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_reimport_refused_while_codings_exist_says_how_many_and_changes_nothing(study):
    project, run, file, tid = study
    result = run("transcripts", "reimport", str(file), "--speaker-pattern", r"^>>(\w+)\s*", "--as", "lee")
    assert result.exit_code == 2
    assert result.output == (
        "error: 'interview' has 2 codings, 1 done mark, 1 memo on its segments: re-importing it would drop them; "
        "give --drop-codings to drop them (nothing was changed)\n"
    )
    assert count(project, Segment, Segment.transcript_id == tid) == 2
    assert count(project, Coding) == 2 and count(project, QuoteSpan) == 1 and count(project, Memo) == 2
    assert events(project, "transcript.reimport") == []


def test_reimport_with_a_pattern_and_drop_codings_replaces_segments_keeps_the_transcript(study):
    project, run, file, tid = study
    assert run("speakers", "set", "interview", "Interviewer", "--pseudonym", "Int", "--as", "lee").exit_code == 0
    pattern = r"^(?:>>)?(?P<speaker>Interviewer|Bo)\b:?\s*"  # finds the >>Bo lines the built-in labels miss
    result = run("transcripts", "reimport", str(file), "--speaker-pattern", pattern, "--drop-codings", "--as", "lee")
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"re-imported {file} -> 'interview' (id {tid}): 4 segments, 2 speakers (were 2 and 1); "
        "the text is unchanged; dropped 2 codings, 1 done mark, 1 memo\n"
    )
    with project.read() as s:
        rows = s.exec(
            select(Segment.start, Segment.end, Speaker.label, Speaker.role, Speaker.pseudonym)
            .join(Speaker, Speaker.id == Segment.speaker_id)
            .where(Segment.transcript_id == tid)
            .order_by(Segment.position)
        ).all()
        transcript = s.get(Transcript, tid)
        assert (transcript.title, transcript.text) == ("interview", INTERVIEW)
    # offsets counted by hand in INTERVIEW; the interviewer keeps the pseudonym the lead gave
    assert rows == [
        (13, 29, "Interviewer", "interviewer", "Int"),
        (35, 55, "Bo", "unknown", None),
        (69, 79, "Interviewer", "interviewer", "Int"),
        (85, 95, "Bo", "unknown", None),
    ]
    assert count(project, Coding) == 0 and count(project, QuoteSpan) == 0 and count(project, SegmentStatus) == 0
    # the memo on the whole transcript and the round that lists it stay; the segment memo went
    assert _memos(project) == ["on the whole interview"]
    assert count(project, RoundTranscript, RoundTranscript.transcript_id == tid) == 1
    (event,) = events(project, "transcript.reimport")
    assert (event.actor, event.entity, event.entity_id) == ("lee", "qc_transcript", tid)
    assert event.before["segments"] == 2 and event.after["segments"] == 4
    assert event.after["dropped"] == {
        "codings": 2,
        "quote_spans": 1,
        "done_marks": 1,
        "memos": 1,
        "consensus": 0,
        "exemplars": 0,
        "proposals_detached": 0,
    }


def _memos(project):
    with project.read() as s:
        return s.exec(select(Memo.text).order_by(Memo.id)).all()


def test_remove_refused_then_dropped_with_everything_on_it_and_audited(study):
    project, run, file, tid = study
    refused = run("transcripts", "remove", "interview", "--as", "lee")
    assert refused.exit_code == 2
    # removing the transcript also removes the memo on the whole transcript: 2 memos
    assert refused.output == (
        "error: 'interview' has 2 codings, 1 done mark, 2 memos on its segments: removing it would drop them; "
        "give --drop-codings to drop them (nothing was changed)\n"
    )
    assert count(project, Transcript) == 1 and events(project, "transcript.remove") == []

    result = run("transcripts", "remove", str(tid), "--drop-codings", "--as", "lee")
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"removed 'interview' (id {tid}): 2 segments, 1 speakers; dropped 2 codings, 1 done mark, 2 memos\n"
    )
    for model in (Transcript, Segment, Speaker, Coding, QuoteSpan, SegmentStatus, Memo, RoundTranscript):
        assert count(project, model) == 0, model
    (event,) = events(project, "transcript.remove")
    assert (event.actor, event.entity_id, event.before["title"]) == ("lee", tid, "interview")
    assert event.before["segments"] == 2
    assert "text" not in event.before
    assert event.after["dropped"]["codings"] == 2 and event.after["dropped"]["quote_spans"] == 1
    # the file can be imported again afterwards (its content hash is free)
    assert run("import", str(file), "--as", "lee").exit_code == 0


def test_remove_and_reimport_are_for_the_lead_only(study):
    project, run, file, _ = study
    for args in (("transcripts", "remove", "interview", "--drop-codings"), ("transcripts", "reimport", str(file))):
        coder = run(*args, "--as", "ana")
        assert coder.exit_code == 2
        assert coder.output.startswith("error: ") and "is for the lead analyst; ana is a coder" in coder.output
        assert coder.output.count("\n") == 1
        nobody = run(*args)
        assert nobody.exit_code == 2 and "say who you are with --as NAME" in nobody.output
    assert count(project, Coding) == 2 and count(project, Transcript) == 1


def test_a_transcript_without_work_is_removed_and_reimported_without_the_flag(study, tmp_path):
    project, run, _, _ = study
    other = tmp_path / "other.txt"
    other.write_text(OTHER, encoding="utf-8")
    assert run("import", str(other), "--as", "lee").exit_code == 0
    other.write_text(OTHER.replace("Yes.", "Yes, we do."), encoding="utf-8")
    result = run("transcripts", "reimport", str(other), "--unit", "paragraph", "--as", "lee")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"re-imported {other} -> 'other' (id ") and result.output.endswith(
        ": 2 segments, 2 speakers (were 2 and 2)\n"
    )
    with project.read() as s:
        row = s.exec(select(Transcript).where(Transcript.title == "other")).one()
        assert row.text.endswith("P1: Yes, we do.\n") and row.unit == "paragraph"
    removed = run("transcripts", "remove", "other", "--as", "lee")
    assert removed.exit_code == 0 and removed.output.endswith(": 2 segments, 2 speakers\n")
    assert count(project, Transcript) == 1


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("interview.txt", "", "{path}: empty file"),
        ("interview.vtt", "WEBVTT\n\n00:00:01.000 -> 00:00:02.000\nA: hi\n", "{path}:3: expected a cue timing"),
        ("unknown.txt", "Interviewer: Never imported.\n", "{path}: no transcript was imported from this file"),
        ("interview.qdpx", "PK", "{path}: a .qdpx project holds several sources: re-import one transcript file"),
    ],
)
def test_bad_or_unknown_files_are_one_line_and_change_nothing(study, tmp_path, name, content, expected):
    project, run, _, _ = study
    path = tmp_path / "bad" / name
    path.parent.mkdir()
    path.write_text(content, encoding="utf-8")
    result = run("transcripts", "reimport", str(path), "--drop-codings", "--as", "lee")
    assert result.exit_code == 2
    assert result.output.startswith("error: " + expected.format(path=path)) and result.output.count("\n") == 1
    assert count(project, Coding) == 2 and events(project, "transcript.reimport") == []


def test_reimport_refuses_a_text_another_transcript_has(study, tmp_path):
    project, run, file, _ = study
    twin = tmp_path / "twin.txt"
    twin.write_text(OTHER, encoding="utf-8")
    assert run("import", str(twin), "--as", "lee").exit_code == 0
    file.write_text(OTHER, encoding="utf-8")
    result = run("transcripts", "reimport", str(file), "--drop-codings", "--as", "lee")
    assert result.exit_code == 2
    assert result.output == f"error: {file}: this text is already imported as 'twin'\n"
    assert count(project, Coding) == 2


def test_a_document_reimported_with_speakers_becomes_an_interview(study, tmp_path):
    project, run, _, _ = study
    odd = tmp_path / "odd.txt"
    odd.write_text("ANA> We plan.\nBO> We meet.\n", encoding="utf-8")
    assert run("import", str(odd), "--as", "lee").exit_code == 0
    with project.read() as s:
        assert s.exec(select(Transcript.kind).where(Transcript.title == "odd")).one() == "document"
    result = run("transcripts", "reimport", str(odd), "--speaker-pattern", r"^(?P<speaker>[A-Z]+)>\s*", "--as", "lee")
    assert result.exit_code == 0, result.output
    assert "note: speakers found: its kind is now interview (it was document)" in result.output
    with project.read() as s:
        assert s.exec(select(Transcript.kind).where(Transcript.title == "odd")).one() == "interview"
    (event,) = events(project, "transcript.reimport")
    assert (event.before["kind"], event.after["kind"]) == ("document", "interview")


def test_code_proposals_on_its_segments_are_kept_untied(study):
    from qualcode.store.models import Codebook, CodeProposal

    project, run, _, tid = study
    with project.transaction() as s:
        seg = s.exec(select(Segment.id).where(Segment.transcript_id == tid, Segment.position == 1)).one()
        codebook = s.exec(select(Codebook.id)).one()
        s.add(CodeProposal(codebook_id=codebook, coder_id=1, segment_id=seg, name="Tuesday meetings"))
    result = run("transcripts", "remove", "interview", "--drop-codings", "--as", "lee")
    assert result.exit_code == 0, result.output
    assert result.output.endswith("; 1 code proposal(s) made on its segments kept, no longer tied to a segment\n")
    with project.read() as s:
        assert s.exec(select(CodeProposal.name, CodeProposal.segment_id)).all() == [("Tuesday meetings", None)]
    (event,) = events(project, "transcript.remove")
    assert event.after["dropped"]["proposals_detached"] == 1
