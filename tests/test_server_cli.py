"""`qualcode server ...` from the command line, and the usual commands over a coder's own connection.

A database of this module's own (dropped after, with its roles). Over a coder's connection the
commands must behave as the application's blinding does on SQLite: the same export as `--as` the
coder on the owner's connection, agreement refused while blinded, `--as` someone else refused.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from qualcode.cli.main import cli
from tests.test_server_rls import Team, psycopg, seed, team_database
from tests.tui_builders import anyio_backend  # noqa: F401  (a fixture: the Pilot test runs on asyncio)

pytestmark = pytest.mark.postgres


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def team() -> Iterator[Team]:
    with team_database("qct_cli") as (owner, _group):
        yield seed(owner)


def one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0]


def test_init_and_add_coder_from_the_command_line():
    with team_database("qct_cli") as (owner, group):
        result = run("server", "init", owner)
        assert result.exit_code == 0, result.output
        assert f"group role {group}" in result.output and "row-level security on 25 tables" in result.output
        again = run("server", "init", owner)  # idempotent
        assert again.exit_code == 0, again.output
        added = CliRunner().invoke(cli, ["server", "add-coder", "alice", "-p", owner])
        assert added.exit_code == 0, added.output
        url = added.stdout.strip()
        assert url.startswith(f"postgresql://{group}_alice:") and url.endswith(owner.rsplit("/", 1)[1])
        assert f"connects as the PostgreSQL role {group}_alice" in added.stderr
        lead = run("server", "add-coder", "lee", "--role", "lead", "-p", owner)
        assert lead.exit_code == 0, lead.output
        # The password is kept nowhere in the project: not in any table the owner can read.
        password = url.split(":", 2)[2].split("@", 1)[0]
        with psycopg.connect(owner) as conn:
            dump = conn.execute(
                "SELECT string_agg(x::text, '') FROM (SELECT * FROM qc_coder) x UNION ALL "
                "SELECT string_agg(a::text, '') FROM qc_audit a"
            ).fetchall()
            verifier = conn.execute(
                "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (f"{group}_alice",)
            ).fetchone()
        assert not any(password in (text or "") for (text,) in dump)
        assert verifier[0].startswith("SCRAM-SHA-256$") and password not in verifier[0]
        one_line_error(run("server", "add-coder", "alice", "-p", owner), "alice connects as", "already")
        one_line_error(run("server", "add-coder", "consensus", "-p", owner), "reserved")
        one_line_error(run("server", "add-coder", "bob", "--db-role", "Bad Name", "-p", owner), "cannot be a role name")
        listing = run("server", "list", "-p", owner, "--format", "csv")
        assert listing.exit_code == 0, listing.output
        assert f"alice,coder,{group}_alice,yes" in listing.output and f"lee,lead,{group}_lee,yes" in listing.output
        # A coder's connection may not manage the server.
        one_line_error(run("server", "add-coder", "mallory", "-p", url), "does not own this project")
        one_line_error(run("server", "init", url), "does not own this project")
        removed = run("server", "remove-coder", "alice", "-p", owner)
        assert removed.exit_code == 0, removed.output
        assert "alice can no longer connect" in removed.output
        one_line_error(run("status", "-p", url), "cannot open project")
        listing = run("server", "list", "-p", owner, "--format", "csv")
        assert "alice,coder,,no" in listing.output
        one_line_error(run("server", "remove-coder", "alice", "-p", owner), "no PostgreSQL role")


def test_server_commands_refuse_a_sqlite_project(tmp_path):
    target = tmp_path / "study.db"
    one_line_error(run("server", "init", str(target)), "give the PostgreSQL URL")
    assert not target.exists()
    assert run("init", str(target)).exit_code == 0
    one_line_error(run("server", "add-coder", "alice", "-p", str(target)), "needs a PostgreSQL project")


def test_a_coders_connection_exports_what_blinding_shows_them(team):
    alice = run("codings", "export", "-p", team.urls["alice"])
    assert alice.exit_code == 0, alice.output
    as_alice = run("codings", "export", "-p", team.owner, "--as", "alice")  # the application's blinding
    assert as_alice.exit_code == 0, as_alice.output
    assert alice.output == as_alice.output
    body = alice.output.strip().splitlines()[1:]
    assert len(body) == 1 and "alice" in body[0]
    lead = run("codings", "export", "-p", team.urls["lee"])
    assert lead.exit_code == 0 and len(lead.output.strip().splitlines()) == 1 + 3


def test_as_someone_else_over_a_coders_connection_is_refused(team):
    for args in (("codings", "export"), ("agreement",), ("status",)):
        result = run(*args, "-p", team.urls["alice"], "--as", "lee")
        one_line_error(result, "this connection is alice's", "cannot act as lee")
    one_line_error(run("--as", "lee", "-p", team.urls["bob"], "codings", "export"), "this connection is bob's")


def test_agreement_is_refused_to_a_coder_while_blinded_and_shown_to_the_lead(team):
    one_line_error(run("agreement", "-p", team.urls["alice"]), "only the lead or an auditor")
    lead = run("agreement", "-p", team.urls["lee"], "--format", "csv")
    assert lead.exit_code == 0, lead.output
    auditor = run("agreement", "-p", team.urls["ada"], "--format", "csv")
    assert auditor.exit_code == 0 and auditor.output == lead.output


def test_a_coder_cannot_unblind_over_their_connection(team):
    one_line_error(run("unblind", "-p", team.urls["alice"]), "for the lead analyst")
    with psycopg.connect(team.owner) as conn:
        assert conn.execute("SELECT value FROM qc_meta WHERE key = 'blinded'").fetchone()[0] == "1"


@pytest.mark.anyio
async def test_the_workbench_codes_over_a_coders_connection(team):
    """The coding screen, unchanged, over alice's own role: a hotkey stores her coding (and only
    hers is shown); pressed again, it is gone."""
    from qualcode.project import Project
    from tests.tui_builders import TERMINAL_SIZE, app_for, coding_screen, settle, transcript_lines

    def alices(segment: int) -> list[int]:
        with psycopg.connect(team.owner) as conn:
            rows = conn.execute(
                "SELECT code_id FROM qc_coding WHERE coder_id = %s AND segment_id = %s", (team.ids["alice"], segment)
            ).fetchall()
        return [code for (code,) in rows]

    with Project(team.urls["alice"]) as project:
        app = app_for(project, project.user, 1)
        async with app.run_test(size=TERMINAL_SIZE) as pilot:
            screen = await coding_screen(app, pilot)
            first = transcript_lines(screen)[screen.view.segment_lines(0)[0]]
            assert " SV " in first and " SA " not in first  # her code on segment 1, not bob's
            seg = screen.work.segments[2]
            await pilot.press("down", "down", "2")
            await settle(app, pilot)
            assert alices(seg.id) == [team.codes["SA"]]
            await pilot.press("2")
            await settle(app, pilot)
            assert alices(seg.id) == []


def test_an_owner_who_is_not_a_superuser_keeps_every_row_and_runs_the_server():
    """The usual deployment: the database belongs to a lab account with CREATEROLE, not a superuser,
    and a superuser may have run `server init` for it: the owner still reads every row (forced
    row-level security has a policy for the tables' owner) and adds coders."""
    from sqlalchemy.engine import make_url

    from qualcode.store.migrations import SCHEMA_VERSION

    with team_database("qct_own") as (admin, group):
        owner_role = f"{group}_owner"  # dropped with the group's roles
        database = admin.rsplit("/", 1)[1]
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE ROLE "{owner_role}" LOGIN CREATEROLE')
            conn.execute(f'ALTER DATABASE "{database}" OWNER TO "{owner_role}"')
        owner = make_url(admin).set(username=owner_role).render_as_string(hide_password=False)
        assert run("init", owner).exit_code == 0  # the owner creates the project
        assert run("server", "init", admin).exit_code == 0  # a superuser secures it
        with psycopg.connect(owner) as conn:
            keys = {k for (k,) in conn.execute("SELECT key FROM qc_meta").fetchall()}
        assert keys == {"schema_version", "blinded", "server.group_role"}
        added = run("server", "add-coder", "ana", "-p", owner)
        assert added.exit_code == 0, added.output
        assert run("server", "init", owner).exit_code == 0  # and may run init again itself
        status = run("status", "-p", added.stdout.strip())
        assert status.exit_code == 0 and f"schema version: {SCHEMA_VERSION}" in status.output
