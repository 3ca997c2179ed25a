"""Corpus search, keyword in context and auto-coding from a search (`qualcode search`)."""

from __future__ import annotations

import click

# The commands this module adds to `qualcode` (see main.py).
COMMANDS: tuple[click.Command, ...] = ()
