"""q2: snapshots of the hooked layer at epoch 0 (untrained) and after every training epoch."""
import numpy as np
import torch
from tqdm.auto import tqdm

from replab.training import train_one_epoch


def snapshot(model, x, batch_size=256):
    """The hooked layer's output for every row of x, in row order, as one (N, D) array: capture on,
    eval mode, no autograd. (Batches of a few hundred keep the activations in cache: on 2 CPU cores,
    256 ran the CNN's pass twice as fast as 1024.)"""
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
    """Snapshot 0 before any training step, then per epoch one call of train_one_epoch on the rows in
    `train_rows` followed by one snapshot of all rows; returns the epochs + 1 snapshots, epoch 0 first."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    # BEGIN SOLUTION
    x_train, y_train = x[train_rows], y[train_rows]
    snapshots = [snapshot(model, x)]  # epoch 0: before any update
    for _ in tqdm(range(epochs), desc="epochs", leave=False):
        train_one_epoch(model, x_train, y_train, optimizer, batch_size, generator)
        snapshots.append(snapshot(model, x))
    return np.stack(snapshots)
    # END SOLUTION
