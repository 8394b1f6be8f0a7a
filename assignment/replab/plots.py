"""Pictures of the embeddings over epochs, and of the separation metrics (PNG, matplotlib Agg)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from .arrays import as_snapshots, require  # noqa: E402


def _align(coords: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """Rotate/reflect ``coords`` (N, 2) onto ``previous`` (orthogonal Procrustes), so a person sees motion, not flips."""
    if previous is None:
        return coords
    u, _, vt = np.linalg.svd(coords.T @ previous)
    return coords @ (u @ vt)


def project_epochs(embeddings, method: str = "pca", progress: bool = False) -> tuple[np.ndarray, str]:
    """2-D coordinates (E, N, 2) of every epoch, centred, scaled to unit RMS radius and aligned to the epoch before.

    ``method`` is "pca", "umap" (needs umap-learn) or "auto" (umap if installed, else pca); returns the
    coordinates and the method used.
    """
    embeddings = as_snapshots(embeddings).astype(np.float64)
    has_umap = importlib.util.find_spec("umap") is not None
    if method == "auto":
        method = "umap" if has_umap else "pca"
    if method not in ("pca", "umap"):
        raise ValueError(f"method must be 'pca', 'umap' or 'auto', got {method!r}")
    if method == "umap" and not has_umap:
        raise ValueError("method='umap' needs umap-learn (pip install umap-learn); use method='pca'")

    out, previous = [], None
    for x in tqdm(embeddings, desc=f"{method} per epoch", unit="epoch", disable=not progress):
        x = x - x.mean(axis=0)
        if method == "pca":
            _, _, vt = np.linalg.svd(x, full_matrices=False)
            coords = x @ vt[:2].T
            if coords.shape[1] < 2:  # 1-D embeddings: a flat second axis
                coords = np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
        else:
            import umap
            init = previous if previous is not None else "spectral"  # start from the last layout: smooth motion
            coords = umap.UMAP(n_components=2, init=init, random_state=0).fit_transform(x)
        coords = coords - coords.mean(axis=0)
        radius = np.sqrt((coords ** 2).sum(axis=1).mean())
        coords = coords / radius if radius > 0 else coords
        previous = _align(coords, previous)
        out.append(previous)
    return np.stack(out), method


def fixed_box(coords: np.ndarray) -> float:
    """Half-width of one square window that shows every epoch of ``coords`` (E, N, 2) but its rare far outliers."""
    extent = np.quantile(np.abs(coords).max(axis=2), 0.995, axis=1).max()
    return float(extent) or 1.0


def class_colors(classes) -> dict:
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    return {c: cmap(i % cmap.N) for i, c in enumerate(classes)}


def plot_epoch_grid(embeddings, labels, path, method: str = "pca", title: str | None = None) -> Path:
    """A grid of 2-D views of every epoch, coloured by class, with one shared legend."""
    path = Path(path)
    coords, method = project_epochs(as_snapshots(embeddings), method)
    labels = np.asarray([str(v) for v in labels])
    if len(labels) != coords.shape[1]:
        raise ValueError(f"{len(labels)} labels for {coords.shape[1]} rows")
    classes = sorted(set(labels))
    colors = class_colors(classes)
    n_epochs = len(coords)
    ncols = min(4, n_epochs + 1)
    nrows = -(-(n_epochs + 1) // ncols)  # one extra panel holds the legend
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 3.2 * nrows), squeeze=False)
    lim = fixed_box(coords) * 1.08
    order = np.random.default_rng(0).permutation(coords.shape[1])  # no class is always painted on top
    for epoch, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if epoch >= n_epochs:
            ax.axis("off")
            continue
        xy = coords[epoch][order]
        ax.scatter(xy[:, 0], xy[:, 1], s=5, c=[colors[c] for c in labels[order]], alpha=0.7, linewidths=0,
                   rasterized=True)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_title(f"epoch {epoch}" + (" (untrained)" if epoch == 0 else ""), fontsize=10)
    handles = [plt.Line2D([], [], marker="o", ls="", color=colors[c], label=c) for c in classes]
    axes.flat[n_epochs].legend(handles=handles, loc="center", frameon=False, title="class",
                     fontsize=9 if len(classes) <= 12 else 7)
    fig.suptitle(f"{title or 'Embeddings over training'} ({method.upper()} of each epoch, aligned)", fontsize=13)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_splits(ax, table, column):
    for split, style in (("train", "--"), ("test", "-")):
        rows = table[table["split"] == split].sort_values("epoch")
        if len(rows):
            ax.plot(rows["epoch"], rows[column], style, marker="o", ms=3.5, color="C0" if split == "test" else "C1",
                    label=split)


def plot_metrics(table, path) -> Path:
    """Line plots over epochs of the table from :func:`replab.metrics.epoch_metrics` (train dashed, test solid).

    When the table has a ``separation`` column (``epoch_metrics(…, separation=…)``), a fourth panel shows it:
    one line when it holds one value per epoch, else one per split like the others.
    """
    path = Path(path)
    require(table, "table", "run table = metrics.epoch_metrics(snapshots, …) first")
    if not hasattr(table, "columns"):
        raise ValueError(f"table has type {type(table).__name__}, expected the DataFrame from metrics.epoch_metrics")
    panels = [("silhouette", "silhouette (by class)"), ("knn_accuracy", "k-NN accuracy"),
              ("centroid_distance", "mean distance between class centroids")]
    missing = [c for c in ("epoch", "split", *(p for p, _ in panels)) if c not in table.columns]
    if missing:
        raise ValueError(f"metrics table lacks columns {missing}")
    if "separation" in table.columns:
        panels.append(("separation", "separation ratio (between / within)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.35 * len(panels), 3.8))
    epochs = sorted(table["epoch"].unique())
    for ax, (column, label) in zip(axes, panels):
        if column == "separation" and table.groupby("epoch")["separation"].nunique(dropna=False).max() == 1:
            per_epoch = table.groupby("epoch")["separation"].first()
            ax.plot(per_epoch.index, per_epoch.to_numpy(), "-", marker="o", ms=3.5, color="C2")
            ax.set_ylim(0, max(1.0, np.nanmax(per_epoch.to_numpy(), initial=0.0) * 1.1))
            last = per_epoch.dropna()
            if len(last):
                ax.annotate(f"{last.iloc[-1]:.2f}", (last.index[-1], last.iloc[-1]), textcoords="offset points",
                            xytext=(-4, 7), ha="right", fontsize=9, color="C2")
        else:
            _plot_splits(ax, table, column)
            if column == "separation":
                ax.set_ylim(bottom=0)
        ax.set_title(label, fontsize=11)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.set_xticks(epochs)
    axes[1].set_ylim(0, 1.02)
    axes[0].legend(frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
