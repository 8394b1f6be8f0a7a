"""load_cifar10 on small generated data in CIFAR-10's on-disk format; the digits offline default."""
import pickle
from pathlib import Path

import numpy as np
import pytest

from replab.cifar10 import load_cifar10, load_digits_images, stratified_indices
from replab.corpus import DataError

CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
BATCHES = [f"data_batch_{i}" for i in range(1, 6)]


def write_fake_cifar10(root, n_per_batch: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Write ``root/cifar-10-batches-py/`` as CIFAR-10 lays it out (pickled dicts, uint8 rows of 3072 =
    3 planes of 32x32), with random pixels and labels cycling through the ten classes. The real files are
    Python 2 pickles whose byte-string keys load as ``str`` under ``encoding="latin1"`` (what torchvision
    uses), so the keys here are ``str`` too. Returns the training images (N, 32, 32, 3) and labels."""
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for name in BATCHES + ["test_batch"]:
        rows = rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8)
        batch_labels = [int(x) for x in rng.permutation(np.arange(n_per_batch) % 10)]
        with open(folder / name, "wb") as f:
            pickle.dump({"batch_label": name, "data": rows, "labels": batch_labels}, f)
        if name != "test_batch":
            images.append(rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
            labels += batch_labels
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": CLASS_NAMES, "num_vis": 3072}, f)
    return np.concatenate(images), np.array(labels)


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    images, labels = write_fake_cifar10(root, n_per_batch=40)
    return root, images, labels


def test_stratified_subset_of_generated_data(fake):
    root, images, labels = fake
    corpus = load_cifar10(root, n_images=50, seed=3)
    assert corpus.name == "cifar10" and corpus.kind == "image"
    assert corpus.images.shape == (50, 32, 32, 3) and corpus.images.dtype == np.uint8
    assert corpus.counts() == {c: 5 for c in CLASS_NAMES}
    indices = [int(t.split("#")[1]) for t in corpus.titles]
    assert indices == sorted(set(indices))
    for i, title, label, image in zip(indices, corpus.titles, corpus.labels, corpus.images):
        assert label == CLASS_NAMES[labels[i]] and title == f"{label} #{i}"
        assert np.array_equal(image, images[i])  # pixels land in HWC order, untouched
    assert corpus.source == f"data-dir {root}"


def test_same_seed_same_subset_other_seed_other_subset(fake):
    root = fake[0]
    a, b = load_cifar10(root, n_images=30, seed=1), load_cifar10(root, n_images=30, seed=1)
    c = load_cifar10(root, n_images=30, seed=2)
    assert a.titles == b.titles and np.array_equal(a.images, b.images)
    assert a.titles != c.titles and c.counts() == a.counts() == {n: 3 for n in CLASS_NAMES}


def test_uneven_share_and_whole_set(fake):
    root, images, _ = fake
    corpus = load_cifar10(root, n_images=23, seed=0)
    assert len(corpus) == 23 and sorted(corpus.counts().values()) == [2] * 7 + [3] * 3
    assert len(load_cifar10(root, n_images=0)) == len(images)


def test_corrupt_and_missing_files_name_the_path(tmp_path):
    write_fake_cifar10(tmp_path, n_per_batch=10)
    batch = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:100])
    with pytest.raises(DataError, match=r"data_batch_3: corrupt CIFAR-10 data"):
        load_cifar10(tmp_path, n_images=10)
    batch.unlink()
    with pytest.raises(DataError, match=r"cifar-10-batches-py: missing CIFAR-10 file\(s\) data_batch_3"):
        load_cifar10(tmp_path, n_images=10)
    with pytest.raises(DataError, match="missing CIFAR-10 file"):
        load_cifar10(tmp_path / "empty", n_images=10)


def test_too_few_images_of_a_class_is_an_error():
    labels = np.array([0] * 2 + [1] * 10)
    assert sorted(labels[stratified_indices(labels, 4, seed=0)]) == [0, 0, 1, 1]
    with pytest.raises(DataError, match="somewhere: class 0 has 2 images, fewer than its share 4 of 8"):
        stratified_indices(labels, 8, seed=0, where="somewhere")


def test_digits_default_shape_and_labels():
    corpus = load_digits_images()
    assert corpus.name == "cifar10" and corpus.images.shape == (1797, 32, 32, 3) and corpus.images.dtype == np.uint8
    assert corpus.class_names == [f"digit {d}" for d in range(10)]
    image = corpus.images[0]
    assert np.array_equal(image[..., 0], image[..., 2]) and corpus.images.max() == 255  # grey, full range
    assert np.array_equal(image[::4, ::4, 0].repeat(4, 0).repeat(4, 1), image[..., 0])  # 8x8 blown up
    assert "scikit-learn digits" in corpus.source
    small = load_digits_images(100)
    assert len(small) == 100 and small.counts() == {f"digit {d}": 10 for d in range(10)}
