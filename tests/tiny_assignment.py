"""Build a tiny otter-grader 7 assignment for the grading-engine tests.

`build(tmp_dir)` writes a two-question master notebook (one public and one hidden
test), runs `otter assign` on it and returns the autograder zip, a solved notebook
(the master with solutions, i.e. what a perfect student hands in) and the blank
student notebook. Small on purpose: one grading takes a few seconds.
"""

import subprocess
import sys
from pathlib import Path

import nbformat

NOTEBOOK_NAME = "tiny.ipynb"

ASSIGNMENT_CONFIG = """\
# ASSIGNMENT CONFIG
name: tiny
init_cell: true
check_all_cell: false
export_cell: false
run_tests: false
generate:
    show_stdout: false
    show_hidden: true
"""


def _question(name, solution_source, public_test, hidden_test):
    """Cells of one auto-graded question: prompt, solution, a public and a hidden test."""
    return [
        nbformat.v4.new_raw_cell(f"# BEGIN QUESTION\nname: {name}\npoints: 1"),
        nbformat.v4.new_markdown_cell(f"**{name}.** Fill in the blank."),
        nbformat.v4.new_raw_cell("# BEGIN SOLUTION"),
        nbformat.v4.new_code_cell(solution_source),
        nbformat.v4.new_raw_cell("# END SOLUTION"),
        nbformat.v4.new_raw_cell("# BEGIN TESTS"),
        nbformat.v4.new_code_cell(public_test),
        nbformat.v4.new_code_cell("# hidden\n" + hidden_test),
        nbformat.v4.new_raw_cell("# END TESTS"),
        nbformat.v4.new_raw_cell("# END QUESTION"),
    ]


def master_notebook():
    """The otter v1 master notebook: q1 (a number) and q2 (a function)."""
    cells = [
        nbformat.v4.new_raw_cell(ASSIGNMENT_CONFIG),
        nbformat.v4.new_markdown_cell("# Tiny assignment"),
        *_question(
            "q1",
            "answer = 6 * 7  # SOLUTION",
            "assert isinstance(answer, int)",
            "assert answer == 42",
        ),
        *_question(
            "q2",
            "def square(x):\n    # BEGIN SOLUTION\n    return x * x\n    # END SOLUTION",
            "assert square(3) == 9",
            "assert square(-4) == 16",
        ),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def build(tmp_dir):
    """Write the master, run `otter assign`; return (zip_path, solution_nb, student_nb)."""
    tmp_dir = Path(tmp_dir)
    master_dir = tmp_dir / "master"
    dist_dir = tmp_dir / "dist"
    master_dir.mkdir(parents=True, exist_ok=True)
    master_path = master_dir / NOTEBOOK_NAME
    nbformat.write(master_notebook(), master_path)

    # --no-run-tests: the engine tests grade the solution themselves.
    subprocess.run(
        [sys.executable, "-m", "otter", "assign", "--no-run-tests", str(master_path), str(dist_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    zips = sorted((dist_dir / "autograder").glob("*.zip"))
    if len(zips) != 1:
        raise RuntimeError(f"{dist_dir / 'autograder'}: expected one autograder zip, found {len(zips)}")
    solution_nb = dist_dir / "autograder" / NOTEBOOK_NAME
    student_nb = dist_dir / "student" / NOTEBOOK_NAME
    return zips[0], solution_nb, student_nb
