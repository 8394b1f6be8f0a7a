"""The known mistakes, and the proof that a release's hidden checks catch each of them on its own data.

A *mistake* is a small transformation of the reference solution (solutions/): a wrong hook, a snapshot in
train mode, an optimizer changed, a CSV column renamed, the separation ratio upside down... each with the
question it belongs to, the check that should catch it and the least it should cost. CATALOGUE lists them;
HONEST lists right answers written differently, which must keep full marks (both directions are the proof).

`prove(spec, lab)` plays the notebook as its cells run it (a `Notebook`: the solution's functions, then the
training, the export and the separation, with one mistake applied), runs every probe on what that run left
(in-process, as the probe processes run them: kernel_probes.run_probe on one torch thread), and judges the
result with the release's own checks (judge.checks.verdict). Nothing is executed as a notebook, and a
training is replayed only for a mistake that changes it (`retrains`): the others read the reference run's
models epoch by epoch (a snapshot never changes the training). The release's `mutate` step fails when a
mistake costs nothing, naming it and the check that should have caught it (`--force` records it instead).
"""
from __future__ import annotations

import copy
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

import solutions.capture as capture
import solutions.export as export
import solutions.separation as separation
from autograder.shipped.judge.checks import Context, verdict
from autograder.shipped.judge.evidence import Evidence, Report
from autograder.shipped.judge.probes import PROBE_THREADS, make_probes
from autograder.shipped.judge.reference import TORCH_RNG, torch_threads
from autograder.shipped.sandbox import kernel_probes
from replab.mantis import write_mantis_csv
from replab.training import seed_everything, train_one_epoch
from solutions.kinds import KINDS

SEED = 20261206   # the probes' seed for every mutant: one grading, the same inputs for all


# ---------------------------------------------------------------------------------------- the notebook
class Notebook:
    """The notebook's answers (q1's model, q2's two functions, q3's and q4's) and the choices its given cells
    make (which rows it trains on and measures separation on), as editable attributes. `run` plays its cells."""

    def __init__(self, kind: str):
        self.kind = KINDS[kind]
        self.model = self.kind.model
        self.snapshot = capture.snapshot
        self.train_and_capture = trainer(self)
        self.export_mantis = export.export_mantis
        self.separation_ratio = separation.separation_ratio
        self.separation_rows = "held out"
        self.seed = None                        # the notebook's SEED where it is not the given one
        self.exported = lambda snapshots: snapshots   # what its export cell hands export_mantis
        self.export_is_test = lambda is_test: is_test

    def separation_by_epoch(self, snapshots, labels, rows):
        labels = np.asarray(labels)
        return np.array([self.separation_ratio(epoch[rows], labels[rows]) for epoch in snapshots])

    def namespace(self, snapshots, sep) -> dict:
        return {self.kind.model.__name__: self.model, "snapshot": self.snapshot,
                "train_and_capture": self.train_and_capture, "export_mantis": self.export_mantis,
                "separation_ratio": self.separation_ratio, "snapshots": snapshots, "separation": sep}


def trainer(nb: Notebook, optimizer=torch.optim.Adam, rows="train", every=1, first_step=False, epochs_offset=0,
            lr=None, batch_size=None):
    """train_and_capture as the notebook states it (it calls the notebook's own `snapshot`), with one thing
    done otherwise: the optimizer, the rows, epochs per snapshot, a step before epoch 0, fewer epochs, the
    learning rate or the batch size."""
    def train_and_capture(model, x, y, train_rows, epochs=10, lr_given=0.002, batch_size_given=0, generator=None):
        opt = optimizer(model.parameters(), lr=lr_given if lr is None else lr)
        chosen = {"train": train_rows, "all": torch.arange(len(x)),
                  "held out": torch.from_numpy(np.setdiff1d(np.arange(len(x)), np.asarray(train_rows)))}[rows]
        size = batch_size_given if batch_size is None else batch_size

        def epoch():
            for _ in range(every):
                train_one_epoch(model, x[chosen], y[chosen], opt, size, generator)
        if first_step:
            epoch()
        snaps = [nb.snapshot(model, x)]
        for _ in range(epochs + epochs_offset):
            epoch()
            snaps.append(nb.snapshot(model, x))
        return np.stack(snaps)

    def probe_call(model, x, y, train_rows, epochs=10, lr=0.002, batch_size=0, generator=None):
        return train_and_capture(model, x, y, train_rows, epochs, lr, batch_size, generator)
    # The reference training's epochs this one reads, where it trains as the reference does (Lab.play then
    # reads the reference's models instead of training again); None: a training of its own.
    same = (optimizer, rows, lr, batch_size) == (torch.optim.Adam, "train", None, None)
    probe_call.epochs_read = (lambda epochs: [int(first_step) + every * k for k in range(epochs + epochs_offset + 1)]) \
        if same else None
    return probe_call


@dataclass
class Played:
    """What a notebook's run left: its namespace and the CSV it wrote."""
    namespace: dict
    csv: bytes | None


class Lab:
    """One variant's data as the notebook's given cells make it, and the reference run's model at every epoch
    (read by the notebooks whose training is the reference's)."""

    def __init__(self, spec, lab):
        self.spec, self.lab = spec, lab
        self.kind = KINDS[spec.kind]
        self.x = self.kind.features(lab.corpus, lab.is_test, spec.max_features)
        self.y = torch.from_numpy(lab.corpus.label_ids)
        self.train_rows = torch.from_numpy(np.flatnonzero(~lab.is_test))
        self.states = []
        self.model, self.generator = self.fresh(self.kind.model)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=spec.lr)
        self.states.append(copy.deepcopy(self.model.state_dict()))
        self.extend(spec.epochs)

    def fresh(self, model_class, seed=None):
        with TORCH_RNG:
            generator = seed_everything(self.spec.seed if seed is None else seed)
            return model_class(self.x.shape[1], len(self.lab.corpus.class_names), tuple(self.spec.hidden)), generator

    def extend(self, epochs: int) -> None:
        """The reference training, `epochs` more epochs (its model, optimizer and generator carry on), each
        epoch's model kept: mistakes that read it at other epochs (a step before epoch 0, two epochs per
        snapshot) need no training of their own."""
        rows = self.train_rows
        for _ in range(epochs):
            train_one_epoch(self.model, self.x[rows], self.y[rows], self.optimizer, self.spec.batch_size, self.generator)
            self.states.append(copy.deepcopy(self.model.state_dict()))

    def play(self, nb: Notebook, tmp: Path) -> Played:
        """The notebook's training cell, export and separation, with its own functions."""
        spec, lab = self.spec, self.lab
        try:
            reads = getattr(nb.train_and_capture, "epochs_read", None)
            if reads is None or nb.seed is not None:
                model, generator = self.fresh(nb.model, nb.seed)
                snapshots = nb.train_and_capture(model, self.x, self.y, self.train_rows, epochs=spec.epochs,
                                                 lr=spec.lr, batch_size=spec.batch_size, generator=generator)
            else:   # the reference training: its models at those epochs, read by this notebook's snapshot
                epochs = reads(spec.epochs)
                self.extend(max(epochs) + 1 - len(self.states))
                model, _ = self.fresh(nb.model)
                snaps = []
                for k in epochs:
                    model.load_state_dict(self.states[k])
                    snaps.append(nb.snapshot(model, self.x))
                snapshots = np.stack(snaps)
        except Exception:
            snapshots = None
        path, csv = tmp / "notebook.csv", None
        try:
            nb.export_mantis(path, lab.corpus, nb.export_is_test(lab.is_test), nb.exported(snapshots))
            csv = path.read_bytes()
        except Exception:
            pass
        rows = {"held out": lab.is_test, "training": ~lab.is_test, "all": np.ones_like(lab.is_test)}[nb.separation_rows]
        try:
            sep = nb.separation_by_epoch(snapshots, lab.corpus.labels, rows)
        except Exception:
            sep = None
        return Played(nb.namespace(snapshots, sep), csv)


def judge(lab: Lab, nb: Notebook, expected, inputs, tmp: Path) -> dict:
    """{check name: None (passed) or its message}, and the score per question, for one notebook. A mistake's
    arithmetic may divide by zero (a hook that stores nothing): numpy's warnings about it are the mistake's, not
    the release's, and stay off the instructor's terminal."""
    with np.errstate(all="ignore"):
        return _judge(lab, nb, expected, inputs, tmp)


def _judge(lab: Lab, nb: Notebook, expected, inputs, tmp: Path) -> dict:
    played = lab.play(nb, tmp)
    report = Report(tmp / "report")
    with torch_threads(PROBE_THREADS):
        for probe in kernel_probes.PROBES:
            result, blobs = kernel_probes.run_probe(played.namespace, probe, inputs.spec, inputs.arrays)
            report({"op": "probe", "probe": probe}, {**blobs, probe + ".json": json.dumps(result).encode()})
    if played.csv is not None:
        report({"op": "left"}, {"notebook.csv": played.csv})
    ctx = Context(spec=lab.spec, lab=lab.lab, expected=expected, evidence=Evidence(report.folder),
                  status={"probes": {p: {"state": "ran"} for p in kernel_probes.PROBES}})
    tests = verdict(ctx)
    return {"checks": dict(ctx.outcomes), "scores": {t["name"]: t["score"] for t in tests}}


# ---------------------------------------------------------------------------------------- the mistakes
@dataclass(frozen=True)
class Mistake:
    name: str
    question: str          # whose points it should cost
    loses: float           # at least this many of them
    check: str             # the check that should catch it (judge.checks.CHECKS)
    what: str              # what the student did
    edit: Callable = field(repr=False)   # edit(notebook)

    def applied(self, kind: str) -> Notebook:
        nb = Notebook(kind)
        self.edit(nb)
        return nb


def _model_storing(kind, store, when="capture"):
    """The lab's model whose forward stores store(layer input, layer output, logits) in self.embeddings:
    when capture is on ("capture"), always ("always") or never ("never")."""
    base, k = KINDS[kind].model, KINDS[kind]

    class Model(base):
        def forward(self, x):
            seen = {}
            handle = k.hooked_layer(self).register_forward_hook(lambda m, i, o: seen.update(i=i[0], o=o))
            capture_on, self.capture = self.capture, False
            try:
                out = base.forward(self, x)
            finally:
                handle.remove()
                self.capture = capture_on
            if when == "always" or (when == "capture" and capture_on):
                self.embeddings = store(seen["i"], seen["o"], out).detach().cpu().numpy()
            return out
    Model.__name__ = Model.__qualname__ = base.__name__
    return Model


def _reading(kind, other_side=False):
    reads = KINDS[kind].reads
    if other_side:
        reads = "post" if reads == "pre" else "pre"
    return (lambda i, o, out: o) if reads == "pre" else (lambda i, o, out: torch.relu(o))


def _snapshot(train_mode=False, order=None, first_batch_only=False, batch_size=256):
    def snapshot(model, x, batch_size=batch_size):
        if not train_mode:
            model.eval()
        model.capture = True
        parts = []
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                model(x[start:start + batch_size])
                parts.append(np.asarray(model.embeddings))
        model.capture = False
        if first_batch_only:
            return parts[0]
        out = np.concatenate(parts)
        return out[order(len(out))] if order else out
    return snapshot


def _export(edit_columns=None, splits=None, rows=None, round_to=None, snippet=None, categoric=None):
    def export_mantis(path, corpus, is_test, snapshots):
        is_test = np.asarray(is_test, bool)
        snaps = np.asarray([np.asarray(s) for s in snapshots])
        chosen = np.arange(len(corpus)) if rows is None else rows(is_test)
        split = np.where(is_test, "test", "train") if splits is None else splits(is_test)
        snips = [corpus.snippet(i) for i in range(len(corpus))] if snippet is None else snippet(corpus)
        cats = list(corpus.labels) if categoric is None else categoric(corpus)
        if round_to is not None:
            snaps = np.round(snaps, round_to)
        write_mantis_csv(path, [corpus.titles[i] for i in chosen], [cats[i] for i in chosen], split[chosen],
                         [snips[i] for i in chosen], snaps[:, chosen])
        if edit_columns:
            text = Path(path).read_text(encoding="utf-8")
            head, rest = text.split("\n", 1)
            Path(path).write_text(edit_columns(head) + "\n" + rest, encoding="utf-8")
        return path
    return export_mantis


def _ratio(between="pairs", within="own", power=1, centroid="mean", invert=False):
    def separation_ratio(embeddings, labels):
        e, labels = np.asarray(embeddings, dtype=np.float64), np.asarray(labels)
        classes, index = np.unique(labels, return_inverse=True)
        middle = np.median if centroid == "median" else np.mean
        c = np.stack([middle(e[labels == k], axis=0) for k in classes])
        gaps = np.linalg.norm(c[:, None] - c[None], axis=-1) ** power
        b = gaps[np.triu_indices(len(classes), 1)].mean() if between == "pairs" else gaps.mean()
        w = (np.linalg.norm(e - (c[index] if within == "own" else e.mean(0)), axis=1) ** power).mean()
        return float(w / b) if invert else float(b / w)
    return separation_ratio


def _set(**values):
    """An edit that sets the notebook's attributes (its functions, its rows) to these values."""
    def edit(nb):
        for key, value in values.items():
            setattr(nb, key, value)
    return edit


def _catalogue() -> list[Mistake]:
    m = []

    def add(name, question, loses, check, what, edit):
        m.append(Mistake(name, question, loses, check, what, edit))
    q1, q2, q3, q4 = "q1_hook", "q2_capture", "q3_export", "q4_separation"
    # q1: the hook
    add("hook_other_side_of_relu", q1, 0.66, "hook_reads_the_layer", "the hook reads the other side of the ReLU",
        lambda nb: setattr(nb, "model", _model_storing(nb.kind.name, _reading(nb.kind.name, other_side=True))))
    add("hook_wrong_layer", q1, 0.66, "hook_stores_embeddings", "the hook stores the hooked layer's input (the layer before)",
        lambda nb: setattr(nb, "model", _model_storing(nb.kind.name, lambda i, o, out: i)))
    add("hook_softmax_output", q1, 0.66, "hook_stores_embeddings", "the hook stores the model's softmax output",
        lambda nb: setattr(nb, "model", _model_storing(nb.kind.name, lambda i, o, out: torch.softmax(out, 1))))
    add("capture_always_on", q1, 0.66, "hook_off_copies_nothing", "forward stores even with capture off",
        lambda nb: setattr(nb, "model", _model_storing(nb.kind.name, _reading(nb.kind.name), when="always")))
    add("capture_never_on", q1, 2, "hook_stores_embeddings", "forward never stores",
        lambda nb: setattr(nb, "model", _model_storing(nb.kind.name, _reading(nb.kind.name), when="never")))
    # q2: snapshots
    add("snapshot_in_train_mode", q2, 1, "train_and_capture_epochs", "snapshot never calls model.eval()",
        _set(snapshot=_snapshot(train_mode=True)))
    add("snapshot_rows_reordered", q2, 1, "snapshot_rows_in_order", "snapshot returns the rows in another order",
        _set(snapshot=_snapshot(order=lambda n: np.roll(np.arange(n), 1))))
    add("snapshot_first_batch_only", q2, 1, "snapshot_rows_in_order", "snapshot returns its first batch of rows only",
        _set(snapshot=_snapshot(first_batch_only=True, batch_size=64)))
    add("epoch0_after_a_step", q2, 1, "train_and_capture_epochs", "snapshot 0 taken after one epoch of training",
        lambda nb: setattr(nb, "train_and_capture", trainer(nb, first_step=True)))
    add("ten_snapshots", q2, 1, "train_and_capture_epochs", "one snapshot fewer: no snapshot after the last epoch",
        lambda nb: setattr(nb, "train_and_capture", trainer(nb, epochs_offset=-1)))
    add("train_on_every_row", q2, 1, "train_and_capture_epochs", "training on every row, held-out ones too",
        lambda nb: setattr(nb, "train_and_capture", trainer(nb, rows="all")))
    add("heldout_mask_inverted", q2, 1, "train_and_capture_epochs", "training on the held-out rows (the mask inverted)",
        lambda nb: setattr(nb, "train_and_capture", trainer(nb, rows="held out")))
    add("two_epochs_per_snapshot", q2, 1, "train_and_capture_epochs", "two epochs of training between snapshots",
        lambda nb: setattr(nb, "train_and_capture", trainer(nb, every=2)))
    add("learning_rate_changed", q2, 1, "train_and_capture_epochs", "a learning rate of its own (10 times the given)",
        lambda nb: setattr(nb, "train_and_capture", trainer(nb, lr=0.02)))
    add("notebook_lr_not_the_argument", q2, 1, "train_and_capture_epochs", "the notebook's LR instead of the lr argument",
        lambda nb: setattr(nb, "train_and_capture", _lr_global(nb)))
    add("adamw_instead_of_adam", q2, 1, "train_and_capture_epochs", "AdamW instead of the given Adam",
        lambda nb: setattr(nb, "train_and_capture", trainer(nb, optimizer=torch.optim.AdamW)))
    add("sgd_instead_of_adam", q2, 1, "train_and_capture_epochs", "SGD instead of the given Adam",
        lambda nb: setattr(nb, "train_and_capture", trainer(nb, optimizer=torch.optim.SGD)))
    add("batch_size_not_the_argument", q2, 1, "train_and_capture_epochs", "the notebook's BATCH_SIZE instead of the batch_size argument",
        lambda nb: setattr(nb, "train_and_capture", _batch_global(nb)))
    add("seed_changed", q2, 1, "snapshots_are_the_training", "the notebook's run seeded with another SEED",
        _set(seed=12345))
    # q3: the CSV
    add("csv_columns_renamed", q3, 0.66, "export_writes_what_it_is_given", "embedding columns named embedding_<k>",
        _set(export_mantis=_export(edit_columns=lambda h: h.replace("embedding_epoch_", "embedding_"))))
    add("csv_split_labels_swapped", q3, 0.66, "export_writes_what_it_is_given", "split says train for held-out rows and test for the others",
        _set(export_mantis=_export(splits=lambda t: np.where(t, "train", "test"))))
    add("csv_precision_lost", q3, 0.66, "export_writes_what_it_is_given", "embeddings rounded to 2 decimals",
        _set(export_mantis=_export(round_to=2)))
    add("csv_heldout_rows_only", q3, 0.66, "export_writes_what_it_is_given", "only the held-out rows written",
        _set(export_mantis=_export(rows=lambda t: np.flatnonzero(t))))
    add("csv_rows_reversed", q3, 0.66, "export_writes_what_it_is_given", "the rows written in reverse order",
        _set(export_mantis=_export(rows=lambda t: np.arange(len(t))[::-1])))
    add("csv_snippet_is_title", q3, 0.66, "export_writes_what_it_is_given", "the snippet column holds the titles",
        _set(export_mantis=_export(snippet=lambda c: list(c.titles))))
    add("csv_categoric_is_index", q3, 0.66, "export_writes_what_it_is_given", "the categoric column holds class numbers",
        _set(export_mantis=_export(categoric=lambda c: [str(list(c.class_names).index(l)) for l in c.labels])))
    add("csv_of_the_untrained_model", q3, 0.66, "csv_holds_the_snapshots",
        "the export cell writes epoch 0's snapshot in every epoch's column",
        _set(exported=lambda snaps: np.stack([np.asarray(snaps[0])] * len(snaps))))
    add("csv_split_from_inverted_mask", q3, 0.66, "csv_file_is_complete",
        "the export cell hands export_mantis the inverted held-out mask",
        _set(export_is_test=lambda t: ~np.asarray(t, bool)))
    # q4: separation
    add("ratio_inverted", q4, 1, "separation_ratio_correct", "the ratio upside down (spread over centroid gaps)",
        _set(separation_ratio=_ratio(invert=True)))
    add("ratio_squared_distances", q4, 1, "separation_ratio_correct", "squared distances",
        _set(separation_ratio=_ratio(power=2)))
    add("ratio_median_centroids", q4, 1, "separation_ratio_correct", "centroids as medians",
        _set(separation_ratio=_ratio(centroid="median")))
    add("ratio_within_to_global_mean", q4, 1, "separation_ratio_correct", "the spread measured to the mean of all rows",
        _set(separation_ratio=_ratio(within="global")))
    add("ratio_gaps_with_self_pairs", q4, 1, "separation_ratio_any_classes", "the centroid gaps averaged with each class's gap to itself",
        _set(separation_ratio=_ratio(between="all")))
    add("separation_on_training_rows", q4, 1, "separation_is_the_heldout_curve", "the final separation measured on the training rows",
        _set(separation_rows="training"))
    add("separation_on_every_row", q4, 1, "separation_is_the_heldout_curve", "the final separation measured on every row",
        _set(separation_rows="all"))
    return m


def _lr_global(nb):
    """train_and_capture that trains with a learning rate fixed in the notebook (its LR) whatever it is given."""
    inner = {}

    def train_and_capture(model, x, y, train_rows, epochs=10, lr=0.002, batch_size=0, generator=None):
        return inner["fn"](model, x, y, train_rows, epochs, NOTEBOOK["lr"], batch_size, generator)
    inner["fn"] = trainer(nb)
    train_and_capture.epochs_read = inner["fn"].epochs_read   # in the notebook's own run, LR is the lr it is given
    return train_and_capture


def _batch_global(nb):
    inner = {"fn": trainer(nb)}

    def train_and_capture(model, x, y, train_rows, epochs=10, lr=0.002, batch_size=0, generator=None):
        return inner["fn"](model, x, y, train_rows, epochs, lr, NOTEBOOK["batch_size"], generator)
    train_and_capture.epochs_read = inner["fn"].epochs_read   # the notebook's own run passes its BATCH_SIZE
    return train_and_capture


NOTEBOOK = {"lr": 0.002, "batch_size": 0}   # the variant's LR and BATCH_SIZE, set by prove()


def _honest() -> dict[str, Callable]:
    """Right answers written otherwise: each must keep full marks."""
    def snapshot_tensor_per_row(nb):
        def snapshot(model, x):
            model.eval()
            model.capture = True
            rows = []
            with torch.inference_mode():
                for start in range(0, len(x), 7):
                    model(x[start:start + 7])
                    rows.append(torch.as_tensor(np.asarray(model.embeddings)))
            model.capture = False
            return torch.cat(rows)
        nb.snapshot = snapshot

    def export_csv_module(nb):
        import csv as csv_module

        def export_mantis(path, corpus, is_test, snapshots):
            snaps = [np.asarray(s, dtype=np.float64) for s in snapshots]
            with open(path, "w", newline="", encoding="utf-8") as f:
                w = csv_module.writer(f)
                w.writerow(["title", "categoric", "split", "snippet"] + [f"embedding_epoch_{k}" for k in range(len(snaps))])
                for i in range(len(corpus)):
                    w.writerow([corpus.titles[i], corpus.labels[i], "test" if is_test[i] else "train", corpus.snippet(i)]
                               + [json.dumps([float(v) for v in s[i]]) for s in snaps])
            return path
        nb.export_mantis = export_mantis

    def ratio_by_loops(nb):
        import math

        def separation_ratio(embeddings, labels):
            rows = np.asarray(embeddings, dtype=np.float64).tolist()
            labels = [str(v) for v in np.asarray(labels).tolist()]
            names = sorted(set(labels))
            centre = {n: [sum(col) / labels.count(n) for col in zip(*[r for r, l in zip(rows, labels) if l == n])]
                      for n in names}
            pairs = [math.dist(centre[a], centre[b]) for i, a in enumerate(names) for b in names[i + 1:]]
            return (sum(pairs) / len(pairs)) / (sum(math.dist(r, centre[l]) for r, l in zip(rows, labels)) / len(rows))
        nb.separation_ratio = separation_ratio

    def list_of_tensors(nb):
        base = trainer(nb)

        def train_and_capture(model, x, y, train_rows, epochs=10, lr=0.002, batch_size=0, generator=None):
            return [torch.from_numpy(np.asarray(s)) for s in base(model, x, y, train_rows, epochs, lr, batch_size, generator)]
        train_and_capture.epochs_read = base.epochs_read
        nb.train_and_capture = train_and_capture

    def float64_everywhere(nb):
        base = nb.snapshot
        nb.snapshot = lambda model, x: np.asarray(base(model, x), dtype=np.float64)
    return {"snapshot_tensors_in_batches_of_7": snapshot_tensor_per_row, "export_with_the_csv_module": export_csv_module,
            "separation_ratio_by_loops": ratio_by_loops, "train_and_capture_list_of_tensors": list_of_tensors,
            "snapshots_in_float64": float64_everywhere}


CATALOGUE = _catalogue()
HONEST = _honest()


# ---------------------------------------------------------------------------------------- the proof
def prove(spec, lab, *, mistakes=CATALOGUE, honest=HONEST, progress=None) -> dict:
    """Every mistake and every honest variant played on this variant's data and judged by its checks:
    {"mistakes": {name: {question, expected, lost, caught_by, caught}}, "honest": {name: {score, full}},
     "score": caught/total, "uncaught": [...], "seconds": ...}."""
    started = time.monotonic()
    NOTEBOOK.update(lr=spec.lr, batch_size=spec.batch_size)
    world = Lab(spec, lab)
    expected, inputs = make_probes(spec, lab, SEED)
    with tempfile.TemporaryDirectory(prefix="lab8-mutants-") as tmp:
        tmp = Path(tmp)

        def play(name, nb):
            folder = tmp / name
            folder.mkdir()
            return judge(world, nb, expected, inputs, folder)
        right = play("reference", Notebook(spec.kind))
        record = {"reference": right["scores"], "mistakes": {}, "honest": {}}
        for mistake in mistakes:
            got = play(mistake.name, mistake.applied(spec.kind))
            lost = {q: round(right["scores"][q] - s, 4) for q, s in got["scores"].items() if s < right["scores"][q]}
            caught_by = sorted(c for c, message in got["checks"].items() if message is not None)
            record["mistakes"][mistake.name] = {
                "question": mistake.question, "what": mistake.what, "should_cost": mistake.loses,
                "should_be_caught_by": mistake.check, "lost": lost, "caught_by": caught_by,
                "caught": lost.get(mistake.question, 0) >= mistake.loses - 1e-3 and mistake.check in caught_by}
            if progress:
                progress(mistake.name)
        for name, edit in honest.items():
            nb = Notebook(spec.kind)
            edit(nb)
            got = play(name, nb)
            record["honest"][name] = {"scores": got["scores"], "full": got["scores"] == right["scores"],
                                      "failed": sorted(c for c, message in got["checks"].items() if message)}
    caught = [n for n, r in record["mistakes"].items() if r["caught"]]
    record.update(score=f"{len(caught)}/{len(record['mistakes'])}",
                  uncaught=[n for n in record["mistakes"] if n not in caught],
                  honest_lost=[n for n, r in record["honest"].items() if not r["full"]],
                  reference_full=all(v == spec.questions[q] for q, v in right["scores"].items()),
                  seconds=round(time.monotonic() - started, 1))
    return record


def problems(record: dict) -> list[str]:
    """One line per way the proof failed: a mistake no check caught (naming the check that should have), an
    honest variant that lost points, or the reference itself not at full marks."""
    lines = []
    if not record["reference_full"]:
        lines.append(f"the reference solution, played in-process, scores {record['reference']}")
    for name in record["uncaught"]:
        r = record["mistakes"][name]
        lines.append(f"mistake {name} ({r['what']}) costs {r['question']} {r['lost'].get(r['question'], 0):g} of the "
                     f"{r['should_cost']:g} it should; {r['should_be_caught_by']} should catch it "
                     f"(caught by: {', '.join(r['caught_by']) or 'no check'})")
    for name in record["honest_lost"]:
        r = record["honest"][name]
        lines.append(f"honest variant {name} loses points ({', '.join(r['failed'])})")
    return lines
