"""Grading engine (otter-grader 7 zips, fault-proof) and the HTML report for TAs."""

from .grade import GradingError, grade_submissions, write_grades_csv
from .report import write_report

__all__ = ["GradingError", "grade_submissions", "write_grades_csv", "write_report"]
