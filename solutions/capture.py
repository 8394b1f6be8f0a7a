"""q2: snapshots of the hooked layer at epoch 0 (untrained) and after every training epoch."""
import numpy as np
import torch
from tqdm.auto import tqdm

from replab.training import train_one_epoch


def snapshot(model, x, batch_size=1024):
    """Embeddings of every row, in row order, from one pass in eval mode with the hook switched on."""
    # BEGIN SOLUTION
    model.eval()
    model.capture = True
    parts = []
    with torch.inference_mode():
        for start in range(0, len(x), batch_size):
            model(x[start:start + batch_size])
            parts.append(model.embeddings)
    model.capture = False
    return np.concatenate(parts)
    # END SOLUTION


def train_and_capture(model, x, y, train_rows, epochs=10, lr=0.002, batch_size=0, generator=None):
    """Train on the rows in `train_rows`; return snapshots of all rows, shape (epochs + 1, N, D)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    # BEGIN SOLUTION
    snapshots = [snapshot(model, x)]  # epoch 0: before any update
    for _ in tqdm(range(epochs), desc="epochs", leave=False):
        train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
        snapshots.append(snapshot(model, x))
    return np.stack(snapshots)
    # END SOLUTION
