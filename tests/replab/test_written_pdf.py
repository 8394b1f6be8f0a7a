"""The notebook's last step: written answers → a PDF with the same pages for everyone (replab/written.py),
and the Gradescope outline that relies on those pages (worksheet/outline.py).

The notebooks here are laid out as otter-grader 7 lays out the student notebook (a locked prompt cell,
an answer cell holding the placeholder, the next prompt cell opening with otter's END/BEGIN comments);
the PDFs are read back with poppler's pdftotext, page by page.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from replab.written import (PLACEHOLDER, Answer, export_written_pdf, find_notebook, page_count, pdf_text,
                            question_page, read_answers, render_pdf)

QUESTIONS = [("w1_sparse_vs_dense", 2), ("w2_penultimate_layer", 2), ("w3_distance_changes", 3),
             ("w4_epoch_zero", 2)]
PROMPTS = {q: f"Prompt of {q}: explain what happens." for q, _ in QUESTIONS}
pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")


def student_notebook(answers: dict[str, str | None], name="", student_id="") -> dict:
    """A notebook shaped like otter's student notebook; answers[q] None deletes q's answer cell."""
    md = lambda text, **meta: {"cell_type": "markdown", "metadata": meta, "source": text}
    cells = [md("# Lab 8"), {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                             "source": "SEED = 0"}]
    for i, (q, points) in enumerate(QUESTIONS):
        lead = "<!-- BEGIN QUESTION -->\n\n" if i == 0 else "<!-- END QUESTION -->\n\n<!-- BEGIN QUESTION -->\n\n"
        cells.append(md(f"{lead}**{q}** ({points} pts). {PROMPTS[q]}", editable=False, deletable=False))
        if answers.get(q, PLACEHOLDER) is not None:
            cells.append(md(answers.get(q, PLACEHOLDER), tags=["otter_answer_cell"]))
    cells.append(md("<!-- END QUESTION -->\n\n## 7. Export your written answers", editable=False, deletable=False))
    cells.append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                  "source": f'STUDENT_NAME = "{name}"  # as on Gradescope\nSTUDENT_ID = "{student_id}"\n'})
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def write(tmp_path: Path, nb: dict, name="lab8_wikipedia.ipynb") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def pages(pdf: Path) -> list[str]:
    """The PDF's text, one string per page (pdftotext separates pages with form feeds)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


def export(tmp_path, nb, name="Ada Lovelace", student_id="123456789") -> list[str]:
    notebook = write(tmp_path, nb)
    pdf = export_written_pdf(name, student_id, QUESTIONS, title="Lab 8 - Wikipedia", notebook=notebook,
                             out=tmp_path / "answers.pdf")
    return pages(pdf)


def test_filled_notebook_one_page_per_question_in_order(tmp_path):
    answers = {q: f"My answer to {q}.\nA second line about {q}." for q, _ in QUESTIONS}
    text = export(tmp_path, student_notebook(answers))
    assert len(text) == page_count(len(QUESTIONS)) == 5
    assert "Ada Lovelace" in text[0] and "123456789" in text[0] and "page 1 of 5" in text[0]
    for i, (q, points) in enumerate(QUESTIONS):
        page = text[question_page(i) - 1]
        assert f"{q} ({points} points)" in page and PROMPTS[q] in page
        assert f"My answer to {q}." in page and f"A second line about {q}." in page   # line breaks kept
        assert f"page {question_page(i)} of 5" in page and "Ada Lovelace - ID 123456789" in page
        assert "No answer" not in page


def test_untouched_notebook_says_so_on_every_page(tmp_path):
    text = export(tmp_path, student_notebook({}), name="", student_id="")
    assert len(text) == 5
    assert text[0].count("(not given)") >= 2 and text[0].count("placeholder left") == len(QUESTIONS)
    for page in text[1:]:
        assert "No answer: the answer cell still holds the placeholder text" in page


def test_half_filled_notebook_keeps_its_pages(tmp_path):
    answers = {"w1_sparse_vs_dense": "Sparse vectors waste memory.",
               "w2_penultimate_layer": "",                                    # emptied
               "w3_distance_changes": None,                                   # answer cell deleted
               "w4_epoch_zero": PLACEHOLDER + "\n\nTyped under the placeholder."}
    nb = student_notebook(answers)
    nb["cells"] = [c for c in nb["cells"] if "**w3_distance_changes**" not in c["source"]]  # prompt gone too
    text = export(tmp_path, nb)
    assert len(text) == 5
    assert "Sparse vectors waste memory." in text[1]
    assert "No answer: the answer cell is empty." in text[2]
    assert "No answer: this question's cells were not found in the notebook." in text[3]
    assert "Typed under the placeholder." in text[4] and "Type your answer here" not in text[4]


def test_long_answers_shrink_then_are_cut_never_spilling(tmp_path):
    medium = " ".join(f"word{i}" for i in range(700))
    huge = "\n".join(f"line {i} " + "x" * 60 for i in range(400)) + "\nTHE LAST LINE"
    text = export(tmp_path, student_notebook({"w1_sparse_vs_dense": medium, "w2_penultimate_layer": huge}))
    assert len(text) == 5
    assert "word699" in text[1] and "pt to fit the page" in text[1] and "Answer cut" not in text[1]
    assert "Answer cut:" in text[2] and "more lines did not fit" in text[2] and "THE LAST LINE" not in text[2]


def test_characters_outside_latin1_are_spelled_or_marked(tmp_path):
    answer = "Schrödinger’s cat → α ≤ β — naïve “quotes”, 中文 😀"
    assert pdf_text(answer) == ("Schrödinger's cat -> alpha <= beta - naïve \"quotes\", ?? ?", 3)
    assert pdf_text("ő Ω x²\u200b\ttab") == ("o Omega x²    tab", 0)
    text = export(tmp_path, student_notebook({"w1_sparse_vs_dense": answer}), name="Zoë Ωmega")
    assert "Schrödinger's cat -> alpha <= beta" in text[1]
    assert "3 characters outside this PDF's font shown as '?'" in text[1]
    assert "Zoë Omegamega" in text[0]


def test_images_and_comments_are_not_drawn(tmp_path):
    answer = "See the plot:\n![epoch grid](data:image/png;base64," + "A" * 5000 + ")\n<!-- note to self -->done"
    text = export(tmp_path, student_notebook({"w1_sparse_vs_dense": answer}))
    assert "[image: epoch grid]" in text[1] and "AAAA" not in text[1] and "note to self" not in text[1]


def test_solution_notebook_reads_its_answers_beside_the_placeholder():
    nb, cells = student_notebook({}), []
    for cell in nb["cells"]:   # otter's autograder notebook: the solution cell after the placeholder
        cells.append(cell)
        if "otter_answer_cell" in cell["metadata"].get("tags", []):
            cells.append({"cell_type": "markdown", "source": "The key.",
                          "metadata": {"tags": ["otter_assign_solution_cell"]}})
    nb["cells"] = cells
    answers = read_answers(nb, [q for q, _ in QUESTIONS])
    assert set(answers.values()) == {Answer("The key.", "answered")}


def test_the_saved_notebook_is_found_and_a_missing_one_is_said(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert export_written_pdf("A", "1", QUESTIONS) is None
    assert "No PDF written" in capsys.readouterr().out
    write(tmp_path, {"cells": [], "nbformat": 4, "metadata": {}}, "scratch.ipynb")
    lab = write(tmp_path, student_notebook({"w1_sparse_vs_dense": "Found me."}))
    assert find_notebook([q for q, _ in QUESTIONS]) == Path(lab.name)
    pdf = export_written_pdf("A", "1", QUESTIONS)
    assert pdf == Path("lab8_written_answers.pdf") and "Found me." in pages(tmp_path / pdf)[1]
    assert "Read from lab8_wikipedia.ipynb" in capsys.readouterr().out


def test_outline_pages_match_every_pdf(tmp_path):
    from worksheet.bank import Question
    from worksheet.outline import write_gradescope_outline
    bank = [Question(q, p, PROMPTS[q], "key", ("notebook",)) for q, p in QUESTIONS]
    outline = json.loads(write_gradescope_outline(tmp_path / "outline", bank, title="Lab 8 - Wikipedia").read_text())
    assert outline["pages"] == 5 and [q["page"] for q in outline["questions"]] == [2, 3, 4, 5]
    assert outline["total_points"] == 9 and outline["questions"][2] == {
        "number": 3, "id": "w3_distance_changes", "title": "w3_distance_changes", "points": 3, "page": 4}
    template = pages(tmp_path / "outline" / outline["template"])
    filled = export(tmp_path, student_notebook({q: "answer" for q, _ in QUESTIONS}))
    assert len(template) == len(filled) == outline["pages"]
    for q in outline["questions"]:
        assert q["id"] in template[q["page"] - 1] and q["id"] in filled[q["page"] - 1]
    assert "| 3 | w3_distance_changes | 3 | 4 |" in (tmp_path / "outline" / "gradescope_outline.md").read_text()


def test_blank_template_has_answer_boxes(tmp_path):
    pdf = render_pdf(tmp_path / "t.pdf", [(q, p, PROMPTS[q]) for q, p in QUESTIONS], None, title="T")
    text = pages(pdf)
    assert len(text) == 5 and all("Answer" in page and "No answer" not in page for page in text[1:])


def test_an_editor_that_drops_cell_metadata_changes_nothing():
    answers = {q: f"Answer {q}." for q, _ in QUESTIONS}
    nb = student_notebook(answers)
    for cell in nb["cells"]:
        cell["metadata"] = {}          # no locks, no tags: otter's comments still close each question
    read = read_answers(nb, [q for q, _ in QUESTIONS])
    assert {q: a.text for q, a in read.items()} == answers
