"""Images: a class-stratified CIFAR-10 subset (via torchvision), or scikit-learn's bundled digits offline."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from torchvision.datasets import CIFAR10

from .corpus import Corpus, DataError
from .http import describe_error

DIGITS_SOURCE = "offline default: scikit-learn digits (8×8 upscaled to 32×32)"


class _LocalCIFAR10(CIFAR10):
    """CIFAR10 reading files already on disk without torchvision's md5 checks.

    The stock class rejects any batch file whose md5 differs from the official release, which would rule
    out locally prepared data in the same format (the tests generate small batches). A ``None`` checksum
    makes torchvision's ``check_integrity`` test only that the file exists. Downloads never come through
    here: they use the stock class and keep the check.
    """

    train_list = [[name, None] for name, _ in CIFAR10.train_list]
    test_list = [[name, None] for name, _ in CIFAR10.test_list]
    meta = {**CIFAR10.meta, "md5": None}


def _files(folder: Path) -> list[Path]:
    names = [name for name, _ in CIFAR10.train_list + CIFAR10.test_list] + [CIFAR10.meta["filename"]]
    return [folder / name for name in names]


def has_cifar10(root: str | Path) -> bool:
    """Whether ``root/cifar-10-batches-py/`` holds every CIFAR-10 file (checksums not checked)."""
    return all(p.is_file() for p in _files(Path(root) / CIFAR10.base_folder))


def load_cifar10(root: str | Path, n_images: int = 5000, seed: int = 0, download: bool = False) -> Corpus:
    """A seeded, class-stratified subset of CIFAR-10's training set (``n_images`` 0 = all of it).

    ``root`` holds (or, with ``download``, receives) ``cifar-10-batches-py/``. Rows are in training-set
    order; titles name the class and the index in the training set (``airplane #1234``).
    """
    root = Path(root)
    folder = root / CIFAR10.base_folder
    if download:
        try:
            data = CIFAR10(root, train=True, download=True)  # the stock class: md5-checked download
        except Exception as e:  # URLError, OSError, RuntimeError("File not found or corrupted."), ...
            raise DataError(f"{CIFAR10.url}: download into {root} failed ({describe_error(e)})") from None
    else:
        missing = [p.name for p in _files(folder) if not p.is_file()]
        if missing:
            raise DataError(f"{folder}: missing CIFAR-10 file(s) {', '.join(missing)}")
        try:
            data = _LocalCIFAR10(root, train=True, download=False)
        except Exception as e:  # bad pickles, missing keys, wrong array sizes: all mean "cannot use these files"
            where = _first_unreadable(folder) or folder
            raise DataError(f"{where}: corrupt CIFAR-10 data ({describe_error(e)})") from None

    images = np.asarray(data.data, dtype=np.uint8)
    targets = np.asarray(data.targets, dtype=np.int64)
    classes = list(data.classes)
    if (len(targets) == 0 or images.shape[1:] != (32, 32, 3) or len(targets) != len(images)
            or targets.min() < 0 or targets.max() >= len(classes)):
        raise DataError(f"{folder}: images/labels do not match CIFAR-10's layout ({len(classes)} classes)")
    keep = stratified_indices(targets, n_images, seed, where=str(folder))
    return Corpus(
        name="cifar10",
        titles=[f"{classes[targets[i]]} #{i}" for i in keep],
        labels=[classes[targets[i]] for i in keep],
        images=images[keep],
        source=f"data-dir {root}" if not download else f"download {CIFAR10.url} into {root}",
        meta={"seed": seed, "n_images": n_images, "train_size": int(len(targets))},
    )


def _first_unreadable(folder: Path) -> Path | None:
    """The first batch file that does not unpickle, to name it in the error (only runs after a failure)."""
    for path in _files(folder):
        try:
            with open(path, "rb") as f:
                pickle.load(f, encoding="latin1")
        except Exception:
            return path
    return None


def stratified_indices(labels: np.ndarray, n: int, seed: int, where: str = "") -> np.ndarray:
    """Sorted indices of a seeded sample with an equal share per class (the first ``n % k`` classes get one
    more). ``n`` 0, or at least the number of labels, keeps everything."""
    labels = np.asarray(labels)
    if n <= 0 or n >= len(labels):
        return np.arange(len(labels))
    classes = np.unique(labels)
    rng = np.random.default_rng(seed)
    picked = []
    for k, c in enumerate(classes):
        share = n // len(classes) + (k < n % len(classes))
        members = np.flatnonzero(labels == c)
        if len(members) < share:
            raise DataError(f"{where}: class {c} has {len(members)} images, fewer than its share {share} of {n}")
        picked.append(rng.choice(members, size=share, replace=False))
    return np.sort(np.concatenate(picked))


def load_digits_images(n_images: int = 0, seed: int = 0) -> Corpus:
    """scikit-learn's bundled 8×8 digits as CNN input: uint8 (N, 32, 32, 3), each pixel a 4×4 block, grey in
    all three channels. ``n_images`` 0 = all 1797; otherwise a seeded, class-stratified subset."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    keep = stratified_indices(digits.target, n_images, seed, where="scikit-learn digits")
    grey = np.rint(digits.images[keep] * (255 / 16)).astype(np.uint8)        # 0..16 -> 0..255
    big = grey.repeat(4, axis=1).repeat(4, axis=2)                             # 8x8 -> 32x32
    images = np.repeat(big[..., None], 3, axis=3)
    labels = [f"digit {d}" for d in digits.target[keep]]
    return Corpus(name="cifar10", titles=[f"{label} #{i}" for label, i in zip(labels, keep)], labels=labels,
                  images=images, source=DIGITS_SOURCE, meta={"seed": seed, "n_images": n_images})
