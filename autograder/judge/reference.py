"""Every answer the judge compares with, computed here, on the judge side, from the release's data and
the reference solution (solutions/): never taken from the student side.

A *kind* (text, image) says which model the lab builds, how it is constructed and which layer its hook
reads. A *reading* is one way of reading the hooked layer: "pre" (its output) and "post" (after the
ReLU that follows it). The right one is the kind's; the other is the classic slip, and knowing it lets
the judge say so, and judge the student's snapshots by the reading their own hook takes, so a wrong
hook is charged at q1 only.
"""
from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from replab.corpus import Corpus
from replab.features import heldout_mask, model_inputs
from replab.training import seed_everything
import solutions.capture
from solutions.capture import train_and_capture
from solutions.models import ImageCNN, TextMLP, hooked_layer


@dataclass(frozen=True)
class Kind:
    model: type
    reads: str          # "pre" or "post": the reading the hook must take
    layer: str          # the hooked layer's attribute name, as the notebook calls it

    def args(self, n_inputs: int, n_classes: int, hidden) -> list:
        """The constructor's arguments, in the order the notebook passes them."""
        return [n_inputs, n_classes, list(hidden)] if self.model is TextMLP else [n_classes, list(hidden)]

    def build(self, n_inputs: int, n_classes: int, hidden) -> torch.nn.Module:
        return self.model(*[tuple(a) if isinstance(a, list) else a for a in self.args(n_inputs, n_classes, hidden)])

    def describe(self, reading: str, dim: int) -> str:
        side = "before" if reading == "pre" else "after"
        return f"the {dim}-d layer {self.layer}'s output {side} its ReLU"


# The reference solution shows students a progress bar; the judge runs it silently.
solutions.capture.tqdm = functools.partial(solutions.capture.tqdm, disable=True)

KINDS = {"text": Kind(TextMLP, "pre", "fc2"), "image": Kind(ImageCNN, "post", "fc1")}
READINGS = ("pre", "post")


def readings_of(model: torch.nn.Module, run) -> dict[str, np.ndarray]:
    """{reading: float64 array} of the hooked layer over every capture-on pass of `run()`."""
    seen = []
    handle = hooked_layer(model).register_forward_hook(
        lambda mod, inp, out: seen.append(out.detach().to(torch.float64).clone()) if getattr(model, "capture", True) else None)
    try:
        run()
    finally:
        handle.remove()
    pre = torch.cat(seen) if seen else torch.empty(0)
    return {"pre": pre.numpy(), "post": torch.relu(pre).numpy()}


# torch's default generator is global to the process: the judge's threads (one per submission in a batch)
# seed it and build models under this lock, so no thread's draws land between another's seed and build.
TORCH_RNG = threading.RLock()


@dataclass
class LabReference:
    corpus: Corpus
    is_test: np.ndarray
    n_inputs: int
    snapshots: dict[str, np.ndarray]   # reading → (epochs + 1, N, D) float64


def lab_reference(spec, data_path: Path) -> LabReference:
    """The notebook's own run, as its given cells make it (seed, split, features, model, training), with
    the reference answers to q1 and q2 in place of the student's."""
    corpus = Corpus.load(data_path)
    is_test = heldout_mask(corpus.labels, spec.test_fraction, spec.seed)
    x = model_inputs(corpus, is_test, spec.max_features)
    y = torch.from_numpy(corpus.label_ids)
    with TORCH_RNG:
        generator = seed_everything(spec.seed)
        model = KINDS[spec.kind].build(x.shape[1], len(corpus.class_names), spec.hidden)
    train_rows = torch.from_numpy(np.flatnonzero(~is_test))
    out = {}

    def run():
        out["snaps"] = train_and_capture(model, x, y, train_rows, epochs=spec.epochs, lr=spec.lr,
                                         batch_size=spec.batch_size, generator=generator)
    readings = readings_of(model, run)
    shape = (spec.epochs + 1, len(corpus), spec.dim)
    snapshots = {k: v.reshape(shape) for k, v in readings.items()}
    assert np.allclose(snapshots[KINDS[spec.kind].reads], out["snaps"], atol=1e-6), "readings disagree with the solution"
    return LabReference(corpus, is_test, int(x.shape[1]), snapshots)


_cache: dict[tuple, LabReference] = {}
_cache_lock = threading.Lock()


def cached_lab_reference(spec, data_path: Path) -> LabReference:
    """One computation per release and process: a batch grades every submission against the same one."""
    key = (repr(spec), str(Path(data_path).resolve()))
    with _cache_lock:
        if key not in _cache:
            _cache[key] = lab_reference(spec, Path(data_path))
        return _cache[key]
