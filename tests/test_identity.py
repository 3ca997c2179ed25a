"""Coders bound to an operating-system login: claimed only from that login, in the CLI,
the workbench and notebooks; binding is the lead's job and is audited."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

import qualcode.coding.identity as identity
from qualcode.cli.main import cli
from qualcode.errors import BlindingError, InputError
from qualcode.project import Project
from qualcode.store.models import AuditEvent, Coder

from .builders import add_coders, build_codebook, build_transcript


@pytest.fixture
def login(monkeypatch):
    """Pretend this process runs as the given account."""

    def become(account: str) -> None:
        monkeypatch.setattr(identity, "current_login", lambda: account)

    become("ana-account")
    return become


@pytest.fixture
def team(any_project, login):
    build_transcript(any_project)
    build_codebook(any_project)
    add_coders(any_project, "ana", "ben", lead="lee")
    with any_project.transaction() as s:
        identity.set_login(s, "lee", "ana", "ana-account")
    return any_project


def run(project, *args: str):
    return CliRunner().invoke(cli, [*args, "--project", project.target])


def test_a_bound_coder_is_claimed_only_from_their_login(team, login):
    with team.read() as s:
        identity.check_identity(s, "ana")  # from ana's own account
        identity.check_identity(s, "ben")  # not bound: as before, a declaration
        identity.check_identity(s, "nobody-by-that-name")  # unknown names are the command's to report
    login("ben-account")
    with (
        team.read() as s,
        pytest.raises(
            BlindingError, match="ana is bound to the login 'ana-account'; this session runs as 'ben-account'"
        ),
    ):
        identity.check_identity(s, "ana")


def test_the_cli_refuses_as_a_bound_coder_from_another_login(team, login):
    assert run(team, "--as", "ana", "status").exit_code == 0
    login("ben-account")
    for args in (
        ("--as", "ana", "status"),
        ("status", "--as", "ana"),
        ("agreement", "--as", "ana"),
        ("codings", "export", "--as", "ana"),
        ("frequencies", "--as", "ana"),
    ):
        refused = run(team, *args)
        assert refused.exit_code == 2, (args, refused.output)
        assert refused.stderr == "error: ana is bound to the login 'ana-account'; this session runs as 'ben-account'\n"


def test_the_lead_can_be_bound_too_so_nobody_else_reads_every_code(team, login):
    login("lee-account")
    with team.transaction() as s:
        identity.set_login(s, "lee", "lee", "lee-account")
    assert run(team, "--as", "lee", "agreement").exit_code == 0
    login("ben-account")
    refused = run(team, "--as", "lee", "agreement")
    assert refused.exit_code == 2 and "lee is bound to the login 'lee-account'" in refused.stderr


def test_workbench_and_notebook_refuse_too(team, login, tmp_path):
    from qualcode.tui.app import create_app
    from qualcode.tui.settings import Settings

    create_app(team, "ana", settings=Settings())  # ana's own account: opens
    login("ben-account")
    with pytest.raises(BlindingError, match="ana is bound"):
        create_app(team, "ana", settings=Settings())
    with pytest.raises(BlindingError, match="ana is bound"):
        Project(team.target, user="ana")
    refused = run(team, "code", "--coder", "ana")
    assert refused.exit_code == 2 and "ana is bound" in refused.stderr


def test_binding_is_the_leads_audited_job_and_cannot_lock_the_lead_out(team, login):
    refused = run(team, "coders", "set-login", "ben", "ben-account", "--as", "ben")
    assert refused.exit_code == 2 and "binding a coder to a login is for the lead analyst" in refused.stderr
    done = run(team, "coders", "set-login", "ben", "ben-account", "--as", "lee")
    assert done.exit_code == 0 and done.output == "ben is bound to the login ben-account\n"
    listing = run(team, "coders", "list", "--format", "csv").output.splitlines()
    assert listing[0] == "name,role,login,added" and listing[1].startswith("ana,coder,ana-account,")
    assert listing[2].startswith("ben,coder,ben-account,")
    locked = run(team, "coders", "set-login", "lee", "someone-else", "--as", "lee")
    assert locked.exit_code == 2 and "would lock you out" in locked.stderr
    unbound = run(team, "coders", "set-login", "ben", "--as", "lee")
    assert unbound.exit_code == 0 and unbound.output == "ben is not bound to a login\n"
    with team.read() as s:
        events = [
            (e.actor, e.before["login"], e.after["login"])
            for e in s.exec(
                select(AuditEvent).where(AuditEvent.action == "coder.set_login").order_by(AuditEvent.id)
            ).scalars()
        ]
    assert events == [("lee", None, "ana-account"), ("lee", None, "ben-account"), ("lee", "ben-account", None)]


def test_add_with_a_login_and_bad_login_names(any_project, login):
    added = run(any_project, "coders", "add", "ana", "--login", "ana-account")
    assert added.exit_code == 0 and added.output == "added coder ana (login ana-account)\n"
    with any_project.transaction() as s, pytest.raises(InputError, match="not a login name"):
        identity.set_login(s, None, "ana", "two words")


def test_a_version_3_project_gains_the_login_column(project_path):
    import sqlite3

    from qualcode.store.migrations import SCHEMA_VERSION

    Project(project_path, create=True).close()
    con = sqlite3.connect(project_path)
    con.execute("ALTER TABLE qc_coder DROP COLUMN login")
    con.execute("UPDATE qc_meta SET value = '3' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with Project(project_path) as p:
        assert p.schema_version() == SCHEMA_VERSION
    assert (project_path.parent / "study.db.v3.bak").exists()
    assert "login" in {r[1] for r in sqlite3.connect(project_path).execute("PRAGMA table_info(qc_coder)")}


def test_init_checks_the_lead_against_the_project_it_opens(team, login, tmp_path, monkeypatch):
    """`init PATH --lead X --as LEE` acts on PATH, so --as is checked there (not on --project)."""
    with team.transaction() as s:
        identity.set_login(s, "lee", "lee", "ana-account")  # this process is ana-account for now
    login("mallory-account")
    monkeypatch.chdir(tmp_path)  # no ./qualcode.db here: the default project cannot vouch for anyone
    refused = CliRunner().invoke(cli, ["init", team.target, "--lead", "mallory", "--as", "lee"])
    assert refused.exit_code == 2 and "lee is bound to the login 'ana-account'" in refused.stderr
    with team.read() as s:
        assert "mallory" not in [c.name for c in s.exec(select(Coder)).scalars()]


def test_add_with_a_login_is_one_step(any_project, login):
    first = run(any_project, "coders", "add", "lee", "--role", "lead", "--login", "lee-account")
    assert first.exit_code == 0 and first.output == "added lead lee (login lee-account)\n"
    login("lee-account")
    bad = run(any_project, "coders", "add", "ana", "--login", "a b", "--as", "lee")
    assert bad.exit_code == 2 and "'a b' is not a login name" in bad.stderr
    with any_project.read() as s:
        assert [(c.name, c.login) for c in s.exec(select(Coder)).scalars()] == [("lee", "lee-account")]


def test_a_notebook_cannot_switch_to_a_bound_coder_after_opening(team, login):
    with Project(team.target) as project:
        project.user = "ana"  # ana's own account
        login("ben-account")
        with pytest.raises(BlindingError, match="ana is bound"):
            project.user = "ana"
        assert project.user == "ana"  # unchanged by the refused switch


def test_init_elsewhere_is_not_judged_by_the_default_project(team, login, tmp_path, monkeypatch):
    """$QUALCODE_PROJECT binds ana to another login; `init other.db --as ana` acts on other.db only,
    and checking --as never upgrades a project."""
    login("ben-account")
    monkeypatch.setenv("QUALCODE_PROJECT", team.target)
    fresh = tmp_path / "other.db"
    made = CliRunner().invoke(cli, ["init", str(fresh), "--as", "ana"])
    assert made.exit_code == 0, made.output
    assert CliRunner().invoke(cli, ["status", "--as", "ana"]).exit_code == 2  # the default project still says no


def test_checking_as_never_upgrades_an_old_project(project_path, login):
    import sqlite3

    from qualcode.cli.common import verify_viewer

    Project(project_path, create=True).close()
    con = sqlite3.connect(project_path)
    con.execute("ALTER TABLE qc_coder DROP COLUMN login")
    con.execute("UPDATE qc_meta SET value = '3' WHERE key = 'schema_version'")
    con.commit()
    verify_viewer(str(project_path), "ana")
    assert con.execute("SELECT value FROM qc_meta WHERE key = 'schema_version'").fetchone() == ("3",)
    assert not (project_path.parent / "study.db.v3.bak").exists()
