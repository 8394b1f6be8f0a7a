"""`python build.py validate FILE.csv`: the public checks on a Mantis CSV export, with clear messages."""
from __future__ import annotations

import argparse

from assignment.config import load_config


def main(argv=None) -> int:
    from replab.mantis import read_mantis_csv
    p = argparse.ArgumentParser(prog="build.py validate", description=__doc__)
    p.add_argument("csv")
    p.add_argument("--variant", help="also check the embedding dimension of this variant")
    args = p.parse_args(argv)
    cfg = load_config()
    dim = cfg.variant(args.variant).embedding_dim if args.variant else None
    table = read_mantis_csv(args.csv, epochs=cfg.epochs + 1, dim=dim)
    _, n, d = table.embeddings.shape
    print(f"{args.csv}: OK — {n} rows, epochs 0–{cfg.epochs}, {d} dimensions, "
          f"{len(set(table.categories))} categories, splits {sorted(set(table.splits))}")
    return 0
