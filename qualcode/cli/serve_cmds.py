"""The workbench in a browser (`qualcode serve`), backups and restores (`qualcode backup`, `qualcode restore`)."""

from __future__ import annotations

import click

# The commands this module adds to `qualcode` (see main.py).
COMMANDS: tuple[click.Command, ...] = ()
