"""type: torchvision — CIFAR-10 (and CIFAR-100) from small generated data in their on-disk formats; the
stratified subset; the digits offline default; pictures of other shapes brought to 32×32 RGB."""
import pickle
from pathlib import Path

import numpy as np
import pytest

from assignment.sources import load_corpus
from assignment.sources.images import stratified_indices, to_rgb32
from assignment.sources.offline_defaults import digits
from replab.corpus import DataError

CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
CIFAR10 = {"type": "torchvision", "dataset": "CIFAR10"}


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


def load(data_dir, n_images, seed=0, name="cifar10"):
    return load_corpus(name, "image", {**CIFAR10, "n_images": n_images}, data_dir=data_dir, seed=seed, live=False)


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("data")
    images, labels = write_fake_cifar10(data_dir / "cifar10", n_per_batch=40)
    return data_dir, images, labels


def test_stratified_subset_of_generated_data(fake):
    data_dir, images, labels = fake
    corpus = load(data_dir, 50, seed=3)
    assert corpus.name == "cifar10" and corpus.kind == "image"
    assert corpus.images.shape == (50, 32, 32, 3) and corpus.images.dtype == np.uint8
    assert corpus.counts() == {c: 5 for c in CLASS_NAMES}
    indices = [int(t.split("#")[1]) for t in corpus.titles]
    assert indices == sorted(set(indices))
    for i, title, label, image in zip(indices, corpus.titles, corpus.labels, corpus.images):
        assert label == CLASS_NAMES[labels[i]] and title == f"{label} #{i}"
        assert np.array_equal(image, images[i])  # pixels land in HWC order, untouched
    assert corpus.source == f"data-dir {data_dir / 'cifar10'}" and corpus.meta["origin"] == "data-dir"
    assert corpus.meta["train_size"] == len(images)


def test_same_seed_same_subset_other_seed_other_subset(fake):
    data_dir = fake[0]
    a, b, c = load(data_dir, 30, seed=1), load(data_dir, 30, seed=1), load(data_dir, 30, seed=2)
    assert a.titles == b.titles and np.array_equal(a.images, b.images)
    assert a.titles != c.titles and c.counts() == a.counts() == {n: 3 for n in CLASS_NAMES}


def test_uneven_share_and_whole_set(fake):
    data_dir, images, _ = fake
    corpus = load(data_dir, 23)
    assert len(corpus) == 23 and sorted(corpus.counts().values()) == [2] * 7 + [3] * 3
    assert len(load(data_dir, 0)) == len(images)


def test_corrupt_and_missing_files_name_the_path(tmp_path):
    write_fake_cifar10(tmp_path / "cifar10", n_per_batch=10)
    batch = tmp_path / "cifar10" / "cifar-10-batches-py" / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:100])
    with pytest.raises(DataError, match=r"data_batch_3: corrupt or incomplete CIFAR10 data"):
        load(tmp_path, 10)
    batch.unlink()
    with pytest.raises(DataError, match=r"cifar-10-batches-py: missing CIFAR10 file\(s\) data_batch_3"):
        load(tmp_path, 10)


def test_a_data_dir_without_the_batches_folder_is_skipped(tmp_path, capsys):
    (tmp_path / "cifar10").mkdir()
    corpus = load_corpus("cifar10", "image", {**CIFAR10, "n_images": 20, "offline": "digits"},
                         data_dir=tmp_path, live=False)
    assert corpus.meta["origin"] == "offline" and len(corpus) == 20
    assert capsys.readouterr().out.splitlines() == [
        f"cifar10: data dir skipped (no {tmp_path / 'cifar10' / 'cifar-10-batches-py'}); trying the offline default",
        "cifar10: live source off (live=False); using the offline default"]


def test_cifar100_and_the_general_path(tmp_path):
    folder = tmp_path / "tiny" / "cifar-100-python"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("train", "test"):
        with open(folder / name, "wb") as f:
            pickle.dump({"data": rng.integers(0, 256, (60, 3072), dtype=np.uint8),
                         "fine_labels": [i % 3 for i in range(60)], "coarse_labels": [0] * 60}, f)
    with open(folder / "meta", "wb") as f:
        pickle.dump({"fine_label_names": ["apple", "bee", "cloud"]}, f)
    corpus = load_corpus("tiny", "image", {"type": "torchvision", "dataset": "CIFAR100", "n_images": 12},
                         data_dir=tmp_path, live=False)
    assert corpus.counts() == {"apple": 4, "bee": 4, "cloud": 4} and corpus.images.shape == (12, 32, 32, 3)


def test_an_unknown_dataset_names_the_key(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(DataError, match=r"^x\.source\.dataset: torchvision.datasets has no dataset 'CIFAR11'"):
        load_corpus("x", "image", {"type": "torchvision", "dataset": "CIFAR11"}, data_dir=tmp_path, live=False)


def test_too_few_images_of_a_class_is_an_error():
    labels = np.array([0] * 2 + [1] * 10)
    assert sorted(labels[stratified_indices(labels, 4, seed=0)]) == [0, 0, 1, 1]
    with pytest.raises(DataError, match="somewhere: class 0 has 2 images, fewer than its share 4 of 8"):
        stratified_indices(labels, 8, seed=0, where="somewhere")


def test_pictures_of_other_shapes_become_32x32_rgb():
    grey = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)          # MNIST: (N, 28, 28)
    out = to_rgb32(grey, "mnist")
    assert out.shape == (2, 32, 32, 3) and out.dtype == np.uint8 and np.array_equal(out[..., 0], out[..., 2])
    chw = np.zeros((3, 3, 32, 32), np.uint8)                                   # SVHN: channels first
    chw[:, 0] = 200
    assert np.array_equal(to_rgb32(chw, "svhn")[..., 0], np.full((3, 32, 32), 200))
    unit = np.full((1, 32, 32, 3), 0.5)                                        # floats in [0, 1]
    assert to_rgb32(unit, "floats").max() == 128
    with pytest.raises(DataError, match="odd: images of shape"):
        to_rgb32(np.zeros((2, 32, 32, 5)), "odd")


def test_digits_default_shape_and_labels():
    corpus = digits("pictures", {}, seed=0)
    assert corpus.name == "pictures" and corpus.images.shape == (1797, 32, 32, 3) and corpus.images.dtype == np.uint8
    assert corpus.class_names == [f"digit {d}" for d in range(10)]
    image = corpus.images[0]
    assert np.array_equal(image[..., 0], image[..., 2]) and corpus.images.max() == 255  # grey, full range
    assert np.array_equal(image[::4, ::4, 0].repeat(4, 0).repeat(4, 1), image[..., 0])  # 8x8 blown up
    assert corpus.source.startswith("offline default: scikit-learn digits")
    assert corpus.source.endswith("standing in for the pictures corpus")
    small = digits("pictures", {"n_images": 100}, seed=0)
    assert len(small) == 100 and small.counts() == {f"digit {d}": 10 for d in range(10)}
