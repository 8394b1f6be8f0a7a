"""The judge's probes: inputs for the student's functions, written where the student side reads them,
and the answers they must give, computed here and kept in memory (never written to the student side).

Inputs are drawn afresh for every grading from a seed the student never sees before the run, so a
function can only pass by computing; the seed is logged, so a TA can replay a grading exactly.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from autograder.shipped.sandbox.kernel_probes import ProbeModel
from replab.corpus import Corpus
from solutions.capture import train_and_capture
from solutions.separation import separation_ratio

from solutions.kinds import KINDS

from .reference import TORCH_RNG, LabReference, readings_of

PROBES = ("harvest", "hook", "snapshot", "train", "export", "separation")
HOOK_BATCHES = ({"size": 1, "grad": True}, {"size": 5, "grad": True}, {"size": 64, "grad": True},
                {"size": 16, "grad": False})
TRAIN_EPOCHS = 3
SEPARATION_CASES = ((60, 4, 3, 1.0), (90, 16, 5, 0.3), (40, 2, 2, 3.0), (75, 8, 4, 0.8))
EXPORT_ROWS = 9


@dataclass
class Expected:
    seed: int
    hook: list = field(default_factory=list)            # per pass: {reading: (B, D) array}
    hook_sentinel: np.ndarray | None = None             # put in self.embeddings before the capture-off pass
    snapshot: np.ndarray | None = None                  # (n, d) eval-mode body output, rows in order
    train: dict = field(default_factory=dict)           # "right" and the classic slips → (epochs+1, n, d)
    export: dict = field(default_factory=dict)          # titles, labels, splits, snippets, snapshots
    separation: list = field(default_factory=list)      # the ratio of each case


def _save(in_dir: Path, name: str, array) -> None:
    np.save(in_dir / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)


def _save_state(in_dir: Path, name: str, model: torch.nn.Module) -> None:
    np.savez(in_dir / f"{name}.npz", **{k: v.detach().numpy() for k, v in model.state_dict().items()})


def make_probes(spec, lab: LabReference, in_dir: Path, seed: int) -> Expected:
    with TORCH_RNG:   # models are initialised from torch's global generator
        return _make_probes(spec, lab, in_dir, seed)


def _make_probes(spec, lab: LabReference, in_dir: Path, seed: int) -> Expected:
    in_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    kind = KINDS[spec.kind]
    n_classes = len(lab.corpus.class_names)
    expected = Expected(seed=seed)
    probes = {"names": [kind.model.__name__, "snapshot", "train_and_capture", "export_mantis", "separation_ratio"],
              "model_class": kind.model.__name__}

    # q1: the student's model class with our weights; every pass read by our own hook
    torch.manual_seed(seed)
    model = kind.build(lab.n_inputs, n_classes, spec.hidden)
    _save_state(in_dir, "hook_model", model)
    probes["hook"] = {"args": kind.args(lab.n_inputs, n_classes, spec.hidden), "batches": list(HOOK_BATCHES)}
    model.eval()
    for k, batch in enumerate(HOOK_BATCHES):
        x = kind.probe_input(gen, batch["size"], lab.n_inputs)
        _save(in_dir, f"hook_x{k}", x.numpy())
        model.capture = True

        def run(x=x):
            with torch.no_grad():
                model(x)
        expected.hook.append(readings_of(model, kind, run))
    _save(in_dir, "hook_x_off", kind.probe_input(gen, 3, lab.n_inputs).numpy())
    expected.hook_sentinel = rng.normal(size=(HOOK_BATCHES[-1]["size"], spec.dim)).astype(np.float32)
    _save(in_dir, "hook_sentinel", expected.hook_sentinel)

    # q2: our own hooked model, so a slip in q1 is not charged again here
    p = {"n_inputs": 12, "dim": int(5 + rng.integers(0, 4)), "n_classes": 3}
    probes["probe_model"] = p
    torch.manual_seed(seed)
    model = ProbeModel(p["n_inputs"], p["dim"], p["n_classes"])
    _save_state(in_dir, "probe_model", model)
    initial = {k: v.clone() for k, v in model.state_dict().items()}

    def probe_model():   # the same start as the student side's: the weights it loads
        m = ProbeModel(p["n_inputs"], p["dim"], p["n_classes"])
        m.load_state_dict(initial)
        return m
    x = torch.randn(700, p["n_inputs"], generator=gen)
    _save(in_dir, "snap_x", x.numpy())
    model.eval()   # in train mode the probe model's hooked layer is shifted: a snapshot there gives other values
    with torch.no_grad():
        expected.snapshot = model.body(x).to(torch.float64).numpy()

    n = 300
    y = torch.randint(0, p["n_classes"], (n,), generator=gen)
    x = torch.randn(n, p["n_inputs"], generator=gen) + 2.0 * torch.nn.functional.one_hot(y, p["n_inputs"]).float()
    rows = torch.from_numpy(np.flatnonzero(rng.random(n) < 0.6))
    t = {"epochs": TRAIN_EPOCHS, "lr": 0.05, "batch_size": spec.batch_size, "generator_seed": int(seed % 2**31)}
    probes["train"] = t
    for name, arr in (("train_x", x), ("train_y", y), ("train_rows", rows)):
        _save(in_dir, name, arr.numpy())

    def trajectory(train_rows, epochs=TRAIN_EPOCHS, every=1):
        m = probe_model()
        snaps = train_and_capture(m, x, y, train_rows, epochs=epochs * every, lr=t["lr"], batch_size=t["batch_size"],
                                  generator=torch.Generator().manual_seed(t["generator_seed"]))
        return np.asarray(snaps, dtype=np.float64)[::every]
    expected.train = {"right": trajectory(rows), "all rows": trajectory(torch.arange(n)),
                      "two epochs per snapshot": trajectory(rows, every=2)}

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
    _save(in_dir, "export_is_test", is_test)
    _save(in_dir, "export_snapshots", snaps)
    if images is not None:
        _save(in_dir, "export_images", images)
    probes["export"] = {"titles": titles, "labels": labels, "texts": texts}
    expected.export = {"titles": titles, "labels": labels, "splits": np.where(is_test, "test", "train").tolist(),
                       "snippets": [corpus.snippet(i) for i in range(EXPORT_ROWS)], "snapshots": snaps}

    # q4: clouds of classes we place, with string labels as the notebook's
    for k, (count, dim, classes, spread) in enumerate(SEPARATION_CASES):
        labels = np.array([f"class {i % classes}" for i in rng.permutation(count)])
        centres = rng.normal(size=(classes, dim)) * 2
        emb = (rng.normal(size=(count, dim)) * spread
               + centres[[int(l.split()[-1]) for l in labels]]).astype(np.float32)
        _save(in_dir, f"sep_emb{k}", emb)
        _save(in_dir, f"sep_labels{k}", labels)
        expected.separation.append(separation_ratio(emb.astype(np.float64), labels))
    probes["separation"] = {"cases": len(SEPARATION_CASES)}

    (in_dir / "probes.json").write_text(json.dumps(probes))
    return expected
