"""Table writers (csv, json, md, latex, docx, xlsx, html) and plots."""

from .table import Table  # noqa: F401
