"""The viewer's data, without a browser: neighbours, projections, pictures, the page's one-line errors.
(The page itself is tested in a real browser: test_viewer_browser.py.)"""
import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image
from sklearn.neighbors import NearestNeighbors

from replab.errors import LabError
from replab.viewer import ViewerError, write_viewer_html
from replab.viewer_data import as_images, has_umap, image_atlas, nearest_neighbours, project
from tests.replab.synthetic import picture_like, wikipedia_like


def page_data(path):
    page = path.read_text(encoding="utf-8")
    return json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S).group(1))


def sklearn_neighbours(x, k):
    return NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(x).kneighbors(x, return_distance=False)[:, 1:]


def test_neighbours_are_sklearns_and_never_the_item_itself():
    x = np.random.default_rng(3).normal(size=(700, 32)).astype(np.float32)
    got = nearest_neighbours(x, 10, block=256)  # several blocks
    assert np.array_equal(got, sklearn_neighbours(x, 10))
    assert not (got == np.arange(700)[:, None]).any()


def test_neighbours_of_duplicates_break_ties_by_index():
    x = np.zeros((6, 3), np.float32)  # every distance is 0
    assert nearest_neighbours(x, 3).tolist() == [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2], [0, 1, 2], [0, 1, 2]]


def test_projections_are_aligned_in_one_box():
    _, _, _, _, embeddings = wikipedia_like(300)
    for k in (2, 3):
        coords = project(embeddings, k)
        assert coords.shape == (11, 300, k) and np.abs(coords).max() <= 1.0
        # aligned: no flip of any axis brings an epoch closer to the one before (the pictures move, they
        # do not flip as PCA's arbitrary signs would make them)
        flips = [np.diag(s) for s in np.array(np.meshgrid(*[[1, -1]] * k)).T.reshape(-1, k)[1:]]
        for e in range(10):
            step = ((coords[e + 1] - coords[e]) ** 2).sum()
            assert all(((coords[e + 1] @ f - coords[e]) ** 2).sum() >= step - 1e-9 for f in flips)


def test_a_narrow_layer_still_gets_three_axes():
    coords = project(np.random.default_rng(0).normal(size=(3, 50, 2)).astype(np.float32), 3)
    assert coords.shape == (3, 50, 3) and np.all(coords[..., 2] == 0)


def test_the_page_carries_neighbours_not_embeddings(tmp_path):
    titles, labels, splits, snippets, embeddings = wikipedia_like(240)
    data = page_data(write_viewer_html(tmp_path / "v.html", titles, labels, snippets, embeddings, splits, neighbours=7))
    assert data["k"] == 7 and data["dim"] == 64 and data["knn_bytes"] == 2
    for e in (0, 10):
        knn = np.frombuffer(base64.b64decode(data["knn"][e]), "<u2").reshape(240, 7)
        assert np.array_equal(knn, sklearn_neighbours(embeddings[e], 7))
    assert len(data["coords3"]) == 11 and all(len(c) == 3 * 240 for c in data["coords3"])
    assert data["umap3"] is None or has_umap()
    assert data["images"] is None


@pytest.mark.parametrize("layout", ["NHWC uint8", "NCHW float", "NHW grey"])
def test_pictures_in_any_common_layout(layout):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(5, 32, 32, 3), dtype=np.uint8)
    given = {"NHWC uint8": rgb, "NCHW float": rgb.transpose(0, 3, 1, 2) / 255.0, "NHW grey": rgb[..., 0]}[layout]
    want = rgb if layout != "NHW grey" else np.repeat(rgb[..., :1], 3, axis=3)
    assert np.abs(as_images(given, 5, "x").astype(int) - want).max() <= 1


def test_the_atlas_holds_every_picture_in_its_tile():
    *_, images = picture_like(30)
    atlas = image_atlas(images)
    sheet = np.asarray(Image.open(io.BytesIO(base64.b64decode(atlas["src"].split(",", 1)[1]))).convert("RGB"))
    tile, cols = atlas["tile"], atlas["cols"]
    for i in (0, 7, 29):
        got = sheet[(i // cols) * tile:(i // cols + 1) * tile, (i % cols) * tile:(i % cols + 1) * tile]
        assert np.abs(got.astype(int) - images[i]).mean() < 6  # JPEG, quality 85


def test_mistakes_are_one_located_line(tmp_path):
    titles, labels, splits, snippets, embeddings = wikipedia_like(60)
    with pytest.raises(ViewerError, match=r"^v\.html: titles, labels, snippets \(and splits\) need one entry per row \(60\)$"):
        write_viewer_html(tmp_path / "v.html", titles[:-1], labels, snippets, embeddings)
    with pytest.raises(ViewerError, match=r"^v\.html: 59 images for 60 rows$"):
        write_viewer_html(tmp_path / "v.html", titles, labels, snippets, embeddings, images=np.zeros((59, 8, 8), np.uint8))
    bad = embeddings.copy()
    bad[4, 7, 0] = np.nan
    with pytest.raises(ViewerError, match=r"^v\.html: epoch 4, row 8 of the embeddings is not finite \(NaN or inf\)$"):
        write_viewer_html(tmp_path / "v.html", titles, labels, snippets, bad)
    if not has_umap():
        with pytest.raises(ViewerError, match=r"^v\.html: umap=True needs umap-learn"):
            write_viewer_html(tmp_path / "v.html", titles, labels, snippets, embeddings, umap=True)
    assert issubclass(ViewerError, LabError) and not (tmp_path / "v.html").exists()


@pytest.mark.skipif(not has_umap(), reason="umap-learn is an optional dependency")
def test_umap_layouts_when_umap_learn_is_installed(tmp_path):
    titles, labels, splits, snippets, embeddings = wikipedia_like(120)
    data = page_data(write_viewer_html(tmp_path / "v.html", titles, labels, snippets, embeddings[:3], umap=True))
    assert len(data["umap3"]) == 3 and np.abs(np.array(data["umap3"])).max() <= 1.0
