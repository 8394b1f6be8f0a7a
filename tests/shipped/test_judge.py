"""The judge's checks in-process, for both kinds: a student side simulated with the reference
solution (every check passes), then with one classic slip at a time (exactly the check for it fails,
with a message in the notebook's words, and no other question loses a point)."""

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import solutions.capture as capture
import solutions.export as export
import solutions.models as models
import solutions.separation as separation
from autograder.contract import GradingSpec
from autograder.shipped.judge.checks import Context, verdict
from autograder.shipped.judge.evidence import Evidence, Report
from autograder.shipped.judge.probes import PROBE_THREADS, PROBES, make_probes
from autograder.shipped.judge.reference import lab_reference, torch_threads
from autograder.shipped.sandbox import kernel_probes
from assignment.sources import load_corpus
from solutions.kinds import KINDS


@pytest.fixture(scope="module", params=["wikipedia", "cifar10"])
def lab(request, cfg, fixtures_dir, tmp_path_factory):
    variant = cfg.variant(request.param)
    source = variant.source
    if variant.kind == "image":   # a small image set keeps this in-process test quick
        source = {**source, "n_images": 600}
    corpus = load_corpus(variant.name, variant.kind, source, data_dir=fixtures_dir, cache_dir=None, seed=0, live=False)
    path = tmp_path_factory.mktemp("data") / "data.npz"
    corpus.save(path)
    spec = GradingSpec.from_config(cfg, variant)
    return spec, lab_reference(spec, path)


def honest_namespace(spec, lab):
    snaps = lab.snapshots[KINDS[spec.kind].reads].astype(np.float32)
    return {"TextMLP": models.TextMLP, "ImageCNN": models.ImageCNN, "snapshot": capture.snapshot,
            "train_and_capture": capture.train_and_capture, "export_mantis": export.export_mantis,
            "separation_ratio": separation.separation_ratio, "snapshots": snaps,
            "separation": separation.separation_by_epoch(snaps, lab.corpus.labels, lab.is_test)}


_PROBES = {}


def probes_for(spec, lab):
    """make_probes(spec, lab, seed=11), made once per lab: the same grading's inputs for every test of a kind
    (the trajectories they hold take most of a test's time). A copy each time: a probe run in-process could
    change what it was handed, where the real one, in its own process, cannot."""
    if id(lab) not in _PROBES:
        _PROBES[id(lab)] = (lab, make_probes(spec, lab, seed=11))
    return copy.deepcopy(_PROBES[id(lab)][1])


def judge(tmp_path, spec, lab, ns, csv_snapshots=None, states=None, limits=None):
    """Run every probe on ns as the probe processes would (in-process here, on their one torch thread), keep
    what they return as the grader keeps the driver's report, write the CSV, judge."""
    expected, inputs = probes_for(spec, lab)
    report = Report(tmp_path / "report")
    with torch_threads(PROBE_THREADS):
        for probe in PROBES:
            result, blobs = kernel_probes.run_probe(ns, probe, inputs.spec, inputs.arrays)
            report({"op": "probe", "probe": probe, "state": "ran"}, {**blobs, probe + ".json": json.dumps(result).encode()})
    export.export_mantis(report.folder / "notebook.csv", lab.corpus, lab.is_test,   # as the driver keeps it
                         ns["snapshots"] if csv_snapshots is None else csv_snapshots)
    ctx = Context(spec=spec, lab=lab, expected=expected, evidence=Evidence(report.folder),
                  status={"probes": {p: (states or {}).get(p, {"state": "ran"}) for p in PROBES}})
    tests = {t["name"]: t for t in verdict(ctx)}
    if limits is not None:
        limits.extend(ctx.limits)
    return tests


def test_the_reference_solution_gets_full_marks(lab, tmp_path):
    spec, lab = lab
    tests = judge(tmp_path, spec, lab, honest_namespace(spec, lab))
    assert {n: t["score"] for n, t in tests.items()} == spec.questions, {n: t["output"] for n, t in tests.items()}


def storing(kind, store):
    """The lab's model whose forward, with capture on, stores store(h) of the hooked layer's output h."""
    def make(*args):
        model = KINDS[kind].model(*args)
        layer = KINDS[kind].hooked_layer(model)
        inner_forward = model.forward

        def forward(x):
            seen = []
            handle = layer.register_forward_hook(lambda m, i, o: seen.append(o))
            out = inner_forward(x)
            handle.remove()
            if model.capture:
                model.embeddings = store(seen[-1])
            return out
        model.forward = forward
        return model
    return make


def wrong_side_of_the_relu(kind):
    """The lab's model with the hook on the other side of the ReLU that follows the hooked layer."""
    right = KINDS[kind].reads
    return storing(kind, lambda h: (torch.relu(h) if right == "pre" else h).detach().cpu().numpy())


def test_a_hook_on_the_wrong_side_of_the_relu_costs_q1_only(lab, tmp_path):
    spec, lab = lab
    ns = honest_namespace(spec, lab)
    kind = KINDS[spec.kind]
    ns[kind.model.__name__] = wrong_side_of_the_relu(spec.kind)
    wrong = "post" if kind.reads == "pre" else "pre"
    ns["snapshots"] = lab.snapshots[wrong].astype(np.float32)  # what that hook gives over training
    ns["separation"] = separation.separation_by_epoch(ns["snapshots"], lab.corpus.labels, lab.is_test)
    tests = judge(tmp_path, spec, lab, ns)
    assert tests["q1_hook"]["score"] < spec.questions["q1_hook"]
    side = "after" if wrong == "post" else "before"
    assert f"{side} its ReLU" in tests["q1_hook"]["output"] and kind.layer in tests["q1_hook"]["output"]
    assert [tests[q]["score"] for q in ("q2_capture", "q3_export", "q4_separation")] == \
        [spec.questions[q] for q in ("q2_capture", "q3_export", "q4_separation")]


class CopiesWithCaptureOff(torch.nn.Module):
    """The lab's model whose forward stores the embeddings whether capture is on or off."""

    def __new__(cls, *args, kind):
        model = KINDS[kind].model(*args)
        inner_forward = model.forward

        def forward(x):
            model.capture, was = True, model.capture
            try:
                return inner_forward(x)
            finally:
                model.capture = was
        model.forward = forward
        return model


def _slip(name):
    def forgets_eval(model, x, y, train_rows, epochs=10, lr=0.002, batch_size=0, generator=None):
        """train_and_capture whose snapshots never call model.eval(): after the first epoch they run in
        the train mode train_one_epoch left (the probe model's batch norm then gives other values)."""
        def snap():
            model.capture = True
            with torch.no_grad():
                model(x)
            model.capture = False
            return model.embeddings
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        snaps = [snap()]
        for _ in range(epochs):
            capture.train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
            snaps.append(snap())
        return np.stack(snaps)

    def all_rows(model, x, y, train_rows, **kw):
        return capture.train_and_capture(model, x, y, torch.arange(len(x)), **kw)

    def two_epochs(model, x, y, train_rows, epochs=10, **kw):
        return capture.train_and_capture(model, x, y, train_rows, epochs=2 * epochs, **kw)[::2]

    def upside_down(embeddings, labels):
        return 1 / separation.separation_ratio(embeddings, labels)
    return {"snapshot in train mode": ("train_and_capture", forgets_eval), "training on every row": ("train_and_capture", all_rows),
            "two epochs per snapshot": ("train_and_capture", two_epochs),
            "ratio upside down": ("separation_ratio", upside_down)}[name]


@pytest.mark.parametrize("slip, question, words", [
    ("snapshot in train mode", "q2_capture", "eval mode"),
    ("training on every row", "q2_capture", "trains on every row"),
    ("two epochs per snapshot", "q2_capture", "two epochs of training between snapshots"),
    ("ratio upside down", "q4_separation", "upside down"),
])
def test_each_slip_fails_its_own_check(lab, tmp_path, slip, question, words):
    spec, lab = lab
    ns = honest_namespace(spec, lab)
    name, fn = _slip(slip)
    ns[name] = fn
    tests = judge(tmp_path, spec, lab, ns)
    assert tests[question]["score"] < spec.questions[question] and words in tests[question]["output"]
    assert all(t["score"] == spec.questions[n] for n, t in tests.items() if n != question)


@pytest.mark.parametrize("fake", ["interpolated", "last epoch plus noise", "another seed"])
def test_snapshots_that_are_not_the_training_cannot_score(lab, tmp_path, fake):
    spec, lab = lab
    ns = honest_namespace(spec, lab)
    real = ns["snapshots"]
    rng = np.random.default_rng(0)
    if fake == "interpolated":
        t = np.linspace(0, 1, len(real))[:, None, None]
        snaps = (real[0] + t * (real[-1] - real[0])).astype(np.float32)
    elif fake == "last epoch plus noise":
        snaps = real.copy()
        snaps[1:] = real[-1] + rng.normal(0, 1e-3, real[1:].shape)
    else:
        snaps = real[:, rng.permutation(real.shape[1])]   # rows of someone else's run
    ns["snapshots"] = snaps
    tests = judge(tmp_path, spec, lab, ns)
    assert tests["q2_capture"]["score"] < spec.questions["q2_capture"]
    assert "snapshots[" in tests["q2_capture"]["output"]
    assert tests["q3_export"]["score"] == spec.questions["q3_export"]   # its CSV holds its snapshots: q3 is fine


def test_a_csv_that_does_not_hold_the_final_snapshots_costs_q3_only(lab, tmp_path):
    spec, lab = lab
    ns = honest_namespace(spec, lab)
    shuffled = ns["snapshots"][:, ::-1].copy()
    tests = judge(tmp_path, spec, lab, ns, csv_snapshots=shuffled)
    assert tests["q3_export"]["score"] < spec.questions["q3_export"] and "does not hold" in tests["q3_export"]["output"]
    assert all(t["score"] == spec.questions[n] for n, t in tests.items() if n != "q3_export")


def test_capture_off_that_stores_anyway_costs_q1_only(lab, tmp_path):
    """Judged from the array the probe reads back after a capture-off pass, not from a report."""
    spec, lab = lab
    ns = honest_namespace(spec, lab)
    kind = KINDS[spec.kind]
    ns[kind.model.__name__] = lambda *a: CopiesWithCaptureOff(*a, kind=spec.kind)
    tests = judge(tmp_path, spec, lab, ns)
    assert tests["q1_hook"]["score"] < spec.questions["q1_hook"] and "capture off" in tests["q1_hook"]["output"]
    assert all(t["score"] == spec.questions[n] for n, t in tests.items() if n != "q1_hook")


@pytest.mark.parametrize("rows", ["training rows", "every row"])
def test_separation_measured_on_other_rows_costs_q4_only(lab, tmp_path, rows):
    spec, lab = lab
    ns = honest_namespace(spec, lab)
    chosen = ~lab.is_test if rows == "training rows" else np.ones_like(lab.is_test)
    ns["separation"] = separation.separation_by_epoch(ns["snapshots"], lab.corpus.labels, chosen)
    tests = judge(tmp_path, spec, lab, ns)
    assert tests["q4_separation"]["score"] < spec.questions["q4_separation"]
    assert "other items than the held-out" in tests["q4_separation"]["output"]
    assert all(t["score"] == spec.questions[n] for n, t in tests.items() if n != "q4_separation")


def test_what_changes_no_value_is_stated_but_not_scored(lab, tmp_path):
    """Autograd on during a snapshot, and embeddings kept attached to autograd, change no value the judge
    can recompute: the notebook states both and the public tests check them, but no score depends on what
    the student's process would say about itself."""
    spec, lab = lab
    ns = honest_namespace(spec, lab)
    kind = KINDS[spec.kind]

    def with_grad(model, x, batch_size=256):
        model.eval()
        model.capture = True
        model(x)
        model.capture = False
        e = model.embeddings
        return e.detach() if isinstance(e, torch.Tensor) else e

    # kept attached to autograd: the layer's output itself, on the kind's side of the ReLU
    attached = storing(spec.kind, lambda h: h if kind.reads == "pre" else torch.relu(h))
    ns["snapshot"], ns[kind.model.__name__] = with_grad, attached
    tests = judge(tmp_path, spec, lab, ns)
    assert {n: t["score"] for n, t in tests.items()} == spec.questions, {n: t["output"] for n, t in tests.items()}


def _trains(optimizer=torch.optim.Adam, lr=None, rows=None, batch_size=None, snapshot_batch=256, keep=np.float32):
    """train_and_capture as a student might write it: the notebook's steps, with one thing done their way."""
    def train(model, x, y, train_rows, epochs=10, lr_given=0.002, batch_size_given=0, generator=None, **kw):
        opt = optimizer(model.parameters(), lr=lr_given if lr is None else lr)
        chosen = train_rows if rows is None else rows(len(x), train_rows)
        snaps = [capture.snapshot(model, x, batch_size=snapshot_batch)]
        for _ in range(epochs):
            capture.train_one_epoch(model, x[chosen], y[chosen], opt,
                                    batch_size_given if batch_size is None else batch_size, generator)
            snaps.append(capture.snapshot(model, x, batch_size=snapshot_batch))
        return np.stack(snaps).astype(keep)

    def probe_call(model, x, y, train_rows, epochs=10, lr=0.002, batch_size=0, generator=None):
        return train(model, x, y, train_rows, epochs, lr, batch_size, generator)
    return probe_call


@pytest.mark.parametrize("way", ["snapshot one row at a time", "snapshot all rows at once", "snapshots kept as float16",
                                 "snapshots kept as float64"])
def test_honest_ways_to_train_and_capture_pass(lab, tmp_path, way):
    """Honest code differs from the judge's replay by the rounding of its own snapshot pass only (the probe and the
    judge both train on one torch thread): each passes, on the envelope the judge measures for this grading."""
    spec, lab = lab
    ns = honest_namespace(spec, lab)
    ns["train_and_capture"] = {"snapshot one row at a time": _trains(snapshot_batch=1),
                               "snapshot all rows at once": _trains(snapshot_batch=100_000),
                               "snapshots kept as float16": _trains(keep=np.float16),
                               "snapshots kept as float64": _trains(keep=np.float64)}[way]
    tests = judge(tmp_path, spec, lab, ns)
    assert tests["q2_capture"]["score"] == spec.questions["q2_capture"], tests["q2_capture"]["output"]


@pytest.mark.parametrize("slip, words", [
    ("AdamW", "AdamW"), ("SGD", "not SGD"), ("the notebook's LR", "notebook's LR"),
    ("the held-out rows", "held-out rows"), ("the notebook's BATCH_SIZE", "BATCH_SIZE"),
    ("Adam with weight decay", "optimizer"),
])
def test_training_that_is_not_the_notebooks_fails_its_check(lab, tmp_path, slip, words):
    """The optimizer, learning rate, rows and batch size the notebook states: another one moves the trajectory by
    far more than honest rounding, and the message names the slip where the judge replays it."""
    spec, lab = lab
    ns = honest_namespace(spec, lab)
    ns["train_and_capture"] = {
        "AdamW": _trains(optimizer=torch.optim.AdamW), "SGD": _trains(optimizer=torch.optim.SGD),
        "the notebook's LR": _trains(lr=spec.lr),
        "the held-out rows": _trains(rows=lambda n, r: torch.from_numpy(np.setdiff1d(np.arange(n), r.numpy()))),
        "the notebook's BATCH_SIZE": _trains(batch_size=spec.batch_size),
        "Adam with weight decay": _trains(optimizer=lambda params, lr: torch.optim.Adam(params, lr=lr, weight_decay=1e-4)),
    }[slip]
    tests = judge(tmp_path, spec, lab, ns)
    assert tests["q2_capture"]["score"] < spec.questions["q2_capture"] and words in tests["q2_capture"]["output"], \
        tests["q2_capture"]["output"]
    assert all(t["score"] == spec.questions[n] for n, t in tests.items() if n != "q2_capture")


def test_a_function_the_run_did_not_define_is_named_precisely(lab, tmp_path):
    """The probes see the namespace the run left: a name missing there is the notebook's, said as such."""
    spec, lab = lab
    ns = honest_namespace(spec, lab)
    del ns["snapshot"]
    limits = []
    tests = judge(tmp_path, spec, lab, ns, limits=limits)
    assert "q2_capture: the notebook's run left no function snapshot defined" in tests["q2_capture"]["output"]
    assert limits == [] and "TA" not in tests["q2_capture"]["output"]


@pytest.mark.parametrize("state", [{"state": "killed", "signal": 9}, {"state": "lost"},
                                   {"state": "not run", "why": "the notebook's kernel did not answer the grader's "
                                                               "request to start the probes"}])
def test_a_grader_limitation_is_never_charged_as_the_notebooks(lab, tmp_path, state):
    """A probe process killed from outside, or probes that could not start: one line saying it is the grader's,
    and a GraderLimit the grading acts on (one more try, then a TA) — never a message blaming the notebook."""
    spec, lab = lab
    limits = []
    tests = judge(tmp_path, spec, lab, honest_namespace(spec, lab), states={"hook": state}, limits=limits)
    line = tests["q1_hook"]["output"].splitlines()[0]
    assert "could not be checked" in line and "not your notebook's fault; a TA will regrade it" in line, line
    assert limits and all(t["score"] == spec.questions[n] for n, t in tests.items() if n != "q1_hook")


def test_a_defined_name_a_probe_could_not_reach_is_the_graders(lab, tmp_path):
    spec, lab = lab
    ns = honest_namespace(spec, lab)
    limits = []
    expected, inputs = make_probes(spec, lab, seed=11)
    report, _ = kernel_probes.run_probe(ns, "harvest", inputs.spec, inputs.arrays)
    assert "snapshot" in report["defined"]
    from autograder.shipped.judge.checks import Context, GraderLimit
    ctx = Context(spec=spec, lab=lab, expected=expected, evidence=Evidence(tmp_path), status={})
    ctx.harvest = report
    ctx.evidence.json = lambda name: {"missing": "snapshot"} if name == "snapshot" else None
    ctx.status = {"probes": {"snapshot": {"state": "ran"}}}
    with pytest.raises(GraderLimit, match="defined snapshot, but the grader could not reach it"):
        ctx.probe("snapshot", "snapshot(model, x)")
