"""Codings CSV import/export: every bad row reported with its line, nothing half-imported."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from qualcode.coding.exchange import export_codings, import_codings
from qualcode.errors import InputError
from qualcode.store.models import Coding, ConsensusDecision, SegmentStatus

sys.path.insert(0, str(Path(__file__).parent))  # the study builder lives beside this file
from test_agreement_report import build_study


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "codings.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_import_marks_transcripts_done_and_export_round_trips(any_project, tmp_path):
    build_study(any_project, {"ann": {}}, {"ann": set()}, segments=3)
    path = write(
        tmp_path,
        "transcript,segment,coder,code,round,start,end\n"
        "Principal interview,1,ann,Shared vision and strategy,,,\n"
        "Principal interview,3,ann,SA,,27,33\n",
    )
    with any_project.transaction() as s:
        assert import_codings(s, path, "lead") == 2
    with any_project.read() as s:
        assert len(s.exec(select(Coding)).scalars().all()) == 2
        assert len(s.exec(select(SegmentStatus)).scalars().all()) == 3  # every segment of the transcript
        text = export_codings(s, "lead")
    assert text.splitlines() == [
        "transcript,segment,coder,code,case,round,start,end",
        "Principal interview,1,ann,Shared vision and strategy,Lincoln Elementary,1,,",
        "Principal interview,3,ann,Supportive administration,Lincoln Elementary,1,27,33",
    ]


def test_every_bad_row_is_reported_and_nothing_is_written(any_project, tmp_path):
    build_study(any_project, {"ann": {}}, {"ann": set()}, segments=3)
    path = write(
        tmp_path,
        "transcript,segment,coder,code\n"
        "Principal interview,1,ann,SV\n"
        "Nowhere,1,ann,SV\n"
        "Principal interview,9,ann,SV\n"
        "Principal interview,2,zed,SV\n"
        "Principal interview,2,ann,Not a code\n",
    )
    with any_project.transaction() as s, pytest.raises(InputError) as err:
        import_codings(s, path, "lead")
    message = str(err.value)
    for line in (3, 4, 5, 6):
        assert f"codings.csv:{line}:" in message
    assert "codings.csv:2:" not in message and "4 bad row(s)" in message
    with any_project.read() as s:
        assert s.exec(select(Coding)).scalars().all() == []


def test_missing_columns_name_the_file(any_project, tmp_path):
    build_study(any_project, {"ann": {}}, {"ann": set()})
    path = write(tmp_path, "transcript,segment,code\nPrincipal interview,1,SV\n")
    with any_project.transaction() as s, pytest.raises(InputError, match=r"codings.csv:1: missing column\(s\): coder"):
        import_codings(s, path, "lead")


def test_consensus_import_goes_to_the_consensus_layer(any_project, tmp_path):
    build_study(any_project, {"ann": {}}, {"ann": set()})
    path = write(tmp_path, "transcript,segment,coder,code\nPrincipal interview,2,,RC\n")
    with any_project.transaction() as s:
        assert import_codings(s, path, "lead", consensus=True) == 1
    with any_project.read() as s:
        row = s.exec(select(ConsensusDecision)).scalars().one()
        assert (row.present, row.method) == (True, "import")
        assert s.exec(select(Coding)).scalars().all() == []


def test_export_respects_blinding(any_project):
    build_study(any_project, {"ann": {1: {"SV"}}, "ben": {1: {"SA"}}}, {"ann": {1}, "ben": {1}})
    with any_project.read() as s:
        assert ",ben," not in export_codings(s, "ann")
        assert ",ben," in export_codings(s, "lead")


def test_codings_commands(project, project_path, tmp_path):
    from qualcode.cli.main import cli

    build_study(project, {"ann": {}}, {"ann": set()})
    bad = write(tmp_path, "transcript,segment,coder,code\nPrincipal interview,99,ann,SV\n")
    result = CliRunner().invoke(cli, ["codings", "import", str(bad), "-p", str(project_path), "--as", "lead"])
    assert result.exit_code == 2 and "codings.csv:2:" in result.output
    good = write(tmp_path, "transcript,segment,coder,code\nPrincipal interview,1,ann,SV\n")
    assert (
        CliRunner().invoke(cli, ["codings", "import", str(good), "-p", str(project_path), "--as", "lead"]).exit_code
        == 0
    )
    out = CliRunner().invoke(cli, ["codings", "export", "-p", str(project_path), "--as", "lead"])
    assert "Principal interview,1,ann,Shared vision and strategy,Lincoln Elementary,1" in out.output


def test_a_case_column_tells_apart_transcripts_of_the_same_title(any_project, tmp_path):
    """Two schools each have a "Principal interview": the case column picks one, and export writes it."""
    from .builders import build_transcript

    build_study(any_project, {"ann": {}}, {"ann": set()}, segments=3)
    build_transcript(any_project, title="Principal interview", case="Hillcrest Middle")
    ambiguous = write(tmp_path, "transcript,segment,coder,code\nPrincipal interview,1,ann,SV\n")
    with (
        any_project.transaction() as s,
        pytest.raises(InputError, match=r"ambiguous transcript .*\(add a case column\)"),
    ):
        import_codings(s, ambiguous, "lead")
    chosen = write(tmp_path, "transcript,case,segment,coder,code\nPrincipal interview,Hillcrest Middle,2,ann,SV\n")
    with any_project.transaction() as s:
        assert import_codings(s, chosen, "lead") == 1
    with any_project.read() as s:
        lines = export_codings(s, "lead").splitlines()
    assert lines[1:] == ["Principal interview,2,ann,Shared vision and strategy,Hillcrest Middle,1,,"]


def coding_count(project) -> int:
    with project.read() as s:
        return len(s.exec(select(Coding)).scalars().all())


def test_a_coder_imports_only_their_own_rows(any_project, tmp_path):
    from qualcode.errors import BlindingError

    build_study(any_project, {"ann": {}, "ben": {}}, {"ann": set(), "ben": set()}, segments=3)
    own = write(tmp_path, "transcript,segment,coder,code\nPrincipal interview,1,ann,SV\n")
    with any_project.transaction() as s:
        assert import_codings(s, own, "ann") == 1
    others = write(
        tmp_path, "transcript,segment,coder,code\nPrincipal interview,1,ann,SA\nPrincipal interview,2,ben,SV\n"
    )
    with (
        any_project.transaction() as s,
        pytest.raises(InputError, match=r"codings.csv:3: a row for coder 'ben'") as err,
    ):
        import_codings(s, others, "ann")
    assert "codings.csv:2:" not in str(err.value)
    with any_project.transaction() as s, pytest.raises(BlindingError, match="--as NAME"):
        import_codings(s, own, "")
    assert coding_count(any_project) == 1  # nothing of the refused files was written
    with any_project.transaction() as s:
        assert import_codings(s, others, "lead") == 2  # the lead imports anyone's rows


def test_codings_import_refuses_other_coders_and_no_identity(project, project_path, tmp_path):
    from qualcode.cli.main import cli

    build_study(project, {"ann": {}, "ben": {}}, {"ann": set(), "ben": set()}, segments=3)
    path = write(tmp_path, "transcript,segment,coder,code\nPrincipal interview,1,ben,SV\n")
    as_ann = CliRunner().invoke(cli, ["codings", "import", str(path), "-p", str(project_path), "--as", "ann"])
    assert as_ann.exit_code == 2 and "a row for coder 'ben'" in as_ann.output
    anonymous = CliRunner().invoke(
        cli, ["codings", "import", str(path), "-p", str(project_path)], env={"QUALCODE_USER": None}
    )
    assert anonymous.exit_code == 2 and "--as NAME" in anonymous.output
    assert coding_count(project) == 0


def test_a_latin1_file_imports_and_a_binary_file_is_one_line_error(any_project, tmp_path):
    from .builders import build_transcript

    build_study(any_project, {"ann": {}}, {"ann": set()}, segments=3)
    build_transcript(any_project, title="Principal interview", case="Escuela Peñalosa")
    path = tmp_path / "codings.csv"
    path.write_bytes(
        "transcript,case,segment,coder,code\nPrincipal interview,Escuela Peñalosa,2,ann,SV\n".encode("latin-1")
    )
    with any_project.transaction() as s:
        assert import_codings(s, path, "lead") == 1
    with any_project.read() as s:
        assert (
            export_codings(s, "lead").splitlines()[1]
            == "Principal interview,2,ann,Shared vision and strategy,Escuela Peñalosa,1,,"
        )
    binary = tmp_path / "codings.xlsx"
    binary.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" * 20)
    with any_project.transaction() as s, pytest.raises(InputError, match=r"codings.xlsx: binary file, not text"):
        import_codings(s, binary, "lead")


def test_codings_import_of_a_binary_file_exits_2_with_one_line(project, project_path, tmp_path):
    from qualcode.cli.main import cli

    build_study(project, {"ann": {}}, {"ann": set()})
    binary = tmp_path / "photo.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10")
    result = CliRunner().invoke(cli, ["codings", "import", str(binary), "-p", str(project_path), "--as", "lead"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: {binary}: binary file, not text"]


def test_export_of_a_hidden_or_unknown_coder_is_an_error(any_project):
    from qualcode.errors import BlindingError, QualcodeError

    build_study(any_project, {"ann": {1: {"SV"}}, "ben": {1: {"SA"}}}, {"ann": {1}, "ben": {1}})
    with any_project.read() as s:
        with pytest.raises(BlindingError, match="blinded"):
            export_codings(s, "ann", layer="ben")
        with pytest.raises(QualcodeError, match="unknown coder 'nobody'"):
            export_codings(s, "lead", layer="nobody")
        assert export_codings(s, "ann", layer="ann").splitlines()[1].startswith("Principal interview,1,ann,")


def test_codings_export_command_errors(project, project_path):
    from qualcode.cli.main import cli

    build_study(project, {"ann": {1: {"SV"}}, "ben": {1: {"SA"}}}, {"ann": {1}, "ben": {1}})
    hidden = CliRunner().invoke(cli, ["codings", "export", "--coder", "ben", "-p", str(project_path), "--as", "ann"])
    assert hidden.exit_code == 2 and "blinded" in hidden.output
    unknown = CliRunner().invoke(
        cli, ["codings", "export", "--coder", "nobody", "-p", str(project_path), "--as", "lead"]
    )
    assert unknown.exit_code == 2 and "unknown coder 'nobody'" in unknown.output


def test_a_row_with_extra_cells_is_one_line_naming_its_line(any_project, tmp_path):
    build_study(any_project, {"ann": {}}, {"ann": set()}, segments=3)
    path = write(
        tmp_path, "transcript,segment,coder,code\nPrincipal interview,1,ann,SV\nPrincipal interview,2,ann,SV,x,y\n"
    )
    with any_project.transaction() as s, pytest.raises(InputError) as err:
        import_codings(s, path, "lead")
    assert "codings.csv:3: 2 cell(s) more than the 4 columns of the header" in str(err.value)
    assert "\n" not in str(err.value)
    with any_project.read() as s:
        assert s.exec(select(Coding)).scalars().all() == []


def test_export_marks_formula_text_and_import_reads_it_back(any_project, tmp_path):
    from qualcode.store.models import Transcript

    build_study(any_project, {"ann": {}}, {"ann": set()}, segments=3)
    with any_project.transaction() as s:
        s.exec(select(Transcript)).scalars().one().title = "=HYPERLINK(1)"
    path = write(tmp_path, "transcript,segment,coder,code\n'=HYPERLINK(1),2,ann,SV\n")
    with any_project.transaction() as s:
        assert import_codings(s, path, "lead") == 1
    with any_project.read() as s:
        text = export_codings(s, "lead")
    row = text.splitlines()[1]
    assert row.startswith("'=HYPERLINK(1),2,ann,")  # shown as text by a spreadsheet, never run


def test_codings_go_only_into_rounds_that_exist_and_are_open_for_their_transcript(any_project, tmp_path):
    from qualcode.coding.rounds import open_round
    from qualcode.store.models import Transcript

    build_study(any_project, {"ann": {}}, {"ann": set()}, segments=3)
    rows = "transcript,segment,coder,code,round\n"
    bad = write(
        tmp_path,
        rows + "Principal interview,1,ann,SV,0\nPrincipal interview,2,ann,SV,-1\nPrincipal interview,3,ann,SV,2\n",
    )
    with any_project.transaction() as s, pytest.raises(InputError) as err:
        import_codings(s, bad, "ann")
    assert str(err.value) == (
        f"3 bad row(s), nothing imported: {bad}:2: round 0 does not exist (rounds start at 1); "
        f"{bad}:3: round -1 does not exist (rounds start at 1); "
        f"{bad}:4: round 2 was never opened for 'Principal interview'"
    )
    assert coding_count(any_project) == 0
    with any_project.transaction() as s:
        tid = s.exec(select(Transcript.id)).scalar_one()
        open_round(s, "lead", [tid])
    with any_project.transaction() as s:
        assert import_codings(s, write(tmp_path, rows + "Principal interview,3,ann,SV,2\n"), "ann") == 1


def test_a_row_with_an_empty_code_records_finished_with_nothing_to_code(any_project, tmp_path):
    """Issue 15: a coder who found nothing codable in a transcript still finished it: its segments
    are units (coded with nothing) for agreement, and the export writes the row back."""
    build_study(any_project, {"ann": {}, "ben": {}}, {"ann": set(), "ben": set()}, segments=3)
    path = write(
        tmp_path,
        "transcript,segment,coder,code\nPrincipal interview,1,ann,SV\nPrincipal interview,,ben,\n",
    )
    with any_project.transaction() as s:
        assert import_codings(s, path, "lead") == 1  # one coding; ben's row writes done marks only
    with any_project.read() as s:
        done = s.exec(select(SegmentStatus.coder_id, SegmentStatus.segment_id)).all()
        assert len(done) == 6  # both coders finished all three segments
        assert len(s.exec(select(Coding)).scalars().all()) == 1
        text = export_codings(s, "lead")
    assert text.splitlines() == [
        "transcript,segment,coder,code,case,round,start,end",
        "Principal interview,,ben,,Lincoln Elementary,1,,",
        "Principal interview,1,ann,Shared vision and strategy,Lincoln Elementary,1,,",
    ]
    from qualcode.agreement.report import agreement_report

    with any_project.read() as s:
        report = agreement_report(s, viewer="lead")
    assert report.summary.units == 3  # ben's finished transcript counts: three units where ann coded one


def test_an_empty_code_row_is_refused_for_the_consensus_and_with_a_span(any_project, tmp_path):
    build_study(any_project, {"ann": {}}, {"ann": set()}, segments=3)
    consensus = write(tmp_path, "transcript,segment,coder,code\nPrincipal interview,1,,\n")
    with any_project.transaction() as s, pytest.raises(InputError, match=r"codings\.csv:2: a row with an empty code"):
        import_codings(s, consensus, "lead", consensus=True)
    spanned = write(tmp_path, "transcript,segment,coder,code,start,end\nPrincipal interview,1,ann,,0,4\n")
    with any_project.transaction() as s, pytest.raises(InputError, match="takes no start or end"):
        import_codings(s, spanned, "lead")


def test_the_consensus_export_writes_offsets_as_integers_and_nothing_where_no_span(any_project, tmp_path):
    build_study(any_project, {"ann": {}}, {"ann": set()}, segments=3)
    path = write(
        tmp_path,
        "transcript,segment,coder,code,start,end\nPrincipal interview,1,,SV,,\nPrincipal interview,3,,SA,27,33\n",
    )
    with any_project.transaction() as s:
        import_codings(s, path, "lead", consensus=True)
    with any_project.read() as s:
        lines = export_codings(s, "lead", layer="consensus").splitlines()
    assert lines[1:] == [
        "Principal interview,1,consensus,Shared vision and strategy,Lincoln Elementary,,,",
        "Principal interview,3,consensus,Supportive administration,Lincoln Elementary,,27,33",
    ]
