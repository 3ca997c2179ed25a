"""The browser workbench's sign-in (``qualcode serve``) without a browser: the Pilot drives the same
app a browser session runs, and the core's tokens, delay and PostgreSQL passwords are checked directly."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, timedelta

import pytest
from sqlmodel import select

from qualcode.coding.access_tokens import (
    SignInDelayed,
    SignInError,
    delay_after,
    hash_token,
    issue_token,
    list_tokens,
    revoke_tokens,
    sign_in,
    token_matches,
    wait_before_try,
)
from qualcode.errors import BlindingError, QualcodeError
from qualcode.store.models import AccessToken, AuditEvent, Coder
from qualcode.tui.app import create_served_app
from qualcode.tui.settings import Settings

from .builders import add_coders, build_codebook, build_transcript
from .tui_builders import TERMINAL_SIZE, home_screen, wait_until
from .tui_builders import anyio_backend as anyio_backend  # the Pilot tests run on asyncio

TITLE = "Lee interview"
SECRET_WORDS = ("Lee interview", "Northside", "Shared vision", "Supportive", "Work design", "principal")


@pytest.fixture
def team(project, project_path):
    """A transcript, a codebook, coders ana and ben and a lead; ana holds a token."""
    build_transcript(project, title=TITLE)
    build_codebook(project)
    add_coders(project, "ana", "ben")
    with project.transaction() as s:
        token = issue_token(s, "lead", "ana", target=str(project_path))
    return project, str(project_path), token


def issue(project, name: str, viewer: str = "lead") -> str:
    with project.transaction() as s:
        return issue_token(s, viewer, name, target=project.target)


def screen_text(app) -> str:
    """The text of everything on the terminal (what a browser would draw), from an SVG screenshot."""
    import html
    import re

    svg = app.export_screenshot()
    body = svg[svg.index("<g class") :] if "<g class" in svg else svg  # past the embedded style sheet
    return html.unescape(re.sub(r"<[^>]+>", "", body)).replace("\xa0", " ")


# -- tokens ------------------------------------------------------------------------------------------
def test_only_a_salted_hash_of_the_token_is_stored(team):
    project, _target, token = team
    with project.read() as s:
        stored = s.exec(select(AccessToken.token_hash)).one()
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "access_token.issue")).all()
    assert token not in stored and stored.startswith("scrypt$16384$8$1$")
    assert token_matches(token, stored) and not token_matches(token + "x", stored)
    assert hash_token(token) != hash_token(token)  # a fresh salt each time
    assert len(events) == 1 and stored not in str(events[0].after) and token not in str(events[0].after)
    assert len(token) >= 32


def test_issuing_again_revokes_the_old_token_and_revoke_stops_sign_in(team):
    project, target, old = team
    new = issue(project, "ana")
    with pytest.raises(SignInError, match="wrong name or secret"):
        sign_in(project, target, "ana", old)
    assert sign_in(project, target, "ana", new).coder == "ana"
    with project.transaction() as s:
        assert revoke_tokens(s, "lead", "ana", target=target) == 1
    with pytest.raises(SignInError):
        sign_in(project, target, "ana", new)
    with project.read() as s:
        rows = list_tokens(s, "lead")
    assert [(r.coder, r.issued_by, r.revoked) for r in rows] == [("ana", "lead", True), ("ana", "lead", True)]


def test_only_the_lead_issues_tokens_and_not_on_postgresql(team):
    project, _target, _ = team
    with pytest.raises(BlindingError, match="for the lead analyst; ana is a coder"):
        issue(project, "ben", viewer="ana")
    with project.transaction() as s, pytest.raises(QualcodeError, match="own PostgreSQL password"):
        issue_token(s, "lead", "ben", target="postgresql://x@127.0.0.1/db")
    with pytest.raises(QualcodeError, match="unknown coder"):
        issue(project, "nobody")


def test_a_token_signs_in_only_its_own_coder(team):
    project, target, token = team
    issue(project, "ben")
    with pytest.raises(SignInError, match=r"^wrong name or secret$"):
        sign_in(project, target, "ben", token)  # ana's token, ben's name
    with pytest.raises(SignInError, match=r"^wrong name or secret$"):
        sign_in(project, target, "nobody", token)  # the same words for an unknown name
    with pytest.raises(SignInError):
        sign_in(project, target, "ana", "")


def test_three_wrong_secrets_in_a_row_make_the_next_try_wait(team):
    project, target, token = team
    assert [delay_after(n) for n in range(7)] == [0, 0, 0, 5, 10, 20, 40]
    assert delay_after(50) == 300
    for _ in range(3):
        with pytest.raises(SignInError, match="wrong name or secret"):
            sign_in(project, target, "ana", "guess")
    with project.read() as s:
        at = s.exec(select(AuditEvent.at).order_by(AuditEvent.id.desc())).first()
    start = (at if at.tzinfo else at.replace(tzinfo=UTC)) + timedelta(seconds=1)  # a second after the third
    with pytest.raises(SignInDelayed, match=r"try again in 4 s"):
        sign_in(project, target, "ana", token, now=lambda: start)  # even the right token waits
    with project.read() as s:
        assert wait_before_try(s, "ana", start) == pytest.approx(4)
        assert wait_before_try(s, "ben", start) == 0  # counted per name
        assert wait_before_try(s, "ana", start + timedelta(seconds=5)) == 0
    later = start + timedelta(seconds=6)
    assert sign_in(project, target, "ana", token, now=lambda: later).coder == "ana"
    with project.read() as s:  # a sign-in starts the count afresh
        assert wait_before_try(s, "ana", later) == 0
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]
    assert actions[-4:] == ["serve.wrong_secret"] * 3 + ["serve.sign_in"], actions


# -- the screen -------------------------------------------------------------------------------------
async def sign_in_with(pilot, name: str, secret: str) -> None:
    app = pilot.app
    app.screen.query_one("#signin-name").value = name
    app.screen.query_one("#signin-secret").value = secret
    app.screen.query_one("#signin-secret").focus()
    await pilot.press("enter")


def served(target: str):
    return create_served_app(target, settings=Settings())


def signin_message(app) -> str:
    return str(app.screen.query_one("#signin-message").render())


@pytest.mark.anyio
async def test_nothing_of_the_project_shows_before_sign_in_nor_after_a_wrong_secret(team):
    from qualcode.tui.screens.signin import SignInScreen

    _project, target, token = team
    app = served(target)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)
        await pilot.press("ctrl+p")  # the palette would list transcripts and codes
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen) and len(app.screen_stack) == 2
        await sign_in_with(pilot, "ana", token[:-1] + ("A" if token[-1] != "A" else "B"))
        await wait_until(pilot, lambda: "wrong name or secret" in signin_message(app))
        assert isinstance(app.screen, SignInScreen)
        shown = screen_text(app)
        assert "sign in" in shown
        assert not any(word in shown for word in SECRET_WORDS)
        assert app.screen.query_one("#signin-secret").value == ""  # the wrong secret is cleared
        assert not hasattr(app, "coder_name")


@pytest.mark.anyio
async def test_the_right_token_opens_the_workbench_as_that_coder_blinded(team):
    from qualcode.coding.service import TranscriptWork

    project, target, token = team
    ben = TranscriptWork(project, "ben", 1)
    ben.toggle(ben.segments[0].id, next(c.id for c in ben.codes if c.hotkey == "3"))  # ben's WD: ana must not see it
    app = served(target)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await pilot.pause()
        await sign_in_with(pilot, " ana ", token)
        home = await home_screen(app, pilot)
        assert app.coder_name == "ana"
        from qualcode.tui.screens.home import DataTable

        columns = [str(c.label) for c in home.query_one(DataTable).ordered_columns]
        assert columns[-1] == "ana" and "ben" not in columns
        assert TITLE in screen_text(app)
        await pilot.press("enter")
        from .tui_builders import coding_screen, settle, transcript_lines

        screen = await coding_screen(app, pilot)
        assert not any(" WD " in line for line in transcript_lines(screen))  # blinding as in the terminal
        await pilot.press("1")
        await settle(app, pilot)
    with project.read() as s:
        actors = [e.actor for e in s.exec(select(AuditEvent).where(AuditEvent.action == "coding.apply")).all()]
    assert actors[-1] == "ana"


@pytest.mark.anyio
async def test_a_token_stands_in_for_a_login_binding(team):
    """A coder bound to another operating-system account signs in from the browser with their token
    (the server runs under the lead's account); without the token the terminal refuses them."""
    from qualcode.tui.app import create_app

    project, target, token = team
    with project.transaction() as s:
        coder = s.exec(select(Coder).where(Coder.name == "ana")).one()
        coder.login = "ana-elsewhere"
        s.add(coder)
    with pytest.raises(BlindingError, match="bound to the login 'ana-elsewhere'"):
        create_app(project, "ana", settings=Settings())
    app = served(target)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await pilot.pause()
        await sign_in_with(pilot, "ana", token)
        await home_screen(app, pilot)
        assert app.coder_name == "ana"


@pytest.mark.anyio
async def test_three_wrong_secrets_then_the_screen_says_to_wait(team):
    _project, target, token = team
    app = served(target)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await pilot.pause()
        for i in range(3):
            await sign_in_with(pilot, "ana", f"guess{i}")
            await wait_until(
                pilot, lambda: "wrong" in signin_message(app) and not app.screen.query_one("#signin-name").disabled
            )
            app.screen.query_one("#signin-message").update("")
        await sign_in_with(pilot, "ana", token)
        await wait_until(pilot, lambda: "try again in" in signin_message(app))
        assert not hasattr(app, "coder_name")


@pytest.mark.anyio
async def test_a_failing_check_is_logged_and_shows_nothing(log_file):
    from qualcode.tui.app import QualcodeApp
    from qualcode.tui.screens.signin import SignInScreen

    def broken(name: str, secret: str):
        raise RuntimeError("the check broke")

    app = QualcodeApp(None, None, settings=Settings(), gate=broken)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await pilot.pause()
        await sign_in_with(pilot, "ana", "x")
        await wait_until(pilot, lambda: "unexpected error" in signin_message(app))
        assert isinstance(app.screen, SignInScreen) and not app.screen.query_one("#signin-name").disabled
    assert "RuntimeError: the check broke" in log_file.read_text()


# -- PostgreSQL: the coder's own password --------------------------------------------------------------
@pytest.mark.postgres
def test_on_postgresql_a_coder_signs_in_with_their_database_password(pg_url):
    import psycopg
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from qualcode.project import Project
    from tests.conftest import PG_URL

    role = f"qc_signin_{uuid.uuid4().hex[:10]}"
    plain = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'right horse battery'")
    try:
        with Project(pg_url, create=True) as project:
            with project.transaction() as s:
                s.add(Coder(name="ana", role="coder", db_role=role))
                s.add(Coder(name="ben", role="coder"))  # no login role: cannot sign in
            signed = sign_in(project, pg_url, "ana", "right horse battery")
            assert signed.coder == "ana"
            url = make_url(signed.target)
            assert url.username == role and url.password == "right horse battery"
            assert url.query == make_url(pg_url).query  # the same schema
            engine = create_engine(signed.target, poolclass=NullPool)
            with engine.connect() as conn:  # the session's own connection is the coder's role
                assert conn.execute(text("SELECT current_user")).scalar() == role
            engine.dispose()
            for name, secret in (("ana", "wrong horse"), ("ana", ""), ("ben", "right horse battery"), ("nobody", "x")):
                with pytest.raises(SignInError, match=r"^wrong name or secret$"):
                    sign_in(project, pg_url, name, secret)
            with project.transaction() as s, pytest.raises(QualcodeError, match="PostgreSQL password"):
                issue_token(s, None, "ana", target=pg_url)
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {role}")


# -- the commands ---------------------------------------------------------------------------------------
def cli_run(*args: str):
    from click.testing import CliRunner

    from qualcode.cli.main import cli

    return CliRunner().invoke(cli, list(args))


def test_token_commands_print_the_token_once_and_never_store_it(team):
    project, target, _ = team
    issued = cli_run("serve", "token", "issue", "ben", "-p", target, "--as", "lead")
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()
    assert len(token) >= 32 and "\n" not in token and "shown only now" in issued.stderr
    assert sign_in(project, target, "ben", token).coder == "ben"
    listed = cli_run("serve", "token", "list", "-p", target, "--as", "lead", "-f", "json")
    assert token not in listed.stdout and "scrypt" not in listed.stdout
    assert [(r["coder"], r["status"]) for r in json.loads(listed.stdout)] == [
        ("ana", "active"),
        ("ben", "active"),
    ]
    refused = cli_run("serve", "token", "revoke", "ben", "-p", target, "--as", "ana")
    assert refused.exit_code == 2 and refused.stderr.startswith("error: revoking browser tokens is for the lead")
    revoked = cli_run("serve", "token", "revoke", "ben", "-p", target, "--as", "lead")
    assert revoked.exit_code == 0 and "revoked ben's token" in revoked.stdout
    with pytest.raises(SignInError):
        sign_in(project, target, "ben", token)


def test_serve_refuses_a_busy_port_in_one_line_and_binds_loopback_by_default(team):
    import socket

    from qualcode.cli.serve_cmds import is_loopback, serve_group

    _project, target, _ = team
    host = next(p for p in serve_group.params if p.name == "host")
    assert host.default == "127.0.0.1"
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("lab-server")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli_run("serve", "-p", target, "--port", str(port))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"error: cannot listen on 127.0.0.1:{port} (Address already in use)"]
    missing = cli_run("serve", "-p", target + ".nothere")
    assert missing.exit_code == 2 and "no project here" in missing.stderr


# -- a team server: the browser session is the coder's own database role -----------------------------
@pytest.fixture
def team_server():
    """A database of its own made a team server (``qualcode server``'s core): coders ana and ben and
    lead lee, each with a login role; ben has coded segment 1. Dropped after, with its roles."""
    import subprocess

    import psycopg
    from sqlalchemy.engine import make_url

    from qualcode.coding.service import TranscriptWork
    from qualcode.project import Project
    from qualcode.store.server import add_login, init_server
    from tests.conftest import PG_URL

    if not PG_URL:
        pytest.skip("QUALCODE_TEST_POSTGRES is not set")
    base = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"qc_serve_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    owner = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        with Project(owner, create=True) as p:
            tid = build_transcript(p, title=TITLE)
            codes = build_codebook(p)
            init_server(p.write_engine)
            urls = {
                n: add_login(p.write_engine, n, r).url for n, r in (("ana", "coder"), ("ben", "coder"), ("lee", "lead"))
            }
        with Project(urls["ben"]) as p:
            ben = TranscriptWork(p, "ben", tid)
            ben.toggle(ben.segments[0].id, codes["WD"])
        yield owner, urls, codes
    finally:
        # DROP DATABASE waits for a checkpoint: the server finishes it (then the roles) after the test.
        drops = ["-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"]
        with psycopg.connect(base, autocommit=True) as conn:
            roles = [r for (r,) in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (f"qc_{name}%",))]
        for role in sorted(roles, key=len, reverse=True):
            drops += ["-c", f'DROP ROLE IF EXISTS "{role}"']
        subprocess.Popen(
            ["psql", base, "-q", *drops], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )


@pytest.mark.postgres
@pytest.mark.anyio
async def test_on_a_team_server_the_browser_session_connects_as_the_coder(team_server):
    from sqlalchemy.engine import make_url

    from qualcode.store.models import Coding

    from .tui_builders import coding_screen, settle, transcript_lines

    owner, urls, codes = team_server
    password = make_url(urls["ana"]).password
    app = served(owner)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await pilot.pause()
        await sign_in_with(pilot, "ana", "not the password")
        await wait_until(pilot, lambda: "wrong name or secret" in signin_message(app))
        await sign_in_with(pilot, "ana", password)
        await home_screen(app, pilot)
        assert make_url(app.project.target).username == make_url(urls["ana"]).username  # ana's own role
        assert app.project.user == "ana"  # as the connection says
        await pilot.press("enter")
        screen = await coding_screen(app, pilot)
        assert not any(" WD " in line for line in transcript_lines(screen))  # ben's code stays hidden
        await pilot.press("1")
        await settle(app, pilot)
    from qualcode.project import Project

    with Project(urls["lee"]) as lead, lead.read() as s:
        rows = s.exec(select(Coding.code_id, Coder.name).join(Coder, Coder.id == Coding.coder_id)).all()
    assert sorted(rows) == sorted([(codes["SV"], "ana"), (codes["WD"], "ben")])
