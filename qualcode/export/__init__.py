"""Table writers (csv, json, md, latex, docx, xlsx, html) and plots."""
