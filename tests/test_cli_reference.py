"""docs/cli-reference.md is generated from the commands and must match them."""

from __future__ import annotations

from qualcode.cli.main import cli
from qualcode.cli.reference import REGENERATE, markdown

from .conftest import ROOT
from .test_cli_docs import command_paths


def test_the_cli_reference_is_up_to_date():
    checked_in = (ROOT / "docs" / "cli-reference.md").read_text(encoding="utf-8")
    assert checked_in == markdown(cli), f"docs/cli-reference.md is out of date: run `{REGENERATE}`"


def test_the_reference_has_every_command_with_its_options():
    text = markdown(cli)
    for path in command_paths(cli):
        assert f"\n## qualcode {' '.join(path)}\n" in text
    assert "--log-level [debug|info|warning|error]" in text
    assert "Usage: qualcode codings export [OPTIONS]" in text
