"""Screens of the workbench; ``qualcode.tui.registry.SCREENS`` lists those the app opens by name."""
