"""The team server on PostgreSQL: roles and row-level security (`qualcode server ...`)."""

from __future__ import annotations

import click

# The commands this module adds to `qualcode` (see main.py).
COMMANDS: tuple[click.Command, ...] = ()
