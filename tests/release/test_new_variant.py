"""An instructor adds variants of their own: a config block and data, nothing else.

Two new variants — a `textdir` corpus (one folder of .txt files per class) and an `imagefolder` one
(one folder of pictures per class) — are written here, added to a copy of the config, refused by the
release until calibrated, calibrated, and released: the solution scores full marks, the blank
notebook 0, and the student folder leaks nothing.
"""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assignment.config import CONFIG_PATH, load_config

ROOT = Path(__file__).resolve().parents[2]

# Each class talks about its own things; every document also carries common filler words.
VOCABULARY = {
    "astronomy": "star galaxy orbit telescope planet comet nebula eclipse lunar solar cosmic meteor",
    "cooking": "recipe oven flour butter simmer garlic onion bake saucepan spice dough roast",
    "sailing": "boat sail harbor wind mast keel anchor tide regatta hull rudder starboard",
    "chess": "pawn bishop knight rook castle checkmate gambit opening endgame queen board tournament",
}
FILLER = "the a of and to in is was for on with as by that this from it".split()


def write_textdir(root: Path, per_class: int = 36) -> Path:
    rng = np.random.default_rng(7)
    for label, words in VOCABULARY.items():
        folder = root / label
        folder.mkdir(parents=True)
        words = words.split()
        for i in range(per_class):
            body = [rng.choice(words) if rng.random() < 0.35 else rng.choice(FILLER) for _ in range(60)]
            (folder / f"{label} note {i:02d}.txt").write_text(" ".join(body).capitalize() + ".", encoding="utf-8")
    return root


def write_imagefolder(root: Path, per_class: int = 40) -> Path:
    from PIL import Image
    rng = np.random.default_rng(3)
    colours = {"red_disc": (200, 40, 40), "green_bar": (40, 180, 60), "blue_ring": (50, 70, 210)}
    yy, xx = np.mgrid[0:48, 0:48]
    for label, colour in colours.items():
        folder = root / label
        folder.mkdir(parents=True)
        for i in range(per_class):
            cy, cx = rng.integers(16, 32, size=2)
            r = np.hypot(yy - cy, xx - cx)
            mask = {"red_disc": r < 10, "green_bar": abs(xx - cx) < 5, "blue_ring": (r > 8) & (r < 13)}[label]
            pixels = rng.integers(0, 60, size=(48, 48, 3))
            pixels[mask] = colour
            Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{label}_{i:02d}.png")  # 48×48: sources resize
    return root


@pytest.fixture(scope="module")
def new_config(tmp_path_factory):
    """A copy of the shipped config with two more blocks, and their data beside it."""
    tmp = tmp_path_factory.mktemp("course")
    write_textdir(tmp / "notes")
    write_imagefolder(tmp / "shapes")
    # `variants:` is the config's last section: an instructor's new blocks go at its end, as text
    blocks = f"""
  notes:
    kind: text
    title: Hobby notes
    source: {{type: textdir, path: notes}}        # relative to the config file
    hidden: [64, 16]
    max_features: 300
    lr: 0.01
    batch_size: 0
  shapes:
    kind: image
    title: Coloured shapes
    source: {{type: imagefolder, path: {tmp / 'shapes'}}}
    hidden: [32]
    lr: 0.003
    batch_size: 32
"""
    path = tmp / "config.yaml"
    path.write_text(CONFIG_PATH.read_text(encoding="utf-8").rstrip("\n") + "\n" + blocks, encoding="utf-8")
    return path


def _build(*args, timeout=900):
    return subprocess.run([sys.executable, "build.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_a_new_text_and_image_variant_from_config_and_data_alone(new_config, tmp_path):
    out = tmp_path / "dist"
    # Not calibrated yet: the release refuses at its first step, naming the key and the command to run.
    proc = _build("--config", str(new_config), "--variant", "notes", "--out", str(out), "--offline")
    assert proc.returncode == 1
    assert "variants.notes.calibration: no separation thresholds for this data" in proc.stderr
    assert "python build.py calibrate --variant notes" in proc.stderr
    assert (out / ".work" / "notes").is_dir()                     # kept for the messages to point into
    record = json.loads((out / "release.json").read_text())["variants"]["notes"]
    assert list(record["seconds"]) == ["data"] and record["problems"][0].startswith("data: ")

    proc = _build("calibrate", "--config", str(new_config), "--variant", "notes", "--variant", "shapes", "--offline")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout.count("seed 5/5") == 2
    cfg = load_config(new_config)
    for name in ("notes", "shapes"):
        (thresholds,) = cfg.variant(name).calibration.values()
        assert thresholds.seeds == 5 and thresholds.silhouette_min > 0, name
        assert abs(thresholds.silhouette_min - 0.5 * thresholds.silhouette_last[2]) <= 0.001   # half the weakest run
        # what the worksheet will quote: the measured ranges, and the reference run's nearest and farthest classes
        assert thresholds.measured["knn_chance"] == round(1 / (4 if name == "notes" else 3), 3), name
        assert set(thresholds.pairs) == {"related", "unrelated"}, name
    assert "# The assignment as the course runs it." in new_config.read_text()   # its comments are kept

    proc = _build("--config", str(new_config), "--variant", "notes", "--variant", "shapes", "--out", str(out),
                  "--offline", "--jobs", "2")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    release = json.loads((out / "release.json").read_text())
    for name in ("notes", "shapes"):
        r = release["variants"][name]
        assert r["solution"]["score"] == r["solution"]["possible"] == 10, name
        assert r["blank"]["score"] == 0 and r["leaks"] == [], name
        assert list(r["seconds"]) == ["data", "render", "assign", "execute", "verify", "mutate", "publish"]
        assert (out / name / "student" / f"lab8_{name}.ipynb").is_file()
        assert (out / name / "autograder" / f"lab8_{name}_autograder.zip").is_file()
    notebook = (out / "notes" / "student" / "lab8_notes.ipynb").read_text()
    assert "Hobby notes" in notebook and "TextMLP" in notebook
    assert "ImageCNN" in (out / "shapes" / "student" / "lab8_shapes.ipynb").read_text()
    assert not (out / ".work").exists()   # every step passed: the work folder is gone
    # the answer key is worded from the notes' own data: its four topics and the pairs calibrate chose
    key = " ".join((out / "worksheet" / "notes" / "lab8_worksheet_solutions.tex").read_text().split())
    (notes,) = cfg.variant("notes").calibration.values()
    assert "four topics (astronomy, chess, cooking and sailing)" in key and "chance level of 0.25" in key
    assert f"(for example {' and '.join(notes.pairs['related'])})" in key and "Wikipedia" not in key
