"""P1: what the 11 snapshots cost on top of training, CNN on 5,000 generated 32×32 images.

    plain     10 training epochs, hook off
    ours      10 epochs + 11 snapshot passes (eval mode, inference_mode, hook on only there)
    original  the original notebook's style: the hook copies to NumPy on every forward, training
              steps included, plus the 11 snapshot passes

P1 = ours / plain (target ≤ 1.5); the original style's ratio is printed beside it.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]

from replab.features import image_tensor  # noqa: E402
from replab.training import seed_everything, train_one_epoch  # noqa: E402
from solutions.capture import snapshot, train_and_capture  # noqa: E402
from solutions.models import ImageCNN  # noqa: E402


class CopyEveryForwardCNN(ImageCNN):
    """The original notebook's hook: `self.embeddings = h.detach().cpu().numpy()` on every forward."""

    def forward(self, x):
        self.capture = True
        return super().forward(x)


def _data(n: int, seed: int = 0):
    """Generated 32×32 RGB images with a class-dependent tint, through the lab's own input path."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    images = np.clip(rng.normal(128, 40, (n, 32, 32, 3)) + (y * 8)[:, None, None, None], 0, 255).astype(np.uint8)
    return image_tensor(images), torch.from_numpy(y)


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def measure(n: int = 5000, epochs: int = 10, batch_size: int = 128, lr: float = 0.003, rounds: int = 3) -> dict:
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
        train_and_capture(model, x, y, rows, epochs=epochs, lr=lr, batch_size=batch_size, generator=g)

    _timed(lambda: train_one_epoch(ImageCNN(), x[:512], y[:512], torch.optim.Adam(ImageCNN().parameters()), 128))  # warm-up
    runs = {"plain_s": [], "ours_s": [], "original_s": []}
    for _ in range(rounds):  # interleaved, so a burst of load elsewhere hits all three alike
        for key, fn in (("plain_s", plain), ("ours_s", ours), ("original_s", original)):
            runs[key].append(_timed(fn))
    times = {k: float(np.median(v)) for k, v in runs.items()}
    return {"P1": times["ours_s"] / times["plain_s"], "original_ratio": times["original_s"] / times["plain_s"],
            **{k: round(v, 2) for k, v in times.items()}, "rounds": rounds, "images": n, "epochs": epochs,
            "batch_size": batch_size, "torch_threads": torch.get_num_threads()}


if __name__ == "__main__":
    r = measure()
    print(f"P1 = {r['P1']:.2f} (target ≤ 1.5)   original style {r['original_ratio']:.2f}   "
          f"plain {r['plain_s']} s, ours {r['ours_s']} s, original {r['original_s']} s")
