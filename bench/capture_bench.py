"""P1: what the 11 snapshots cost on top of training, CNN on 5,000 generated 32×32 images.

    plain     10 training epochs, hook off
    ours      10 epochs + 11 snapshot passes (eval mode, inference_mode, hook on only there)
    original  the original notebook's style: the hook copies to NumPy on every forward, training
              steps included, plus the 11 snapshot passes

P1 = ours / plain (target ≤ 1.5); the original style's ratio is printed beside it.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
for p in (str(ROOT), str(ROOT / "assignment")):
    if p not in sys.path:
        sys.path.insert(0, p)

from replab.training import seed_everything, train_one_epoch  # noqa: E402
from solutions.capture import snapshot, train_and_capture  # noqa: E402
from solutions.models import ImageCNN  # noqa: E402


class CopyEveryForwardCNN(ImageCNN):
    """The original notebook's hook: `self.embeddings = h.detach().cpu().numpy()` on every forward."""

    def forward(self, x):
        self.capture = True
        return super().forward(x)


def _data(n: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    x = torch.randn(n, 3, 32, 32, generator=g) * 0.5 + y.view(-1, 1, 1, 1) / 10.0
    return x, y


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def measure(n: int = 5000, epochs: int = 10, batch_size: int = 128, lr: float = 0.003) -> dict:
    x, y = _data(n)
    rows = torch.arange(n)

    def plain():
        g = seed_everything(0)
        model = ImageCNN()
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        for _ in range(epochs):
            train_one_epoch(model, x, y, opt, batch_size, g)

    def ours():
        g = seed_everything(0)
        train_and_capture(ImageCNN(), x, y, rows, epochs=epochs, lr=lr, batch_size=batch_size, generator=g)

    def original():
        g = seed_everything(0)
        model = CopyEveryForwardCNN()
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        snaps = [snapshot(model, x, batch_size)]
        for _ in range(epochs):
            train_one_epoch(model, x, y, opt, batch_size, g)
            snaps.append(snapshot(model, x, batch_size))
        return np.stack(snaps)

    _timed(lambda: train_one_epoch(ImageCNN(), x[:512], y[:512], torch.optim.Adam(ImageCNN().parameters()), 128))  # warm-up
    times = {"plain_s": _timed(plain), "ours_s": _timed(ours), "original_s": _timed(original)}
    return {"P1": times["ours_s"] / times["plain_s"], "original_ratio": times["original_s"] / times["plain_s"],
            **{k: round(v, 2) for k, v in times.items()}, "images": n, "epochs": epochs, "batch_size": batch_size,
            "torch_threads": torch.get_num_threads()}


if __name__ == "__main__":
    r = measure()
    print(f"P1 = {r['P1']:.2f} (target ≤ 1.5)   original style {r['original_ratio']:.2f}   "
          f"plain {r['plain_s']} s, ours {r['ours_s']} s, original {r['original_s']} s")
