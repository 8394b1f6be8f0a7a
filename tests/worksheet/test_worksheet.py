"""The question bank, the one-template worksheet / answer key, and their PDFs, worded per variant."""
import dataclasses
import re
import subprocess
import unicodedata
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import yaml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from worksheet import BankError, WorksheetError, build_worksheet, latex_escape, load_bank, notebook_questions, \
    questions_for, sections_for, total_points, variant_context, worksheet_questions  # noqa: E402
from worksheet import build as build_module  # noqa: E402
from worksheet.bank import PLACEHOLDERS, load_sections  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
WIKI_TOPICS = ["Basketball", "Machine learning", "Molecular biology", "Pure mathematics", "Quantum physics",
               "Renaissance art"]
BBC_SECTIONS = ["business", "entertainment", "politics", "sport", "tech"]
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
DIGITS = [f"digit {d}" for d in range(10)]   # cifar10's offline stand-in
# The contexts build.py makes: variant kind, hooked-layer width, the classes of the data actually used.
CONTEXTS = {
    "wikipedia": variant_context("text", 64, WIKI_TOPICS, "Wikipedia topics"),
    "bbc": variant_context("text", 64, BBC_SECTIONS, "BBC News"),
    "bbc_offline": variant_context("text", 64, WIKI_TOPICS, "BBC News"),   # bbc's stand-in: the six topics
    "cifar10": variant_context("image", 128, CIFAR_CLASSES, "CIFAR-10 images"),
    "cifar10_offline": variant_context("image", 128, DIGITS, "CIFAR-10 images"),
}
WIKI = CONTEXTS["wikipedia"]


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


def every_text(context) -> dict[str, str]:
    """Everything a variant's worksheet, key and notebook say in words, by where it comes from."""
    texts = {f"{q.id}.{part}": getattr(q, part) for q in questions_for(context) for part in ("prompt", "answer")}
    for n, section in enumerate(sections_for(context), start=1):
        texts[f"section {n} title"] = section["title"]
        for b, block in enumerate(section["body"], start=1):
            if isinstance(block, str) or "items" in block or "code" in block:   # not a figure's name
                value = block if isinstance(block, str) else block.get("code") or "\n".join(block["items"])
                texts[f"section {n} block {b}"] = value
    texts.update({f"caption {k}": build_module.fill(v, context) for k, v in build_module.RUN_CAPTIONS.items()})
    texts.update({f"figure {k}": build_module.fill(v, context) for k, v in build_module.FIGURE_WORDS.items()})
    return texts


@pytest.fixture(scope="module", params=["wikipedia", "cifar10"])
def built(request, tmp_path_factory):
    """The PDFs of two variants' contexts, a text one and an image one."""
    tmp = tmp_path_factory.mktemp(f"worksheet-{request.param}")
    figures = {"epoch_grid": stand_in_png(tmp / "grid.png", "grid"),
               "metrics": stand_in_png(tmp / "metrics.png", "metrics")}
    out = tmp / "out"
    context = CONTEXTS[request.param]
    result = build_worksheet(out, context, figures=figures, term="Spring 2027", name="ws")
    return out, result, context


# --- the bank -----------------------------------------------------------------------------------

def test_bank_has_seven_questions_worth_16_points_everywhere():
    bank = load_bank()
    assert len(bank) == 7 and total_points() == 16
    assert [q.points for q in bank] == [2, 2, 3, 2, 3, 2, 2]
    for context in CONTEXTS.values():
        assert [(q.id, q.points) for q in notebook_questions(context)] == [(q.id, q.points) for q in bank]
    assert all(set(q.appears_in) == {"worksheet", "notebook"} for q in bank)
    with pytest.raises(dataclasses.FrozenInstanceError):
        bank[0].points = 5


def test_epoch_zero_answer_reports_the_measurements():
    answer = next(q.answer for q in questions_for(WIKI) if q.id == "w4_epoch_zero")
    for fact in ("0.67 to 0.73", "0.17 to", "Johnson", "0.01 to 0.04", "0.43 to 0.53", "half true"):
        assert fact in answer
    image = next(q.answer for q in questions_for(CONTEXTS["cifar10"]) if q.id == "w4_epoch_zero")
    assert "chance level of 0.10" in image and "Johnson" in image and "half true" in image
    assert "0.67 to 0.73" not in image   # measured on text only


# --- worded per variant -------------------------------------------------------------------------

@pytest.mark.parametrize("name", CONTEXTS)
def test_every_placeholder_is_filled_for_every_variant(name):
    context = CONTEXTS[name]
    assert set(PLACEHOLDERS) <= set(context) and all(isinstance(v, str) and v for v in context.values())
    for where, text in every_text(context).items():
        assert text.strip() and "{" not in text and "}" not in text, (name, where, text)


@pytest.mark.parametrize("name", ["cifar10", "cifar10_offline"])
def test_image_variant_speaks_of_images_and_its_128_wide_layer(name):
    context = CONTEXTS[name]
    questions = questions_for(context)
    written = "\n".join(q.prompt + "\n" + q.answer for q in questions)
    assert "images" in written and "128" in written
    for q in questions:
        for word in ("TF-IDF", "article", "64-number", "64-d", "Wikipedia", "vocabulary"):
            assert word.lower() not in (q.prompt + q.answer).lower(), (q.id, word)
    # The same holds for the whole worksheet: sections, figure texts, captions.
    everything = "\n".join(every_text(context).values()).lower()
    assert not any(word in everything for word in ("tf-idf", "article", "wikipedia", "basketball", "64-dimensional"))
    # Example pairs come from the data actually used.
    w3 = next(q.prompt for q in questions if q.id == "w3_distance_changes")
    if name == "cifar10":
        assert "(for example frog and truck)" in w3 and "(for example cat and dog)" in w3
    else:
        assert "(for example digit 0 and digit 1)" in w3 and "digit 3 and digit 8" in w3
        assert not re.search(r"\b(cat|dog|truck|airplane)\b", written)


def test_bbc_speaks_of_its_own_sections_not_wikipedia_topics():
    context = CONTEXTS["bbc"]
    questions = {q.id: q for q in questions_for(context)}
    assert "(for example sport and tech)" in questions["w3_distance_changes"].prompt
    assert "(for example business and politics)" in questions["w3_distance_changes"].prompt
    assert "business and politics" in questions["w7_lasting_overlap"].answer
    assert "economy, tax, government" in questions["w3_distance_changes"].answer
    texts = every_text(context)
    assert any("business, entertainment, politics, sport and tech" in t for t in texts.values())
    for where, text in texts.items():
        for topic in WIKI_TOPICS + ["theorem", "Wikipedia topics"]:
            assert topic.lower() not in text.lower(), (where, topic)


def test_offline_stand_in_examples_follow_the_classes_actually_used():
    """bbc built offline uses the six Wikipedia topics, so its examples name those, not BBC sections."""
    w3 = next(q.prompt for q in questions_for(CONTEXTS["bbc_offline"]) if q.id == "w3_distance_changes")
    assert "Basketball and Molecular biology" in w3 and "Machine learning and Pure mathematics" in w3
    assert "business" not in w3 and "sport" not in w3


def test_wikipedia_keeps_its_wording():
    q = {q.id: q for q in questions_for(WIKI)}
    assert q["w1_sparse_vs_dense"].prompt.startswith("Before the network sees an article, we turn it into a TF-IDF")
    assert "compared with the 64-number dense embedding" in q["w1_sparse_vs_dense"].prompt
    assert q["w2_penultimate_layer"].prompt.startswith("Our hook records the 64-dimensional layer")
    assert ("articles of unrelated topics (for example Basketball and Molecular biology)"
            in q["w3_distance_changes"].prompt)
    assert "related topics (for example Machine learning and Pure mathematics)" in q["w3_distance_changes"].prompt
    assert "function, theorem, probability, model" in q["w3_distance_changes"].answer
    assert "N x 64 numbers" in q["w5_detach"].answer and "ten full-batch steps" in q["w6_high_learning_rate"].answer
    assert "Machine learning and Pure mathematics" in q["w7_lasting_overlap"].answer
    assert q["w7_lasting_overlap"].prompt.startswith("Name two topics (in the variant you ran)")


def test_example_pairs_fall_back_to_the_first_classes_deterministically():
    context = variant_context("image", 32, ["zebra", "apple", "kiwi"], "Fruit and zebras")
    assert (context["pair_a"], context["pair_b"]) == ("zebra", "apple")
    assert (context["far_a"], context["far_b"]) == ("zebra", "kiwi")
    assert context["n_classes"] == "three" and context["chance"] == "0.33" and context["dim"] == "32"
    assert context["classes"] == "zebra, apple and kiwi"
    assert variant_context("image", 32, ["zebra", "apple", "kiwi"], "Fruit and zebras") == context


@pytest.mark.parametrize("args, message", [
    (("audio", 64, BBC_SECTIONS, "T"), "kind must be one of text, image, got 'audio'"),
    (("text", 0, BBC_SECTIONS, "T"), "dim must be a positive integer, got 0"),
    (("text", 64, ["only"], "T"), "class_names must be two or more distinct names"),
])
def test_bad_variant_context_is_one_line(args, message):
    with pytest.raises(BankError, match=re.escape(message)):
        variant_context(*args)


def test_questions_need_a_full_context():
    with pytest.raises(BankError, match=r"^worksheet context: missing .*pair_a"):
        notebook_questions({"kind": "text", "dim": "64"})


GOOD = {"id": "q", "points": 2, "prompt": "Why?", "answer": "Because.", "appears_in": ["worksheet"]}


@pytest.mark.parametrize("entries, message", [
    ([{k: v for k, v in GOOD.items() if k != "answer"}], "entry 1 (q): missing field answer"),
    ([GOOD, dict(GOOD)], "entry 2 (q): duplicate id 'q'"),
    ([dict(GOOD, points=0)], "entry 1 (q): points must be a positive number, got 0"),
    ([dict(GOOD, points=-1.5)], "points must be a positive number, got -1.5"),
    ([dict(GOOD, appears_in=["worksheet", "exam"])], "entry 1 (q): unknown appears_in 'exam'"),
    ({"q": GOOD}, "expected a non-empty list of entries"),
    ([dict(GOOD, prompt="Why {thing}?")], "entry 1 (q): prompt unknown placeholder {thing} (known: variant, item"),
    ([dict(GOOD, answer={"text": "Because."})], "entry 1 (q): answer must be text or a mapping with exactly the keys "
                                                 "text, image, got keys text"),
    ([dict(GOOD, answer={"text": "Because.", "image": " "})], "entry 1 (q): answer image must be non-empty text"),
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
    assert [s["title"] for s in sections_for(CONTEXTS["cifar10"])] == titles


@pytest.mark.parametrize("body, message", [
    (["A {gizmo} here."], "section 1 (S): block 1: unknown placeholder {gizmo}"),
    ([{"text": "Only text."}], "section 1 (S): block 1: expected text, a text/image mapping or one of items"),
    ([{"items": ["ok", {"text": "a", "image": ""}]}], "section 1 (S): block 1: items item 2 image must be non-empty"),
    ([{"code": {"text": "x = 1"}}], "section 1 (S): block 1: code must be text or a mapping with exactly the keys"),
    ([{"figure": "umap"}], "section 1 (S): block 1: figure must be one of mlp, clusters, timeline, got 'umap'"),
])
def test_bad_sections_are_rejected_with_one_line(tmp_path, body, message):
    path = tmp_path / "sections.yaml"
    path.write_text(yaml.safe_dump([{"title": "S", "body": body}]))
    with pytest.raises(BankError) as err:
        load_sections(path)
    text = str(err.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


# --- escaping -----------------------------------------------------------------------------------

def test_latex_escape_specials_and_inline_code():
    assert latex_escape("50% of $5 & #1_a {b}") == r"50\% of \$5 \& \#1\_a \{b\}"
    assert latex_escape("call `x_1.detach()` now") == r"call \texttt{x\symbol{95}1.detach()} now"
    assert latex_escape('a "quoted" word') == "a ``quoted'' word"
    assert latex_escape("a ` stray") == "a ` stray"


# --- the PDFs -----------------------------------------------------------------------------------

def test_both_pdfs_build_with_the_figures_beside_them(built):
    out, result, _ = built
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
    out, _, context = built
    text = pdf_text(out / "ws.pdf")
    flat = words(text)
    assert "Spring 2027" in text and "answer key" not in text.lower()
    assert words(f"Variant: {context['variant']}") in flat
    for q in worksheet_questions(context):
        assert words(q.prompt) in flat, q.id
        # No sentence of any answer may leak into the student sheet.
        for sentence in re.split(r"(?<=[.:])\s+", q.answer):
            if len(words(sentence)) >= 30:
                assert words(sentence) not in flat, (q.id, sentence)


def test_answer_key_has_every_answer_marked(built):
    out, _, context = built
    text = pdf_text(out / "ws_solutions.pdf")
    flat = words(text)
    bank = worksheet_questions(context)
    for q in bank:
        assert words(q.prompt) in flat and words(q.answer) in flat, q.id
    assert text.count("Answer key.") == len(bank)    # the label on each answer
    if context["kind"] == "image":   # the whole key, sections and figures included, speaks of images
        assert "128" in text and not any(w in text.lower() for w in ("tf-idf", "article", "wikipedia"))
    else:
        assert "TF-IDF" in text and "Basketball and Molecular biology" in " ".join(text.split())


def test_a_figure_not_passed_is_left_out_with_a_sentence():
    tex = build_module.render(False, WIKI, {"metrics": "metrics.png"}, "T", "C", "Fall 2026")
    assert tex.count(r"\includegraphics") == 1 and "{metrics.png}" in tex
    assert "grid of the 11 epoch snapshots from the reference run is not part of this build" in tex


def test_unknown_or_missing_figure_is_rejected(tmp_path):
    with pytest.raises(WorksheetError, match="unknown figure 'umap'"):
        build_worksheet(tmp_path / "out", WIKI, figures={"umap": tmp_path / "x.png"})
    with pytest.raises(WorksheetError, match=r"nope\.png: figure 'metrics' not found"):
        build_worksheet(tmp_path / "out", WIKI, figures={"metrics": tmp_path / "nope.png"})
    assert not (tmp_path / "out").exists()


def test_latex_error_is_one_line_with_the_tex_path(tmp_path, monkeypatch):
    monkeypatch.setattr(build_module, "render",
                        lambda *a, **k: "\\documentclass{article}\\begin{document}\\nosuchmacro\\end{document}\n")
    with pytest.raises(WorksheetError) as err:
        build_worksheet(tmp_path, WIKI, name="bad")
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'bad.tex'}: LaTeX failed: Undefined control sequence")
    assert "\n" not in message and not (tmp_path / "bad.pdf").exists()


def test_without_tex_nothing_is_built_and_the_hint_is_returned(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    result = build_worksheet(tmp_path / "out", WIKI)
    assert result == {"pdfs": [], "skipped": build_module.INSTALL_HINT}
    assert result["skipped"].startswith("TeX not installed: apt-get install") and "latexmk" in result["skipped"]
    assert not (tmp_path / "out").exists()


# --- the release step ---------------------------------------------------------------------------

@pytest.mark.slow   # tens of seconds (a release or a kernel run to its limits): the full tier
def test_release_step_builds_one_worded_pair_per_released_variant(tmp_path):
    """build.py's worksheet step: a folder per variant whose snapshot was shipped, worded for the classes
    in that snapshot (here cifar10's offline digits), with that variant's own run figures."""
    from assignment.config import load_config
    from replab.corpus import Corpus
    from autograder import release
    out = tmp_path / "dist"
    Corpus(name="bbc", titles=["a", "b"], labels=["sport", "tech"], texts=["goal", "chip"]).save(
        out / "bbc/student/data/bbc.npz")
    Corpus(name="cifar10", titles=["x", "y"], labels=DIGITS[:2], images=np.zeros((2, 32, 32, 3), np.uint8)).save(
        out / "cifar10/student/data/cifar10.npz")
    (out / "cifar10/solutions").mkdir(parents=True)
    stand_in_png(out / "cifar10/solutions/epoch_grid.png", "grid")
    (out / "worksheet").mkdir()
    (out / "worksheet" / "lab8_worksheet.pdf").write_text("stale, from the old one-for-all layout")

    record = release.build_worksheet_step(load_config(), out)

    assert record["skipped"] is None and sorted(record["variants"]) == ["bbc", "cifar10"]
    assert record["pdfs"] == [f"worksheet/{v}/lab8_worksheet{s}.pdf" for v in ("bbc", "cifar10") for s in ("", "_solutions")]
    assert not (out / "worksheet" / "lab8_worksheet.pdf").exists() and not (out / "worksheet" / "wikipedia").exists()
    assert record["variants"]["cifar10"]["figures"] == ["epoch_grid"] and record["variants"]["bbc"]["figures"] == []
    assert record["variants"]["cifar10"]["context"]["pair_a"] == "digit 0"
    digits = pdf_text(out / "worksheet/cifar10/lab8_worksheet_solutions.pdf")
    assert "digit 0 and digit 1" in " ".join(digits.split()) and "TF-IDF" not in digits
    bbc = " ".join(pdf_text(out / "worksheet/bbc/lab8_worksheet.pdf").split())
    assert "sport and tech" in bbc and "Basketball" not in bbc
