"""``type: torchvision``: a seeded, class-stratified subset of a dataset of ``torchvision.datasets``.

Written for CIFAR10 (and its sibling CIFAR100); any other dataset class whose training split exposes
``.data`` and ``.targets`` (or ``.labels``) works too: MNIST, FashionMNIST, SVHN, … — grey pictures become
RGB, other sizes are resized to 32×32.

data-dir layout: ``<data_dir>/<variant>/`` as the dataset's torchvision root (``cifar-10-batches-py/``
inside for CIFAR10). Real source: torchvision's download into ``<cache_dir>/<variant>/`` (network), after
a quick check that the host answers (torchvision's download has no timeout); a finished download is
reused by later runs.
"""
from __future__ import annotations

import inspect
import pickle
from pathlib import Path

from .common import TIMEOUT, Absent, Block

KIND = "image"
KEYS = {"dataset", "n_images"}


def validate(b: Block) -> dict:
    # Whether torchvision has that class is checked when loading: importing torchvision takes seconds.
    return {"dataset": b.string("dataset", check=str.isidentifier,
                                problem="must name a dataset class of torchvision.datasets, e.g. CIFAR10"),
            "n_images": b.integer("n_images", 5000, meaning=" (a class-stratified subset; 0 = all)")}


def real_source(source: dict) -> str:
    return "live"


def from_data_dir(name: str, source: dict, folder: Path, seed: int):
    from replab.corpus import DataError
    from replab.http import describe_error

    stock = dataset_class(name, source)
    cifar = _cifar_family(stock)
    if cifar:
        inside = folder / stock.base_folder
        if not inside.is_dir():
            raise Absent(f"no {inside}")
        missing = [p.name for p in _files(stock, inside) if not p.is_file()]
        if missing:
            raise DataError(f"{inside}: missing {stock.__name__} file(s) {', '.join(missing)}")
    try:
        data = _without_checksums(stock)(folder, download=False, **_train_split(stock))
    except Exception as e:  # bad pickles, missing keys, wrong array sizes: all mean "cannot use these files"
        where = (_first_unreadable(stock, folder / stock.base_folder) if cifar else None) or folder
        raise DataError(f"{where}: corrupt or incomplete {stock.__name__} data ({describe_error(e)})") from None
    return _subset(name, source, data, folder, seed, f"data-dir {folder}")


def from_source(name: str, source: dict, cache_dir: Path, seed: int):
    import requests
    from replab.corpus import DataError
    from replab.http import describe_error, make_session

    stock = dataset_class(name, source)
    root = cache_dir / name
    url = _download_url(stock)
    origin = url or f"torchvision.datasets.{stock.__name__}"
    try:  # downloaded by an earlier run: the stock class verifies its checksums
        data = stock(root, download=False, **_train_split(stock))
        return _subset(name, source, data, root, seed, f"cache {root} ({stock.__name__} from {origin})")
    except Exception:
        pass  # not there (or damaged): download it
    if url:
        try:  # torchvision's download has no timeout: make sure the host answers before handing over
            make_session(retries=0).head(url, timeout=TIMEOUT, allow_redirects=True).raise_for_status()
        except requests.RequestException as e:
            raise DataError(f"{url}: {describe_error(e)}") from None
    try:
        data = stock(root, download=True, **_train_split(stock))  # the stock class: checksummed download
    except Exception as e:  # URLError, OSError, RuntimeError("File not found or corrupted."), ...
        raise DataError(f"{origin}: download into {root} failed ({describe_error(e)})") from None
    return _subset(name, source, data, root, seed, f"download {origin} into {root}")


def dataset_class(name: str, source: dict):
    import torchvision.datasets
    from replab.corpus import DataError
    from torch.utils.data import Dataset

    cls = getattr(torchvision.datasets, source["dataset"], None)
    if not (isinstance(cls, type) and issubclass(cls, Dataset)):
        raise DataError(f"{name}.source.dataset: torchvision.datasets has no dataset {source['dataset']!r} "
                        f"(e.g. CIFAR10, CIFAR100, MNIST, FashionMNIST, SVHN)")
    return cls


def _subset(name: str, source: dict, data, root: Path, seed: int, origin: str):
    """The seeded, stratified ``n_images`` of the training split, in dataset order; titles ``<class> #<index>``."""
    import numpy as np
    from replab.corpus import Corpus, DataError

    from .images import stratified_indices, to_rgb32

    targets = getattr(data, "targets", None)
    if targets is None:
        targets = getattr(data, "labels", None)
    if targets is None or not hasattr(data, "data"):
        raise DataError(f"{name}.source.dataset: {type(data).__name__} has no .data and .targets to read pictures from")
    targets = np.asarray(targets, dtype=np.int64).reshape(-1)
    classes = list(getattr(data, "classes", None) or [])  # SVHN has none: its labels are the digits
    classes = classes or [str(c) for c in range(int(targets.max()) + 1 if len(targets) else 0)]
    if (len(targets) == 0 or len(data.data) != len(targets)
            or targets.min() < 0 or targets.max() >= len(classes)):
        raise DataError(f"{root}: images and labels do not match ({len(data.data)} images, {len(targets)} labels, "
                        f"{len(classes)} classes)")
    keep = stratified_indices(targets, source["n_images"], seed, where=str(root))
    images = to_rgb32(np.asarray(data.data)[keep], where=str(root))  # convert only what is kept
    return Corpus(
        name=name,
        titles=[f"{classes[targets[i]]} #{i}" for i in keep],
        labels=[classes[targets[i]] for i in keep],
        images=images,
        source=origin,
        meta={"seed": seed, "n_images": source["n_images"], "train_size": int(len(targets))},
    )


def _train_split(cls) -> dict:
    """The keyword that selects the training split: ``train=True`` (CIFAR, MNIST) or ``split="train"`` (SVHN)."""
    params = inspect.signature(cls.__init__).parameters
    return {"train": True} if "train" in params else {"split": "train"} if "split" in params else {}


def _download_url(cls) -> str | None:
    if isinstance(getattr(cls, "url", None), str):
        return cls.url
    mirrors, resources = getattr(cls, "mirrors", None), getattr(cls, "resources", None)  # MNIST and kin
    if mirrors and resources:
        return f"{mirrors[0]}{resources[0][0]}"
    return None


# -- CIFAR10 / CIFAR100 on disk ---------------------------------------------------------------------------

def _cifar_family(cls) -> bool:
    from torchvision.datasets import CIFAR10
    return issubclass(cls, CIFAR10)


def _without_checksums(cls):
    """For the CIFAR family: the class reading files already on disk without torchvision's md5 checks.

    The stock class rejects any batch file whose md5 differs from the official release, which would rule
    out locally prepared data in the same format (the tests generate small batches). A ``None`` checksum
    makes torchvision's ``check_integrity`` test only that the file exists. Downloads never come through
    here: they use the stock class and keep the check.
    """
    if not _cifar_family(cls):
        return cls
    return type(f"Local{cls.__name__}", (cls,), {
        "train_list": [[n, None] for n, _ in cls.train_list],
        "test_list": [[n, None] for n, _ in cls.test_list],
        "meta": {**cls.meta, "md5": None},
    })


def _files(cls, folder: Path) -> list[Path]:
    names = [n for n, _ in cls.train_list + cls.test_list] + [cls.meta["filename"]]
    return [folder / n for n in names]


def _first_unreadable(cls, folder: Path) -> Path | None:
    """The first batch file that does not unpickle, to name it in the error (only runs after a failure)."""
    for path in _files(cls, folder):
        try:
            with open(path, "rb") as f:
                pickle.load(f, encoding="latin1")
        except Exception:
            return path
    return None
