"""The Gradescope outline of the written assignment: which page of a student's PDF holds which question,
and its points.

Every student's PDF is written by replab.written (the notebook's last step) with the same pages: a
cover, then question k on page k + 1. This module asks replab.written for those page numbers and writes,
for the instructor, next to the release:

    gradescope_outline.json   the outline as data: questions, points, pages
    gradescope_outline.md     the same as a table to copy into Gradescope's outline editor
    written_template.pdf      the blank PDF (the same pages, empty answer boxes): Gradescope's template
"""
from __future__ import annotations

import json
from pathlib import Path

from replab.written import page_count, question_page, render_pdf

OUTLINE_JSON = "gradescope_outline.json"
OUTLINE_MD = "gradescope_outline.md"
TEMPLATE_PDF = "written_template.pdf"


def outline(questions) -> dict:
    """The outline as data, for bank questions (id, points, prompt) in the notebook's order."""
    questions = list(questions)
    return {
        "pages": page_count(len(questions)),
        "cover_page": 1,
        "questions": [{"number": i + 1, "id": q.id, "title": q.id, "points": q.points, "page": question_page(i)}
                      for i, q in enumerate(questions)],
        "total_points": sum(q.points for q in questions),
    }


def _markdown(data: dict, title: str) -> str:
    rows = "\n".join(f"| {q['number']} | {q['title']} | {q['points']:g} | {q['page']} |" for q in data["questions"])
    return (f"# Gradescope outline: {title} written answers\n\n"
            f"Every student PDF has {data['pages']} pages: page 1 is the cover (name and student ID), then one "
            "page per question. Create one question per row, with its points, on the page given.\n\n"
            f"| # | Question | Points | Page |\n|---|---|---|---|\n{rows}\n\n"
            f"Total: {data['total_points']:g} points. Upload {TEMPLATE_PDF} as the assignment's template.\n")


def write_gradescope_outline(dest_dir: Path, questions, title: str = "Lab 8") -> Path:
    """Write the outline (JSON and Markdown) and the blank template PDF into dest_dir; return the JSON's path.

    questions: worksheet.bank.notebook_questions(context), in order. title: shown on the template's pages."""
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    questions = list(questions)
    data = outline(questions)
    data["template"] = TEMPLATE_PDF
    path = dest_dir / OUTLINE_JSON
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    (dest_dir / OUTLINE_MD).write_text(_markdown(data, title), encoding="utf-8")
    render_pdf(dest_dir / TEMPLATE_PDF, [(q.id, q.points, q.prompt) for q in questions], None, title=title)
    return path
