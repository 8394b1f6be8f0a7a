"""The question bank, the one-template worksheet / answer key, and their PDFs."""
import dataclasses
import re
import subprocess
import unicodedata
from pathlib import Path

import matplotlib
import pytest
import yaml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from worksheet import BankError, WorksheetError, build_worksheet, latex_escape, load_bank, notebook_questions, \
    total_points  # noqa: E402
from worksheet import build as build_module  # noqa: E402
from worksheet.bank import load_sections  # noqa: E402


def words(text: str) -> str:
    """Letters and digits only: immune to line breaks, hyphenation, ligatures, quotes and spacing."""
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKC", text).lower())


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def stand_in_png(path: Path, label: str) -> Path:
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(range(11), [i * i for i in range(11)], label=label)
    ax.legend()
    fig.savefig(path, dpi=60)
    plt.close(fig)
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("worksheet")
    figures = {"epoch_grid": stand_in_png(tmp / "grid.png", "grid"),
               "metrics": stand_in_png(tmp / "metrics.png", "metrics")}
    out = tmp / "out"
    result = build_worksheet(out, figures=figures, term="Spring 2027", name="ws")
    return out, result


# --- the bank -----------------------------------------------------------------------------------

def test_bank_has_seven_questions_worth_16_points_everywhere():
    bank = load_bank()
    assert len(bank) == 7 and total_points() == 16
    assert [q.points for q in bank] == [2, 2, 3, 2, 3, 2, 2]
    assert [q.id for q in notebook_questions()] == [q.id for q in bank]
    assert all(set(q.appears_in) == {"worksheet", "notebook"} for q in bank)
    with pytest.raises(dataclasses.FrozenInstanceError):
        bank[0].points = 5


def test_epoch_zero_answer_reports_the_measurements():
    answer = next(q.answer for q in load_bank() if q.id == "w4_epoch_zero")
    for fact in ("0.67 to 0.73", "0.17 to", "Johnson", "0.01 to 0.04", "0.43 to 0.53", "half true"):
        assert fact in answer


GOOD = {"id": "q", "points": 2, "prompt": "Why?", "answer": "Because.", "appears_in": ["worksheet"]}


@pytest.mark.parametrize("entries, message", [
    ([{k: v for k, v in GOOD.items() if k != "answer"}], "entry 1 (q): missing field answer"),
    ([GOOD, dict(GOOD)], "entry 2 (q): duplicate id 'q'"),
    ([dict(GOOD, points=0)], "entry 1 (q): points must be a positive number, got 0"),
    ([dict(GOOD, points=-1.5)], "points must be a positive number, got -1.5"),
    ([dict(GOOD, appears_in=["worksheet", "exam"])], "entry 1 (q): unknown appears_in 'exam'"),
    ({"q": GOOD}, "expected a non-empty list of entries"),
])
def test_bad_bank_is_rejected_with_one_line_naming_file_and_entry(tmp_path, entries, message):
    path = tmp_path / "bank.yaml"
    path.write_text(yaml.safe_dump(entries))
    with pytest.raises(BankError) as err:
        load_bank(path)
    text = str(err.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def test_broken_yaml_names_the_line(tmp_path):
    path = tmp_path / "bank.yaml"
    path.write_text("- id: q\n  prompt: [unclosed\n")
    with pytest.raises(BankError, match=rf"^{re.escape(str(path))}: line \d+: not valid YAML"):
        load_bank(path)


def test_sections_cover_the_five_topics():
    titles = [s["title"] for s in load_sections()]
    assert titles == ["The representation problem", "Latent space", "Learning dynamics", "UMAP and Mantis",
                      "Lab walkthrough"]


# --- escaping -----------------------------------------------------------------------------------

def test_latex_escape_specials_and_inline_code():
    assert latex_escape("50% of $5 & #1_a {b}") == r"50\% of \$5 \& \#1\_a \{b\}"
    assert latex_escape("call `x_1.detach()` now") == r"call \texttt{x\symbol{95}1.detach()} now"
    assert latex_escape('a "quoted" word') == "a ``quoted'' word"
    assert latex_escape("a ` stray") == "a ` stray"


# --- the PDFs -----------------------------------------------------------------------------------

def test_both_pdfs_build_with_the_figures_beside_them(built):
    out, result = built
    assert result["skipped"] is None
    assert [p.name for p in result["pdfs"]] == ["ws.pdf", "ws_solutions.pdf"]
    for pdf in result["pdfs"]:
        assert pdf.read_bytes()[:5] == b"%PDF-"
    assert (out / "ws.tex").is_file() and (out / "ws_solutions.tex").is_file()
    assert (out / "epoch_grid.png").is_file() and (out / "metrics.png").is_file()
    images = subprocess.run(["pdfimages", "-list", str(out / "ws.pdf")], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    kinds = [row.split()[2] for row in images]
    assert kinds.count("image") == 2     # the two run figures (plus their alpha masks); the rest is TikZ


def test_student_pdf_has_every_prompt_and_no_answer(built):
    out, _ = built
    text = pdf_text(out / "ws.pdf")
    flat = words(text)
    assert "Spring 2027" in text and "answer key" not in text.lower()
    for q in load_bank():
        assert words(q.prompt) in flat, q.id
        # No sentence of any answer may leak into the student sheet.
        for sentence in re.split(r"(?<=[.:])\s+", q.answer):
            if len(words(sentence)) >= 30:
                assert words(sentence) not in flat, (q.id, sentence)


def test_answer_key_has_every_answer_marked(built):
    out, _ = built
    text = pdf_text(out / "ws_solutions.pdf")
    flat = words(text)
    bank = load_bank()
    for q in bank:
        assert words(q.prompt) in flat and words(q.answer) in flat, q.id
    assert text.count("Answer key.") == len(bank)    # the label on each answer


def test_a_figure_not_passed_is_left_out_with_a_sentence():
    tex = build_module.render(False, {"metrics": "metrics.png"}, "T", "C", "Fall 2026")
    assert tex.count(r"\includegraphics") == 1 and "{metrics.png}" in tex
    assert "grid of the 11 epoch snapshots from the reference run is not part of this build" in tex


def test_unknown_or_missing_figure_is_rejected(tmp_path):
    with pytest.raises(WorksheetError, match="unknown figure 'umap'"):
        build_worksheet(tmp_path / "out", figures={"umap": tmp_path / "x.png"})
    with pytest.raises(WorksheetError, match=r"nope\.png: figure 'metrics' not found"):
        build_worksheet(tmp_path / "out", figures={"metrics": tmp_path / "nope.png"})
    assert not (tmp_path / "out").exists()


def test_latex_error_is_one_line_with_the_tex_path(tmp_path, monkeypatch):
    monkeypatch.setattr(build_module, "render",
                        lambda *a, **k: "\\documentclass{article}\\begin{document}\\nosuchmacro\\end{document}\n")
    with pytest.raises(WorksheetError) as err:
        build_worksheet(tmp_path, name="bad")
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'bad.tex'}: LaTeX failed: Undefined control sequence")
    assert "\n" not in message and not (tmp_path / "bad.pdf").exists()


def test_without_tex_nothing_is_built_and_the_hint_is_returned(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    result = build_worksheet(tmp_path / "out")
    assert result == {"pdfs": [], "skipped": build_module.INSTALL_HINT}
    assert result["skipped"].startswith("TeX not installed: apt-get install") and "latexmk" in result["skipped"]
    assert not (tmp_path / "out").exists()
