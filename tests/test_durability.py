"""`qualcode durability`: what a committed write survives on SQLite, chosen by the lead, audited."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import select

from qualcode.cli.main import cli
from qualcode.project import Project
from qualcode.store.models import AuditEvent
from tests.builders import add_coders


def _synchronous(project: Project) -> int:
    with project.write_engine.connect() as conn:
        return conn.execute(text("PRAGMA synchronous")).scalar()


def test_the_lead_sets_full_durability_and_new_connections_flush_every_commit(project_path):
    project = Project(project_path, create=True)
    add_coders(project, "ana", lead="lee")
    assert _synchronous(project) == 1  # NORMAL: survives a process crash (WAL)
    project.close()
    run = CliRunner().invoke
    assert run(cli, ["-p", str(project_path), "durability"]).output == "durability: normal\n"
    refused = run(cli, ["-p", str(project_path), "--as", "ana", "durability", "full"])
    assert refused.exit_code == 2 and "for the lead analyst" in refused.stderr
    done = run(cli, ["-p", str(project_path), "--as", "lee", "durability", "full"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("durability: full (was normal)")
    with Project(project_path) as reopened:
        assert _synchronous(reopened) == 2  # FULL
        with reopened.read() as s:
            event = s.exec(select(AuditEvent).where(AuditEvent.action == "project.durability")).one()
        assert (event.actor, event.before, event.after) == ("lee", {"durability": "normal"}, {"durability": "full"})
    assert run(cli, ["-p", str(project_path), "--as", "lee", "durability", "normal"]).exit_code == 0
    with Project(project_path) as reopened:
        assert _synchronous(reopened) == 1
