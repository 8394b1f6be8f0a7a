"""Separation metrics, the PNG pictures and the offline HTML viewer, on synthetic embeddings."""
import json
import re

import matplotlib.colors
import matplotlib.image
import numpy as np
import pytest

from replab.metrics import epoch_metrics
from replab.plots import plot_epoch_grid, plot_metrics, project_epochs
from replab.mantis import write_mantis_csv
from replab.viewer import write_viewer_for_csv, write_viewer_html

CLASSES = ["Art", "Biology", "History", "Music"]


def separating(n=240, dim=16, epochs=11, seed=0):
    """Embeddings whose classes drift apart from pure noise (epoch 0) to well separated (last epoch)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(CLASSES), n)
    centres = rng.standard_normal((len(CLASSES), dim)) * 4
    noise = rng.standard_normal((n, dim))
    embeddings = np.stack([noise + centres[y] * e / (epochs - 1) for e in range(epochs)]).astype(np.float32)
    return embeddings, [CLASSES[i] for i in y], rng.random(n) < 0.25


def test_metrics_rise_as_classes_separate():
    embeddings, labels, is_test = separating()
    table = epoch_metrics(embeddings, labels, is_test, k=5)
    assert list(table.columns) == ["epoch", "split", "silhouette", "knn_accuracy", "centroid_distance"]
    assert len(table) == 22 and sorted(set(table["split"])) == ["test", "train"]
    assert table.groupby("epoch").size().tolist() == [2] * 11
    for split in ("train", "test"):
        rows = table[table["split"] == split].sort_values("epoch")
        first, last = rows.iloc[0], rows.iloc[-1]
        assert abs(first["silhouette"]) < 0.1 and last["silhouette"] > 0.4
        assert first["knn_accuracy"] < 0.5 and last["knn_accuracy"] > 0.95  # chance is 0.25
        assert np.all(np.diff(rows["centroid_distance"]) > 0)
        assert np.corrcoef(rows["epoch"], rows["silhouette"])[0, 1] > 0.9


def test_centroid_distance_and_silhouette_by_hand():
    # Two classes per split, points exactly at centroids (0,0) and (3,4): distance 5, silhouette 1.
    points = np.array([[0, 0], [0, 0], [3, 4], [3, 4], [0, 0], [3, 4]], dtype=np.float32)
    labels = ["a", "a", "b", "b", "a", "b"]
    is_test = np.array([False, False, False, False, True, True])
    table = epoch_metrics(points[None], labels, is_test, k=1).set_index("split")
    assert table.loc["train", "centroid_distance"] == pytest.approx(5.0)
    assert table.loc["test", "centroid_distance"] == pytest.approx(5.0)
    assert table.loc["train", "silhouette"] == pytest.approx(1.0)
    assert table.loc["test", "knn_accuracy"] == 1.0 and table.loc["train", "knn_accuracy"] == 1.0


def test_train_knn_does_not_count_a_row_as_its_own_neighbour():
    rng = np.random.default_rng(3)
    noise = rng.standard_normal((1, 300, 8)).astype(np.float32)
    labels = rng.integers(0, 2, 300)  # labels unrelated to the points: honest accuracy is near 0.5
    table = epoch_metrics(noise, labels, np.zeros(300, bool), k=1)
    assert list(table["split"]) == ["train"]
    assert 0.3 < table["knn_accuracy"].iloc[0] < 0.7  # counting itself would give 1.0


def test_separation_becomes_a_column_with_one_value_per_epoch():
    embeddings, labels, is_test = separating(n=60, epochs=4)
    separation = np.array([0.4, 1.5, 2.5, 3.25])
    table = epoch_metrics(embeddings, labels, is_test, separation=separation)
    assert list(table.columns) == ["epoch", "split", "silhouette", "knn_accuracy", "centroid_distance", "separation"]
    assert table["separation"].tolist() == [0.4, 0.4, 1.5, 1.5, 2.5, 2.5, 3.25, 3.25]  # both splits of each epoch
    plain = epoch_metrics(embeddings, labels, is_test)
    assert table.drop(columns="separation").equals(plain)
    assert epoch_metrics(embeddings, labels, is_test, separation=list(separation)).equals(table)


@pytest.mark.parametrize("separation, message", [
    (np.ones(3), "separation has 3 values but the snapshots have 4 epochs: one value per epoch (0 … 3)"),
    (np.ones((4, 1)), "separation has shape (4, 1) but the snapshots have 4 epochs"),
    (2.0, "separation has a single number but the snapshots have 4 epochs"),
    (..., "separation is ... (the placeholder): finish q4 (separation_ratio) and run its cell first"),
    (np.array([None] * 4), "separation holds None values: finish q4 (separation_ratio) and run its cell first"),
])
def test_separation_of_the_wrong_length_or_unfinished(separation, message):
    embeddings, labels, is_test = separating(n=40, epochs=4)
    with pytest.raises(ValueError) as info:
        epoch_metrics(embeddings, labels, is_test, separation=separation)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_metrics_reject_mismatched_inputs():
    embeddings, labels, is_test = separating(n=40)
    with pytest.raises(ValueError, match="one entry per row"):
        epoch_metrics(embeddings, labels[:-1], is_test)


def test_projection_is_aligned_across_epochs():
    # Epoch 1 is epoch 0 rotated in the embedding space (and scaled): the same picture, once aligned.
    rng = np.random.default_rng(4)
    base = rng.standard_normal((200, 10)) * np.linspace(3, 0.5, 10)
    rotation = np.linalg.qr(rng.standard_normal((10, 10)))[0]
    coords, method = project_epochs(np.stack([base, 7 * base @ rotation, -base]), "pca")
    assert method == "pca" and coords.shape == (3, 200, 2)
    assert np.allclose(coords[1], coords[0], atol=1e-6) and np.allclose(coords[2], coords[0], atol=1e-6)
    assert np.sqrt((coords[0] ** 2).sum(axis=1).mean()) == pytest.approx(1.0)


def assert_real_png(path, min_width=600):
    image = matplotlib.image.imread(path)
    assert path.stat().st_size > 20_000
    assert image.ndim == 3 and image.shape[1] >= min_width and image.shape[0] >= 300
    assert image[..., :3].std() > 0.05  # not a blank canvas
    return image


def test_epoch_grid_png(tmp_path):
    embeddings, labels, _ = separating()
    path = plot_epoch_grid(embeddings, labels, tmp_path / "figs" / "grid.png", method="pca", title="Synthetic")
    image = assert_real_png(path, min_width=1000)
    assert image.shape[0] > 700  # three rows of panels


def test_metrics_png(tmp_path):
    embeddings, labels, is_test = separating(n=120)
    path = plot_metrics(epoch_metrics(embeddings, labels, is_test), tmp_path / "metrics.png")
    image = assert_real_png(path, min_width=1000)
    assert image.shape[1] > 2 * image.shape[0]  # three panels side by side


def test_metrics_png_with_separation_panel(tmp_path):
    embeddings, labels, is_test = separating(n=120)
    separation = np.linspace(0.3, 5.0, 11)
    three = assert_real_png(plot_metrics(epoch_metrics(embeddings, labels, is_test), tmp_path / "three.png"))
    four = assert_real_png(plot_metrics(epoch_metrics(embeddings, labels, is_test, separation=separation),
                                        tmp_path / "four.png"))
    assert four.shape[0] == three.shape[0] and four.shape[1] > 1.25 * three.shape[1]  # a fourth panel, same height
    green = np.array(matplotlib.colors.to_rgb("C2"))  # the separation line; no other panel uses it
    is_green = np.abs(four[..., :3] - green).max(axis=2) < 0.05
    columns = np.flatnonzero(is_green.any(axis=0))
    assert is_green.sum() > 500 and columns.min() > 0.74 * four.shape[1]
    assert not (np.abs(three[..., :3] - green).max(axis=2) < 0.05).any()


def test_plot_metrics_of_an_unfinished_table(tmp_path):
    with pytest.raises(ValueError, match=r"^table is None: run table = metrics\.epoch_metrics\(snapshots, …\) first$"):
        plot_metrics(None, tmp_path / "metrics.png")
    with pytest.raises(ValueError, match=r"^table is \.\.\. \(the placeholder\)"):
        plot_metrics(..., tmp_path / "metrics.png")
    assert not (tmp_path / "metrics.png").exists()


def test_viewer_is_self_contained_with_every_epoch(tmp_path):
    embeddings, labels, is_test = separating(n=60)
    titles = [f"Article {i}" for i in range(60)]
    titles[5] = "Evil </script><script>alert(1)</script> <!-- title"
    snippets = [f"snippet {i} & more" for i in range(60)]
    splits = ["test" if t else "train" for t in is_test]
    path = write_viewer_html(tmp_path / "viewer.html", titles, labels, snippets, embeddings, splits, title="A <b>lab</b>")
    page = path.read_text(encoding="utf-8")

    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "http://" not in page and "https://" not in page and "<link" not in page
    assert page.count("<script") == 2 and page.count("</script>") == 2  # the hostile title stays inert
    assert "alert(1)</script>" not in page and "<!-- title" not in page
    assert "<title>A &lt;b&gt;lab&lt;/b&gt;</title>" in page

    data = json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S).group(1))
    assert data["titles"] == titles and data["snippets"] == snippets
    assert len(data["coords"]) == 11 and all(len(c) == 2 * 60 for c in data["coords"])
    coords = np.array(data["coords"])
    assert np.abs(coords).max() <= 1.0 and np.array_equal(coords, coords.round(4))
    assert data["test"] == [int(t) for t in is_test]
    assert [data["classes"][i] for i in data["labels"]] == labels
    assert 'id="epoch"' in page and 'id="play"' in page and 'id="legend"' in page


def test_viewer_for_a_mantis_csv(tmp_path):
    embeddings, labels, is_test = separating(n=30, epochs=4)
    csv_path = write_mantis_csv(tmp_path / "run.csv", [f"T{i}" for i in range(30)], labels,
                                ["test" if t else "train" for t in is_test], ["s"] * 30, embeddings)
    page = write_viewer_for_csv(csv_path).read_text(encoding="utf-8")
    assert (tmp_path / "run.html").exists() and "<title>run.csv</title>" in page
    data = json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S).group(1))
    assert len(data["coords"]) == 4 and data["titles"][29] == "T29"
