"""Every answer the judge compares with, computed here, on the judge side, from the release's data and
the reference solution (solutions/): never taken from the student side.

A *kind* (text, image) says which model the lab builds, how it is constructed and which layer its hook
reads. A *reading* is one way of reading the hooked layer: "pre" (its output) and "post" (after the
ReLU that follows it). The right one is the kind's; the other is the classic slip, and knowing it lets
the judge say so, and judge the student's snapshots by the reading their own hook takes, so a wrong
hook is charged at q1 only.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import replab
from replab.corpus import Corpus
from replab.features import heldout_mask
from replab.training import seed_everything
import solutions.capture
from solutions.capture import train_and_capture
from solutions.kinds import KINDS


# The reference solution shows students a progress bar; the judge runs it silently.
solutions.capture.tqdm = functools.partial(solutions.capture.tqdm, disable=True)

READINGS = ("pre", "post")


def readings_of(model: torch.nn.Module, kind, run) -> dict[str, np.ndarray]:
    """{reading: float64 array} of the kind's hooked layer over every capture-on pass of `run()`."""
    seen = []
    handle = kind.hooked_layer(model).register_forward_hook(
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


@contextlib.contextmanager
def torch_threads(threads: int | None):
    """torch's intra-op threads set to `threads` for the block (None: left as they are). A convolution's
    sums are split by thread, so the CNN's training drifts apart over ten epochs when the student side
    and the judge use different thread counts; the judge replays it with the student side's count. The count
    is the process's: a judge thread holds TORCH_RNG for the block, so another's replay never runs with it."""
    with TORCH_RNG:
        before = torch.get_num_threads()
        if threads:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)


def lab_reference(spec, data_path: Path, threads: int | None = None) -> LabReference:
    """The notebook's own run, as its given cells make it (seed, split, features, model, training), with
    the reference answers to q1 and q2 in place of the student's; trained with `threads` torch threads,
    as the student side was (None: this process's default, which the student side then has too)."""
    corpus = Corpus.load(data_path)
    is_test = heldout_mask(corpus.labels, spec.test_fraction, spec.seed)
    kind = KINDS[spec.kind]
    x = kind.features(corpus, is_test, spec.max_features)
    y = torch.from_numpy(corpus.label_ids)
    with TORCH_RNG:
        generator = seed_everything(spec.seed)
        model = kind.build(x.shape[1], len(corpus.class_names), spec.hidden)
    train_rows = torch.from_numpy(np.flatnonzero(~is_test))
    out = {}

    def run():
        out["snaps"] = train_and_capture(model, x, y, train_rows, epochs=spec.epochs, lr=spec.lr,
                                         batch_size=spec.batch_size, generator=generator)
    with torch_threads(threads):
        readings = readings_of(model, kind, run)
    shape = (spec.epochs + 1, len(corpus), spec.dim)
    snapshots = {k: v.reshape(shape) for k, v in readings.items()}
    assert np.allclose(snapshots[kind.reads], out["snaps"], atol=1e-6), "readings disagree with the solution"
    return LabReference(corpus, is_test, int(x.shape[1]), snapshots)


_cache: dict[tuple, LabReference] = {}
_cache_lock = threading.Lock()
CACHE_ENV = "LAB8_REFERENCE_CACHE"
# What the replay depends on besides the spec, the data and the thread count: the code that computes it.
_CODE = ("solutions/capture.py", "solutions/kinds.py", "solutions/models.py", "autograder/shipped/judge/reference.py",
         "replab/training.py", "replab/features.py", "replab/corpus.py")


def cache_dir() -> Path:
    """Where replays are kept between grading processes: $LAB8_REFERENCE_CACHE, else ~/.cache/lab8/reference.
    The judge's own folder (mode 700): never one the student side can reach."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "lab8" / "reference")


def _code_digest() -> str:
    h = hashlib.sha256()
    roots = {"solutions": Path(solutions.capture.__file__).parent, "autograder": Path(__file__).parents[3],
             "replab": Path(replab.__file__).parent}
    for rel in _CODE:
        top, rest = rel.split("/", 1)
        path = roots[top] / rest
        h.update(rel.encode() + (path.read_bytes() if path.is_file() else b"-"))
    return h.hexdigest()


def replay_key(spec, data_path: Path, threads: int | None) -> str:
    """Everything the replay depends on: the grading spec, the data's bytes, the torch threads it runs with
    (the default ones when None: the CNN's sums depend on them), torch's version and the code."""
    h = hashlib.sha256()
    h.update(repr(spec).encode())
    h.update(Path(data_path).read_bytes())
    h.update(json.dumps([threads or torch.get_num_threads(), torch.__version__, _code_digest()]).encode())
    return h.hexdigest()


def _load_replay(path: Path, spec, data_path: Path) -> LabReference | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            pre, n_inputs = z["pre"].astype(np.float64), int(z["n_inputs"])
    except (OSError, ValueError, KeyError):
        return None
    corpus = Corpus.load(data_path)
    if pre.shape != (spec.epochs + 1, len(corpus), spec.dim):
        return None
    is_test = heldout_mask(corpus.labels, spec.test_fraction, spec.seed)
    return LabReference(corpus, is_test, n_inputs, {"pre": pre, "post": np.maximum(pre, 0.0)})


def _save_replay(path: Path, lab: LabReference) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(fd, "wb") as f:
            # the hooked layer's values are float32 in the model: float32 keeps every digit
            np.savez(f, pre=lab.snapshots["pre"].astype(np.float32), n_inputs=np.int64(lab.n_inputs))
        os.replace(tmp, path)
    except OSError:
        pass   # a cache that cannot be written only costs the next grading its replay


def cached_lab_reference(spec, data_path: Path, threads: int | None = None) -> LabReference:
    """One replay per release, thread count and code: kept in this process for a batch, and on the judge's
    disk (cache_dir()) for the next grading process — a TA's next batch, each run of a test suite, and on
    Gradescope the replay the zip's set-up made when the image was built."""
    key = (repr(spec), str(Path(data_path).resolve()), threads)
    with _cache_lock:
        if key not in _cache:
            path = cache_dir() / f"{replay_key(spec, data_path, threads)}.npz"
            lab = _load_replay(path, spec, Path(data_path)) if path.is_file() else None
            if lab is None:
                lab = lab_reference(spec, Path(data_path), threads)
                _save_replay(path, lab)
            _cache[key] = lab
        return _cache[key]
