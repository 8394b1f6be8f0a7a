"""Where a variant's data comes from, in order:

1. ``data_dir`` when it holds that corpus: ``wikipedia/<Topic>/`` folders for every configured topic,
   ``bbc/dataset.csv``, or ``cifar10/cifar-10-batches-py/``;
2. the real source (Wikipedia API, the BBC CSV's URL, the CIFAR-10 download into ``cache_dir``),
   unless ``live=False``;
3. the offline default embedded in replab: Wikipedia intro extracts for text (the bbc variant too),
   scikit-learn's digits for images.

Each skipped source prints one line saying why; the result's ``source`` says which one was used.
"""
from __future__ import annotations

from pathlib import Path

import requests
from torchvision.datasets import CIFAR10

from .bbc import load_bbc
from .cifar10 import has_cifar10, load_cifar10, load_digits_images
from .corpus import Corpus, DataError
from .http import describe_error, make_session
from .wikipedia import API_URL, fetch_wikipedia, load_wikipedia_dir, topic_folder

OFFLINE_WIKIPEDIA = Path(__file__).with_name("offline") / "wikipedia"
DEFAULT_CACHE = Path("replab_cache")
# Live sources get one connect retry and a short connect timeout, so that without a network the fallback
# comes within seconds; once connected, the usual retries ride out a busy server's 429/503 answers.
CONNECT_RETRIES = 1
TIMEOUT = (3.05, 30.0)  # (connect, read) seconds


class _Absent(Exception):
    """This source does not hold the corpus (not an error: the next source is tried)."""


def load_corpus(variant, data_dir=None, cache_dir=None, seed: int = 0, live: bool = True) -> Corpus:
    """The corpus of an ``assignment.config.Variant``, from the first source that has it (see module doc)."""
    from_dir, from_live, from_offline = _LOADERS[variant.name]
    next_source = "the live source" if live else "the offline default"
    if data_dir is not None:
        try:
            return _tagged(from_dir(variant, Path(data_dir), seed), "data-dir")
        except _Absent as e:
            print(f"{variant.name}: data dir skipped ({e}); trying {next_source}")
    if not live:
        print(f"{variant.name}: live source off (live=False); using the offline default")
    else:
        try:
            return _tagged(from_live(variant, Path(cache_dir) if cache_dir else DEFAULT_CACHE, seed), "live")
        except (_Absent, DataError) as e:
            print(f"{variant.name}: live source unavailable ({e}); using the offline default")
    return _tagged(from_offline(variant, seed), "offline")


def describe_source(corpus: Corpus) -> str:
    """One line: what the corpus holds and where it came from."""
    unit = "articles" if corpus.kind == "text" else "images"
    counts = ", ".join(f"{c} {n}" for c, n in corpus.counts().items())
    classes = len(corpus.class_names)
    return f"{corpus.name}: {len(corpus)} {unit} in {classes} classes ({counts}); source: {corpus.source}"


def _tagged(corpus: Corpus, origin: str) -> Corpus:
    corpus.meta["origin"] = origin
    return corpus


# -- wikipedia ------------------------------------------------------------------------------------------

def _wikipedia_dir(variant, data_dir: Path, seed: int) -> Corpus:
    root = data_dir / "wikipedia"
    missing = [t for t in variant.topics if not (root / topic_folder(t)).is_dir()]
    if missing:
        raise _Absent(f"no {root}/<Topic> folder for {', '.join(missing)}")
    return load_wikipedia_dir(root, topics=variant.topics, per_topic=variant.per_topic or None)


def _wikipedia_live(variant, cache_dir: Path, seed: int) -> Corpus:
    session = make_session(connect_retries=CONNECT_RETRIES)
    return fetch_wikipedia(variant.topics, per_topic=variant.per_topic or 150, api_url=variant.api_url or API_URL,
                           out_dir=cache_dir / "wikipedia", session=session, timeout=TIMEOUT)


def _text_offline(variant, seed: int) -> Corpus:
    corpus = load_wikipedia_dir(OFFLINE_WIKIPEDIA)
    corpus.name = variant.name
    topics = len(corpus.class_names)
    corpus.source = f"offline default: encyclopedic intros written for this lab, bundled with replab ({topics} topics)"
    if variant.name != "wikipedia":
        corpus.source += f", standing in for the {variant.name} corpus"
    return corpus


# -- bbc ------------------------------------------------------------------------------------------------

def _bbc_dir(variant, data_dir: Path, seed: int) -> Corpus:
    path = data_dir / "bbc" / "dataset.csv"
    if not path.is_file():
        raise _Absent(f"no {path}")
    return load_bbc(path)


def _bbc_live(variant, cache_dir: Path, seed: int) -> Corpus:
    if not variant.url:
        raise _Absent("no url configured")
    return load_bbc(variant.url, session=make_session(connect_retries=CONNECT_RETRIES), timeout=TIMEOUT)


# -- cifar10 --------------------------------------------------------------------------------------------

def _cifar_dir(variant, data_dir: Path, seed: int) -> Corpus:
    root = data_dir / "cifar10"
    if not (root / CIFAR10.base_folder).is_dir():
        raise _Absent(f"no {root / CIFAR10.base_folder}")
    return load_cifar10(root, n_images=variant.n_images, seed=seed)


def _cifar_live(variant, cache_dir: Path, seed: int) -> Corpus:
    root = cache_dir / "cifar10"
    if has_cifar10(root):  # downloaded by an earlier run
        corpus = load_cifar10(root, n_images=variant.n_images, seed=seed)
        corpus.source = f"cache {root} (CIFAR-10 from {CIFAR10.url})"
        return corpus
    try:  # torchvision's download has no timeout: make sure the host answers before handing over
        make_session(retries=0).head(CIFAR10.url, timeout=TIMEOUT, allow_redirects=True).raise_for_status()
    except requests.RequestException as e:
        raise DataError(f"{CIFAR10.url}: {describe_error(e)}") from None
    return load_cifar10(root, n_images=variant.n_images, seed=seed, download=True)


def _images_offline(variant, seed: int) -> Corpus:
    return load_digits_images(n_images=variant.n_images, seed=seed)


_LOADERS = {
    "wikipedia": (_wikipedia_dir, _wikipedia_live, _text_offline),
    "bbc": (_bbc_dir, _bbc_live, _text_offline),
    "cifar10": (_cifar_dir, _cifar_live, _images_offline),
}
