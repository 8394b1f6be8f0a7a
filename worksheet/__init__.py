"""The lab's written part: one question bank -> student worksheet, answer key and notebook questions."""
from .bank import BankError, Question, load_bank, load_sections, notebook_questions, total_points, worksheet_questions
from .build import WorksheetError, build_worksheet, latex_escape

__all__ = ["BankError", "Question", "WorksheetError", "build_worksheet", "latex_escape", "load_bank",
           "load_sections", "notebook_questions", "total_points", "worksheet_questions"]
