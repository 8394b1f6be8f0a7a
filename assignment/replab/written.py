"""Your written answers as a PDF for the Gradescope written assignment: a cover page with your name and
student ID, then one page per question, in the notebook's order.

Every PDF has the same pages in the same place (page 1 the cover, question k on page k + 1), whatever is
written, so the instructor's outline matches every submission: a long answer is set smaller and, if it
still does not fit, cut with a note saying so; an empty answer, or one still holding the placeholder,
says so on its page.

The PDF is written by fpdf2, a pure-Python PDF writer from PyPI: no TeX, no browser and no network, so
the export works the same on any laptop, offline. Its built-in Helvetica covers Latin-1 only (a Unicode
font would have to be shipped with the lab), so other characters are spelled out where there is a usual
spelling (Greek letters by name, arrows, <=, ...) and shown as "?" otherwise, with a note on the page;
the notebook keeps what you typed. The answers are read from the saved notebook file (the Markdown
cells), never by running code: save the notebook before exporting.
"""
from __future__ import annotations

import json
import os
import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from replab.errors import LabError

PDF_NAME = "lab8_written_answers.pdf"
PLACEHOLDER = "_Type your answer here, replacing this text._"   # otter-grader 7's empty answer cell
COVER_PAGES = 1
NOT_GIVEN = "(not given)"

# Page geometry (US Letter, millimetres) and the answer's font sizes, largest first.
PAGE_W, PAGE_H, MARGIN = 215.9, 279.4, 18.0
BODY_W = PAGE_W - 2 * MARGIN
ANSWER_SIZES = (11, 10, 9, 8, 7)
LINE = 0.3528 * 1.35          # line height in mm per point of font size

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)|<img\b[^>]*>", re.I)
_PROMPT = re.compile(r"^\*\*(\w+)\*\*\s*(\([^)]*\))?\.?\s*")
_QUESTION_MARK = "QUESTION -->"   # otter's <!-- BEGIN/END QUESTION --> in the cells that close a question


class WrittenExportError(LabError, ValueError):
    """The written answers cannot be exported; the message names the notebook and the problem."""


@dataclass(frozen=True)
class Answer:
    text: str     # the answer's Markdown, comments and the placeholder removed ("" when none)
    status: str   # "answered", "placeholder" (left as the template), "unanswered" (empty) or "missing"


STATUS_LABELS = {"answered": "answered", "placeholder": "placeholder left", "unanswered": "empty",
                 "missing": "not found"}
STATUS_NOTES = {
    "placeholder": "No answer: the answer cell still holds the placeholder text "
                   "(\"Type your answer here, replacing this text.\").",
    "unanswered": "No answer: the answer cell is empty.",
    "missing": "No answer: this question's cells were not found in the notebook.",
}


# --- reading the notebook (its JSON only: no code is run) ---------------------------------------------

def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source or "")


def _locked(cell) -> bool:
    return cell.get("metadata", {}).get("editable") is False   # otter locks the question's own cells


def _prompt_id(cell, ids) -> str | None:
    if cell.get("cell_type") != "markdown":
        return None
    match = _PROMPT.match(_COMMENT.sub("", _source(cell)).strip())
    return match.group(1) if match and match.group(1) in ids else None


def read_answers(nb: dict, question_ids) -> dict[str, Answer]:
    """Each question's answer: the editable Markdown cells between its prompt and the next locked cell
    (otter locks prompts and the cells closing a question, which also carry its END QUESTION comment) or
    the next prompt. Code cells are skipped;
    the placeholder and otter's HTML comments are dropped. Works on the student notebook (one tagged
    answer cell per question), on one a student rearranged, and on the solution (its answers)."""
    ids = list(question_ids)
    cells = nb.get("cells", []) if isinstance(nb, dict) else []
    answers = {q: Answer("", "missing") for q in ids}
    for i, cell in enumerate(cells):
        q = _prompt_id(cell, ids)
        if q is None:
            continue
        parts, placeholder = [], False
        for later in cells[i + 1:]:
            if _locked(later) or _prompt_id(later, ids) or _QUESTION_MARK in _source(later):
                break   # (otter's comment too: an editor that drops cell metadata unlocks the cells)
            if later.get("cell_type") != "markdown":
                continue
            text = _COMMENT.sub("", _source(later))
            if PLACEHOLDER in text:
                placeholder = True
                text = text.replace(PLACEHOLDER, "")
            if text.strip():
                parts.append(text.strip("\n"))
        text = "\n\n".join(parts).strip()
        answers[q] = Answer(text, "answered" if text else "placeholder" if placeholder else "unanswered")
    return answers


def read_prompts(nb: dict, question_ids) -> dict[str, str]:
    """The question text of each prompt cell found, without its '**id** (n pts).' lead."""
    ids, prompts = list(question_ids), {}
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        q = _prompt_id(cell, ids)
        if q is not None:
            prompts[q] = _PROMPT.sub("", _COMMENT.sub("", _source(cell)).strip(), count=1).strip()
    return prompts


def load_notebook(path) -> dict:
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WrittenExportError(f"{path}: notebook not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise WrittenExportError(f"{path}: not a readable notebook ({type(e).__name__}: {e})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise WrittenExportError(f"{path}: not a Jupyter notebook (version 4) with cells")
    return nb


def _colab_notebook():
    """The notebook as Colab holds it (Colab keeps no .ipynb on the disk the kernel sees), or None."""
    try:
        from google.colab import _message   # only inside Colab
    except ImportError:
        return None
    try:
        return _message.blocking_request("get_ipynb", request="", timeout_sec=30)["ipynb"]
    except Exception:   # an older or newer Colab: fall back to the files on disk
        return None


def find_notebook(question_ids, folder=".") -> Path:
    """The saved notebook this kernel runs: the one Jupyter or VS Code names, else the notebook in
    `folder` that asks these questions (the most recently saved one if several do)."""
    named = os.environ.get("JPY_SESSION_NAME")   # set by jupyter_server 2 and later
    try:
        from IPython import get_ipython
        shell = get_ipython()
        named = named or (shell.user_ns.get("__session__") if shell else None)   # VS Code
    except ImportError:
        pass
    if named and str(named).endswith(".ipynb") and Path(named).is_file():
        return Path(named)
    first = list(question_ids)[:1]
    candidates = []
    for path in Path(folder).glob("*.ipynb"):
        try:
            if not first or f"**{first[0]}**" in path.read_text(encoding="utf-8"):
                candidates.append(path)
        except (OSError, UnicodeDecodeError):
            continue
    if not candidates:
        raise WrittenExportError(f"{Path(folder).resolve()}: no saved notebook with the written questions here; "
                                 "save the notebook, or pass notebook='<its file name>'")
    return max(candidates, key=lambda p: (p.stat().st_mtime, p.name))


# --- text the PDF's font can show ---------------------------------------------------------------------

_SPELLED = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"',
    "\u201e": '"', "\u2033": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-", "\u2026": "...", "\u2022": "*", "\u2219": "*", "\u2217": "*", "\u22c5": "\u00b7",
    "\u2192": "->", "\u27f6": "->", "\u21d2": "=>", "\u27f9": "=>", "\u2190": "<-", "\u21d0": "<=",
    "\u2194": "<->", "\u21d4": "<=>", "\u2191": "^", "\u2193": "v", "\u2264": "<=", "\u2265": ">=",
    "\u2260": "!=", "\u2248": "~", "\u223c": "~", "\u2261": "==", "\u221e": "inf", "\u2211": "sum",
    "\u220f": "prod", "\u221a": "sqrt", "\u2208": " in ", "\u2209": " not in ", "\u2282": " subset of ",
    "\u2286": " subset of ", "\u222a": " union ", "\u2229": " intersect ", "\u2200": "for all ",
    "\u2203": "exists ", "\u2202": "d", "\u2207": "grad ", "\u2016": "||", "\u2225": "||", "\u2223": "|",
    "\u2713": "[x]", "\u2714": "[x]", "\u2717": "[ ]", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "", "\t": "    ",
}


def pdf_text(text: str) -> tuple[str, int]:
    """text in Latin-1 (what the PDF's core font can draw) and how many characters became '?'.
    Deterministic: the usual spelling where there is one (quotes, dashes, arrows, math, Greek letters by
    name), accents dropped where only the letter is outside Latin-1, '?' for the rest."""
    out, lost = [], 0
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    for i, ch in enumerate(text):
        if ch == "\n" or (" " <= ch <= "~") or ("\u00a0" < ch <= "\u00ff"):
            out.append(ch)
        elif ch in _SPELLED:   # a spelled word keeps one space on each side ("h ∈ R" and "h∈R" → "h in R")
            word = _SPELLED[ch]
            if word.startswith(" ") and (not out or out[-1][-1:] in (" ", "\n")):
                word = word[1:]
            if word.endswith(" ") and text[i + 1:i + 2] in (" ", "\n", ""):
                word = word[:-1]
            out.append(word)
        elif unicodedata.category(ch) in ("Cc", "Cf"):
            continue                                         # invisible control and format characters
        elif unicodedata.name(ch, "").startswith("GREEK ") and " LETTER " in unicodedata.name(ch, ""):
            name = unicodedata.name(ch).split(" LETTER ", 1)[1].split()[0].lower()
            out.append(name.capitalize() if "CAPITAL" in unicodedata.name(ch) else name)
        else:
            plain = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            if plain and all(c == "\n" or " " <= c <= "\u00ff" for c in plain):
                out.append(plain)
            elif unicodedata.category(ch) == "Zs":
                out.append(" ")
            else:
                out.append("?")
                lost += 1
    return "".join(out), lost


def plain_markdown(text: str) -> str:
    """Markdown shown as typed (line breaks kept), except images, which become '[image]' (an embedded
    picture is pages of base64 and cannot be drawn here)."""
    return _IMAGE.sub(lambda m: f"[image: {m.group(1)}]" if m.group(1) else "[image]", _COMMENT.sub("", text))


# --- the PDF -------------------------------------------------------------------------------------------

def question_page(index: int) -> int:
    """The PDF page (1-based) of the question at `index` (0-based) in the notebook's order."""
    return COVER_PAGES + index + 1


def page_count(n_questions: int) -> int:
    return COVER_PAGES + n_questions


def _points(points) -> str:
    return f"{points:g} point{'' if points == 1 else 's'}"


class _Writer:
    """fpdf2 with the few things every page shares: header, footer, plain text in a box."""

    def __init__(self, title: str, name: str, student_id: str, pages: int):
        from fpdf import FPDF   # here, so `import replab.written` works even before fpdf2 is installed
        self.pdf = FPDF(orientation="P", unit="mm", format="letter")
        self.pdf.set_auto_page_break(False)   # a page never spills: every PDF has the outline's pages
        self.pdf.set_margins(MARGIN, MARGIN, MARGIN)
        self.pdf.set_title(pdf_text(f"{title} - written answers")[0])
        self.pdf.set_author(pdf_text(name)[0])
        self.title, self.name, self.student_id, self.pages = title, name, student_id, pages
        self.template = False   # the blank template: no one's name, lines to write on

    def text(self, text: str, size: float, style: str = "", color=(0, 0, 0), h: float | None = None):
        self.pdf.set_font("helvetica", style=style, size=size)
        self.pdf.set_text_color(*color)
        self.pdf.set_x(MARGIN)
        self.pdf.multi_cell(BODY_W, h or size * LINE, pdf_text(text)[0], align="L")

    def fit(self, text: str, width: float) -> str:
        """text in the current font, cut with '...' to fit width (a long name must not overlap)."""
        text = pdf_text(text)[0]
        if self.pdf.get_string_width(text) <= width:
            return text
        while text and self.pdf.get_string_width(text + "...") > width:
            text = text[:-1]
        return text + "..."

    def lines(self, text: str, size: float, style: str = "") -> list[str]:
        self.pdf.set_font("helvetica", style=style, size=size)
        return self.pdf.multi_cell(BODY_W, size * LINE, text, align="L", dry_run=True, output="LINES")

    def page(self, number: int):
        pdf = self.pdf
        pdf.add_page()
        pdf.set_font("helvetica", size=8)
        pdf.set_text_color(110, 110, 110)
        who = "" if self.template else f" - {self.name or NOT_GIVEN} - ID {self.student_id or NOT_GIVEN}"
        pdf.set_xy(MARGIN, 9)
        pdf.cell(BODY_W * 0.8, 4, self.fit(f"{self.title} - written answers{who}", BODY_W * 0.8))
        pdf.set_xy(MARGIN, 9)
        pdf.cell(BODY_W, 4, f"page {number} of {self.pages}", align="R")
        pdf.set_draw_color(190, 190, 190)
        pdf.line(MARGIN, 14, PAGE_W - MARGIN, 14)
        pdf.set_xy(MARGIN, MARGIN)


def _cover(w: _Writer, questions, answers, source: str):
    w.page(1)
    w.text(w.title, 18, "B")
    w.pdf.ln(1)
    w.text("Written answers", 13, color=(70, 70, 70))
    w.pdf.ln(8)
    for label, value in (("Name", w.name), ("Student ID", w.student_id)):
        w.pdf.set_font("helvetica", "B", 12)
        w.pdf.set_text_color(0, 0, 0)
        w.pdf.cell(32, 8, label + ":")
        w.pdf.set_font("helvetica", "", 12)
        w.pdf.set_text_color(*((0, 0, 0) if value else (170, 40, 30)))
        if w.template:
            w.pdf.line(w.pdf.get_x(), w.pdf.get_y() + 6.5, w.pdf.get_x() + 90, w.pdf.get_y() + 6.5)
        w.pdf.cell(BODY_W - 32, 8, "" if w.template else w.fit(value or NOT_GIVEN, BODY_W - 32),
                   new_x="LMARGIN", new_y="NEXT")
    w.pdf.ln(6)
    w.pdf.set_draw_color(190, 190, 190)
    widths = (16, 92, 22, BODY_W - 130)
    rows = [("Page", "Question", "Points", "Answer")]
    for i, (qid, points, _prompt) in enumerate(questions):
        status = STATUS_LABELS[answers.get(qid, Answer("", "missing")).status] if answers is not None else ""
        rows.append((str(question_page(i)), qid, f"{points:g}", status))
    for r, row in enumerate(rows):
        for width, value in zip(widths, row):
            w.pdf.set_font("helvetica", "B" if r == 0 else "", 10)
            w.pdf.set_text_color(*((170, 40, 30) if r and value in list(STATUS_LABELS.values())[1:] else (0, 0, 0)))
            w.pdf.cell(width, 7, pdf_text(value)[0], border="B")
        w.pdf.ln(7)
    w.pdf.ln(8)
    w.text("Upload this PDF to the lab's written assignment on Gradescope. It always has "
           f"{w.pages} pages: this cover, then one page per question (the page numbers above), so "
           "Gradescope finds each answer on its page.", 9.5, color=(70, 70, 70))
    if source:
        w.pdf.ln(2)
        w.text(source, 8.5, color=(110, 110, 110))


def _answer_page(w: _Writer, number: int, qid: str, points, prompt: str, answer: Answer | None):
    w.page(number)
    w.text(f"{qid}  ({_points(points)})", 14, "B")
    w.pdf.ln(1.5)
    w.text(prompt or "(question text not found in the notebook)", 9.5, color=(80, 80, 80))
    w.pdf.ln(2)
    w.pdf.set_draw_color(150, 150, 150)
    w.pdf.line(MARGIN, w.pdf.get_y(), PAGE_W - MARGIN, w.pdf.get_y())
    w.pdf.ln(3)
    w.text("Answer", 10, "B")
    w.pdf.ln(1)
    if answer is None:                       # the blank template for the outline: a box to answer in
        w.pdf.set_draw_color(200, 200, 200)
        w.pdf.rect(MARGIN, w.pdf.get_y(), BODY_W, PAGE_H - MARGIN - 8 - w.pdf.get_y())
        return
    if answer.status != "answered":
        w.text(STATUS_NOTES[answer.status], 11, "I", color=(170, 40, 30))
        return
    text, lost = pdf_text(plain_markdown(answer.text))
    notes = [f"{lost} character{'s' if lost != 1 else ''} outside this PDF's font shown as '?'."] if lost else []
    bottom = PAGE_H - MARGIN - 6          # room for one line of notes under the answer
    room = bottom - w.pdf.get_y()
    for size in ANSWER_SIZES:
        lines = w.lines(text, size)
        if len(lines) * size * LINE <= room:
            break
    else:                                    # still too long at the smallest size: cut, and say so
        fit = max(1, int(room // (size * LINE)))
        cut = len(lines) - fit
        lines = lines[:fit]
        notes.append(f"Answer cut: {cut} more line{'s' if cut != 1 else ''} did not fit on this page "
                     "(the full answer is in the notebook).")
    if size != ANSWER_SIZES[0]:
        notes.append(f"Set in {size} pt to fit the page.")
    w.pdf.set_font("helvetica", size=size)
    w.pdf.set_text_color(0, 0, 0)
    for line in lines:                        # the lines fpdf2 wrapped in the dry run, drawn as they are
        w.pdf.set_x(MARGIN)
        w.pdf.cell(BODY_W, size * LINE, line, new_x="LMARGIN", new_y="NEXT")
    if notes:
        w.pdf.set_xy(MARGIN, bottom + 1)
        w.pdf.set_font("helvetica", "I", 7.5)
        w.pdf.set_text_color(170, 40, 30)
        w.pdf.cell(BODY_W, 4, " ".join(notes))


def render_pdf(path, questions, answers: dict[str, Answer] | None, *, title: str, name: str = "",
               student_id: str = "", source: str = "") -> Path:
    """Write the PDF: questions are (id, points, prompt) in order; answers None makes the blank template
    (the same pages, with empty answer boxes). Returns the path."""
    questions = [(str(q), float(p), str(t or "")) for q, p, t in questions]
    w = _Writer(title, name.strip(), student_id.strip(), page_count(len(questions)))
    w.template = answers is None
    _cover(w, questions, answers, source)
    for i, (qid, points, prompt) in enumerate(questions):
        _answer_page(w, question_page(i), qid, points, prompt,
                     None if answers is None else answers.get(qid, Answer("", "missing")))
    path = Path(path)
    w.pdf.output(str(path))
    return path


def export_written_pdf(name: str, student_id: str, questions, *, title: str = "Lab 8", notebook=None,
                       out=PDF_NAME) -> Path | None:
    """The notebook's last step: read the saved notebook's written answers and write them as a PDF.

    questions: [(id, points), ...] in the notebook's order (the notebook passes them). notebook: the
    .ipynb to read (default: the one this kernel runs). Prints where the PDF went and what it holds;
    with no saved notebook to read it says so and returns None."""
    try:
        import fpdf  # noqa: F401
    except ImportError:
        raise WrittenExportError("the PDF writer fpdf2 is not installed: run `pip install fpdf2` "
                                 "(or `%pip install fpdf2` in a cell), then run this cell again") from None
    ids = [str(q) for q, _ in questions]
    nb = None if notebook else _colab_notebook()
    if nb is not None:
        source = "Read from the notebook open in Colab."
    else:
        try:
            path = Path(notebook) if notebook else find_notebook(ids)
        except WrittenExportError as e:   # e.g. a notebook run from memory (nbclient) has no file to read
            print(f"No PDF written: {e}")
            return None
        nb = load_notebook(path)
        saved = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
        source = f"Read from {path.name}, saved {saved}."
    answers, prompts = read_answers(nb, ids), read_prompts(nb, ids)
    pdf = render_pdf(out, [(q, p, prompts.get(q, "")) for q, p in questions], answers, title=title,
                     name=str(name or ""), student_id=str(student_id or ""), source=source)
    missing = [q for q in ids if answers[q].status != "answered"]
    print(f"Wrote {pdf} ({page_count(len(ids))} pages). {source}")
    if not str(name or "").strip() or not str(student_id or "").strip():
        print("Your name or student ID is empty: fill them in above and run this cell again.")
    if missing:
        print(f"Not answered yet: {', '.join(missing)}. (Edited an answer just now? Save the notebook first.)")
    hint = colab_download_hint(pdf)
    if hint:
        print(hint)
    return pdf


def colab_download_hint(pdf) -> str:
    """In Colab the PDF sits on the runtime's disk, not the student's: where it is and how to download it.
    "" anywhere else (a laptop or a JupyterHub shows the file beside the notebook)."""
    import importlib.util
    try:
        in_colab = importlib.util.find_spec("google.colab") is not None
    except (ImportError, ValueError):   # a "google" namespace without colab
        in_colab = False
    if not in_colab:
        return ""
    where = Path(pdf).resolve()
    return (f"In Colab the PDF is on the runtime's disk, {where}: download it from the Files panel (the folder "
            f"icon on the left; right-click {where.name} → Download), or run "
            f"`from google.colab import files; files.download({str(where)!r})` in a cell. "
            "The runtime's files are deleted when it stops.")
