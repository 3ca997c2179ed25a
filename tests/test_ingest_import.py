"""The importer on both engines: what is stored, duplicates, manifests, attributes, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from qualcode.errors import InputError
from qualcode.ingest.attributes import read_case_attributes, store_case_attributes
from qualcode.ingest.importer import ImportOptions, import_paths, plan_import
from qualcode.store.models import AuditEvent, Case, Segment, Speaker, Transcript

INTERVIEW = (
    "Interview with a coach\n\nInterviewer: How do teams plan?\n\nCoach Reyes: Together, on Tuesdays.\nEvery week.\n"
)


def counts(project) -> dict[str, int]:
    with project.read() as s:
        return {
            m.__name__: s.exec(select(func.count()).select_from(m)).scalar()
            for m in (Case, Transcript, Speaker, Segment)
        }


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_import_stores_text_speakers_and_segments(any_project, tmp_path):
    path = write(tmp_path, "coach.txt", INTERVIEW)
    [outcome] = import_paths(any_project, [path], ImportOptions(case="Lincoln Elementary"))
    assert (outcome.status, outcome.segments, outcome.speakers) == ("imported", 2, 2)
    frame = any_project.segments()
    assert frame["text"].tolist() == ["How do teams plan?", "Together, on Tuesdays.\nEvery week."]
    assert frame["speaker"].tolist() == ["Interviewer", "Coach Reyes"]
    assert frame["role"].tolist() == ["interviewer", "unknown"]
    with any_project.read() as s:
        t = s.exec(select(Transcript)).scalars().one()
        assert t.text == INTERVIEW and t.title == "coach" and t.source_format == "txt"
        assert s.exec(select(AuditEvent.action)).scalars().all() == ["transcript.import"]
    assert counts(any_project) == {"Case": 1, "Transcript": 1, "Speaker": 2, "Segment": 2}


def test_same_content_is_skipped_even_under_another_name(any_project, tmp_path):
    import_paths(any_project, [write(tmp_path, "a.txt", INTERVIEW)])
    [again] = import_paths(any_project, [write(tmp_path, "b.txt", INTERVIEW.replace("\n", "\r\n").encode("utf-16"))])
    assert again.status == "skipped" and "'a'" in again.message
    assert counts(any_project)["Transcript"] == 1


def test_duplicate_title_in_a_case_fails_and_writes_nothing(any_project, tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir(), second.mkdir()
    import_paths(any_project, [write(first, "x.txt", INTERVIEW)], ImportOptions(case="C"))
    before = counts(any_project)
    [outcome] = import_paths(any_project, [write(second, "x.txt", "P1: different words\n")], ImportOptions(case="C"))
    assert outcome.status == "failed" and "x.txt" in outcome.message and "already exists in case 'C'" in outcome.message
    assert counts(any_project) == before


def test_failure_inside_the_transaction_leaves_nothing(any_project, tmp_path, monkeypatch):
    import qualcode.ingest.importer as importer

    def broken(*a, **kw):
        raise InputError("x.txt: broken on purpose")

    monkeypatch.setattr(importer.TranscriptWriter, "record_audit", broken)  # fails after transcript, speakers, segments
    [outcome] = import_paths(any_project, [write(tmp_path, "x.txt", INTERVIEW)], ImportOptions(case="C"))
    assert outcome.status == "failed"
    assert counts(any_project) == {"Case": 0, "Transcript": 0, "Speaker": 0, "Segment": 0}


def test_a_write_that_fails_mid_batch_leaves_the_writer_usable(any_project, tmp_path):
    from qualcode.ingest.writer import TranscriptWriter

    with TranscriptWriter(any_project) as writer:
        with pytest.raises(RuntimeError), writer.transaction():
            writer.case_id("Rolled back")
            raise RuntimeError("interrupted")
        with writer.transaction():
            writer.case_id("Kept")
    with any_project.read() as s:
        assert s.exec(select(Case.name)).scalars().all() == ["Kept"]


def test_folder_uses_folder_name_as_case_and_skips_non_turn_csv(any_project, tmp_path):
    folder = tmp_path / "Hillside Middle"
    folder.mkdir()
    write(folder, "a.txt", INTERVIEW)
    write(folder, "b.csv", "speaker,text\nAna,Hello.\nBo,Hi.\n")
    write(folder, "scores.csv", "case,score\nX,1\n")
    write(folder, "notes.py", "print(1)")
    plan = plan_import([folder], ImportOptions())
    assert [j.path.name for j in plan.jobs] == ["a.txt", "b.csv"]
    assert any("scores.csv" in n for n in plan.notes)
    outcomes = [o for job in plan.jobs for o in importer_run(any_project, job)]
    assert [o.status for o in outcomes] == ["imported", "imported"]
    assert set(any_project.transcripts()["case"]) == {"Hillside Middle"}


def importer_run(project, job):
    from qualcode.ingest.importer import run_job

    return run_job(project, job, ImportOptions())


MANIFEST = (
    "file,title,case,kind,date,speaker_roles\n"
    "coach.txt,Coach interview,Lincoln Elementary,interview,2024-03-05,Interviewer=interviewer; Coach Reyes=coach\n"
    "fg.txt,Teacher focus group,Lincoln Elementary,focus_group,2024-03-06,P1=teacher; P2=teacher\n"
)


def test_manifest_sets_title_case_kind_date_and_roles(any_project, tmp_path):
    write(tmp_path, "coach.txt", INTERVIEW)
    write(tmp_path, "fg.txt", "P1: We share plans.\nP2: Sometimes.\nP1: Mostly.\n")
    write(tmp_path, "manifest.csv", MANIFEST)
    write(tmp_path, "extra.txt", "Z: not listed\n")
    outcomes = import_paths(any_project, [tmp_path])
    assert [o.title for o in outcomes] == ["Coach interview", "Teacher focus group"]
    frame = any_project.transcripts().set_index("title")
    assert frame.loc["Teacher focus group", ["case", "kind", "date", "segments", "speakers"]].tolist() == [
        "Lincoln Elementary",
        "focus_group",
        "2024-03-06",
        3,
        2,
    ]
    roles = dict(zip(any_project.speakers()["label"], any_project.speakers()["role"]))
    assert roles == {"Interviewer": "interviewer", "Coach Reyes": "coach", "P1": "teacher", "P2": "teacher"}


@pytest.mark.parametrize(
    "manifest, message",
    [
        ("file,title\ncoach.txt,x\n", r"manifest\.csv:1: missing column case"),
        ("file,case\nmissing.txt,A\n", r"manifest\.csv:2: listed file missing\.txt does not exist"),
        ("file,case,kind\ncoach.txt,A,seminar\n", r"manifest\.csv:2: unknown kind"),
        ("file,case,date\ncoach.txt,A,05/03/2024\n", r"manifest\.csv:2: date"),
        ("file,case,speaker_roles\ncoach.txt,A,Coach Reyes=wizard\n", r"manifest\.csv:2: unknown speaker role"),
        ("file,case\ncoach.txt,\n", r"manifest\.csv:2: no case"),
    ],
)
def test_bad_manifest_is_refused_before_anything_is_written(any_project, tmp_path, manifest, message):
    write(tmp_path, "coach.txt", INTERVIEW)
    write(tmp_path, "manifest.csv", manifest)
    with pytest.raises(InputError, match=message):
        import_paths(any_project, [tmp_path])
    assert counts(any_project)["Transcript"] == 0


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"\n  \n", "empty file"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ("bad.vtt", b"WEBVTT\n\nnonsense\n", "bad.vtt:3: expected a cue timing"),
        ("bad.srt", b"one\n00:00:01,000 --> 00:00:02,000\nhi\n", "bad.srt:1: expected a subtitle number"),
        ("odd.txt", b"ok\n\x81\x8d\n", "odd.txt:2: undecodable"),
        ("odd.pdf", b"%PDF-1.4", "unsupported file type .pdf"),
    ],
)
def test_bad_files_fail_with_the_file_named(any_project, tmp_path, name, data, message):
    path = write(tmp_path, name, data)
    try:
        outcomes = import_paths(any_project, [path])
    except InputError as exc:
        error = str(exc)
    else:
        [outcome] = outcomes
        assert outcome.status == "failed"
        error = outcome.message
    assert error.startswith(str(path)) and message in error and "\n" not in error
    assert counts(any_project)["Transcript"] == 0


def test_missing_path_and_directory_of_nothing(any_project, tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        import_paths(any_project, [tmp_path / "nope.txt"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no transcript files in this folder"):
        import_paths(any_project, [empty])


def test_units_paragraph_and_sentence(any_project, tmp_path):
    path = write(tmp_path, "p.txt", "Ana: One. Two.\n\nThree.\nBo: Four.\n")
    [_o] = import_paths(any_project, [path], ImportOptions(case="A", unit="sentence"))
    assert any_project.segments()["text"].tolist() == ["One.", "Two.", "Three.", "Four."]
    path2 = write(tmp_path, "q.txt", "Ana: One. Two.\n\nThree.\nBo: Four!\n")
    import_paths(any_project, [path2], ImportOptions(case="A", unit="paragraph"))
    assert any_project.segments("q")["text"].tolist() == ["One. Two.", "Three.", "Four!"]


ATTRS_WIDE = (
    "case,level,district,opened,survey_SV,survey_CE\n"
    "Lincoln,elementary,North,2001-09-01,3.5,4\n"
    "Hillside,middle,North,1998-09-01,2.25,3.1\n"
)


def test_case_attributes_wide_with_inferred_types(any_project, tmp_path):
    path = write(tmp_path, "attrs.csv", ATTRS_WIDE)
    values = read_case_attributes(path)
    with any_project.transaction() as s, pytest.raises(InputError, match=r"attrs\.csv:2: unknown case 'Lincoln'"):
        store_case_attributes(s, path, values, "lead")
    with any_project.transaction() as s:
        assert store_case_attributes(s, path, values, "lead", create_cases=True) == (2, 10)
    frame = any_project.case_attributes()
    row = frame[(frame["case"] == "Hillside") & (frame["name"] == "survey_SV")].iloc[0]
    assert (row["type"], row["number"]) == ("number", 2.25)
    types = dict(zip(frame["name"], frame["type"]))
    assert types == {
        "level": "text",
        "district": "text",
        "opened": "date",
        "survey_SV": "number",
        "survey_CE": "number",
    }


@pytest.mark.parametrize(
    "name,text,message",
    [
        (
            "wide.csv",
            "case,level,survey_SV\nLincoln,elementary,3.5\nHillside,middle,2\nLincoln,middle,4\n",
            r"wide\.csv:4: case 'Lincoln' has a second row \(first at line 2\)",
        ),
        (
            "long.csv",
            "case,attribute,value\nLincoln,level,elementary\nLincoln,survey_SV,3.5\nLincoln,level,middle\n",
            r"long\.csv:4: level of case 'Lincoln' is given again \(first at line 2\)",
        ),
    ],
    ids=["wide", "long"],
)
def test_case_attributes_refuse_a_repeated_case_or_value(tmp_path, name, text, message):
    with pytest.raises(InputError, match=message):
        read_case_attributes(write(tmp_path, name, text))


def test_case_attributes_long_form_and_errors(tmp_path):
    long = write(tmp_path, "long.csv", "case,attribute,value,type\nA,enrollment,420,\nA,code,007,text\n")
    values = {v.name: (v.type, v.value) for v in read_case_attributes(long)}
    assert values == {"enrollment": ("number", "420"), "code": ("text", "007")}
    bad = write(tmp_path, "bad.csv", "case,attribute,value,type\nA,x,abc,number\n")
    with pytest.raises(InputError, match=r"bad\.csv:2: x = 'abc' is not a number"):
        read_case_attributes(bad)
    with pytest.raises(InputError, match=r"nocase\.csv:1: missing column case"):
        read_case_attributes(write(tmp_path, "nocase.csv", "site,x\nA,1\n"))


def test_real_qualcoder_focus_group(any_project, corpora):
    [_o] = import_paths(any_project, [corpora / "qualcoder-focus-group.txt"], ImportOptions(case="QualCoder"))
    frame = any_project.segments()
    # The file has seven turns by [id1], [id2], [id3] (read by eye).
    assert frame["speaker"].tolist() == ["id1", "id2", "id3", "id1", "id3", "id1", "id2"]
    assert frame["text"].iloc[4] == "yes, I am learning a lot as well. It's a good course overall"


def test_real_qdpx_text_sources(any_project, corpora):
    outcomes = import_paths(any_project, [corpora / "qc-demo.qdpx"], ImportOptions(case="Palo Alto"))
    assert sorted(o.title for o in outcomes) == ["admin-1", "board_2017"]
    frame = any_project.segments("admin-1")
    # Rev-style labels: the interviewer, the administrator, and the recording notice.
    assert set(frame["speaker"]) == {"Max Bigman", "admin-1", "Automation"}
    assert frame["text"].iloc[0] == "This call is now being recorded."
    assert frame["text"].iloc[2] == "Sure."


def test_real_nvivo_export_has_only_empty_sources(any_project, corpora):
    [o] = import_paths(any_project, [corpora / "nvivo-export.qdpx"])
    assert o.status == "failed" and o.message.count("empty source") == 2
    assert counts(any_project)["Transcript"] == 0


def test_batch_reports_each_file_in_order_and_a_bad_file_leaves_the_others(any_project, tmp_path):
    write(tmp_path, "a.txt", INTERVIEW)
    write(tmp_path, "b.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    write(tmp_path, "c.txt", "P1: Other words.\nP2: Yes.\n")
    write(tmp_path, "d.txt", INTERVIEW)  # same content as a.txt, in the same batch
    outcomes = import_paths(any_project, [tmp_path], ImportOptions(case="C"))
    assert [(Path(o.source).name, o.status) for o in outcomes] == [
        ("a.txt", "imported"),
        ("b.txt", "failed"),
        ("c.txt", "imported"),
        ("d.txt", "skipped"),
    ]
    assert counts(any_project) == {"Case": 1, "Transcript": 2, "Speaker": 4, "Segment": 4}
    with any_project.read() as s:
        assert s.exec(select(func.count()).select_from(AuditEvent)).scalar() == 2


def test_subtitle_times_are_stored_in_seconds(any_project, tmp_path):
    path = write(
        tmp_path,
        "s.vtt",
        "WEBVTT\n\n00:00:01.500 --> 00:00:04.000\n<v Ana>Hi.</v>\n\n00:01:02.000 --> 00:01:03.250\n<v Bo>Hello.</v>\n",
    )
    [_o] = import_paths(any_project, [path])
    frame = any_project.segments()
    assert frame[["speaker", "text", "time_start", "time_end"]].values.tolist() == [
        ["Ana", "Hi.", 1.5, 4.0],
        ["Bo", "Hello.", 62.0, 63.25],
    ]
