"""REFI-QDA project export (`qualcode export qdpx`)."""

from __future__ import annotations

import click

# The commands this module adds to `qualcode` (see main.py).
COMMANDS: tuple[click.Command, ...] = ()
