"""Lab 8's autograder: release-side assembly (assign.py, verify.py), the grading engine (grade.py) with
its two sides — the student side contained in sandbox/, the judge in judge/ — the Gradescope entry
(gradescope.py) and the TA report (report.py, curves.py)."""
