"""The workbench's commands: code (argument checks), unblind/blind, rounds open/list; settings file."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from qualcode.cli.main import cli
from qualcode.errors import InputError
from qualcode.store.models import AuditEvent, Meta, RoundTranscript
from qualcode.tui.settings import load_settings

from .builders import add_coders, build_codebook, build_transcript


@pytest.fixture
def study(project, project_path):
    tid = build_transcript(project)
    other = build_transcript(project, title="Team meeting", case="Westfield Middle")
    build_codebook(project)
    add_coders(project, "ana")
    return project, str(project_path), tid, other


def run(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env or {"QUALCODE_USER": ""}, catch_exceptions=False)


def test_unblind_is_for_the_lead_and_audited(study):
    project, path, _, _ = study
    refused = run("unblind", "-p", path, "--as", "ana")
    assert refused.exit_code == 2 and "lead" in refused.output
    done = run("unblind", "-p", path, "--as", "lead")
    assert done.exit_code == 0, done.output
    with project.read() as s:
        assert s.get(Meta, "blinded").value == "0"
    assert run("blind", "-p", path, "--as", "lead").exit_code == 0
    with project.read() as s:
        assert s.get(Meta, "blinded").value == "1"
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id)).scalars()]
    assert actions == ["project.unblind", "project.blind"]


def test_rounds_open_and_list(study):
    project, path, tid, other = study
    transcripts = ("Lee interview", "Westfield Middle/Team meeting")
    result = run("rounds", "open", *transcripts, "--note", "after reconciliation", "-p", path, "--as", "lead")
    assert result.exit_code == 0, result.output
    assert "round 2 opened for 2 transcripts" in result.output
    with project.read() as s:
        assert sorted((r.round, r.transcript_id) for r in s.exec(select(RoundTranscript)).scalars()) == [
            (2, tid),
            (2, other),
        ]
    listed = run("rounds", "list", "-p", path, "-f", "json")
    data = json.loads(listed.output)
    assert [r["round"] for r in data] == [1, 2]
    assert data[1]["note"] == "after reconciliation" and data[1]["opened_by"] == "lead"
    assert data[1]["transcripts"] == ["Northside Elementary/Lee interview", "Westfield Middle/Team meeting"]


def test_rounds_open_refuses_coders_and_unknown_transcripts(study):
    _, path, _, _ = study
    coder = run("rounds", "open", "Lee interview", "-p", path, "--as", "ana")
    assert coder.exit_code == 2 and coder.output.startswith("error:")
    unknown = run("rounds", "open", "No such talk", "-p", path, "--as", "lead")
    assert unknown.exit_code == 2 and "unknown transcript 'No such talk'" in unknown.output


def test_code_needs_a_known_coder_and_transcript(study):
    _, path, _, _ = study
    nobody = run("code", "-p", path)
    assert nobody.exit_code == 2 and "--coder" in nobody.output
    stranger = run("code", "-p", path, "--coder", "zoe")
    assert stranger.exit_code == 2 and "unknown coder 'zoe'" in stranger.output
    missing = run("code", "-p", path, "--coder", "ana", "--transcript", "Nope")
    assert missing.exit_code == 2 and "unknown transcript" in missing.output


def test_settings_file_is_read_and_checked(tmp_path, monkeypatch):
    path = tmp_path / "settings.toml"
    path.write_text('[keys]\ntoggle_done = "x"\n\n[display]\nside_by_side = true\n', encoding="utf-8")
    monkeypatch.setenv("QUALCODE_SETTINGS", str(path))
    settings = load_settings()
    assert settings.keys == {"toggle_done": "x"} and settings.side_by_side is True
    path.write_text('[keys]\ntoggle_dome = "x"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"settings.toml: \[keys\] toggle_dome: no such binding"):
        load_settings()
    path.write_text("[keys\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"settings\.toml: not valid TOML"):
        load_settings()
    monkeypatch.setenv("QUALCODE_SETTINGS", str(tmp_path / "absent.toml"))
    assert load_settings().keys == {}


def test_top_level_as_names_the_coder(tmp_path, monkeypatch):
    """`qualcode --as ana code` opens the workbench for ana (the app itself is replaced here)."""
    from click.testing import CliRunner

    import qualcode.tui.app as tui_app
    from qualcode.cli.main import cli

    db = str(tmp_path / "s.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["init", db, "--lead", "lee"]).exit_code == 0
    assert runner.invoke(cli, ["-p", db, "--as", "lee", "coders", "add", "ana"]).exit_code == 0
    opened = []

    class FakeApp:
        def __init__(self, coder):
            self.coder = coder

        def run(self):
            opened.append(self.coder)

    monkeypatch.setattr(tui_app, "create_app", lambda project, coder, **kw: FakeApp(coder))
    result = runner.invoke(cli, ["-p", db, "--as", "ana", "code"])
    assert result.exit_code == 0, result.output
    assert opened == ["ana"]
