#!/usr/bin/env python3
"""Lab 8 course tooling — the one command.

    python build.py [release] [--variant NAME]... [--data-dir PATH] [--out DIR] [--jobs N]
        Release every variant into dist/: student notebook and files, Gradescope autograder zip,
        executed solution with its CSV and pictures, worksheet PDFs and release.json; verified.
    python build.py calibrate --variant NAME [--data-dir PATH] [--seeds N] [--force]
        Run the reference solution over several seeds and write the variant's separation thresholds
        (with their spread, what was measured and the data's sha256) into assignment/config.yaml;
        data the reference run does not separate is refused unless --force.
    python build.py grade SUBMISSION... --variant NAME [--out DIR] [--jobs N] [--gradescope] [--roster FILE]
        Grade notebooks contained, judged by a separate process: results.json, grades.csv, report.html,
        feedback/<submission>.html.
    python build.py merge DIR... --out DIR [--written-scores FILE] [--roster FILE]
        Join the output folders of `grade --shard I/N` runs into one grades.csv, report.html, written.html.
    python build.py export --to canvas|moodle|csv --out FILE [GRADED] [--roster FILE]
        A graded folder's grades as a file Canvas's or Moodle's gradebook imports (or a plain CSV).
    python build.py validate FILE.csv [--variant NAME]
        The public checks on a Mantis CSV export, with clear messages.

`python build.py COMMAND --help` shows a command's options.
"""
from __future__ import annotations

import importlib
import sys

# command → the package (or module) whose main(argv) runs it
COMMANDS = {
    "release": "autograder.release",
    "calibrate": "autograder.release.calibrate",
    "grade": "autograder.grading",
    "validate": "autograder.grading.validate",
    "merge": "autograder.grading.merge",
    "export": "autograder.grading.export",
}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    command = argv.pop(0) if argv and argv[0] in COMMANDS else "release"
    # Every process's command line is world-readable in /proc. Where student code runs as a user of this
    # machine (user mode: no namespaces) it must not find other submissions' paths there: this process's
    # shows only the command.
    from setproctitle import setproctitle
    setproctitle(f"python build.py {command}")
    from replab.errors import LabError
    try:
        return importlib.import_module(COMMANDS[command]).main(argv)
    except LabError as e:   # expected failures: one located line, no traceback
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
