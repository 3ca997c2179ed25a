"""Every command of the CLI is documented in docs/, and answers --help."""

from __future__ import annotations

import re

import click
from click.testing import CliRunner

from qualcode.cli.main import cli

from .conftest import ROOT


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # the top-level group loads its commands on demand
        command = group.get_command(ctx, name)
        assert command is not None, name
        path = prefix + (name,)
        paths.append(path)
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, path))
    return paths


def test_every_command_is_documented_and_has_help():
    # The guides, that is: the generated cli-reference.md lists every command by construction.
    guides = [p for p in (ROOT / "docs").glob("*.md") if p.name != "cli-reference.md"]
    docs = "\n".join(p.read_text(encoding="utf-8") for p in guides)
    # `qualcode -p study.db --as lee table cqr` documents `table cqr` too.
    docs = re.sub(r"qualcode((?: (?:-p|--project|--as) \S+)+) ", "qualcode ", docs)
    paths = command_paths(cli)
    assert len(paths) > 30
    undocumented = [" ".join(p) for p in paths if f"qualcode {' '.join(p)}" not in docs]
    assert undocumented == []
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output


def test_every_command_module_s_commands_are_named_in_the_lazy_table():
    """A command defined in a ``*_cmds`` module but missing from ``LAZY_COMMANDS`` would vanish."""
    import importlib
    import pkgutil

    import qualcode.cli as package
    from qualcode.cli.main import LAZY_COMMANDS

    defined = set()
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.endswith("_cmds"):
            module = importlib.import_module(f"qualcode.cli.{info.name}")
            for attribute, value in vars(module).items():
                # top-level commands: not a subcommand of one of the module's groups
                if isinstance(value, click.Command) and value.name is not None and not attribute.startswith("_"):
                    defined.add((info.name, attribute, value.name))
    top = {f"{module}:{attribute}" for module, attribute, _ in defined} & set(LAZY_COMMANDS.values())
    subcommands = {
        sub
        for module, attribute, _ in defined
        if isinstance(value := getattr(importlib.import_module(f"qualcode.cli.{module}"), attribute), click.Group)
        for sub in value.commands.values()
    }
    missing = [
        f"{module}:{attribute}"
        for module, attribute, _ in defined
        if f"{module}:{attribute}" not in top
        and getattr(importlib.import_module(f"qualcode.cli.{module}"), attribute) not in subcommands
    ]
    assert missing == []
    for name, where in LAZY_COMMANDS.items():
        module, attribute = where.split(":")
        assert getattr(importlib.import_module(f"qualcode.cli.{module}"), attribute).name == name
