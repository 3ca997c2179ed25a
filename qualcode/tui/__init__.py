"""The Textual workbench (a thin layer over the headless core).

Textual paints at most ``TEXTUAL_FPS`` frames a second (60 by default), so a key can wait up
to a frame for its repaint. The workbench asks for 120: it still paints only what changed,
but a move or a code shows up sooner. Set TEXTUAL_FPS yourself to choose otherwise.
This must run before Textual is first imported, which is why it lives here.
"""

import os

os.environ.setdefault("TEXTUAL_FPS", "120")
