"""The CLI reference, written from the commands themselves.

    python -m qualcode.cli.reference > docs/cli-reference.md

Every command's ``--help`` (usage, help text, options) at a fixed width, in command order, so the
file changes only when a command does; ``tests/test_cli_reference.py`` fails when it is stale.
"""

from __future__ import annotations

from collections.abc import Iterator

import click

WIDTH = 100  # help text wrapped at a fixed width, whatever the terminal
REGENERATE = "python -m qualcode.cli.reference > docs/cli-reference.md"

HEADER = f"""# CLI reference

Every `qualcode` command with its options, as `--help` prints them. The guides in this folder say
what the commands are for and show them at work.

Generated from the commands, so do not edit it by hand: after changing a command, run

    {REGENERATE}

(the test suite fails while this file is out of date).
"""


def _contexts(command: click.Command, name: str, parent: click.Context | None = None) -> Iterator[click.Context]:
    """A context for ``command`` and for each of its subcommands, depth first, by name."""
    settings = {**command.context_settings, "terminal_width": WIDTH, "max_content_width": WIDTH}
    ctx = click.Context(command, info_name=name, parent=parent, **settings)
    yield ctx
    if isinstance(command, click.Group):
        for sub_name in command.list_commands(ctx):
            sub = command.get_command(ctx, sub_name)
            if sub is not None and not sub.hidden:
                yield from _contexts(sub, sub_name, ctx)


def markdown(cli: click.Command, prog_name: str = "qualcode") -> str:
    """The reference for ``cli`` as Markdown: a table of contents, then one section per command."""
    contexts = list(_contexts(cli, prog_name))
    toc = [f"- [`{ctx.command_path}`](#{_anchor(ctx.command_path)})" for ctx in contexts]
    sections = [f"## {ctx.command_path}\n\n```\n{ctx.command.get_help(ctx).rstrip()}\n```\n" for ctx in contexts]
    return "\n".join([HEADER, *toc, "", *sections])


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a heading made of words, spaces and hyphens."""
    return heading.lower().replace(" ", "-")


def main() -> None:
    from .main import cli

    click.echo(markdown(cli), nl=False)


if __name__ == "__main__":
    main()
