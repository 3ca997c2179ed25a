"""The ``qualcode`` command: a thin layer over the headless core.

Every command is declared at module level in a ``*_cmds`` module and added here by name.
Those modules import the core only inside the commands, so ``qualcode --help`` and
``qualcode --version`` start without it.
"""

from __future__ import annotations

import click

from .. import log
from ..version import __version__
from . import (
    agreement_cmds,
    browse_cmds,
    codebook_cmds,
    coding_cmds,
    deid_cmds,
    demo_cmds,
    exchange_cmds,
    merge_cmds,
    project_cmds,
    search_cmds,
    serve_cmds,
    server_cmds,
    settings_cmds,
    suggest_cmds,
    synthesis_cmds,
)
from .common import QualcodeGroup

# Newer command modules each declare their own ``COMMANDS`` tuple, so adding a command touches one file.
MODULE_COMMANDS = (
    settings_cmds,
    exchange_cmds,
    merge_cmds,
    server_cmds,
    serve_cmds,
    search_cmds,
    suggest_cmds,
    deid_cmds,
    browse_cmds,
)

COMMANDS: tuple[click.Command, ...] = (
    project_cmds.init_cmd,
    project_cmds.status_cmd,
    project_cmds.import_cmd,
    project_cmds.coders_group,
    project_cmds.cases_group,
    project_cmds.transcripts_group,
    project_cmds.speakers_group,
    codebook_cmds.codebook_group,
    coding_cmds.code_cmd,
    coding_cmds.unblind_cmd,
    coding_cmds.blind_cmd,
    coding_cmds.rounds_group,
    coding_cmds.codings_group,
    agreement_cmds.agreement_cmd,
    agreement_cmds.reconcile_group,
    synthesis_cmds.table_group,
    synthesis_cmds.matrix_group,
    synthesis_cmds.frequencies_cmd,
    synthesis_cmds.cooccurrence_cmd,
    synthesis_cmds.plot_group,
    demo_cmds.demo_cmd,
    *(command for module in MODULE_COMMANDS for command in module.COMMANDS),
)


@click.group(cls=QualcodeGroup, commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qualcode")
@click.option(
    "--project",
    "-p",
    "project",
    metavar="PATH_OR_URL",
    help="Project for every command (same as each command's --project).",
)
@click.option("--as", "viewer", metavar="NAME", help="Who is asking, for every command (same as each command's --as).")
@click.option(
    "--log-level",
    type=click.Choice(log.LEVELS, case_sensitive=False),
    help="How much goes to the log file besides unexpected errors (or $QUALCODE_LOG_LEVEL; default: warning).",
)
@click.pass_context
def cli(ctx: click.Context, project: str | None, viewer: str | None, log_level: str | None) -> None:
    """qualcode: team qualitative coding, agreement and cross-case synthesis in the terminal.

    Every command takes --project/-p PATH_OR_URL (default ./qualcode.db or $QUALCODE_PROJECT);
    `qualcode -p study.db COMMAND` sets it for the command that follows.
    """
    log.configure(log_level)
    ctx.obj = {"project": project, "viewer": viewer}


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
