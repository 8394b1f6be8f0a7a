"""The reference answers: the hook, the snapshots, the export and the separation measure."""
import copy

import numpy as np
import pytest
import torch

from replab.corpus import Corpus
from replab.mantis import read_mantis_csv
from replab.metrics import epoch_metrics
from solutions.capture import snapshot, train_and_capture
from solutions.export import export_mantis
from solutions.kinds import KINDS
from solutions.models import ImageCNN, TextMLP
from solutions.pipeline import run_lab
from solutions.separation import separation_by_epoch, separation_ratio


@pytest.mark.parametrize("make, shape_in, dim", [
    (lambda: TextMLP(50, 4), (50,), 64),
    (lambda: ImageCNN(3, 10), (3, 32, 32), 128),
])
@pytest.mark.parametrize("batch", [1, 7, 33])
def test_hook_stores_detached_float32_numpy_only_when_capturing(make, shape_in, dim, batch):
    torch.manual_seed(0)
    model = make()
    x = torch.randn(batch, *shape_in)
    seen = []
    KINDS["text" if isinstance(model, TextMLP) else "image"].hooked_layer(model).register_forward_hook(lambda m, i, o: seen.append(o.detach()))
    model(x)  # autograd on, capture off: a training step copies nothing
    assert model.embeddings is None
    model.capture = True
    out = model(x)  # autograd still on: the hook must detach before .numpy()
    assert out.requires_grad
    emb = model.embeddings
    assert isinstance(emb, np.ndarray) and emb.dtype == np.float32 and emb.shape == (batch, dim)
    expected = seen[-1] if isinstance(model, TextMLP) else torch.relu(seen[-1])
    np.testing.assert_array_equal(emb, expected.numpy())


def _toy(n=200, d=20, k=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, k, (n,), generator=g)
    x = torch.randn(n, d, generator=g) + 1.5 * torch.nn.functional.one_hot(y, d).float()
    return x, y


def test_snapshot_keeps_row_order_across_batches_and_builds_no_graph():
    torch.manual_seed(0)
    model = TextMLP(20, 4)
    x, _ = _toy(n=2500)
    got = snapshot(model, x, batch_size=300)
    with torch.no_grad():
        want = model.fc2(torch.relu(model.fc1(x))).numpy()
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert not model.capture and all(p.grad is None for p in model.parameters())


def test_eleven_snapshots_epoch0_untrained_and_each_epoch_moves():
    x, y = _toy()
    torch.manual_seed(0)
    model = TextMLP(20, 4)
    untrained = copy.deepcopy(model)
    snaps = train_and_capture(model, x, y, torch.arange(150), epochs=10, lr=0.01, batch_size=0,
                              generator=torch.Generator().manual_seed(0))
    assert snaps.shape == (11, 200, 64) and snaps.dtype == np.float32
    np.testing.assert_array_equal(snaps[0], snapshot(untrained, x))
    for e in range(10):
        assert not np.allclose(snaps[e], snaps[e + 1])


def test_same_seed_same_embeddings(wiki_corpus, cfg):
    variant = cfg.variant("wikipedia")
    a = run_lab(wiki_corpus, variant, seed=3, epochs=3)
    b = run_lab(wiki_corpus, variant, seed=3, epochs=3)
    c = run_lab(wiki_corpus, variant, seed=4, epochs=3)
    np.testing.assert_array_equal(a.snapshots, b.snapshots)
    assert not np.array_equal(a.snapshots, c.snapshots)


def test_separation_ratio_matches_definition_and_grows_with_separation():
    rng = np.random.default_rng(0)
    labels = np.repeat(["a", "b", "c"], 30)
    centers = np.array([[0, 0], [4, 0], [0, 4]], dtype=np.float32)
    tight = centers[np.repeat([0, 1, 2], 30)] + rng.normal(0, 0.5, (90, 2)).astype(np.float32)
    loose = centers[np.repeat([0, 1, 2], 30)] + rng.normal(0, 3.0, (90, 2)).astype(np.float32)
    assert separation_ratio(tight, labels) > 2 * separation_ratio(loose, labels)
    # by hand for a case small enough to check: two points per class on a line
    pts = np.array([[0.0], [2.0], [10.0], [12.0]], dtype=np.float32)
    assert separation_ratio(pts, ["a", "a", "b", "b"]) == pytest.approx(10.0 / 1.0)
    curve = separation_by_epoch(np.stack([loose, tight]), labels, np.arange(90) % 2 == 0)
    assert curve.shape == (2,) and curve[1] > curve[0]


def test_export_round_trips_through_the_reader(tmp_path):
    corpus = Corpus("wikipedia", ["A, first", "B \"quoted\""], ["x", "y"], texts=["alpha text", "beta, text\nline"])
    snaps = np.random.default_rng(1).normal(size=(11, 2, 5)).astype(np.float32)
    path = export_mantis(tmp_path / "out.csv", corpus, np.array([False, True]), snaps)
    table = read_mantis_csv(path, epochs=11)
    assert table.titles == corpus.titles and table.categories == ["x", "y"] and table.splits == ["train", "test"]
    np.testing.assert_array_equal(table.embeddings, snaps)


@pytest.mark.parametrize("name", ["wikipedia", "bbc"])
def test_classes_separate_on_the_real_fixtures(name, cfg, fixtures_dir):
    """On real articles, held-out silhouette and kNN accuracy at epoch 10 are clearly above epoch 0."""
    from assignment.sources import load_corpus
    variant = cfg.variant(name)
    corpus = load_corpus(name, variant.kind, variant.source, data_dir=fixtures_dir, live=False)
    run = run_lab(corpus, variant, seed=cfg.seed)
    table = epoch_metrics(run.snapshots, corpus.labels, run.is_test)
    test = table[table.split == "test"].set_index("epoch")
    assert test.loc[10, "silhouette"] > test.loc[0, "silhouette"] + 0.25
    assert test.loc[10, "knn_accuracy"] > test.loc[0, "knn_accuracy"] + 0.1
    assert test.loc[10, "silhouette"] >= variant.thresholds(corpus.digest()).silhouette_min   # calibrated on it
