"""What the viewer page carries when Python writes it: aligned projections, nearest neighbours, pictures.

The page never needs the full embeddings when Python writes it: the 2-D and 3-D projections of every
epoch and each item's k nearest neighbours in the full space (every epoch) are computed here, once,
exactly. (A CSV dropped onto the page is handled by the page itself, in JavaScript.)
"""
from __future__ import annotations

import base64
import importlib.util
import io

import numpy as np

from .errors import LabError


class ViewerError(LabError, ValueError):
    """Input the viewer cannot show; the one-line message names the file and the problem."""


def _align(coords: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """Rotate/reflect ``coords`` (N, k) onto ``previous`` (orthogonal Procrustes): motion, not flips."""
    if previous is None:
        return coords
    u, _, vt = np.linalg.svd(coords.T @ previous)
    return coords @ (u @ vt)


def _unit_rms(coords: np.ndarray) -> np.ndarray:
    coords = coords - coords.mean(axis=0)
    radius = np.sqrt((coords ** 2).sum(axis=1).mean())
    return coords / radius if radius > 0 else coords


def _pca(x: np.ndarray, k: int) -> np.ndarray:
    """Coordinates on the top k principal axes, from the D×D covariance (D is the layer width: small)."""
    x = x - x.mean(axis=0)
    values, vectors = np.linalg.eigh(x.T @ x)
    coords = x @ vectors[:, ::-1][:, :k]
    return np.pad(coords, ((0, 0), (0, k - coords.shape[1])))  # fewer than k dims: flat extra axes


def _umap(x: np.ndarray, k: int, previous: np.ndarray | None) -> np.ndarray:
    import umap  # optional dependency: only called when importable
    init = previous if previous is not None else "spectral"  # start from the last layout: smooth motion
    return umap.UMAP(n_components=k, init=init, random_state=0).fit_transform(x)


def has_umap() -> bool:
    return importlib.util.find_spec("umap") is not None


def project(embeddings: np.ndarray, k: int, method: str = "pca") -> np.ndarray:
    """(E, N, k) coordinates of every epoch in one fixed box [-1, 1]: centred, unit RMS radius, aligned to
    the epoch before; the rare far outlier is pinned to the edge of the box."""
    return project_all(embeddings, (k,), method)[k]


def project_all(embeddings: np.ndarray, dims=(2, 3), method: str = "pca") -> dict[int, np.ndarray]:
    """:func:`project` for several k at once ({k: (E, N, k)}), one PCA (or UMAP) per epoch for all of them."""
    top = max(dims)
    out, previous = {k: [] for k in dims}, {k: None for k in dims}
    for x in embeddings.astype(np.float64):
        full = _pca(x, top) if method == "pca" else _umap(x, top, previous[top])
        for k in dims:
            previous[k] = _align(_unit_rms(full[:, :k]), previous[k])
            out[k].append(previous[k])
    boxed = {}
    for k in dims:
        coords = np.stack(out[k])
        box = float(np.quantile(np.abs(coords).max(axis=2), 0.995, axis=1).max()) or 1.0
        boxed[k] = np.clip(coords / box, -1.0, 1.0)
    return boxed


def nearest_neighbours(x: np.ndarray, k: int, block: int = 1024) -> np.ndarray:
    """(N, k) indices of each row's k nearest other rows (Euclidean, in float64; ties by index)."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    k = min(k, n - 1)
    norms = (x ** 2).sum(axis=1)
    out = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, block):
        stop = min(start + block, n)
        d = norms[start:stop, None] + norms[None, :] - 2.0 * (x[start:stop] @ x.T)
        d[np.arange(stop - start), np.arange(start, stop)] = np.inf  # never itself
        cand = np.argpartition(d, k, axis=1)[:, : k + 1]  # k+1: a tie at the k-th place is broken by index
        order = np.lexsort((cand, np.take_along_axis(d, cand, axis=1)), axis=1)
        out[start:stop] = np.take_along_axis(cand, order, axis=1)[:, :k]
    return out


def pack_indices(knn: np.ndarray, width: int) -> str:
    """Indices as little-endian uint16 (``width`` 2) or uint32 (4) in base64: a quarter of their JSON size."""
    dtype = "<u2" if width == 2 else "<u4"
    return base64.b64encode(np.ascontiguousarray(knn, dtype=dtype).tobytes()).decode("ascii")


def as_images(images, n: int, where: str) -> np.ndarray:
    """uint8 (N, H, W, 3) from any common layout: (N, H, W), (N, H, W, 1|3|4), channels-first, floats in [0, 1]."""
    from .arrays import untensor
    a = np.asarray(untensor(images))
    if a.ndim == 4 and a.shape[1] in (1, 3, 4) and a.shape[-1] not in (1, 3, 4):
        a = a.transpose(0, 2, 3, 1)  # torch's (N, C, H, W)
    if a.ndim == 3:
        a = a[..., None]
    if a.ndim != 4 or a.shape[-1] not in (1, 3, 4):
        raise ViewerError(f"{where}: images must be (N, H, W) or (N, H, W, 3), got shape {a.shape}")
    if len(a) != n:
        raise ViewerError(f"{where}: {len(a)} images for {n} rows")
    if a.dtype.kind == "f":
        a = np.clip(a * (255.0 if a.max(initial=0) <= 1.0 else 1.0), 0, 255)
    a = a.astype(np.uint8)[..., :3]
    return np.repeat(a, 3, axis=3) if a.shape[-1] == 1 else a


def image_atlas(images: np.ndarray, tile: int = 32, quality: int = 85) -> dict:
    """All pictures as one JPEG sprite sheet (a data URI), ``tile`` px square each, row-major in ``cols``
    columns: one image decode in the page, and about a kilobyte per picture."""
    from PIL import Image  # comes with matplotlib
    n = len(images)
    cols = int(np.ceil(np.sqrt(n)))
    rows = -(-n // cols)
    sheet = Image.new("RGB", (cols * tile, rows * tile), "white")
    for i, pixels in enumerate(images):
        picture = Image.fromarray(pixels)
        if picture.size != (tile, tile):
            picture = picture.resize((tile, tile), Image.Resampling.BILINEAR)
        sheet.paste(picture, ((i % cols) * tile, (i // cols) * tile))
    buffer = io.BytesIO()
    sheet.save(buffer, "JPEG", quality=quality, subsampling=0)  # no chroma subsampling: tiny pictures keep colour
    return {"src": "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"),
            "tile": tile, "cols": cols}
