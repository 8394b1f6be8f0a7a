"""Embeddings that behave like the lab's: noise at epoch 0, classes pulling apart by epoch 10, and a few
items that end up among another class (the overlaps the viewer must find)."""
from __future__ import annotations

import numpy as np

TOPICS = ["Basketball", "Machine learning", "Molecular biology", "Pure mathematics", "Quantum physics", "Renaissance art"]


def drifting(n: int = 600, epochs: int = 11, dim: int = 64, n_classes: int = 6, seed: int = 0, stray: float = 0.06):
    """(embeddings float32 (epochs, n, dim), class index per item, is_test per item)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % n_classes
    rng.shuffle(labels)
    centres = rng.normal(size=(n_classes, dim)) * 2.2
    start, noise = rng.normal(size=(n, dim)), rng.normal(size=(n, dim))
    goal = labels.copy()
    strays = rng.random(n) < stray  # these drift to another class's centre
    goal[strays] = (labels[strays] + rng.integers(1, n_classes, strays.sum())) % n_classes
    out = []
    for e in range(epochs):
        a = e / max(1, epochs - 1)
        out.append((1 - a) * start + a * (centres[goal] + noise) + 0.05 * rng.normal(size=(n, dim)))
    return np.stack(out).astype(np.float32), labels, rng.random(n) < 0.25


def wikipedia_like(n: int = 600, seed: int = 0):
    """(titles, labels, splits, snippets, embeddings) with the six topics of the lab's wikipedia variant."""
    embeddings, labels, is_test = drifting(n, seed=seed)
    topics = [TOPICS[c] for c in labels]
    titles = [f"{t} article {i}" for i, t in enumerate(topics)]
    snippets = [f"An introduction to {t.lower()}, item {i}: the first lines of the article, as Mantis shows them."
                for i, t in enumerate(topics)]
    splits = ["test" if t else "train" for t in is_test]
    return titles, topics, splits, snippets, embeddings


def picture_like(n: int = 400, seed: int = 0):
    """Like :func:`wikipedia_like` with ten image classes and a 32×32 picture per item (a digit drawn in
    its class colour), as the cifar10 variant's rows are: (titles, labels, splits, snippets, embeddings, images)."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    embeddings, labels, is_test = drifting(n, dim=128, n_classes=10, seed=seed)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    rng = np.random.default_rng(seed)
    images = np.empty((n, 32, 32, 3), np.uint8)
    for i, c in enumerate(labels):
        choice = rng.choice(np.flatnonzero(digits.target == c))
        grey = (digits.images[choice] / 16).repeat(4, 0).repeat(4, 1)
        tint = np.array([(c * 37) % 255, (c * 91) % 255, (c * 53 + 90) % 255]) / 255
        images[i] = np.clip(255 * (0.15 + 0.85 * grey[..., None] * (0.4 + 0.6 * tint)), 0, 255).astype(np.uint8)
    titles = [f"{names[c]} #{i}" for i, c in enumerate(labels)]
    snippets = [f"{names[c]} image #{i}" for i, c in enumerate(labels)]
    splits = ["test" if t else "train" for t in is_test]
    return titles, [names[c] for c in labels], splits, snippets, embeddings, images
