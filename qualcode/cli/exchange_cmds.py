"""REFI-QDA projects in and out: `qualcode import PROJECT.qdpx` (routed here) and `qualcode export qdpx`."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError
from .common import QualcodeGroup, as_option, audit_actor, open_project, project_option


def import_qdpx(
    paths: tuple[Path, ...],
    *,
    unit: str,
    speaker_pattern: str | None,
    refused: dict[str, object],
    viewer: str | None,
    project_target: str,
) -> None:
    """`qualcode import PROJECT.qdpx`: the whole project, with its codings, in one transaction.

    ``refused`` holds the transcript options that do not apply to a project (cases and kinds come
    from the file); any of them given is one line and exit 2."""
    from ..exchange.refi_import import write_refi_project
    from ..exchange.refi_read import read_refi_project

    if len(paths) != 1:
        raise InputError("import a .qdpx project on its own (one file per import)")
    given = [name for name, value in refused.items() if value]
    if given:
        raise InputError(f"{paths[0]}: {', '.join(given)} do not apply to a .qdpx project (it says its own)")
    project_file = read_refi_project(paths[0])  # the file's problems first, before the project is touched
    with open_project(project_target, viewer) as project, project.transaction() as session:
        summary = write_refi_project(
            session,
            project_file,
            viewer=viewer,
            actor=audit_actor(session, viewer),
            unit=unit,
            speaker_pattern=speaker_pattern,
        )
    for line in summary.lines():
        click.echo(line)


@click.group("export", cls=QualcodeGroup)
def export_group() -> None:
    """Export the whole project for another tool (REFI-QDA .qdpx)."""


@export_group.command("qdpx")
@click.option(
    "--out", "-o", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The .qdpx to write."
)
@as_option
@project_option
def export_qdpx(out: Path, viewer: str | None, project_target: str) -> None:
    """Write the project as a REFI-QDA project (.qdpx) for NVivo, ATLAS.ti, MAXQDA, QualCoder, qc.

    Sources as UTF-8 text, the codebook with its Sets, coders as users with their codings (and the
    consensus as a user of its own), memos as notes, cases with their attributes as variables.
    While the project is blinded a coder's export holds only their own codings and memos.
    """
    from ..exchange.refi_export import export_refi_project

    if out.suffix.casefold() != ".qdpx":
        raise InputError(f"{out}: a REFI-QDA project is written as .qdpx (give --out NAME.qdpx)")
    with open_project(project_target, viewer) as project:
        summary = export_refi_project(project, viewer, out)
    for line in summary.lines():
        click.echo(line)


# The commands this module adds to `qualcode` (see main.py).
COMMANDS: tuple[click.Command, ...] = (export_group,)
