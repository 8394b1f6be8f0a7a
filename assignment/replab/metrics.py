"""How well classes separate in each epoch's embeddings: one tidy table, one row per (epoch, split).

- ``silhouette``: sklearn's silhouette score (euclidean) of the split's rows, grouped by label.
- ``knn_accuracy``: test rows are classified by a k-NN fitted on that epoch's train rows; train rows by
  their k nearest *other* train rows (leave-one-out), so neither number sees its own label.
- ``centroid_distance``: mean euclidean distance between every pair of class centroids of the split.
- ``separation`` (only when passed in): the students' own separation ratio of that epoch (q4), one value per epoch.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial.distance import pdist
from sklearn.metrics import pairwise_distances, silhouette_score
from sklearn.neighbors import KNeighborsClassifier
from tqdm.auto import tqdm

from .arrays import as_snapshots, require, untensor

METRIC_COLUMNS = ("epoch", "split", "silhouette", "knn_accuracy", "centroid_distance")  # + "separation" when given
FINISH_Q4 = "finish q4 (separation_ratio) and run its cell first"


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


def _separation_column(separation, n_epochs: int) -> np.ndarray:
    """The students' separation ratios (one per epoch) as float64 (E,), or ValueError saying what is off."""
    require(separation, "separation", FINISH_Q4)
    values = np.asarray(untensor(separation))
    if values.dtype == object and any(v is None or v is Ellipsis for v in values.flat):
        raise ValueError(f"separation holds None values: {FINISH_Q4}")
    if not np.issubdtype(values.dtype, np.number) or np.issubdtype(values.dtype, np.complexfloating):
        raise ValueError(f"separation has dtype {values.dtype}, expected real numbers (one per epoch)")
    if values.ndim != 1 or len(values) != n_epochs:
        found = (f"{len(values)} values" if values.ndim == 1 else "a single number" if values.ndim == 0
                 else f"shape {values.shape}")
        raise ValueError(f"separation has {found} but the snapshots have {n_epochs} epochs: one value per epoch "
                         f"(0 … {n_epochs - 1}), as separation_by_epoch(snapshots, …) returns")
    return values.astype(np.float64)


def heldout_silhouette(embeddings, labels, is_test) -> np.ndarray:
    """Silhouette of the held-out rows, grouped by label, for every epoch of ``embeddings`` (E, N, D):
    the one measure of separation the release's calibration, its verification and the TA report share.
    NaN where undefined (fewer than two classes held out, or every row at one point)."""
    embeddings = as_snapshots(embeddings)
    is_test = np.asarray(is_test, dtype=bool)
    _, y = np.unique(np.asarray(labels)[is_test], return_inverse=True)
    curve = []
    for x in embeddings:
        try:
            curve.append(_silhouette(_distances(x[is_test].astype(np.float64)), y))
        except ValueError:   # every row at one point
            curve.append(float("nan"))
    return np.array(curve)


def epoch_metrics(embeddings, labels, is_test, separation=None, k: int = 5, progress: bool = False) -> pd.DataFrame:
    """Separation metrics per epoch and split for ``embeddings`` (E, N, D), ``labels`` (N,), ``is_test`` (N,).

    ``embeddings`` may be anything :func:`replab.arrays.as_snapshots` accepts (NumPy, torch, a list of epochs).
    ``separation`` (optional): one number per epoch, e.g. the ratios of q4's ``separation_by_epoch``; it becomes a
    ``separation`` column, the same value on both rows (train, test) of its epoch.
    """
    if getattr(embeddings, "ndim", None) == 2:  # one snapshot alone: a table with one epoch
        embeddings = embeddings[None]
    embeddings = as_snapshots(embeddings)
    n = embeddings.shape[1]
    if separation is not None:
        separation = _separation_column(separation, len(embeddings))
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
    table = pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
    if separation is not None:
        table["separation"] = separation[table["epoch"].to_numpy()]
    return table
