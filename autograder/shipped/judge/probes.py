"""The judge's probes: inputs for the student's functions, and the answers they must give, computed here and
kept in memory. The inputs go to the driver's stdin, which hands them to the probe server only once the
notebook's run is over and its kernel killed (sandbox/driver.py): no notebook code ever runs while they exist
on the student side, and no file holds them.

Inputs are drawn afresh for every grading from a seed the student never sees before the run, so a function
can only pass by computing; the seed is logged, so a TA can replay a grading exactly.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import torch

from autograder.shipped.sandbox import wire
from autograder.shipped.sandbox.kernel_probes import PROBES, probe_batch, probe_model
from replab.corpus import Corpus
from replab.training import train_one_epoch
from solutions.capture import snapshot, train_and_capture
from solutions.kinds import KINDS
from solutions.separation import separation_ratio

from .reference import TORCH_RNG, LabReference, readings_of, torch_threads

HOOK_BATCHES = ({"size": 1, "grad": True}, {"size": 5, "grad": True}, {"size": 64, "grad": True},
                {"size": 16, "grad": False})
# q2's training: 4 epochs of batches of 30 over about 180 rows, 24 Adam steps — enough that a decoupled weight
# decay (AdamW), plain SGD or another learning rate moves the trajectory by percents, while the probe and
# the judge both run torch on one thread (the probe process must: see probe_kernel.py), so the right
# training is replayed here to the last bit and honest code differs only by the rounding of its snapshot pass.
TRAIN_EPOCHS, TRAIN_BATCH, TRAIN_LR, TRAIN_ROWS = 4, 30, 0.05, 300
SEPARATION_CASES = ((60, 4, 3, 1.0), (90, 16, 5, 0.3), (40, 2, 2, 3.0), (75, 8, 4, 0.8))
EXPORT_ROWS = 9
EXPORT_MAX_BYTES = 4 << 20
PROBE_THREADS = 1


@dataclass
class Expected:
    seed: int
    hook: list = field(default_factory=list)            # per pass: {reading: (B, D) array}
    hook_sentinel: np.ndarray | None = None             # put in self.embeddings before the capture-off pass
    snapshot: np.ndarray | None = None                  # (n, d) eval-mode body output, rows in order
    train: dict = field(default_factory=dict)           # "right" and the slips the notebook warns of → (epochs+1, n, d)
    train_envelope: float = 0.0                         # how far honest code's rounding carries the right trajectory
    export: dict = field(default_factory=dict)          # titles, labels, splits, snippets, snapshots
    separation: list = field(default_factory=list)      # the ratio of each case


@dataclass
class Inputs:
    """What the probe server is given: a JSON spec and named arrays (sent as .npy, never pickled)."""
    spec: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)

    def encode(self) -> bytes:
        blobs = {}
        for name, array in self.arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
            blobs[name + ".npy"] = buffer.getvalue()
        return wire.encode({"spec": self.spec}, blobs)

    def state(self, prefix: str, model: torch.nn.Module) -> None:
        for key, value in model.state_dict().items():
            self.arrays[prefix + key] = value.detach().numpy().copy()


def make_probes(spec, lab: LabReference, seed: int) -> tuple[Expected, Inputs]:
    with TORCH_RNG, torch_threads(PROBE_THREADS):   # models are initialised from torch's global generator
        return _make_probes(spec, lab, seed)


def _make_probes(spec, lab: LabReference, seed: int) -> tuple[Expected, Inputs]:
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    kind = KINDS[spec.kind]
    n_classes = len(lab.corpus.class_names)
    expected, inputs = Expected(seed=seed), Inputs()
    inputs.spec = {"names": [kind.model.__name__, "snapshot", "train_and_capture", "export_mantis", "separation_ratio"],
                   "model_class": kind.model.__name__, "probes": list(PROBES)}

    # q1: the student's model class with our weights; every pass read by our own hook
    torch.manual_seed(seed)
    model = kind.build(lab.n_inputs, n_classes, spec.hidden)
    inputs.state("hook_model.", model)
    inputs.spec["hook"] = {"args": kind.args(lab.n_inputs, n_classes, spec.hidden), "batches": list(HOOK_BATCHES)}
    model.eval()
    for k, batch in enumerate(HOOK_BATCHES):
        x = kind.probe_input(gen, batch["size"], lab.n_inputs)
        inputs.arrays[f"hook_x{k}"] = x.numpy()
        model.capture = True

        def run(x=x):
            with torch.no_grad():
                model(x)
        expected.hook.append(readings_of(model, kind, run))
    inputs.arrays["hook_x_off"] = kind.probe_input(gen, 3, lab.n_inputs).numpy()
    expected.hook_sentinel = rng.normal(size=(HOOK_BATCHES[-1]["size"], spec.dim)).astype(np.float32)
    inputs.arrays["hook_sentinel"] = expected.hook_sentinel

    # q2: a model of our own that looks like the lab's (so a slip in q1 is not charged again here), moved in
    # train mode by a shift drawn now; drawn again (from the same seed) until every slip the judge replays moves
    # the training far beyond rounding (a model whose hooked layer learns nothing could not tell them apart)
    for attempt in range(Q2_ATTEMPTS):
        q2 = _draw_q2(spec, kind, seed, attempt)
        if min(distance(t, q2["train"]["right"]) for name, t in q2["train"].items() if name != "right") >= SLIP_MARGIN:
            break
    inputs.spec["probe_model"], inputs.spec["train"] = q2["probe_model"], q2["train_spec"]
    inputs.arrays.update(q2["arrays"])
    expected.snapshot, expected.train, expected.train_envelope = q2["snapshot"], q2["train"], q2["envelope"]

    # q3: a few of the release's own items, with a split and snapshots we choose
    pick = np.sort(rng.choice(len(lab.corpus), EXPORT_ROWS, replace=False))
    titles = [lab.corpus.titles[i] for i in pick]
    titles[0] = titles[0] + ', "quoted", with a comma'   # quoting must survive the CSV
    labels = [lab.corpus.labels[i] for i in pick]
    texts = [lab.corpus.texts[i] for i in pick] if lab.corpus.texts is not None else None
    images = lab.corpus.images[pick] if lab.corpus.images is not None else None
    corpus = Corpus(name="probe", titles=titles, labels=labels, texts=texts, images=images)
    is_test = np.arange(EXPORT_ROWS) % 3 == 1
    snaps = rng.normal(size=(spec.epochs + 1, EXPORT_ROWS, spec.dim)).astype(np.float32)
    inputs.arrays.update(export_is_test=is_test, export_snapshots=snaps)
    if images is not None:
        inputs.arrays["export_images"] = images
    inputs.spec["export"] = {"titles": titles, "labels": labels, "texts": texts, "max_bytes": EXPORT_MAX_BYTES}
    expected.export = {"titles": titles, "labels": labels, "splits": np.where(is_test, "test", "train").tolist(),
                       "snippets": [corpus.snippet(i) for i in range(EXPORT_ROWS)], "snapshots": snaps}

    # q4: clouds of classes we place, with string labels as the notebook's
    for k, (count, dim, classes, spread) in enumerate(SEPARATION_CASES):
        labels = np.array([f"class {i % classes}" for i in rng.permutation(count)])
        centres = rng.normal(size=(classes, dim)) * 2
        emb = (rng.normal(size=(count, dim)) * spread
               + centres[[int(l.split()[-1]) for l in labels]]).astype(np.float32)
        inputs.arrays[f"sep_emb{k}"] = emb
        inputs.arrays[f"sep_labels{k}"] = labels
        expected.separation.append(separation_ratio(emb.astype(np.float64), labels))
    inputs.spec["separation"] = {"cases": len(SEPARATION_CASES)}
    return expected, inputs


Q2_ATTEMPTS = 20
SLIP_MARGIN = 1e-3   # the least a slip's trajectory must differ from the right one (100 times the judge's floor)


def _draw_q2(spec, kind, seed: int, attempt: int) -> dict:
    """q2's model, its weights and shift, and its inputs, from (seed, attempt); the answers for them."""
    rng = np.random.default_rng([seed, attempt])
    gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
    p = {"kind": spec.kind, "dim": int(5 + rng.integers(0, 4)), "n_classes": 3}
    shift = (rng.uniform(0.5, 1.5, p["dim"]) * rng.choice([-1.0, 1.0], p["dim"])).astype(np.float32)
    arrays = {"probe_shift": shift}
    cls = probe_model(p["kind"], kind.model.__name__, p["dim"], p["n_classes"], shift)
    torch.manual_seed(int(rng.integers(2**62)))
    initial = {k: v.clone() for k, v in cls().state_dict().items()}
    for key, value in initial.items():
        arrays["probe_model." + key] = value.numpy().copy()

    def fresh():   # the same start as the student side's: the weights it loads
        m = cls()
        m.load_state_dict(initial)
        return m
    x = probe_batch(spec.kind, gen, 700)
    arrays["snap_x"] = x.numpy()
    model = fresh().eval()   # in train mode the hooked layer is shifted: a snapshot there gives other values
    model.capture = True
    with torch.no_grad():
        model(x)
    snapshot = np.asarray(model.embeddings, dtype=np.float64)
    y = torch.randint(0, p["n_classes"], (TRAIN_ROWS,), generator=gen)
    pattern = torch.randn((p["n_classes"], *x.shape[1:]), generator=gen)
    x = probe_batch(spec.kind, gen, TRAIN_ROWS) + 1.5 * pattern[y]
    rows = torch.from_numpy(np.flatnonzero(rng.random(TRAIN_ROWS) < 0.6))
    t = {"epochs": TRAIN_EPOCHS, "lr": TRAIN_LR, "batch_size": TRAIN_BATCH, "generator_seed": int(rng.integers(2**31))}
    arrays.update(train_x=x.numpy(), train_y=y.numpy(), train_rows=rows.numpy())
    train, envelope = _trajectories(fresh, x, y, rows, t, spec)
    return {"probe_model": p, "train_spec": t, "arrays": arrays, "snapshot": snapshot, "train": train,
            "envelope": envelope}


def _replay(fresh, x, y, rows, t, optimizer=torch.optim.Adam, epochs=TRAIN_EPOCHS, every=1, lr=None,
            batch_size=None, snapshot_batch=256) -> np.ndarray:
    """train_and_capture as the notebook states it, with one thing changed: the optimizer, the rows, the
    epochs between snapshots, the learning rate, the batch size, or the batch split of the snapshot pass."""
    model = fresh()
    opt = optimizer(model.parameters(), lr=t["lr"] if lr is None else lr)
    generator = torch.Generator().manual_seed(t["generator_seed"])
    snaps = [snapshot(model, x, batch_size=snapshot_batch)]
    for _ in range(epochs * every):
        train_one_epoch(model, x[rows], y[rows], opt, t["batch_size"] if batch_size is None else batch_size, generator)
        snaps.append(snapshot(model, x, batch_size=snapshot_batch))
    return np.asarray(np.stack(snaps), dtype=np.float64)[::every]


def _trajectories(fresh, x, y, rows, t, spec) -> tuple[dict, float]:
    """The right trajectory (the reference solution's), the wrong ones the notebook warns of, and the honest
    envelope: how far the right training moves when only the batch split of the snapshot pass changes (as
    honest code may: one row at a time, or all at once), measured here on this grading's data."""
    right = np.asarray(train_and_capture(fresh(), x, y, rows, epochs=t["epochs"], lr=t["lr"], batch_size=t["batch_size"],
                                         generator=torch.Generator().manual_seed(t["generator_seed"])), np.float64)
    assert np.array_equal(right, _replay(fresh, x, y, rows, t)), "the replay differs from the reference solution"
    everything, others = torch.arange(len(x)), torch.from_numpy(np.setdiff1d(np.arange(len(x)), rows.numpy()))
    slips = {"all rows": _replay(fresh, x, y, everything, t),
             "held-out rows": _replay(fresh, x, y, others, t),
             "two epochs per snapshot": _replay(fresh, x, y, rows, t, every=2),
             "AdamW": _replay(fresh, x, y, rows, t, optimizer=torch.optim.AdamW),
             "SGD": _replay(fresh, x, y, rows, t, optimizer=torch.optim.SGD),
             "LR": _replay(fresh, x, y, rows, t, lr=spec.lr)}
    if spec.batch_size != t["batch_size"]:
        slips["BATCH_SIZE"] = _replay(fresh, x, y, rows, t, batch_size=spec.batch_size)
    envelope = max(distance(_replay(fresh, x, y, rows, t, snapshot_batch=b), right) for b in (1, 7, len(x)))
    return {"right": right, **slips}, envelope


def distance(got, want) -> float:
    """The largest difference over the epochs, relative to each epoch's largest value."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return float("inf")
    return max(float(np.abs(g - w).max()) / max(float(np.abs(w).max()), 1e-6) for g, w in zip(got, want))
