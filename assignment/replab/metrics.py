"""How well classes separate in each epoch's embeddings: one tidy table, one row per (epoch, split).

- ``silhouette``: sklearn's silhouette score (euclidean) of the split's rows, grouped by label.
- ``knn_accuracy``: test rows are classified by a k-NN fitted on that epoch's train rows; train rows by
  their k nearest *other* train rows (leave-one-out), so neither number sees its own label.
- ``centroid_distance``: mean euclidean distance between every pair of class centroids of the split.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial.distance import pdist
from sklearn.metrics import pairwise_distances, silhouette_score
from sklearn.neighbors import KNeighborsClassifier
from tqdm.auto import tqdm

METRIC_COLUMNS = ("epoch", "split", "silhouette", "knn_accuracy", "centroid_distance")


def _distances(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Euclidean distances in float64 (one matrix product); exact zeros on the diagonal of a square matrix."""
    d = pairwise_distances(a, b, metric="euclidean")
    if b is None:
        np.fill_diagonal(d, 0.0)
    return d


def _silhouette(distances: np.ndarray, y: np.ndarray) -> float:
    """Silhouette from precomputed distances; defined only for 2 ≤ classes ≤ rows - 1."""
    if not 2 <= len(np.unique(y)) < len(y):
        return float("nan")
    return float(silhouette_score(distances, y, metric="precomputed"))


def _centroid_distance(x: np.ndarray, y: np.ndarray) -> float:
    classes = np.unique(y)
    if len(classes) < 2:
        return float("nan")
    centroids = np.stack([x[y == c].mean(axis=0, dtype=np.float64) for c in classes])
    return float(pdist(centroids).mean())


def epoch_metrics(embeddings, labels, is_test, k: int = 5, progress: bool = False) -> pd.DataFrame:
    """Separation metrics per epoch and split for ``embeddings`` (E, N, D), ``labels`` (N,), ``is_test`` (N,)."""
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if embeddings.ndim == 2:
        embeddings = embeddings[None]
    if embeddings.ndim != 3:
        raise ValueError(f"embeddings must be (epochs, rows, dim), got shape {embeddings.shape}")
    n = embeddings.shape[1]
    _, y = np.unique(np.asarray(labels), return_inverse=True)
    is_test = np.asarray(is_test, dtype=bool)
    if len(y) != n or is_test.shape != (n,):
        raise ValueError(f"labels ({len(y)}) and is_test ({is_test.shape[0] if is_test.ndim else 0}) must have "
                         f"one entry per row ({n})")
    if not np.isfinite(embeddings).all():
        raise ValueError("embeddings contain NaN or infinite values")
    train, test = ~is_test, is_test
    y_train, y_test = y[train], y[test]

    rows = []
    for epoch in tqdm(range(len(embeddings)), desc="metrics", unit="epoch", disable=not progress):
        # Distances once per epoch (train×train, test×test, test×train), shared by silhouette and k-NN:
        # plain matrix products, steady in speed where sklearn's threaded per-call searches are not.
        x = embeddings[epoch].astype(np.float64)
        x_train, x_test = x[train], x[test]
        d_train = _distances(x_train) if len(y_train) else None
        d_test = _distances(x_test) if len(y_test) else None
        knn_train = knn_test = float("nan")
        if len(y_train) >= 2:
            # predict(None) classifies the fitted rows without counting each row as its own neighbour.
            knn = KNeighborsClassifier(n_neighbors=min(k, len(y_train) - 1), metric="precomputed").fit(d_train, y_train)
            knn_train = float((knn.predict(None) == y_train).mean())
            if len(y_test):
                knn.set_params(n_neighbors=min(k, len(y_train)))
                knn_test = float((knn.predict(_distances(x_test, x_train)) == y_test).mean())
        for split, xs, ds, ys, acc in (("train", x_train, d_train, y_train, knn_train),
                                       ("test", x_test, d_test, y_test, knn_test)):
            if len(ys):
                rows.append((epoch, split, _silhouette(ds, ys), acc, _centroid_distance(xs, ys)))
    return pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
