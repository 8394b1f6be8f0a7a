"""The whole experiment as the notebook runs it, for the build, the benchmarks and the tests.

Variants differ only in their data (a Corpus) and their model; everything else is shared.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from replab.corpus import Corpus
from replab.features import heldout_mask
from replab.training import seed_everything
from solutions.capture import train_and_capture
from solutions.kinds import KINDS


@dataclass
class LabRun:
    corpus: Corpus
    is_test: np.ndarray     # bool (N,)
    snapshots: np.ndarray   # float32 (epochs + 1, N, D)
    model: torch.nn.Module


def run_lab(corpus: Corpus, variant, *, seed: int = 0, epochs: int = 10, test_fraction: float = 0.25,
            batch_size: int | None = None) -> LabRun:
    """Split, featurize, train with snapshots. Same seed, same data → identical snapshots on CPU."""
    is_test = heldout_mask(corpus.labels, test_fraction, seed)
    kind = KINDS[variant.kind]
    x = kind.features(corpus, is_test, variant.max_features)
    y = torch.from_numpy(corpus.label_ids)
    generator = seed_everything(seed)
    model = kind.build(x.shape[1], len(corpus.class_names), variant.hidden)
    train_rows = torch.from_numpy(np.flatnonzero(~is_test))
    snapshots = train_and_capture(model, x, y, train_rows, epochs=epochs, lr=variant.lr,
                                  batch_size=variant.batch_size if batch_size is None else batch_size,
                                  generator=generator)
    return LabRun(corpus, is_test, snapshots, model)
