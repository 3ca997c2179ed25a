"""The ``qualcode`` command: a thin layer over the headless core.

Every command is declared at module level in a ``*_cmds`` module and named here
(``LAZY_COMMANDS``). Those modules import the core only inside the commands, and a module is
imported only when one of its commands runs, so ``qualcode --help``, ``--version`` and a listing
start without the rest.
"""

from __future__ import annotations

import importlib

import click

from .. import log
from ..version import __version__
from .common import QualcodeGroup

# Every command by name, as "module:attribute" in this package. A command's module is imported only
# when that command runs (or --help lists them all), so a listing does not pay for the other
# thirty-odd commands' definitions. A new command is one line here.
LAZY_COMMANDS: dict[str, str] = {
    "init": "project_cmds:init_cmd",
    "status": "project_cmds:status_cmd",
    "import": "project_cmds:import_cmd",
    "coders": "project_cmds:coders_group",
    "cases": "project_cmds:cases_group",
    "transcripts": "project_cmds:transcripts_group",
    "speakers": "project_cmds:speakers_group",
    "codebook": "codebook_cmds:codebook_group",
    "code": "coding_cmds:code_cmd",
    "unblind": "coding_cmds:unblind_cmd",
    "blind": "coding_cmds:blind_cmd",
    "rounds": "coding_cmds:rounds_group",
    "codings": "coding_cmds:codings_group",
    "agreement": "agreement_cmds:agreement_cmd",
    "reconcile": "agreement_cmds:reconcile_group",
    "table": "synthesis_cmds:table_group",
    "matrix": "synthesis_cmds:matrix_group",
    "frequencies": "synthesis_cmds:frequencies_cmd",
    "cooccurrence": "synthesis_cmds:cooccurrence_cmd",
    "plot": "synthesis_cmds:plot_group",
    "demo": "demo_cmds:demo_cmd",
    "durability": "settings_cmds:durability_cmd",
    "export": "exchange_cmds:export_group",
    "handout": "merge_cmds:handout_cmd",
    "merge": "merge_cmds:merge_cmd",
    "server": "server_cmds:server_group",
    "serve": "serve_cmds:serve_group",
    "backup": "serve_cmds:backup_cmd",
    "restore": "serve_cmds:restore_cmd",
    "search": "search_cmds:search_group",
    "suggest": "suggest_cmds:suggest_group",
    "deidentify": "deid_cmds:deidentify_group",
    "retrieve": "browse_cmds:retrieve_cmd",
    "memos": "browse_cmds:memos_group",
    "proposals": "browse_cmds:proposals_group",
}


class LazyGroup(QualcodeGroup):
    """The top-level group: commands from ``LAZY_COMMANDS``, each module imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            module, attribute = LAZY_COMMANDS[cmd_name].split(":")
            command = getattr(importlib.import_module(f"{__package__}.{module}"), attribute)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
