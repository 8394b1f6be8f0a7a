"""The checks behind the hidden tests. Shipped inside the autograder zip as lab8_checks.py (never to
students) beside lab8_expected.json, which holds the variant's parameters.

Each check reads what it needs from files and fresh computations — the data snapshot, the CSV on
disk, models it builds itself — and takes from the student's namespace only the code under test and
the arrays it must judge. Failures raise AssertionError with a message that says what is wrong
without giving the answer.
"""
import copy
import functools
import json
import math
import os
import sys
import sysconfig
import types

import numpy as np
import torch
from torch import nn

from replab.corpus import Corpus
from replab.features import heldout_mask, model_inputs
from replab.mantis import read_mantis_csv
from replab.training import seed_everything

EXPECTED_FILE = "lab8_expected.json"


def expected() -> dict:
    with open(EXPECTED_FILE, encoding="utf-8") as f:
        return json.load(f)


def _data(exp, features=True):
    """The released data, its held-out split and (when asked: it costs a TF-IDF fit) the model inputs."""
    corpus = Corpus.load(exp["snapshot"])
    is_test = heldout_mask(corpus.labels, exp["test_fraction"], exp["seed"])
    return corpus, is_test, model_inputs(corpus, is_test, exp["max_features"]) if features else None


def _student_model(ns, exp, n_inputs, n_classes):
    name = "TextMLP" if exp["kind"] == "text" else "ImageCNN"
    assert name in ns, f"the notebook defines no class {name}; run the model cell"
    cls = ns[name]
    return cls(n_inputs, n_classes, tuple(exp["hidden"])) if exp["kind"] == "text" else cls(n_classes, tuple(exp["hidden"]))


def _hooked_output(model, exp, x):
    """What the declared layer computes, seen by our own forward hook (after ReLU for the CNN)."""
    seen = []
    layer = model.fc2 if exp["kind"] == "text" else model.fc1
    handle = layer.register_forward_hook(lambda mod, inp, out: seen.append(out.detach().clone()))
    try:
        with torch.no_grad():
            model(x)
    finally:
        handle.remove()
    out = seen[-1]
    return (out if exp["kind"] == "text" else torch.relu(out)).numpy()


def _inputs(exp, n, seed=1):
    g = torch.Generator().manual_seed(seed)
    shape = (n, exp["n_inputs"]) if exp["kind"] == "text" else (n, 3, 32, 32)
    return torch.rand(shape, generator=g)


def _fresh_model(ns, exp, seed=0):
    torch.manual_seed(seed)
    return _student_model(ns, exp, exp["n_inputs"], exp["n_classes"])


# --- q1: the hook ---------------------------------------------------------------------------------
def hook_shapes(ns):
    exp = expected()
    for batch in (1, 5, 64):
        model = _fresh_model(ns, exp)
        model.train()
        model.capture = True
        try:
            model(_inputs(exp, batch))  # autograd is on here, as in a training step
        except RuntimeError as e:
            raise AssertionError(f"forward failed with capture on while autograd was recording: {e}") from None
        emb = model.embeddings
        assert isinstance(emb, np.ndarray), f"with capture on, model.embeddings should be a NumPy array, got {type(emb).__name__}"
        assert emb.dtype == np.float32, f"model.embeddings should be float32, got {emb.dtype}"
        assert emb.shape == (batch, exp["dim"]), f"for a batch of {batch}, model.embeddings has shape {emb.shape}, expected ({batch}, {exp['dim']})"


def hook_matches_layer(ns):
    exp = expected()
    model = _fresh_model(ns, exp)
    model.eval()
    x = _inputs(exp, 16)
    reference = _hooked_output(model, exp, x)
    model.capture = True
    with torch.no_grad():
        model(x)
    emb = np.asarray(model.embeddings)
    assert emb.shape == reference.shape, f"model.embeddings has shape {emb.shape}, the hooked layer gives {reference.shape}"
    assert np.abs(emb - reference).max() <= 1e-5, "model.embeddings differs from the output of the layer the hook should read"


def hook_off_copies_nothing(ns):
    exp = expected()
    model = _fresh_model(ns, exp)
    x = _inputs(exp, 8)
    model.capture = True
    with torch.no_grad():
        model(x)
    assert isinstance(model.embeddings, np.ndarray), "with capture on, forward should store model.embeddings"
    marker = object()
    model.capture = False
    model.embeddings = marker
    model(x)
    assert model.embeddings is marker, "with capture off, forward should leave model.embeddings alone (training steps copy nothing)"


# --- q2: snapshots -------------------------------------------------------------------------------
class _ProbeModel(nn.Module):
    """A small hooked model of our own, so q2 is judged apart from q1. Dropout makes train mode visible."""

    def __init__(self, n_inputs=12, dim=6, n_classes=3):
        super().__init__()
        self.body = nn.Linear(n_inputs, dim)
        self.drop = nn.Dropout(0.5)
        self.head = nn.Linear(dim, n_classes)
        self.capture, self.embeddings = False, None

    def forward(self, x):
        h = self.body(self.drop(x))
        if self.capture:
            self.embeddings = h.detach().cpu().numpy()
        return self.head(torch.relu(h))


def _probe_data(n=2500, seed=3):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = torch.randn(n, 12, generator=g) + 2.0 * nn.functional.one_hot(y, 12).float()
    return x, y


def snapshot_rows_in_order(ns):
    assert "snapshot" in ns, "the notebook defines no function snapshot"
    torch.manual_seed(0)
    model = _ProbeModel()
    x, _ = _probe_data()
    model.eval()
    with torch.no_grad():
        reference = model.body(x).numpy()
    model.train()
    got = ns["snapshot"](model, x)
    assert isinstance(got, np.ndarray), f"snapshot should return a NumPy array, got {type(got).__name__}"
    assert got.shape == reference.shape, f"snapshot of {len(x)} rows has shape {got.shape}, expected {reference.shape}"
    assert np.abs(got - reference).max() <= 1e-5, "snapshot rows differ from the model's eval-mode output (order, eval mode, all rows?)"
    assert not model.capture, "snapshot should switch capture off again"
    assert all(p.grad is None for p in model.parameters()), "snapshot should not build gradients"


def capture_epoch0_and_every_epoch(ns):
    assert "train_and_capture" in ns, "the notebook defines no function train_and_capture"
    x, y = _probe_data(n=300)
    rows = torch.arange(0, 300, 2)

    def run():
        torch.manual_seed(0)
        model = _ProbeModel()
        untrained = copy.deepcopy(model).eval()
        out = ns["train_and_capture"](model, x, y, rows, epochs=3, lr=0.05, batch_size=0,
                                      generator=torch.Generator().manual_seed(0))
        return untrained, np.asarray(out)

    untrained, snaps = run()
    assert snaps.shape == (4, 300, 6), f"3 epochs should give 4 snapshots of shape (300, 6): got {snaps.shape}"
    with torch.no_grad():
        first = untrained.body(x).numpy()
    assert np.abs(snaps[0] - first).max() <= 1e-5, "the first snapshot should be taken before any training step (epoch 0)"
    for e in range(3):
        assert not np.allclose(snaps[e], snaps[e + 1]), f"snapshots {e} and {e + 1} are identical: one per epoch, after training"
    assert np.array_equal(snaps, run()[1]), "two runs with the same seed gave different snapshots"


def snapshots_cover_all_epochs(ns):
    exp = expected()
    corpus, is_test, x = _data(exp)
    snaps = ns.get("snapshots")
    assert snaps is not None, "no `snapshots` in the notebook; run the capture cell"
    snaps = np.asarray(snaps)
    want = (exp["epochs"] + 1, len(corpus), exp["dim"])
    assert snaps.shape == want, f"`snapshots` has shape {snaps.shape}, expected {want} (epoch 0 and every epoch, all items)"
    assert np.isfinite(snaps).all(), "`snapshots` holds NaN or infinite values"
    flat = snaps.reshape(len(snaps), -1)
    for a in range(len(flat)):
        for b in range(a + 1, len(flat)):
            assert not np.array_equal(flat[a], flat[b]), f"epochs {a} and {b} are identical snapshots"
    seed_everything(exp["seed"])
    model = _student_model(ns, exp, x.shape[1], len(corpus.class_names))
    model.eval()
    untrained = np.concatenate([_hooked_output(model, exp, x[i:i + 1024]) for i in range(0, len(x), 1024)])
    assert np.abs(snaps[0] - untrained).max() <= 1e-4, "epoch 0 is not the untrained model: take it before the first training step"


# --- q3: the CSV ---------------------------------------------------------------------------------
def _table(exp, n_rows):
    path = exp["csv_name"]
    assert os.path.isfile(path), f"no file {path} next to the notebook: export it with export_mantis(CSV_NAME, …)"
    try:
        return read_mantis_csv(path, epochs=exp["epochs"] + 1, dim=exp["dim"], n_rows=n_rows)
    except ValueError as e:
        raise AssertionError(str(e)) from None


def csv_schema(ns):
    exp = expected()
    _table(exp, len(Corpus.load(exp["snapshot"])))


def csv_rows_match_data(ns):
    exp = expected()
    corpus, is_test, _ = _data(exp, features=False)
    table = _table(exp, len(corpus))
    assert list(table.titles) == list(corpus.titles), "the title column does not list the items in the data's order"
    assert list(table.categories) == list(corpus.labels), "the categoric column does not hold each item's class"
    want = np.where(is_test, "test", "train").tolist()
    assert list(table.splits) == want, "the split column does not match the held-out split (is_test)"


def csv_embeddings_match_snapshots(ns):
    exp = expected()
    corpus = Corpus.load(exp["snapshot"])
    table = _table(exp, len(corpus))
    snaps = ns.get("snapshots")
    assert snaps is not None, "no `snapshots` in the notebook to compare the CSV with"
    snaps = np.asarray(snaps, dtype=np.float32)
    assert snaps.shape == table.embeddings.shape, f"CSV embeddings have shape {table.embeddings.shape}, `snapshots` {snaps.shape}"
    assert np.abs(snaps - table.embeddings).max() <= 1e-6, "embedding_epoch_k should hold snapshot k exactly (float32)"


# --- q4: separation ------------------------------------------------------------------------------
def _ratio(emb, labels):
    """The same measure, computed another way (sums over pairs) to judge the student's."""
    labels = np.asarray(labels)
    names = sorted(set(labels.tolist()))
    cents = [emb[labels == c].astype(np.float64).mean(0) for c in names]
    within = np.mean([math.dist(row, cents[names.index(lab)]) for row, lab in zip(emb.astype(np.float64), labels)])
    pairs = [math.dist(cents[i], cents[j]) for i in range(len(cents)) for j in range(i + 1, len(cents))]
    return float(np.mean(pairs) / within)


def separation_ratio_correct(ns):
    assert "separation_ratio" in ns, "the notebook defines no function separation_ratio"
    rng = np.random.default_rng(7)
    for n, d, k, spread in ((60, 4, 3, 1.0), (90, 16, 5, 0.3), (40, 2, 2, 3.0)):
        labels = np.array([f"c{i % k}" for i in range(n)])
        emb = (rng.normal(size=(n, d)) * spread + rng.normal(size=(k, d))[np.arange(n) % k] * 2).astype(np.float32)
        got = ns["separation_ratio"](emb, labels)
        want = _ratio(emb, labels)
        assert got is not None and np.isfinite(got), f"separation_ratio returned {got!r}"
        assert abs(float(got) - want) <= 1e-4 * max(1.0, abs(want)), "separation_ratio gives a different value than the definition in q4"


def classes_separate(ns):
    from sklearn.metrics import silhouette_score
    exp = expected()
    corpus, is_test, _ = _data(exp, features=False)
    table = _table(exp, len(corpus))
    labels = np.asarray(corpus.labels)[is_test]
    first = silhouette_score(table.embeddings[0][is_test], labels)
    last = silhouette_score(table.embeddings[-1][is_test], labels)
    th = exp["thresholds"]
    assert last >= th["silhouette_min"] and last - first >= th["silhouette_gain_min"], (
        f"held-out silhouette went from {first:.3f} at epoch 0 to {last:.3f} at epoch {exp['epochs']}: the classes "
        f"should separate clearly by the last epoch (check the training loop and its learning rate)")


HIDDEN = {
    "q1_hook": [hook_shapes, hook_matches_layer, hook_off_copies_nothing],
    "q2_capture": [snapshot_rows_in_order, capture_epoch0_and_every_epoch, snapshots_cover_all_epochs],
    "q3_export": [csv_schema, csv_rows_match_data, csv_embeddings_match_snapshots],
    "q4_separation": [separation_ratio_correct, classes_separate],
}


# --- the libraries the verdicts rely on ----------------------------------------------------------
LIBRARIES = ("builtins", "math", "numpy", "numpy.linalg", "torch", "torch.nn.functional", "sklearn.metrics",
             "replab.corpus", "replab.features", "replab.mantis", "replab.training")


def _replaced_library_functions():
    """Functions of LIBRARIES that the notebook replaced (np.allclose = lambda *a, **k: True, a fake
    silhouette_score...). The checks run in the student's kernel after their code, so such a stand-in
    would decide the verdict. A stand-in is Python code from outside the installed libraries (the
    notebook's cells live in a temporary file), a partial of such code, or an object of a notebook class."""
    homes = {os.path.realpath(p) + os.sep for k, p in sysconfig.get_paths().items()
             if k in ("stdlib", "platstdlib", "purelib", "platlib")}
    homes.add(os.path.realpath(os.path.dirname(os.path.abspath(sys.modules["replab.corpus"].__file__))) + os.sep)
    inside = functools.lru_cache(maxsize=None)(lambda file: os.path.realpath(file).startswith(tuple(homes)))
    replaced = []
    for module_name in LIBRARIES:
        module = sys.modules.get(module_name)
        for name, value in list(vars(module).items()) if module else []:
            while isinstance(value, (functools.partial, types.MethodType)):
                value = value.func if isinstance(value, functools.partial) else value.__func__
            if isinstance(value, types.FunctionType):
                foreign = not inside(value.__code__.co_filename)
            else:
                foreign = getattr(value if isinstance(value, type) else type(value), "__module__", None) == "__main__"
            if foreign:
                replaced.append(f"{module_name}.{name}")
    return replaced


def _assert_libraries_untouched():
    replaced = _replaced_library_functions()
    assert not replaced, (f"the notebook replaced {', '.join(replaced[:3])}: the grading needs the libraries "
                          "as installed, so this check gives no credit")


def run(name, ns):
    """Entry point of every hidden test cell. Library stand-ins are looked for before the check and
    again after it, since the check calls the student's code, which could install one."""
    _assert_libraries_untouched()
    {f.__name__: f for fs in HIDDEN.values() for f in fs}[name](ns)
    _assert_libraries_untouched()
