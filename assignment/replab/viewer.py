"""An offline stand-in for Mantis, and more: one self-contained HTML file to explore the embeddings over epochs.

No network at all: the page's CSS and JavaScript (``viewer_assets/``) and the data are inlined. What the page
offers: 3-D and 2-D views (rotate, zoom, pan) of a projection aligned from epoch to epoch (PCA; UMAP as well
when umap-learn is installed), the epoch slider and play, two epochs side by side, search by title, a pinned
item with its picture or snippet, its k nearest neighbours in the full embedding space and its trail through
the epochs, and the overlaps panel: the items whose neighbours are mostly of another class. Any Mantis CSV
can be dropped on the page (or opened with its file picker) and is read, projected and searched in the page.

Python computes what the page shows for the data written into it (:mod:`replab.viewer_data`), so the file
never carries the full embeddings: 5,000 items × 11 epochs is a few MB, pictures included.
"""
from __future__ import annotations

import functools
import html
from pathlib import Path

import numpy as np
import orjson

from .arrays import as_snapshots
from .mantis import read_mantis_csv
from .viewer_data import ViewerError, as_images, has_umap, image_atlas, nearest_neighbours, pack_indices, project_all

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#e7ba52", "#637939", "#ad494a", "#7b4173", "#3182bd", "#31a354", "#756bb1"]
ASSETS = Path(__file__).with_name("viewer_assets")
# One <script>, in this order: the state (state.js) is declared before the files that wire it up run.
SCRIPTS = ("csv.js", "linalg.js", "view.js", "state.js", "data.js", "panels.js", "draw.js", "input.js", "main.js")
DECIMALS = 3  # coordinates in a [-1, 1] box: 1/1000 of the half-width is under a pixel on any screen

__all__ = ["write_viewer_html", "write_viewer_for_csv", "ViewerError"]


@functools.cache
def _page_parts() -> tuple[str, str]:
    """The page split around its data: (head with __TITLE__, tail), CSS and JavaScript already inlined."""
    try:
        page = (ASSETS / "page.html").read_text(encoding="utf-8")
        style = (ASSETS / "viewer.css").read_text(encoding="utf-8")
        script = '"use strict";\n' + "\n".join((ASSETS / name).read_text(encoding="utf-8") for name in SCRIPTS)
    except FileNotFoundError as e:
        raise ViewerError(f"{e.filename}: missing; the viewer's page ships in replab/viewer_assets (reinstall replab)") from None
    for name, text in (("viewer.css", style), ("the viewer scripts", script)):
        if "</" + "script" in text.lower() or "<!--" in text or "__DATA__" in text:
            raise ViewerError(f"{ASSETS}: {name} would end the page's <script> early")
    head, tail = page.split("__DATA__")
    return head.replace("__STYLE__", style), tail.replace("__SCRIPT__", script)


def _inline_json(data) -> str:
    """JSON safe inside <script>: every '<' escaped, so no '</script>' or '<!--' can appear."""
    return orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY).replace(b"<", b"\\u003c").decode("utf-8")


def _flat(coords: np.ndarray) -> np.ndarray:
    """(E, N, k) → (E, N·k), rounded: one flat list per epoch, as the page reads them."""
    return coords.reshape(len(coords), -1).round(DECIMALS)


def write_viewer_html(path, titles, labels, snippets, embeddings, splits=None, title: str = "Embeddings over epochs",
                      *, images=None, neighbours: int = 10, umap: bool | None = None) -> Path:
    """Write the viewer for ``embeddings`` (E, N, D): an HTML file that opens offline in any browser.

    ``splits`` ("train"/"test" per row) marks test rows as rings and lets the page show either split;
    ``images`` (N, H, W[, 3], uint8 or floats in [0, 1]) gives each item its picture (kept as small
    thumbnails); ``neighbours`` is k, the neighbours listed for a pinned item and used to find the
    overlaps; ``umap`` adds a 3-D UMAP of every epoch: None = when umap-learn is installed (it takes about
    ten seconds per epoch at 5,000 items), True = required, False = never.
    """
    path = Path(path)
    embeddings = as_snapshots(embeddings)
    titles, labels, snippets = ([str(v) for v in values] for values in (titles, labels, snippets))
    n_epochs, n, dim = embeddings.shape
    if not len(titles) == len(labels) == len(snippets) == n or (splits is not None and len(splits) != n):
        raise ViewerError(f"{path.name}: titles, labels, snippets (and splits) need one entry per row ({n})")
    if not np.isfinite(embeddings).all():
        epoch, row, _ = np.argwhere(~np.isfinite(embeddings))[0]
        raise ViewerError(f"{path.name}: epoch {epoch}, row {row + 1} of the embeddings is not finite (NaN or inf)")
    if umap and not has_umap():
        raise ViewerError(f"{path.name}: umap=True needs umap-learn (pip install umap-learn); leave umap=None for PCA only")
    if int(neighbours) < 1:
        raise ViewerError(f"{path.name}: neighbours must be at least 1, got {neighbours}")
    classes = sorted(set(labels))
    index = {c: i for i, c in enumerate(classes)}
    k = min(int(neighbours), n - 1)
    knn = [nearest_neighbours(x, k) for x in embeddings] if k > 0 else []
    pca = project_all(embeddings, (2, 3))
    width = 2 if n <= 2**16 else 4  # bytes per neighbour index
    data = {
        "name": title,
        "classes": classes,
        "colors": [PALETTE[i % len(PALETTE)] for i in range(len(classes))],
        "palette": PALETTE,
        "titles": titles,
        "labels": [index[c] for c in labels],
        "snippets": snippets,
        "test": None if splits is None else [int(str(s) == "test") for s in splits],
        "dim": dim,
        "coords": _flat(pca[2]),
        "coords3": _flat(pca[3]),
        "umap3": _flat(project_all(embeddings, (3,), "umap")[3]) if (umap is None and has_umap()) or umap else None,
        "k": k,
        "knn": [pack_indices(a, width) for a in knn],
        "knn_bytes": width,
        "images": None if images is None else image_atlas(as_images(images, n, path.name)),
    }
    head, tail = _page_parts()  # the title goes into the head only, so no data text is ever re-substituted
    page = head.replace("__TITLE__", html.escape(title)) + _inline_json(data) + tail
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path


def write_viewer_for_csv(csv_path, html_path=None, title: str | None = None, **options) -> Path:
    """The viewer for a Mantis CSV (validated on the way in), written next to it unless told otherwise;
    ``options`` are those of :func:`write_viewer_html` (images, neighbours, umap)."""
    csv_path = Path(csv_path)
    table = read_mantis_csv(csv_path)
    return write_viewer_html(html_path or csv_path.with_suffix(".html"), table.titles, table.categories,
                             table.snippets, table.embeddings, table.splits, title=title or csv_path.name, **options)
