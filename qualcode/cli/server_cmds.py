"""The team server on PostgreSQL: roles and row-level security (`qualcode server ...`)."""

from __future__ import annotations

import click

from ..errors import QualcodeError
from ..table import Table
from .common import CoreChoice, QualcodeGroup, emit, output_options, pass_project, project_option, say


@click.group("server", cls=QualcodeGroup)
def server_group() -> None:
    """A team server on PostgreSQL: each coder connects as their own role, and the database keeps
    blinding (see docs/team.md)."""


@server_group.command("init")
@click.argument("url", metavar="URL")
@click.option("--group", "group", metavar="ROLE", help="Name of the project's group role (default: qc_<database>).")
def server_init(url: str, group: str | None) -> None:
    """Make the PostgreSQL database at URL a team server (run as the database's owner).

    Creates the schema when the database is empty, a group role for the project, and row-level
    security on every table. Running it again re-applies the privileges and policies.
    """
    from ..project import Project
    from ..store.engine import is_url
    from ..store.server import init_server

    if not is_url(url):
        raise QualcodeError(f"{url}: give the PostgreSQL URL of the project's database (postgresql://owner@host/db)")
    with Project(url, create=True) as project:
        setup = init_server(project.write_engine, group=group)
        shown = project.shown_target
    click.echo(f"team server ready: {shown}")
    click.echo(f"group role {setup.group_role}: row-level security on {setup.tables} tables (schema {setup.schema})")
    click.echo(f"next, for each coder: qualcode server add-coder NAME --role coder|lead|auditor -p {shown}")


@server_group.command("add-coder")
@click.argument("name")
@click.option(
    "--role",
    type=CoreChoice("qualcode.store.enums", "CoderRole"),
    default=None,
    help="The coder's role when new (default coder; an existing coder keeps theirs).",
)
@click.option("--db-role", "db_role", metavar="ROLE", help="Name of the login role (default: <group>_<name>).")
@project_option
def server_add_coder(name: str, role: str | None, db_role: str | None, project_target: str) -> None:
    """Give coder NAME a PostgreSQL login role (run as the database's owner).

    Prints, once, the connection URL (alone on standard output) with a new password to hand to
    the coder; the password is kept nowhere (the server stores its SCRAM verifier only). A coder the project has already
    (added with `coders add`, or imported) is bound as they are; a new one is added.
    """
    from ..project import Project
    from ..store.server import add_login

    with Project(project_target) as project:
        login = add_login(project.write_engine, name, role, db_role=db_role)
    say(f"{login.coder} ({login.role}) connects as the PostgreSQL role {login.db_role}", err=True)
    say(f"connection URL for {login.coder} (shown this once; hand it over privately):", err=True)
    click.echo(login.url)


@server_group.command("remove-coder")
@click.argument("name")
@project_option
def server_remove_coder(name: str, project_target: str) -> None:
    """Drop coder NAME's login role (run as the database's owner); their work stays in the project."""
    from ..project import Project
    from ..store.server import remove_login

    with Project(project_target) as project:
        dropped = remove_login(project.write_engine, name)
    say(f"{name} can no longer connect: role {dropped} dropped (their codings, memos and audit events stay)")


@server_group.command("list")
@output_options()
@pass_project(with_as=False)
def server_list(project, fmt: str, out: str | None) -> None:
    """Coders, their roles and the PostgreSQL role each connects as."""
    from ..store.server import group_role, members

    with project.read() as s:
        group = group_role(s)
        rows = [[m.coder, m.role, m.db_role or "", "yes" if m.can_login else "no"] for m in members(s)]
    title = f"Team server (group role {group})" if group else "Coders (not a team server: run `qualcode server init`)"
    emit(Table(["coder", "role", "db role", "can connect"], rows, title=title), fmt, out)


# The commands this module adds to `qualcode` (see main.py).
COMMANDS: tuple[click.Command, ...] = (server_group,)
