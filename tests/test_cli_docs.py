"""Every command of the CLI is documented in docs/, and answers --help."""

from __future__ import annotations

import re

import click
from click.testing import CliRunner

from qualcode.cli.main import cli

from .conftest import ROOT


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in group.commands.items():
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
