"""Merging coders' separate copies (`qualcode merge`) and coders' hand-outs (`qualcode handout`)."""

from __future__ import annotations

import click

# The commands this module adds to `qualcode` (see main.py).
COMMANDS: tuple[click.Command, ...] = ()
