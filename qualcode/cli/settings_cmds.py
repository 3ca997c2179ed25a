"""Project-wide settings the lead chooses (`qualcode durability`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .common import pass_project

if TYPE_CHECKING:
    from ..project import Project


@click.command("durability")
@click.argument("level", required=False, type=click.Choice(("normal", "full")))
@pass_project
def durability_cmd(project: Project, level: str | None) -> None:
    """Show or set (lead) what a committed write survives on a SQLite project.

    normal (the default): a committed coding survives a crash of any process, not always a power
    cut. full: the journal is flushed to the disk at every commit (slower writes). PostgreSQL's own
    durability is the server's (synchronous_commit); this setting does not change it.
    """
    from ..coding.project_settings import durability, set_durability

    if level is None:
        with project.read() as s:
            click.echo(f"durability: {durability(s)}")
        return
    with project.transaction() as s:
        before, after = set_durability(s, project.user, level)
    click.echo(f"durability: {after} (was {before}); processes already open keep theirs until they reopen the project")


COMMANDS: tuple[click.Command, ...] = (durability_cmd,)
