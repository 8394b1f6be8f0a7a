"""The offline defaults a source block may name with ``offline:``, used when neither the data dir nor the
real source has the data, so that a build without network still releases something that runs.

- ``intros`` (text): short encyclopedic intros on six topics, written for this lab (not copied from
  Wikipedia), bundled in ``offline/intros/<Topic>/<title>.txt`` in replab.wikipedia's layout;
- ``digits`` (image): scikit-learn's bundled 8×8 digits, blown up to 32×32 grey RGB.
"""
from __future__ import annotations

from pathlib import Path

INTROS = Path(__file__).with_name("offline") / "intros"
DIGITS_SOURCE = "offline default: scikit-learn digits (8×8 upscaled to 32×32)"


def intros(name: str, source: dict, seed: int):
    from replab.wikipedia import load_wikipedia_dir

    corpus = load_wikipedia_dir(INTROS, name=name)
    corpus.source = (f"offline default: encyclopedic intros written for this lab ({len(corpus.class_names)} "
                     f"topics), standing in for the {name} corpus")
    return corpus


def digits(name: str, source: dict, seed: int):
    """uint8 (N, 32, 32, 3), each pixel a 4×4 block, grey in all three channels. The block's ``n_images``
    (a torchvision source's) picks a seeded, class-stratified subset; otherwise all 1797 are kept."""
    import numpy as np
    from replab.corpus import Corpus
    from sklearn.datasets import load_digits

    from .images import stratified_indices

    data = load_digits()
    n_images = source.get("n_images", 0)
    keep = stratified_indices(data.target, n_images, seed, where="scikit-learn digits")
    grey = np.rint(data.images[keep] * (255 / 16)).astype(np.uint8)        # 0..16 -> 0..255
    big = grey.repeat(4, axis=1).repeat(4, axis=2)                          # 8x8 -> 32x32
    labels = [f"digit {d}" for d in data.target[keep]]
    return Corpus(name=name, titles=[f"{label} #{i}" for label, i in zip(labels, keep)], labels=labels,
                  images=np.repeat(big[..., None], 3, axis=3),
                  source=f"{DIGITS_SOURCE}, standing in for the {name} corpus",
                  meta={"seed": seed, "n_images": n_images})


DEFAULTS = {"intros": ("text", intros), "digits": ("image", digits)}  # name -> (kind, loader)
