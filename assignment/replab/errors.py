"""The one base class of the project's expected errors.

A LabError's message is one line that names the file (or config key) and the problem, e.g.
``data/wiki.csv: row 12: embedding has 63 values, expected 64``. `python build.py` prints it as
``error: <message>`` and exits with status 2, with no traceback; a notebook shows it as the error's
last line. Anything else reaching `main` is a bug and keeps its traceback.
"""


class LabError(Exception):
    """An expected failure with a one-line, located message."""
