"""The audit trail names the coder bound to this login, never what $USER says (issue 12)."""

from __future__ import annotations

from click.testing import CliRunner
from sqlmodel import select

from qualcode.cli.main import cli
from qualcode.coding.identity import current_login
from qualcode.project import Project
from qualcode.store.models import AuditEvent


def test_without_as_the_actor_is_the_coder_bound_to_this_login(tmp_path, monkeypatch):
    target = str(tmp_path / "study.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["init", target]).exit_code == 0
    assert runner.invoke(cli, ["-p", target, "coders", "add", "ana", "--login", current_login()]).exit_code == 0
    attributes = tmp_path / "attributes.csv"
    attributes.write_text("case,level\nLincoln,elementary\n", encoding="utf-8")
    monkeypatch.setenv("USER", "mallory")
    monkeypatch.setenv("LOGNAME", "mallory")
    monkeypatch.delenv("QUALCODE_USER", raising=False)
    result = runner.invoke(cli, ["-p", target, "cases", "import-attributes", str(attributes), "--create-cases"])
    assert result.exit_code == 0, result.output
    with Project(target) as project, project.read() as s:
        actors = {e.actor for e in s.exec(select(AuditEvent).where(AuditEvent.entity != "qc_coder"))}
    assert actors == {"ana"}
