"""The workbench in a browser (`qualcode serve`), backups and restores (`qualcode backup`, `qualcode restore`)."""

from __future__ import annotations

import ipaddress
import os
from typing import TYPE_CHECKING

import click

from ..errors import QualcodeError
from ..table import Table
from .common import QualcodeGroup, emit, output_options, pass_project, project_option, say

if TYPE_CHECKING:
    from ..project import Project

# Each browser session is a process of its own (textual-serve starts one per page); it finds the
# project here rather than on its command line, so a URL's password never shows in `ps`.
SERVE_PROJECT_ENV = "QUALCODE_SERVE_PROJECT"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _session_command() -> str:
    import shlex
    import sys

    return f"{shlex.quote(sys.executable)} -m qualcode serve --session"


def _run_session(target: str) -> None:
    from ..tui.app import create_served_app

    create_served_app(os.environ.get(SERVE_PROJECT_ENV) or target).run()


def _absolute(target: str) -> str:
    from pathlib import Path

    from ..store.engine import is_url

    return target if is_url(target) else str(Path(target).expanduser().resolve())


@click.group("serve", cls=QualcodeGroup, invoke_without_command=True)
@project_option
@click.option(
    "--host", default="127.0.0.1", show_default=True, metavar="ADDRESS", help="Address to listen on (keep the default)."
)
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8000, show_default=True, metavar="N", help="Port to listen on."
)
@click.option(
    "--public-url",
    metavar="URL",
    help="The address browsers reach the server at, behind a reverse proxy (e.g. https://qualcode.lab.example).",
)
@click.option("--session", "session", is_flag=True, hidden=True, help="Run one browser session (the server does).")
@click.pass_context
def serve_group(
    ctx: click.Context, project_target: str, host: str, port: int, public_url: str | None, session: bool
) -> None:
    """Serve the workbench to browsers: each session signs in as one coder (see docs/serve.md).

    On a SQLite project a coder signs in with a token from `qualcode serve token issue NAME`; on
    PostgreSQL with their own PostgreSQL password. Listens on 127.0.0.1 unless --host says otherwise.
    """
    if ctx.invoked_subcommand is not None:
        return
    if session:
        _run_session(project_target)
        return
    try:
        from textual_serve.server import Server
    except ImportError:
        raise QualcodeError("textual-serve is not installed (pip install textual-serve)") from None
    from ..coding.access_tokens import active_tokens
    from ..project import Project
    from ..store.engine import is_url
    from ..tui.settings import load_settings

    load_settings()  # a settings file with a mistake is one line here, not a blank page in each browser
    target = _absolute(project_target)
    with Project(target) as project:  # a project that cannot be opened is one line here, not in each browser
        shown = project.shown_target
        if not is_url(target):
            with project.read() as s:
                active = active_tokens(s)
            if not active:
                say("note: no coder has a token yet: `qualcode serve token issue NAME` (run by the lead)", err=True)
    if not is_loopback(host):
        say(
            f"warning: listening on {host}, not 127.0.0.1: anyone who can reach this address gets the sign-in page "
            "over plain HTTP (see docs/serve.md: SSH port forwarding or a reverse proxy with TLS)",
            err=True,
        )
    _check_port(host, port)
    if public_url is None and host in ("0.0.0.0", "::"):
        import socket  # the page would send browsers to 0.0.0.0: name this machine instead

        public_url = f"http://{socket.getfqdn()}:{port}"
    os.environ[SERVE_PROJECT_ENV] = target
    server = Server(_session_command(), host=host, port=port, title="qualcode", public_url=public_url)
    say(f"serving {shown} on {public_url or f'http://{host}:{port}'} (ctrl+c stops)", err=True)
    try:
        server.serve()
    except OSError as exc:
        raise QualcodeError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None


def _check_port(host: str, port: int) -> None:
    """A port another program holds is one line before the server starts."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise QualcodeError(f"--host {host}: {exc.strerror or exc}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise QualcodeError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None


@serve_group.group("token", cls=QualcodeGroup)
def token_group() -> None:
    """Browser sign-in tokens for a SQLite project (the lead issues and revokes them)."""


@token_group.command("issue")
@pass_project
@click.argument("coder")
def token_issue(project: Project, coder: str) -> None:
    """Issue CODER a new token, printed once (any earlier one stops working)."""
    from ..coding.access_tokens import issue_token

    with project.transaction() as s:
        token = issue_token(s, project.user, coder, target=project.target)
    say(f"token for {coder} (shown only now; hand it over privately; it replaces any earlier one):", err=True)
    click.echo(token)


@token_group.command("revoke")
@pass_project
@click.argument("coder")
def token_revoke(project: Project, coder: str) -> None:
    """Revoke CODER's token: their browser sign-in stops working."""
    from ..coding.access_tokens import revoke_tokens

    with project.transaction() as s:
        revoke_tokens(s, project.user, coder, target=project.target)
    say(f"revoked {coder}'s token")


@token_group.command("list")
@pass_project
@output_options()
def token_list(project: Project, fmt: str, out: str | None) -> None:
    """Tokens issued so far (never the tokens themselves): coder, who issued it, when, status."""
    from ..coding.access_tokens import list_tokens

    with project.read() as s:
        rows = list_tokens(s, project.user)
    data = [
        {
            "coder": r.coder,
            "issued_by": r.issued_by,
            "issued": r.issued_at.isoformat(timespec="seconds"),
            "status": "revoked" if r.revoked else "active",
        }
        for r in rows
    ]
    table = Table(
        columns=["coder", "issued_by", "issued", "status"],
        rows=[list(d.values()) for d in data],
        title="Browser sign-in tokens",
    )
    emit(table, fmt, out, json_data=data)


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n}"


@click.command("backup")
@project_option
@click.option("--out", "-o", "out", required=True, type=click.Path(dir_okay=False), help="The backup file to write.")
def backup_cmd(project_target: str, out: str) -> None:
    """Back up the project to FILE while coders work (SQLite online backup; pg_dump on PostgreSQL)."""
    from ..store.backup import backup, redacted

    result = backup(project_target, out)
    say(
        f"backed up {redacted(project_target)} to {result.path} "
        f"({result.engine}, schema version {result.schema_version}, {_size(result.size)})"
    )


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("new_target", metavar="NEW_TARGET")
def restore_cmd(file: str, new_target: str) -> None:
    """Restore the backup FILE into NEW_TARGET: a new SQLite file, or the URL of an empty PostgreSQL database."""
    from ..store.backup import restore

    result = restore(file, new_target)
    where = result.target
    if result.schema:
        where += f" (schema {result.schema}: open it with ?options=-csearch_path%3D{result.schema})"
    say(f"restored {file} into {where} ({result.engine}, schema version {result.schema_version})")


# The commands this module adds to `qualcode` (see main.py).
COMMANDS: tuple[click.Command, ...] = (serve_group, backup_cmd, restore_cmd)
