"""Screens of the workbench; each module may register itself in ``qualcode.tui.registry``."""
