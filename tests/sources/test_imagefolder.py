"""type: imagefolder — small PNG/JPEG pictures written here with PIL, in torchvision's ImageFolder layout."""
import numpy as np
import pytest
from PIL import Image

from assignment.sources import load_corpus
from replab.corpus import DataError

COLOURS = {"blue": (20, 40, 220), "red": (220, 30, 30)}


def picture(path, colour, size=(48, 40), mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).convert(mode).save(path)


def write(root, per_class=3):
    for label, colour in COLOURS.items():
        for i in range(per_class):
            picture(root / label / f"{label}_{i}.png", colour)
    return root


def load(root, **block):
    return load_corpus("shapes", "image", {"type": "imagefolder", "path": str(root), **block}, live=False)


def test_pictures_become_32x32_rgb_with_labels_and_titles(tmp_path):
    root = write(tmp_path / "shapes")
    picture(root / "red" / "grey.jpg", (200, 200, 200), size=(64, 64), mode="L")   # grey JPEG: RGB too
    (root / "red" / "notes.txt").write_text("not a picture")
    (root / "red" / "._red_0.png").write_bytes(b"macOS resource fork, not a picture")
    (root / ".ipynb_checkpoints").mkdir()
    corpus = load(root)
    assert corpus.images.shape == (7, 32, 32, 3) and corpus.images.dtype == np.uint8
    assert corpus.labels == ["blue"] * 3 + ["red"] * 4
    assert corpus.titles == ["blue_0", "blue_1", "blue_2", "grey", "red_0", "red_1", "red_2"]
    assert tuple(corpus.images[0, 16, 16]) == COLOURS["blue"] and tuple(corpus.images[-1, 0, 0]) == COLOURS["red"]
    assert np.abs(corpus.images[3].astype(int) - 200).max() <= 2     # JPEG rounding
    assert corpus.source == f"path {root}" and corpus.meta["origin"] == "path" and corpus.kind == "image"


def test_per_class_and_data_dir(tmp_path, capsys):
    write(tmp_path / "data" / "shapes", per_class=4)
    corpus = load_corpus("shapes", "image", {"type": "imagefolder", "path": "gone", "per_class": 2},
                         data_dir=tmp_path / "data", live=False)
    assert corpus.counts() == {"blue": 2, "red": 2} and corpus.titles[:2] == ["blue_0", "blue_1"]
    assert corpus.source == f"data-dir {tmp_path / 'data' / 'shapes'}" and capsys.readouterr().out == ""


def test_a_class_without_pictures_names_its_folder(tmp_path):
    root = write(tmp_path / "shapes")
    (root / "green").mkdir()
    (root / "green" / "readme.txt").write_text("no pictures here")
    with pytest.raises(DataError, match=r"shapes/green: no pictures in this class folder"):
        load(root)


def test_one_class_is_not_enough(tmp_path):
    picture(tmp_path / "shapes" / "red" / "a.png", COLOURS["red"])
    with pytest.raises(DataError, match=r"shapes: 1 class folder\(s\) \(red\); need at least 2"):
        load(tmp_path / "shapes")


def test_a_broken_picture_names_the_file(tmp_path):
    root = write(tmp_path / "shapes")
    (root / "red" / "red_1.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(DataError, match=r"red/red_1.png: not a readable picture"):
        load(root)


def test_a_missing_folder_falls_back_to_digits(tmp_path, capsys):
    corpus = load(tmp_path / "nowhere", offline="digits")
    assert corpus.meta["origin"] == "offline" and corpus.images.shape == (1797, 32, 32, 3)
    assert capsys.readouterr().out == (f"shapes: source path skipped (no folder {tmp_path / 'nowhere'}); "
                                       "using the offline default\n")
