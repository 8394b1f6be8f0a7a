"""Seeding and one training epoch: the parts of the loop students are given, shared by all variants."""
from __future__ import annotations

import random

import numpy as np
import torch
from torch import nn


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch, numpy and random (otter seeds only numpy and random); returns a torch generator
    for shuffling so the batch order depends on the seed alone."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def train_one_epoch(model: nn.Module, x: torch.Tensor, y: torch.Tensor, optimizer: torch.optim.Optimizer,
                    batch_size: int = 0, generator: torch.Generator | None = None) -> float:
    """One pass over the training rows; batch_size 0 means one full-batch step. Returns the mean loss."""
    model.train()
    n = len(x)
    order = torch.randperm(n, generator=generator) if batch_size else torch.arange(n)
    step = batch_size or n
    total = 0.0
    for start in range(0, n, step):
        rows = order[start:start + step]
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(x[rows]), y[rows])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(rows)
    return total / n
