"""One check for the snapshots every later cell uses: any honest form in, float32 (epochs, rows, dim) out.

When a task is unfinished its variable is ``None`` (a function that still ends in ``...`` returns None)
or ``Ellipsis`` (``snapshots = ...``); the functions that take snapshots then stop with one line that
says which task to finish, not a ``NoneType`` error three calls deep.

torch is never imported here: a tensor can only exist once the notebook has imported torch itself.
"""
from __future__ import annotations

import sys

import numpy as np

FINISH_Q2 = "finish q2 (train_and_capture) and run its cell first"


def require(value, name: str, hint: str):
    """``value`` unless it is None or Ellipsis (an unfinished task); then ValueError ``"<name> is None: <hint>"``."""
    if value is None:
        raise ValueError(f"{name} is None: {hint}")
    if value is Ellipsis:
        raise ValueError(f"{name} is ... (the placeholder): {hint}")
    return value


def untensor(value):
    """A torch tensor (with or without grad, on any device) as a NumPy array; anything else unchanged."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.is_tensor(value):
        return value
    value = value.detach().cpu()
    if value.is_floating_point():
        value = value.float()  # NumPy has no bfloat16; float32 is what comes out anyway
    return value.numpy()


def as_snapshots(snapshots, name: str = "snapshots", hint: str = FINISH_Q2) -> np.ndarray:
    """``snapshots`` as a float32 NumPy array (epochs, rows, dim), or ValueError with one line naming the problem.

    Accepts a NumPy array of any real dtype, a torch tensor (detached or not) or a list/tuple of per-epoch
    (rows, dim) arrays or tensors. None or Ellipsis means the task that makes it is unfinished: ``hint``.
    """
    require(snapshots, name, hint)
    value = untensor(snapshots)
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"{name} is an empty {type(value).__name__} (no epochs): {hint}")
        epochs = []
        for e, item in enumerate(value):
            require(item, f"{name}[{e}]", f"does snapshot return its array? {hint}")
            try:
                item = np.asarray(untensor(item))
            except ValueError:  # a ragged nested list
                raise ValueError(f"{name}[{e}] is not a (rows, dim) array: its rows have different lengths") from None
            if item.ndim != 2:
                raise ValueError(f"{name}: epoch {e} has shape {item.shape}, expected (rows, dim)")
            if epochs and item.shape != epochs[0].shape:
                raise ValueError(f"{name}: epoch {e} has shape {item.shape} but epoch 0 has {epochs[0].shape}; "
                                 "every epoch needs the same (rows, dim)")
            epochs.append(item)
        array = np.stack(epochs)
    else:
        array = np.asarray(value)
    if array.dtype == object:
        if array.ndim == 0:
            raise ValueError(f"{name} has type {type(snapshots).__name__}, expected an array of shape (epochs, rows, dim)")
        if any(v is None or v is Ellipsis for v in array.flat):
            raise ValueError(f"{name} holds None values: {hint}")
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise ValueError(f"{name} has dtype {array.dtype}, expected real numbers")
    if array.ndim != 3:
        stack = " (one snapshot of every row per epoch, stacked: np.stack)" if array.ndim == 2 else ""
        raise ValueError(f"{name} has shape {array.shape}, expected (epochs, rows, dim){stack}")
    if 0 in array.shape:
        raise ValueError(f"{name} has shape {array.shape}: it needs at least one epoch, row and dimension")
    with np.errstate(over="ignore"):  # beyond float32 becomes inf; the caller says what that means for it
        return np.ascontiguousarray(array, dtype=np.float32)
