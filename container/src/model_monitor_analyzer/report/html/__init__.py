"""report.html: one self-contained page per monitoring window and per baseline, and the history page."""
