"""`qualcode --help` and `qualcode --version` start without the core: command modules import it
inside the commands, so listing the commands costs click and nothing heavier."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("sqlalchemy", "sqlmodel", "pandas", "numpy", "textual", "matplotlib", "openpyxl", "docx", "lxml", "yaml")
# The bottom modules every command module may name at import time (no third-party imports of their own).
LIGHT_CORE = {"qualcode", "qualcode.version", "qualcode.errors", "qualcode.table", "qualcode.log"}

SHOW_MODULES = """
import sys
from qualcode.cli.main import cli
try:
    cli({args!r}, prog_name="qualcode")
except SystemExit:
    pass
print("MODULES", " ".join(sorted(sys.modules)))
"""


def modules_after(*args: str) -> tuple[str, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", SHOW_MODULES.format(args=list(args))], capture_output=True, text=True, check=True
    )
    output, _, modules = done.stdout.rpartition("MODULES ")
    return output, set(modules.split())


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("-h",)])
def test_help_and_version_import_no_core(args):
    output, modules = modules_after(*args)
    assert output.strip()
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []
    core = sorted(
        m for m in modules if m.startswith("qualcode") and not m.startswith("qualcode.cli") and m not in LIGHT_CORE
    )
    assert core == []


def test_help_still_lists_every_command_with_its_short_help():
    output, _ = modules_after("--help")
    assert "coders        The people who code: coders, the lead analyst, auditors." in output
    assert "--log-level [debug|info|warning|error]" in output
    assert "transcripts   Imported transcripts." in output
