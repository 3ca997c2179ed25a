"""What a listing and the workbench's first screen import: only what they use, so that they start
fast (benchmarks/bench_cli.py times them). Each check runs in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

# Never needed to list rows or to show the home screen.
HEAVY = ("pandas", "numpy", "matplotlib", "openpyxl", "docx", "lxml", "sklearn", "spacy", "yaml")

LIST_MODULES = """
import sys
from qualcode.cli.main import cli
try:
    cli({args!r}, prog_name="qualcode")
except SystemExit:
    pass
print("MODULES", " ".join(sorted(sys.modules)))
"""

# What `qualcode code` imports before the app runs (the app module; the home screen is its first screen).
WORKBENCH_MODULES = """
import sys
import qualcode.tui.app
print("MODULES", " ".join(sorted(sys.modules)))
"""


def modules_of(script: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(done.stdout.rpartition("MODULES ")[2].split())


def top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_listing_imports_neither_the_workbench_nor_dataframes(demo_copy):
    modules = modules_of(LIST_MODULES.format(args=["-p", str(demo_copy), "transcripts", "list"]))
    assert "qualcode.ingest.catalog" in modules  # the listing did run
    assert sorted(top_level(modules) & {*HEAVY, "textual", "rich"}) == []
    elsewhere = ("qualcode.tui", "qualcode.agreement", "qualcode.synthesis")
    assert sorted(m for m in modules if m.startswith(elsewhere)) == []


def test_workbench_start_loads_the_home_screen_only():
    modules = modules_of(WORKBENCH_MODULES)
    assert "qualcode.tui.screens.home" in modules
    assert sorted(top_level(modules) & set(HEAVY)) == []
    later = [
        m
        for m in modules
        if m.startswith(("qualcode.tui.screens.", "qualcode.tui.commands", "qualcode.agreement", "qualcode.synthesis"))
        and m != "qualcode.tui.screens.home"
    ]
    assert later == []  # the coding, help, dialog and lead screens and the palette load when first opened
