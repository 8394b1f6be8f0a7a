"""Every page of a custom variant is worded from that variant's data, with nothing borrowed from the shipped ones.

Two variants an instructor might add — a 3-class `textdir` corpus and an `imagefolder` of transparent PNG
icons drawn here with PIL — are taken through the release's own data and render steps (the snapshot, the
calibration lookup, the master notebook) and its worksheet step, with a calibration entry written here the
way `build.py calibrate` writes it (measured ranges, pairs; the icons `forced`). Nothing is executed and no
LaTeX runs: the pages checked are the notebook's markdown and the worksheet's and key's .tex sources.
"""
import re
import shutil

import pytest

from assignment.config import CONFIG_PATH, load_config
from autograder import release
from autograder.contract import snapshot_name
from autograder.release.calibrate import write_calibration
from worksheet import build as build_module

TEXT_CLASSES = {   # folder names = class names; each class its own words, all of them common filler
    "glaciers": "ice crevasse moraine meltwater firn icefall snowline calving serac cirque",
    "volcanoes": "lava magma crater ash eruption caldera vent basalt tephra fumarole",
    "deserts": "dune sand oasis mirage arid cactus camel wadi erg scorpion",
}
FILLER = "the a of and to in is was for on with as by that this from it".split()
ICONS = ("ring", "square", "triangle", "cross")

# What only the shipped variants may say: their classes and stand-ins, their sources and example words, the
# numbers measured on their data, their widths, and a six-class count. None of it fits these two variants.
SHIPPED_NAMES = ["Basketball", "Machine learning", "Molecular biology", "Pure mathematics", "Quantum physics",
                 "Renaissance art", "business", "entertainment", "politics", "sport", "tech",
                 "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
SHIPPED_WORDS = ["Wikipedia", "BBC", "CIFAR", "MediaWiki", "theorem", "economy", "minister", "four-legged",
                 "wheeled", "enzyme", "fresco", "six"]
SHIPPED_NUMBERS = ["0.67", "0.73", "0.17", "0.20", "0.43", "0.53", "0.01", "0.04", "1000", "256", "128"]
FORBIDDEN = ([rf"\b{re.escape(w)}\b" for w in SHIPPED_NAMES + SHIPPED_WORDS] + [r"\bdigit \d"]
             + [rf"(?<![\d.]){re.escape(n)}(?![\d])" for n in SHIPPED_NUMBERS])

# What calibrate would have recorded (numbers chosen apart from every shipped one). The pairs are neither
# the first two classes nor the first and last, so they can only come from the calibration entry.
MEASURED = {
    "text": {"silhouette_epoch0": {"mean": 0.06, "min": 0.05, "max": 0.08},
             "silhouette_last": {"mean": 0.32, "min": 0.29, "max": 0.36},
             "knn_accuracy_epoch0": {"mean": 0.61, "min": 0.58, "max": 0.64},
             "knn_accuracy_last": {"mean": 0.91, "min": 0.88, "max": 0.95}, "knn_k": 5, "knn_chance": 0.333},
    "image": {"silhouette_epoch0": {"mean": 0.025, "min": 0.02, "max": 0.03},
              "silhouette_last": {"mean": 0.045, "min": 0.03, "max": 0.06},
              "knn_accuracy_epoch0": {"mean": 0.32, "min": 0.3, "max": 0.35},
              "knn_accuracy_last": {"mean": 0.37, "min": 0.34, "max": 0.41}, "knn_k": 5, "knn_chance": 0.25},
}
PAIRS = {"text": {"related": ["glaciers", "volcanoes"], "unrelated": ["deserts", "glaciers"]},
         "image": {"related": ["ring", "triangle"], "unrelated": ["cross", "square"]}}


def write_notes(root, per_class=12):
    import numpy as np
    rng = np.random.default_rng(5)
    for label, words in TEXT_CLASSES.items():
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            body = [rng.choice(words.split()) if rng.random() < 0.4 else rng.choice(FILLER) for _ in range(40)]
            (root / label / f"{label} {i:02d}.txt").write_text(" ".join(body) + ".", encoding="utf-8")


def write_icons(root, per_class=10):
    """Transparent RGBA PNG icons, one shape per class in a colour of its own, at shifting places."""
    from PIL import Image, ImageDraw
    colours = {"ring": (220, 60, 30, 255), "square": (30, 120, 220, 255), "triangle": (40, 170, 70, 255),
               "cross": (150, 60, 180, 255)}
    for label in ICONS:
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            img = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
            d, o = ImageDraw.Draw(img), 4 + i % 6
            box = (o, o, o + 24, o + 24)
            if label == "ring":
                d.ellipse(box, outline=colours[label], width=5)
            elif label == "square":
                d.rectangle(box, fill=colours[label])
            elif label == "triangle":
                d.polygon([(o + 12, o), (o, o + 24), (o + 24, o + 24)], fill=colours[label])
            else:
                d.rectangle((o + 9, o, o + 15, o + 24), fill=colours[label])
                d.rectangle((o, o + 9, o + 24, o + 15), fill=colours[label])
            img.save(root / label / f"{label}_{i:02d}.png")


def write_run_csv(path, corpus):
    """A Mantis CSV as the reference run writes it: epoch 0 mixed, epoch 10 one tight group per class."""
    import numpy as np
    from replab.mantis import write_mantis_csv
    rng = np.random.default_rng(1)
    ids = np.array([corpus.class_names.index(c) for c in corpus.labels])
    centres = np.eye(4)[ids] * 10
    embeddings = np.stack([rng.normal(size=(len(ids), 4)) + centres * e / 10 for e in range(11)]).astype(np.float32)
    path.parent.mkdir(parents=True)
    write_mantis_csv(path, corpus.titles, list(corpus.labels), ["train"] * len(ids), corpus.titles, embeddings)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """{variant: {"notebook": markdown of the master notebook, "worksheet": .tex, "key": .tex}} of both custom
    variants, and the loaded config."""
    tmp = tmp_path_factory.mktemp("own-words")
    write_notes(tmp / "notes")
    write_icons(tmp / "icons")
    config = tmp / "config.yaml"
    config.write_text(CONFIG_PATH.read_text(encoding="utf-8").rstrip("\n") + """
  landforms:
    kind: text
    title: Landform notes
    source: {type: textdir, path: notes}
    hidden: [64, 16]
    max_features: 300
    lr: 0.01
    batch_size: 0
  icons:
    kind: image
    title: Flat icons
    source: {type: imagefolder, path: icons}
    hidden: [32]
    lr: 0.003
    batch_size: 16
""", encoding="utf-8")
    out = tmp / "dist"
    cfg = load_config(config)
    from assignment.sources import load_variant_corpus
    for name, kind, forced in (("landforms", "text", False), ("icons", "image", True)):
        corpus = load_variant_corpus(cfg, cfg.variant(name), cache_dir=out / ".cache", live=False)
        entry = {"source": corpus.source, "seeds": 5, "silhouette_last": [0.3, 0.02, 0.29], "gain": [0.25, 0.02, 0.22],
                 "silhouette_min": 0.145, "silhouette_gain_min": 0.11, "measured": MEASURED[kind],
                 "pairs": PAIRS[kind], **({"forced": True} if forced else {})}
        write_calibration(config, name, corpus.digest(), entry)
    cfg = load_config(config)
    result = {}
    for name in ("landforms", "icons"):
        b = release.Build(cfg=cfg, variant=cfg.variant(name), out=out, data_dir=None, live=False, timeout=60)
        b.work, b.dest = out / ".work" / name, out / name
        b.work.mkdir(parents=True)
        release.step_data(b)     # the snapshot, and its calibration entry looked up by the data's digest
        release.step_render(b)   # the master notebook, its written questions worded for the data
        published = out / name / "student" / snapshot_name(name)
        published.parent.mkdir(parents=True)
        shutil.copyfile(b.snapshot, published)
        if name == "landforms":   # a reference run's CSV beside it: the clusters figure is drawn from its points
            write_run_csv(out / name / "solutions" / cfg.csv_name, b.corpus)
        import nbformat
        nb = nbformat.read(b.master, as_version=4)
        result[name] = {"notebook": "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")}
    # The release's worksheet step, its .tex sources written and LaTeX left out (the PDFs are looked at by hand).
    mp = pytest.MonkeyPatch()
    mp.setattr(build_module.shutil, "which", lambda name: f"/usr/bin/{name}")
    mp.setattr(build_module, "_latexmk", lambda tex, files: tex.with_suffix(".pdf"))
    try:
        record = release.build_worksheet_step(cfg, out)
    finally:
        mp.undo()
    assert record["problems"] == [] and sorted(record["variants"]) == ["icons", "landforms"], record
    for name in result:
        folder = out / "worksheet" / name
        result[name]["worksheet"] = (folder / "lab8_worksheet.tex").read_text(encoding="utf-8")
        result[name]["key"] = (folder / "lab8_worksheet_solutions.tex").read_text(encoding="utf-8")
    return result


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("name", ["landforms", "icons"])
@pytest.mark.parametrize("page", ["notebook", "worksheet", "key"])
def test_no_page_borrows_a_shipped_variants_names_topics_or_numbers(pages, name, page):
    # the course's name (build_worksheet's default course_name) is the course's, not the shipped topic
    text = pages[name][page].replace("Introduction to Machine Learning", "")
    # the clusters figure's coordinates are the run's points, not words (0.17 may well be one of them)
    text = re.sub(r"\\DataPanel\{[^}]*\}\{[^}]*\}\{[^}]*\}", "", text)
    found = sorted({m.group() for pattern in FORBIDDEN for m in re.finditer(pattern, text, flags=re.IGNORECASE)})
    assert not found, f"{name} {page}: {found}"


def test_text_variant_pages_speak_of_its_three_topics_and_its_own_numbers(pages):
    worksheet, key, notebook = (flat(pages["landforms"][p]) for p in ("worksheet", "key", "notebook"))
    for page in (worksheet, key):
        assert "three topics (deserts, glaciers and volcanoes)" in page
        assert "{t1/90, t2/210, t3/330}" in page           # the sketch draws three groups
        # the clusters figure from the run's own CSV: 12 rows a class (at most 16), in the class's colour
        assert "The reference run's own articles: three topics (deserts, glaciers and volcanoes)" in page
        assert r"\ClusterPanel" not in page.split(r"\begin{document}")[1]
        after = re.search(r"\\DataPanel\{6\.2\}\{epoch 10\}\{([^}]*)\}", page).group(1).split(", ")
        assert sorted({p.split("/")[0] for p in after}) == ["t1", "t2", "t3"] and len(after) == 36
        assert "TF-IDF input\\\\300" in page and "hidden\\\\64" in page   # its own widths in the network figure
    # pairs from the reference run, not the first classes by name
    related, unrelated = "(for example glaciers and volcanoes)", "(for example deserts and glaciers)"
    for page in (worksheet, key, notebook):
        assert related in page and unrelated in page
    for fact in ("already 0.58 to 0.64, against a chance level of 0.33",
                 "global structure: the held-out silhouette is 0.05 to 0.08, so",
                 "silhouette to 0.29 to 0.36 by the last epoch", "neighbour accuracy to 0.88 to 0.95",
                 "vectors have the most in common of any two topics here (the reference run leaves their centroids closest)", "we cap it at 300 terms", "300 x 64 here"):
        assert fact in key, fact
    assert "Hard to separate" not in key


def test_forced_image_variant_pages_speak_of_its_icons_and_the_key_says_hard_to_separate(pages):
    worksheet, key, notebook = (flat(pages["icons"][p]) for p in ("worksheet", "key", "notebook"))
    for page in (worksheet, key):
        assert "four classes (cross, ring, square and triangle)" in page
        assert "penultimate\\\\32" in page
        # no run CSV: a sketch of its four classes, whose epoch 10 stays mostly mixed (calibrated with --force)
        assert "{t1/90, t2/180, t3/270, t4/0}" in page and "A sketch, not data: four classes" in page
        assert r"\ClusterPanel{6.2}{0.9}{0.6}{epoch 10}" in page
    for page in (worksheet, key, notebook):
        assert "(for example ring and triangle)" in page and "(for example cross and square)" in page
    assert "chance level of 0.25" in key and "0.30 to 0.35" in key and "0.03 to 0.06" in key
    assert "same image shifted by a few pixels" in key
    # calibrated with --force: the notebook's intro and now the key say so; the student sheet does not
    assert "hard to separate" in notebook
    # (set in typewriter: in roman type LaTeX would print the two hyphens as one dash)
    note = r"Hard to separate: this variant's data was calibrated with \texttt{--force}"
    assert key.count(note) == 2 and "Hard to separate" not in worksheet


def test_calibrate_chooses_the_nearest_and_farthest_classes():
    import numpy as np
    from autograder.release.calibrate import choose_pairs, class_distances
    centres = {"a": [0, 0], "b": [10, 0], "c": [11, 0], "d": [0, 30]}   # b-c nearest, c-d farthest
    rng = np.random.default_rng(0)
    labels = [c for c in centres for _ in range(20)]
    x = np.array([centres[c] for c in labels], float) + rng.normal(scale=0.3, size=(80, 2))
    distances = class_distances(x, labels, list(centres))
    assert choose_pairs(distances, list(centres)) == {"related": ["b", "c"], "unrelated": ["c", "d"]}
    # scaled activations give the same distances: runs that grew by different amounts average fairly
    assert np.allclose(class_distances(5 * x, labels, list(centres)), distances)


def test_a_variants_own_pairs_override_calibration_and_a_wrong_name_is_one_line():
    from types import SimpleNamespace

    from worksheet import BankError, context_for
    variant = SimpleNamespace(name="landforms", kind="text", embedding_dim=16, title="Landform notes",
                              max_features=300, hidden=(64, 16), pairs={"related": ("deserts", "volcanoes")},
                              batch_size=0)
    calibration = SimpleNamespace(measured={}, pairs={"related": ("glaciers", "volcanoes"),
                                                      "unrelated": ("deserts", "glaciers")},
                                  forced=False, silhouette_last=None, seeds=5)
    context = context_for(variant, list(TEXT_CLASSES), calibration)
    assert (context["pair_a"], context["pair_b"]) == ("deserts", "volcanoes")      # the block's own
    assert (context["far_a"], context["far_b"]) == ("deserts", "glaciers")        # the calibration's
    assert "0." not in context["facts_epoch0"].replace("0.33", "")                # no measured: no number but chance
    assert context["steps"] == "ten full-batch steps" and "one full-batch Adam step" in context["epoch_motion"]
    variant.batch_size = 16   # a text variant trained in mini-batches says so
    context = context_for(variant, list(TEXT_CLASSES), calibration)
    assert context["steps"] == "ten epochs of mini-batch steps" and context["full_batch"] == "no"
    assert context["epoch_motion"].startswith("Here an epoch is one pass over the training articles in mini-batches")
    variant.pairs = {"related": ("deserts", "tundra")}
    with pytest.raises(BankError, match=r"^variants\.landforms\.pairs\.related: 'tundra' is not a class of this "
                                        r"data \(classes: glaciers, volcanoes, deserts\)$"):
        context_for(variant, list(TEXT_CLASSES), calibration)


@pytest.mark.parametrize("block, message", [
    ("    pairs: {related: [glaciers]}\n", "variants.landforms.pairs.related: must be two different class names [a, b], "
                                          "got ['glaciers']"),
    ("    pairs: {nearest: [a, b]}\n", "variants.landforms.pairs: unknown key(s) nearest (allowed: related, unrelated)"),
])
def test_a_bad_pairs_block_is_one_line_naming_the_key(tmp_path, block, message):
    from assignment.config import ConfigError
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG_PATH.read_text(encoding="utf-8").rstrip("\n") + """
  landforms:
    kind: text
    title: Landform notes
    source: {type: textdir, path: notes}
    hidden: [64, 16]
    lr: 0.01
    batch_size: 0
""" + block, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}: {message}"
