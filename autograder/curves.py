"""Per-submission separation curves for the TA report: held-out silhouette of every epoch, read from
the Mantis CSV each student exported (kept by the grader as out/<submission>/<csv_name>).

The student's own CSV is used, not a re-run of their notebook: it is what they upload to Mantis,
so the curve shows the picture they saw. A CSV that cannot be read just has no curve.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import silhouette_score

from replab.mantis import MantisFormatError, read_mantis_csv


def heldout_silhouettes(csv_path, epochs: int | None = None, dim: int | None = None) -> list[float]:
    """Silhouette of the held-out rows (split == "test"), labelled by their categoric column, per epoch.

    An epoch where the silhouette is undefined (fewer than two classes among the held-out rows, or
    every row at one point) gives NaN; an unreadable CSV raises MantisFormatError.
    """
    table = read_mantis_csv(csv_path, epochs=epochs, dim=dim)
    held_out = table.is_test
    labels = np.asarray(table.categories)[held_out]
    curve = []
    for emb in table.embeddings:
        points = emb[held_out]
        n_labels = len(set(labels.tolist()))
        try:
            value = silhouette_score(points, labels) if 2 <= n_labels < len(points) else float("nan")
        except ValueError:  # e.g. all points identical
            value = float("nan")
        curve.append(float(value))
    return curve


def separation_curves(results, out, cfg, variant) -> dict[str, list[float]]:
    """{submission name: held-out silhouette per epoch} for every graded submission whose CSV survived
    grading (out/<submission>/<cfg.csv_name>); submissions without a readable CSV are left out."""
    curves = {}
    for result in results:
        path = Path(out) / result["submission"] / cfg.csv_name
        if not path.is_file():
            continue
        try:
            curves[result["submission"]] = heldout_silhouettes(path, epochs=cfg.epochs + 1,
                                                               dim=variant.embedding_dim)
        except MantisFormatError:  # its failure is already in the grade; the report shows "no CSV"
            continue
    return curves
