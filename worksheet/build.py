"""Render the student worksheet and its answer key from one bank and one template, then build the PDFs.

    context = variant_context("image", 128, corpus.class_names, "CIFAR-10 images")
    build_worksheet("dist/worksheet/cifar10", context, figures={"epoch_grid": grid_png, "metrics": metrics_png})

One pair per variant: the context (worksheet.bank.variant_context) words questions, sections, figures
and captions for that variant's data. Both documents come from templates/worksheet.tex.j2
(``solutions`` false / true). Figures from the reference run are optional: a missing one is replaced by
a sentence, never by a broken \\includegraphics.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import jinja2
from tqdm import tqdm

from .bank import BANK_PATH, RUN_FIGURES, SECTIONS_PATH, fill, sections_for, worksheet_questions
from replab.errors import LabError

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
TEMPLATE_NAME = "worksheet.tex.j2"
INSTALL_HINT = ("TeX not installed: apt-get install -y --no-install-recommends "
                "texlive-latex-base texlive-latex-recommended texlive-pictures latexmk")
FIGURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".pdf")
SKETCH_PER_CLASS = 16   # points per class the clusters figure draws
RUN_NAMES = {"epoch_grid": "grid of the 11 epoch snapshots", "metrics": "plot of the metrics over epochs"}
# Captions and figure texts, with the bank's placeholders (or one text per kind), filled per variant.
RUN_CAPTIONS = {
    "epoch_grid": "The {dim}-dimensional embeddings of the reference solution run ({variant}) at each of the "
                  "11 snapshots, projected to two dimensions and coloured by {label}.",
    "metrics": "Separation of the held-out {items} over the same 11 snapshots of the reference run.",
}
FIGURE_WORDS = {
    "subtitle": "Variant: {variant}, {n_classes} {labels} ({classes})",
    "mlp_caption": {"text": "The text network. The hook records the {dim}-dimensional layer, {hook_where}, on "
                            "every forward pass.",
                    "image": "The image network, a CNN. The hook records the {dim}-dimensional layer, "
                             "{hook_where}, on every forward pass."},
    "clusters_caption": "A sketch, not data: {n_classes} {labels} ({classes}), one colour each, before and after "
                        "training.",
    # the same figure drawn from the reference run's own CSV (sketch_points), when the release has one
    "clusters_caption_run": "The reference run's own {items}: {n_classes} {labels} ({classes}), one colour each, at "
                            "epoch 0 and epoch 10, projected to two dimensions (PCA of each epoch, at most "
                            f"{SKETCH_PER_CLASS} per {{label}}).",
    "timeline_caption": "The capture timeline: 11 snapshots of the same {items}, exported side by side.",
    "timeline_step": "{epoch_step}",
}
# The answer key's warning for data calibrated with --force (context "forced": "yes"): the answers below
# describe classes that pull apart, which this data's reference run does not show.
FORCED_NOTE = ("Hard to separate: this variant's data was calibrated with `--force`, because even the reference "
               "solution leaves its {labels} largely mixed. {facts_training} Expect modest separation in every run: "
               "where the answers below speak of {labels} moving clearly apart, an answer that describes them "
               "staying mixed, or pulling apart only a little, is right for this data.")


class WorksheetError(LabError, RuntimeError):
    """The worksheet could not be built; the message names the file and the problem."""


def sketch_points(csv_path, class_names) -> dict:
    """The clusters figure drawn from the reference run: {"before": [(colour, x, y)], "after": [...]}, the first
    SKETCH_PER_CLASS rows of each class of the run's Mantis CSV at epoch 0 and the last epoch, each epoch
    projected on its own two principal axes and scaled to the figure's panel; colour is t1..t10 by class
    order (the order the run's epoch grid colours them in). Raises the CSV reader's one-line error."""
    import numpy as np

    from replab.mantis import read_mantis_csv
    table = read_mantis_csv(csv_path)
    categories = np.array(table.categories)
    names = list(class_names)
    rows = [i for c in names for i in np.flatnonzero(categories == c)[:SKETCH_PER_CLASS]]
    if len({categories[i] for i in rows}) < 2:
        raise WorksheetError(f"{csv_path}: fewer than two of the classes {', '.join(names)} in its categoric column")
    out = {}
    for key, epoch in (("before", 0), ("after", -1)):
        x = table.embeddings[epoch][rows].astype(np.float64)
        x -= x.mean(axis=0)
        xy = x @ np.linalg.svd(x, full_matrices=False)[2][:2].T
        xy *= 2.1 / max(float(np.abs(xy).max()), 1e-12)   # the panel is 4.8 cm wide, centred
        out[key] = [(f"t{names.index(categories[i]) % 10 + 1}", round(float(px), 2), round(float(py), 2))
                    for i, (px, py) in zip(rows, xy)]
    return out


# --- LaTeX escaping ---------------------------------------------------------------------------

_PROSE = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
    "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}",
    ">": r"\textgreater{}", "\u2013": "--", "\u2014": "---", "\u2026": r"\dots{}",
    "\u2192": r"$\rightarrow$", "\u00d7": r"$\times$", "\u2248": r"$\approx$",
}
_PROSE_RE = re.compile("|".join(map(re.escape, _PROSE)))
# In typewriter type (OT1 cmtt) these characters are real glyphs at their ASCII positions; \symbol
# prints them as such, so they also copy out of the PDF as themselves.
_CODE_RE = re.compile(r"[\\{}_^~#$%&<>]")


def _escape_prose(text: str) -> str:
    text = _PROSE_RE.sub(lambda m: _PROSE[m.group()], text)
    return re.sub(r'"([^"]*)"', r"``\1''", text)   # straight double quotes -> typeset quotes


def _escape_code(text: str) -> str:
    return r"\texttt{" + _CODE_RE.sub(lambda m: rf"\symbol{{{ord(m.group())}}}", text) + "}"


def latex_escape(text) -> str:
    """Plain text -> LaTeX: specials escaped, `inline code` set in typewriter."""
    parts = str(text).split("`")
    if len(parts) % 2 == 0:            # an unmatched backtick is just a character
        parts[-2:] = [parts[-2] + "`" + parts[-1]]
    return "".join(_escape_code(p) if i % 2 else _escape_prose(p) for i, p in enumerate(parts))


def environment() -> jinja2.Environment:
    """Jinja with LaTeX-friendly delimiters: \\BLOCK{...}, \\VAR{...}, \\#{...}."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        block_start_string=r"\BLOCK{", block_end_string="}",
        variable_start_string=r"\VAR{", variable_end_string="}",
        comment_start_string=r"\#{", comment_end_string="}",
        trim_blocks=True, lstrip_blocks=True, autoescape=False, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["latex_escape"] = latex_escape
    return env


# --- building -----------------------------------------------------------------------------------

def _figure_names(figures: dict[str, Path] | None) -> dict[str, str]:
    """Check the run figures; returns {figure name: file name beside the .tex}."""
    names = {}
    for key, src in (figures or {}).items():
        if key not in RUN_FIGURES:
            raise WorksheetError(f"figures: unknown figure {key!r} (known: {', '.join(RUN_FIGURES)})")
        src = Path(src)
        if not src.is_file():
            raise WorksheetError(f"{src}: figure {key!r} not found")
        if src.suffix.lower() not in FIGURE_SUFFIXES:
            raise WorksheetError(f"{src}: figure {key!r} must be one of {', '.join(FIGURE_SUFFIXES)}")
        names[key] = f"{key}{src.suffix.lower()}"
    return names


def _first_latex_error(log: str) -> str:
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("!"):
            where = next((l.split(" ", 1)[0] for l in lines[i + 1:i + 12] if re.match(r"l\.\d+", l)), "")
            return f"{line[1:].strip()} ({where})" if where else line[1:].strip()
    return "no error line in the log"


def _latexmk(tex: Path, files: list[Path]) -> Path:
    """Build tex into a PDF beside it, compiling in a scratch directory so no aux files are left."""
    with tempfile.TemporaryDirectory(prefix="worksheet-") as tmp:
        for f in [tex, *files]:
            shutil.copyfile(f, Path(tmp) / f.name)
        cmd = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-quiet", tex.name]
        try:
            subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=300, check=True)
        except subprocess.TimeoutExpired:
            raise WorksheetError(f"{tex}: LaTeX did not finish within 300 s") from None
        except subprocess.CalledProcessError:
            log = Path(tmp, tex.with_suffix(".log").name)
            text = log.read_text(encoding="latin-1") if log.exists() else ""
            raise WorksheetError(f"{tex}: LaTeX failed: {_first_latex_error(text)}") from None
        pdf = tex.with_suffix(".pdf")
        shutil.copyfile(Path(tmp) / pdf.name, pdf)
    return pdf


def render(solutions: bool, context: dict, figures: dict[str, str], title: str, course_name: str, term: str,
           bank: Path | str = BANK_PATH, sections: Path | str = SECTIONS_PATH, run_points: dict | None = None) -> str:
    """The LaTeX source of one variant's worksheet (solutions=False) or answer key (solutions=True);
    ``run_points`` (from sketch_points) draws the clusters figure from the reference run."""
    questions = worksheet_questions(context, bank)   # checks the context first
    # the clusters sketch draws one group per class, evenly around a circle (colours t1..t10, repeating)
    # (six classes keep the hand-placed angles the sketch always had)
    k = int(context.get("class_count") or 6)
    angles = [90, 150, 210, 270, 338, 22] if k == 6 else [round(90 + 360 * i / k) % 360 for i in range(k)]
    sketch = {"groups": ", ".join(f"t{i % 10 + 1}/{a}" for i, a in enumerate(angles)), "points": max(6, 96 // k),
              # epoch 10's centre distance and spread: data calibrated with --force stays mostly mixed
              "after": "0.9}{0.6" if context.get("forced") == "yes" else "1.55}{0.32"}
    if run_points:
        sketch.update({k: ", ".join(f"{c}/{x:g}/{y:g}" for c, x, y in v) for k, v in run_points.items()})
    words = {k: fill(v, context) for k, v in FIGURE_WORDS.items()}
    words["clusters_caption"] = words.pop("clusters_caption_run") if run_points else words["clusters_caption"]
    return environment().get_template(TEMPLATE_NAME).render(
        solutions=solutions, title=title, course_name=course_name, term=term, variant=context,
        sections=sections_for(context, sections), questions=questions, total=sum(q.points for q in questions),
        figures=figures, run_names=RUN_NAMES, sketch=sketch,
        run_captions={k: fill(v, context) for k, v in RUN_CAPTIONS.items()},
        words=words, run_points=bool(run_points),
        forced_note=fill(FORCED_NOTE, context) if context.get("forced") == "yes" else None,
    )


def build_worksheet(out_dir, context: dict, figures: dict[str, Path] | None = None,
                    title: str = "Lab 8: Representation Learning and Latent Spaces",
                    course_name: str = "Introduction to Machine Learning", term: str = "Fall 2026",
                    name: str = "lab8_worksheet", run_points: dict | None = None) -> dict:
    """Write <name>.tex and <name>_solutions.tex (and the figures) into out_dir and build both PDFs,
    worded for the variant of ``context`` (from worksheet.bank.variant_context).

    Returns {"pdfs": [worksheet.pdf, solutions.pdf], "skipped": None}, or builds nothing and returns
    {"pdfs": [], "skipped": INSTALL_HINT} when latexmk or pdflatex is not on PATH.
    """
    if not (shutil.which("latexmk") and shutil.which("pdflatex")):
        return {"pdfs": [], "skipped": INSTALL_HINT}
    fig_names = _figure_names(figures)
    # Render both sources first, so a bad bank or template leaves nothing half-written.
    sources = {f"{name}.tex": render(False, context, fig_names, title, course_name, term, run_points=run_points),
               f"{name}_solutions.tex": render(True, context, fig_names, title, course_name, term,
                                               run_points=run_points)}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for key, file_name in fig_names.items():
        shutil.copyfile(figures[key], out_dir / file_name)
    pdfs = []
    for tex_name, source in tqdm(sources.items(), desc="worksheet PDFs", unit="pdf", leave=False):
        tex = out_dir / tex_name
        tex.write_text(source, encoding="utf-8")
        pdfs.append(_latexmk(tex, [out_dir / f for f in fig_names.values()]))
    return {"pdfs": pdfs, "skipped": None}
