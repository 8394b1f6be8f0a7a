"""Reference runs behind the separation thresholds of the hidden tests.

For each variant, the reference solution runs over several seeds on the data a build would use
(`--data-dir` first, else the embedded offline default; no live sources), and the held-out
silhouette at epoch 0 and at the last epoch is summarised. The thresholds in
assignment/config.yaml sit well below the weakest reference run (about half of it), so right work
always passes while a model that did not train (or trained on shuffled labels) fails.

    python bench/thresholds.py [--data-dir ../shared/fixtures] [--seeds 5]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for p in (str(ROOT), str(ROOT / "assignment")):
    if p not in sys.path:
        sys.path.insert(0, p)

from assignment.config import load_config  # noqa: E402
from replab.metrics import epoch_metrics  # noqa: E402
from replab.sources import load_corpus  # noqa: E402
from solutions.pipeline import run_lab  # noqa: E402


def reference(variant_name: str, data_dir: Path | None, seeds: int) -> dict:
    cfg = load_config()
    variant = cfg.variant(variant_name)
    corpus = load_corpus(variant, data_dir=data_dir, live=False, seed=cfg.seed)
    first, last = [], []
    for seed in range(seeds):
        run = run_lab(corpus, variant, seed=seed, epochs=cfg.epochs, test_fraction=cfg.test_fraction)
        table = epoch_metrics(run.snapshots, corpus.labels, run.is_test)
        test = table[table.split == "test"].set_index("epoch")["silhouette"]
        first.append(test.iloc[0])
        last.append(test.iloc[-1])
    first, last = np.array(first), np.array(last)
    gain = last - first
    return {"data": corpus.source, "seeds": seeds,
            "silhouette_last": [round(float(last.mean()), 3), round(float(last.std()), 3), round(float(last.min()), 3)],
            "gain": [round(float(gain.mean()), 3), round(float(gain.std()), 3), round(float(gain.min()), 3)],
            "config": {"silhouette_min": variant.thresholds.silhouette_min,
                       "silhouette_gain_min": variant.thresholds.silhouette_gain_min}}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", type=Path)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--variant", action="append")
    args = p.parse_args()
    for name in args.variant or ["wikipedia", "bbc", "cifar10"]:
        r = reference(name, args.data_dir, args.seeds)
        print(f"{name:<10} last-epoch silhouette mean/std/min {r['silhouette_last']}  gain {r['gain']}  "
              f"config {r['config']}  ({r['data']})")
        print(json.dumps(r))
