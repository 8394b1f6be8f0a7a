"""The lab's written part: one question bank -> student worksheet, answer key and notebook questions, worded per variant."""
from .bank import BankError, Question, load_bank, load_sections, notebook_questions, questions_for, sections_for, \
    total_points, variant_context, context_for, worksheet_questions
from .build import WorksheetError, build_worksheet, latex_escape

__all__ = ["BankError", "Question", "WorksheetError", "build_worksheet", "latex_escape", "load_bank",
           "load_sections", "notebook_questions", "questions_for", "sections_for", "total_points",
           "variant_context", "context_for", "worksheet_questions"]
