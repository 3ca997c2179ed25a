"""Code suggestions learned from the team's consensus (`qualcode suggest ...`)."""

from __future__ import annotations

import click

# The commands this module adds to `qualcode` (see main.py).
COMMANDS: tuple[click.Command, ...] = ()
