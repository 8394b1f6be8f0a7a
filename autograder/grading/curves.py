"""Per-submission separation curves for the TA report: held-out silhouette of every epoch, read from
the Mantis CSV each student exported (kept by the grader as out/<submission>/<csv_name>).

The student's own CSV is used, not a re-run of their notebook: it is what they upload to Mantis,
so the curve shows the picture they saw. A CSV that cannot be read just has no curve.
"""
from __future__ import annotations

from pathlib import Path

from replab.mantis import MantisFormatError, read_mantis_csv
from replab.metrics import heldout_silhouette


def heldout_silhouettes(csv_path, epochs: int | None = None, dim: int | None = None) -> list[float]:
    """replab.metrics.heldout_silhouette of a Mantis CSV (held out: split == "test"; labels: its
    categoric column); an unreadable CSV raises MantisFormatError."""
    table = read_mantis_csv(csv_path, epochs=epochs, dim=dim)
    return heldout_silhouette(table.embeddings, table.categories, table.is_test).tolist()


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
