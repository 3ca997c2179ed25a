"""The ``qualcode`` command: a thin layer over the headless core.

Each command group lives in its own module and registers itself here.
"""

from __future__ import annotations

import importlib

import click

from .. import __version__
from .common import QualcodeGroup

# Modules that define commands; each exposes ``register(cli)``.
COMMAND_MODULES = (
    "project_cmds",  # init, status, coders, cases, transcripts, speakers, import, demo
    "codebook_cmds",
    "coding_cmds",  # code (TUI), codings import/export, rounds, unblind, memos
    "agreement_cmds",  # agreement, reconcile
    "synthesis_cmds",  # table, matrix, frequencies, cooccurrence, plot
    "demo_cmds",  # demo
)


@click.group(cls=QualcodeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qualcode")
@click.option("--project", "-p", "project", metavar="PATH_OR_URL", help="Project for every command (same as each command's --project).")
@click.option("--as", "viewer", metavar="NAME", help="Who is asking, for every command (same as each command's --as).")
@click.pass_context
def cli(ctx: click.Context, project: str | None, viewer: str | None) -> None:
    """qualcode: team qualitative coding, agreement and cross-case synthesis in the terminal.

    Every command takes --project/-p PATH_OR_URL (default ./qualcode.db or $QUALCODE_PROJECT);
    `qualcode -p study.db COMMAND` sets it for the command that follows.
    """
    ctx.obj = {"project": project, "viewer": viewer}


for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"{__package__}.{_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.{_name}":
            raise
        continue
    _module.register(cli)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
