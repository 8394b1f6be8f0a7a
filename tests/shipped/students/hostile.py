"""Hostile and sloppy students: a reusable corpus of attacks on the Lab 8 autograder.

``hostile_notebooks(solution_nb, blank_nb, kind)`` returns ``{case: (notebook, expectation)}``. Each case
is an edit of the released blank student notebook (a cheat that does no real work) or of the executed
reference solution (full work, then one thing broken), for a ``kind`` of model:

* ``"text"`` (wikipedia, bbc): ``TextMLP``, the hook reads ``fc2`` before its ReLU;
* ``"image"`` (cifar10): ``ImageCNN``, the hook reads ``fc1`` after its ReLU.

Every edit names the text it anchors on and raises ``AnchorError`` when that text is not found exactly
where expected, so a template change is noticed instead of silently building an unbroken notebook.

The classes (``expectation["class"]``):

0. controls: the solution (full marks) and the blank notebook (0);
1. cheats from the blank notebook plus a few lines: monkeypatched libraries, fake grading outputs written
   by a cell, by ``atexit``, by a signal handler or by a daemon, a replaced ``kernel_probes.py``, stack and
   ``gc`` hunting, searching the filesystem for the solution, network access, fake ``results.json``, a
   faked infrastructure failure, a hook that stores zeros, a CSV of zeros; sloppy work (a hook that
   stores with capture off, a snapshot that never calls ``model.eval()``) hidden by a daemon thread of
   the kernel (started by a cell or by an imported helper module) or by a wrapped ``numpy.save``/``json.dump``
   (in a cell or in the model's class body) rewriting the probes' outputs, or by a decorator that gives eval
   mode to the grader's model only; and the four ways a blank notebook kept the probes from running after
   planting their outputs (``forge_blank_*``: a definition that ends the kernel when replayed alone,
   ``exec`` shadowed, IPython startup and config files, a stall until the run's time is out);
2. fabricated training: real functions, but ``snapshots`` faked afterwards;
3. processes that outlive the notebook (each runs a distinctive ``sleep 97x`` to look for afterwards);
4. later cells that break the CSV after a correct export;
5. containment: endless loops, swallowed interrupts, ``os._exit``/``sys.exit``/``exit()``, memory, a
   fork-hold that exhausts the sandbox uid's process limit beside another submission;
6. wrong work from honest-looking students (and the same slips hidden by a cheat).

What is scored (the judge since 32a50d2): q1 the values and shapes of ``self.embeddings`` with capture on
and the array read back after a capture-off pass (detached storage is not scored); q2 values only (eval
mode shows in the probe model's values: its hooked layer shifts in train mode; autograd off during snapshots
is not scored); q4
``separation_ratio`` on two pairs of point clouds plus the notebook's final ``separation`` against the
held-out curve of its own snapshots (1 point each). A cheat that hides a slip deserves what the slip does.

An expectation says what a *correct* grader must give (scores are compared with a 0.01 tolerance):

``max_total``     the total is at most this
``max``           {question: at most this}
``question``      {question: exactly this}
``full_for``      [questions that must get full points]
``others_full``   every question not named in ``question``/``max`` gets full points
``full``          every question gets full points
``outcome``       results.json's extra_data.outcome must be this
``no_survivors``  after grading, no process has this text in its command line
``batch``         grading hint: "main" (default), "slow" (endless loops, ~5 min each with the release's
                  timeouts), "nproc" (grade these together, two at a time, and nothing else)
``class``, ``why`` what the case is and why the expectation holds

``check_expectation(expectation, results, points)`` returns the list of violations (empty: as expected).
"""
from __future__ import annotations

import copy
import json
import re
import textwrap
from pathlib import Path

import nbformat
from nbformat import NotebookNode

KINDS = ("text", "image")
MODEL = {"text": "TextMLP", "image": "ImageCNN"}
POINTS = {"q1_hook": 2.0, "q2_capture": 3.0, "q3_export": 2.0, "q4_separation": 3.0}
TOL = 0.01

# ------------------------------------------------------------------------------------------ anchors
SEED_LINE = "SEED = 0"
IMPORTS = "from replab.checks import Notebook\n"
HOOK = "self.embeddings = h.detach().cpu().numpy()"
BLANK_HOOK = "in self.embeddings\n        ...\n"
FORWARD = "    def forward(self, x):\n"
IMAGE_H = "h = torch.relu(self.fc1(torch.flatten(x, 1)))"
SNAP_NOGRAD = "with torch.inference_mode():"
SNAP_RETURN = "return np.concatenate(parts)"
TRAIN_ROWS = "x_train, y_train = x[train_rows], y[train_rows]"
EPOCH0 = "snapshots = [snapshot(model, x)]  # epoch 0: before any update"
TRAIN_STEP = "train_one_epoch(model, x_train, y_train, optimizer, batch_size, generator)"
TRAIN_RETURN = "return np.stack(snapshots)"
TRAIN_CALL = "snapshots = train_and_capture(model, x, y, train_rows, epochs=EPOCHS, lr=LR,"
EXPORT_CALL = "csv_path = export_mantis(CSV_NAME, corpus, is_test, snapshots)"
EXPORT_WRITE = "return write_mantis_csv(path, corpus.titles, corpus.labels, splits, snippets, snapshots)"
SEP_DEF = "def separation_ratio(embeddings, labels):"
SEP_BODY = "    labels = np.asarray(labels)\n    classes, label_index"
DISPLAY = 'display(Image("epoch_grid.png"), Image("metrics.png"))'
SEP_CALL = "separation = separation_by_epoch(snapshots, corpus.labels, is_test)"
SNAP_EVAL = "    model.eval()\n    model.capture = True\n"


class AnchorError(AssertionError):
    """An anchor text of an edit is not where the case expects it: the template changed."""


def _load(nb) -> NotebookNode:
    if isinstance(nb, (str, Path)):
        return nbformat.read(str(nb), as_version=4)
    return copy.deepcopy(nb)


def _cells_with(nb, text: str) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and text in c.source]


def _one_cell(nb, text: str) -> int:
    hits = _cells_with(nb, text)
    if len(hits) != 1:
        raise AnchorError(f"{text!r}: expected in exactly one code cell, found in {len(hits)} — template changed?")
    return hits[0]


def replace(nb, old: str, new: str) -> NotebookNode:
    """Replace `old` (exactly once, in exactly one code cell) by `new`."""
    cell = nb.cells[_one_cell(nb, old)]
    if cell.source.count(old) != 1:
        raise AnchorError(f"{old!r}: found {cell.source.count(old)} times in its cell")
    cell.source = cell.source.replace(old, new)
    return nb


def append_to(nb, anchor: str, code: str) -> NotebookNode:
    cell = nb.cells[_one_cell(nb, anchor)]
    cell.source = cell.source.rstrip("\n") + "\n\n" + _dedent(code)
    return nb


def prepend_to(nb, anchor: str, code: str) -> NotebookNode:
    cell = nb.cells[_one_cell(nb, anchor)]
    cell.source = _dedent(code) + "\n\n" + cell.source
    return nb


def insert_after(nb, anchor: str, code: str) -> NotebookNode:
    nb.cells.insert(_one_cell(nb, anchor) + 1, nbformat.v4.new_code_cell(_dedent(code)))
    return nb


def insert_before(nb, anchor: str, code: str) -> NotebookNode:
    nb.cells.insert(_one_cell(nb, anchor), nbformat.v4.new_code_cell(_dedent(code)))
    return nb


def append_cell(nb, code: str) -> NotebookNode:
    """A new last code cell (after the figures; the written-answer cells are markdown)."""
    _one_cell(nb, DISPLAY)   # the notebook still ends the way the cases assume
    nb.cells.append(nbformat.v4.new_code_cell(_dedent(code)))
    return nb


def _dedent(code: str) -> str:
    return textwrap.dedent(code).strip("\n") + "\n"


def model_line(nb, kind: str) -> str:
    """The training cell's `model = TextMLP(...)` / `model = ImageCNN(...)` line."""
    cell = nb.cells[_one_cell(nb, TRAIN_CALL)]
    m = re.search(rf"^model = {MODEL[kind]}\(.*\)$", cell.source, re.M)
    if not m:
        raise AnchorError(f"no `model = {MODEL[kind]}(...)` line in the training cell")
    return m.group(0)


# ------------------------------------------------------------------------------------------ snippets
FAKE_RESULTS = json.dumps({"score": 10.0, "output": "Score 10/10: 4 of 4 questions passed.",
                           "tests": [{"name": q, "score": p, "max_score": p, "status": "passed",
                                      "output": "All checks passed."} for q, p in POINTS.items()]})

# Canned "correct-looking" grading outputs, written without running a single student function, computed from
# the judge's inputs where it can find them (the grader before the probes' redesign left them in
# _grading/in/probes.json), else from the notebook's own sizes: the hook report of a clean hook (arrays of
# zeros, right shapes; capture off read back as None, i.e. an empty array), clean snapshot/train reports,
# separation 1.0, the export probe's CSV, and a notebook CSV + `snapshots` of zeros that agree, with a final
# `separation` of ones — planted in every folder a grader might read its outputs from.
FAKE_WRITER = r'''
def _lab8_fake(root=None, csv=True, results=True):
    import glob, json, os
    import numpy as np
    root = root or os.getcwd()
    spec, inp = None, os.path.join(root, "_grading", "in")
    try:
        with open(os.path.join(inp, "probes.json")) as f:
            spec = json.loads(f.read())
    except OSError:
        pass
    dim = spec["hook"]["args"][-1][-1] if spec else FAKE_DIM
    batches = spec["hook"]["batches"] if spec else [{"size": n} for n in (1, 5, 64, 16)]
    p_dim = spec["probe_model"]["dim"] if spec else 6
    load = lambda name, n: np.load(os.path.join(inp, name)) if spec else np.zeros((n, 1))
    n_snap, n_train = len(load("snap_x.npy", 700)), len(load("train_x.npy", 300))
    epochs = spec["train"]["epochs"] if spec else 4
    files = {"hook.json": json.dumps({"passes": [{} for _ in batches]}), "snapshot.json": "{}", "train.json": "{}",
             "separation.json": json.dumps({"values": [1.0] * 4}), "export.json": json.dumps({"written": True}),
             "status.json": json.dumps({"cells": {}, "probes": {p: {"state": "ran"} for p in
                                        ("harvest", "hook", "snapshot", "train", "export", "separation")}, "finished": True}),
             "harvest.json": json.dumps({"defined": ["FAKE_MODEL", "snapshot", "train_and_capture", "export_mantis",
                                                     "separation_ratio"],
                                         "snapshots_structure": {"container": "single", "type": "ndarray", "dtype": "float32"}})}
    arrays = {"hook_off.npy": np.empty(0), "snapshot.npy": np.zeros((n_snap, p_dim), np.float32),   # "set to None"
              "train.npy": np.zeros((epochs + 1, n_train, p_dim), np.float32)}
    for k, b in enumerate(batches):
        arrays["hook_emb%d.npy" % k] = np.zeros((b["size"], dim), np.float32)
    from replab.corpus import Corpus
    from replab.features import heldout_mask
    from replab.mantis import write_mantis_csv
    corpus = Corpus.load(sorted(glob.glob(os.path.join(root, "data", "*.npz")))[0])
    is_test = heldout_mask(corpus.labels, test_fraction=0.25, seed=0)
    zeros = np.zeros((11, len(corpus), dim), np.float32)
    arrays["snapshots.npy"], arrays["final_separation.npy"] = zeros, np.ones(11)   # the harvested values
    planted = []
    for out in ("_grading/out", "_grading/report", "_grading", "../report", "../out", "."):
        folder = os.path.join(root, out)
        try:
            os.makedirs(folder, exist_ok=True)
            for name, text in files.items():
                with open(os.path.join(folder, name), "w") as f:
                    f.write(text)
            for name, array in arrays.items():
                np.save(os.path.join(folder, name), array)
            write_mantis_csv(os.path.join(folder, "export.csv"), corpus.titles[:9], corpus.labels[:9], ["train"] * 9,
                             [corpus.snippet(i) for i in range(9)], zeros[:, :9])
            planted.append(out)
        except OSError:
            pass
    if csv:
        for name in ("mantis_embeddings.csv", "notebook.csv"):
            write_mantis_csv(os.path.join(root, name), corpus.titles, corpus.labels, np.where(is_test, "test", "train"),
                             [corpus.snippet(i) for i in range(len(corpus))], zeros)
    if results:
        for path in ("results.json", "_grading/results.json", "_grading/out/results.json", "../results.json",
                     "../results/results.json", "../../results/results.json", "/autograder/results/results.json",
                     "/tmp/results.json", os.path.expanduser("~/results.json")):
            try:
                with open(os.path.join(root, path), "w") as f:
                    f.write(FAKE_RESULTS_TEXT)
            except OSError:
                pass
    return planted
'''.replace("FAKE_RESULTS_TEXT", repr(FAKE_RESULTS))

MONKEYPATCH = r'''
# "Make every check pass": patch the libraries the grader's code uses in this kernel.
import builtins, json as _json, numpy as _np, torch as _torch
_real_dump, _real_save = _json.dump, _np.save

def _dump(obj, fp, *a, **k):
    name = getattr(fp, "name", "")
    if isinstance(obj, dict):
        if name.endswith("hook.json"):
            out = name.rsplit("/", 1)[0]
            spec = _json.loads(open(out + "/../in/probes.json").read())
            dim = spec["hook"]["args"][-1][-1]
            for k_, b in enumerate(spec["hook"]["batches"]):
                _real_save(out + "/hook_emb%d.npy" % k_, _np.zeros((b["size"], dim), _np.float32))
            _real_save(out + "/hook_off.npy", _np.load(out + "/../in/hook_sentinel.npy"))   # "left as it was"
            obj = {"passes": [{} for _ in spec["hook"]["batches"]]}
        elif name.endswith(("snapshot.json", "train.json")):
            obj = {}
        elif name.endswith("separation.json"):
            obj = {"values": [1.0, 1.0, 1.0, 1.0]}
        elif name.endswith("harvest.json"):
            obj = {k_: v for k_, v in obj.items() if not k_.endswith("_problem")}
    return _real_dump(obj, fp, *a, **k)

_json.dump = _dump
_np.allclose = _np.array_equal = lambda *a, **k: True
_np.isfinite = lambda a, *r, **k: _np.ones(_np.shape(a), bool)
_torch.allclose = lambda *a, **k: True
_torch.is_grad_enabled = lambda: False
builtins.callable = lambda o: True   # every name the grader looks for is 'defined'
'''

KERNEL_PROBES = FAKE_WRITER.replace("FAKE_DIM", "64") + r'''

def run(ns, probe, in_dir, out_dir):
    """A replacement of the grader's kernel probes: no student function is called; canned outputs."""
    import os
    import numpy as np
    import torch
    if probe != "separation":   # the last probe: write everything then
        return
    _lab8_fake(os.path.dirname(os.path.dirname(in_dir)))
    # a "correct" snapshot without any snapshot(): the probe model's hooked layer (body, then its batch
    # norm in eval mode), computed here from the weights the judge wrote
    with np.load(os.path.join(in_dir, "probe_model.npz")) as z:
        p = {k: torch.from_numpy(z[k]) for k in z.files}
    x = torch.from_numpy(np.load(os.path.join(in_dir, "snap_x.npy")))
    h = torch.nn.functional.linear(x, p["body.weight"], p.get("body.bias"))
    if "norm.running_mean" in p:
        h = torch.nn.functional.batch_norm(h, p["norm.running_mean"], p["norm.running_var"], p["norm.weight"],
                                           p["norm.bias"], training=False)
    np.save(os.path.join(out_dir, "snapshot.npy"), h.numpy())
'''

REPLACE_PROBES = '''
import os
for _name, _text in (("kernel_probes.py", {probes!r}),
                     ("driver.py", "raise SystemExit('replaced')\\n")):
    _path = os.path.join("_grading", "bin", _name)
    try:
        os.chmod(_path, 0o644)
    except OSError:
        pass
    with open(_path, "w") as _f:
        _f.write(_text)
print("replaced", sorted(os.listdir(os.path.join("_grading", "bin"))))
'''

STACK_HUNT = r'''
# Look for the grader's expected answers in the call stack and in every live object, while the probes run.
import gc, inspect, json, os

def _lab8_hunt(where):
    found = {"where": where}
    for fr in inspect.stack()[1:]:
        for k, v in list(fr.frame.f_locals.items()):
            if any(w in k.lower() for w in ("expect", "answer", "want", "right", "refer", "spec", "seed", "out_dir")):
                found[f"{fr.function}:{k}"] = repr(v)[:300]
    hits = []
    for o in gc.get_objects():
        try:
            if isinstance(o, dict) and {"right", "all rows"} & set(o) or isinstance(o, dict) and "expected" in o:
                hits.append(sorted(map(str, o))[:10])
        except Exception:
            pass
    found["gc"] = hits[:20]
    with open("mantis_embeddings.csv", "a") as f:   # the one file the grader keeps: a channel to read back
        f.write(json.dumps(found)[:20000] + "\n")
    return found

def separation_ratio(embeddings, labels):
    found = _lab8_hunt("separation_ratio")
    for v in found.values():
        try:
            return float(v)
        except (TypeError, ValueError):
            pass
    return 0.0

def snapshot(model, x, batch_size=256):
    _lab8_hunt("snapshot")
    return None

class _Hunting({model}):
    def forward(self, x):
        _lab8_hunt("forward")
        return super().forward(x)

{model} = _Hunting
'''

FS_SEARCH = r'''
# Search every folder this process can see for the reference solution, the grading record or another
# submission; if a solution is found, use it and redo the notebook's work.
import json, os, time, zipfile
_t0, _seen, _hits = time.time(), 0, []
_skip = {"/proc", "/sys", "/dev", "/usr", "/etc", "/lib", "/lib64", "/bin", "/sbin", "/var/lib", "/snap", "/boot"}
_roots = ["/autograder", "/work", "/tmp", os.path.abspath(".."), os.path.abspath("../.."), "/root", "/home",
          "/srv", "/opt", "/mnt", "/"]
_done = set()
for _r in _roots:
    for _d, _ds, _fs in os.walk(_r):
        if _d in _done:
            _ds[:] = []
            continue
        _done.add(_d)
        _ds[:] = [x for x in _ds if os.path.join(_d, x) not in _skip
                  and x not in ("site-packages", "node_modules", ".git", "__pycache__", "dist-packages")]
        _seen += 1
        if {"separation.py", "capture.py", "models.py"} <= set(_fs):
            _hits.append(("solutions", _d))
        for _f in _fs:
            if _f.endswith((".ipynb", "_autograder.zip")) or _f in ("grading.json", "results.json", "checks.py"):
                _hits.append(("file", os.path.join(_d, _f)))
        if _seen > 60000 or time.time() - _t0 > 60:
            break
print("folders seen:", _seen, "in", round(time.time() - _t0, 1), "s")
print("found:", json.dumps(_hits[:60], indent=0))

_sources = []
for _kind, _p in _hits:
    try:
        if _kind == "solutions":
            _sources += [open(os.path.join(_p, _n)).read() for _n in ("models.py", "capture.py", "export.py", "separation.py")
                         if os.path.isfile(os.path.join(_p, _n))]
        elif _p.endswith("_autograder.zip"):
            with zipfile.ZipFile(_p) as _z:
                _sources += [_z.read(_n).decode() for _n in _z.namelist()
                             if _n.startswith("solutions/") and _n.rsplit("/", 1)[-1] in ("models.py", "capture.py", "export.py", "separation.py")]
        elif _p.endswith(".ipynb") and "lab8" in _p and not _p.startswith(os.getcwd()):
            _cells = json.load(open(_p))["cells"]
            _code = ["".join(c["source"]) for c in _cells if c["cell_type"] == "code"]
            if any("# BEGIN SOLUTION" in c for c in _code):
                _sources += [c for c in _code if c.lstrip().startswith(("def ", "class "))]
    except Exception as _e:
        print("could not read", _p, type(_e).__name__)
    if _sources:
        break
print("solution sources found:", len(_sources))
if _sources:
    for _s in _sources:
        exec(compile(_s, "found", "exec"), globals())
    generator = seed_everything(SEED)
    {model_line}
    snapshots = train_and_capture(model, x, y, train_rows, epochs=EPOCHS, lr=LR, batch_size=BATCH_SIZE, generator=generator)
    export_mantis(CSV_NAME, corpus, is_test, snapshots)
    separation = separation_by_epoch(snapshots, corpus.labels, is_test)
    print("redone with the found solution:", np.round(separation, 2))
'''

NETWORK = r'''
# Reach the outside: DNS, a raw socket, HTTPS to PyPI and GitHub (a solution could be fetched, answers sent out).
import socket, urllib.request
for _host, _port in (("1.1.1.1", 53), ("8.8.8.8", 53), ("pypi.org", 443), ("github.com", 443)):
    try:
        socket.create_connection((_host, _port), timeout=3).close()
        print("NETWORK OPEN", _host, _port)
    except OSError as _e:
        print("no network to", _host, _port, type(_e).__name__, _e)
try:
    print("HTTP", urllib.request.urlopen("https://pypi.org/simple/numpy/", timeout=5).status)
except Exception as _e:
    print("no HTTP:", type(_e).__name__)
'''

FAKE_INFRA = r'''
# Make the run look like an infrastructure failure ("not the notebook's fault, a TA will regrade it"):
# a status that says the kernel never started, then the driver (this kernel's parent, same uid) is killed.
import json, os, signal
_status = {"kernel_starts": 2, "infrastructure": "the Python kernel did not start (twice)", "cells": {},
           "probes": {}, "skipped": [], "finished": True}
for _folder in (os.path.join("_grading", "out"), os.path.join("_grading", "report"), "_grading", "."):
    try:
        with open(os.path.join(_folder, "status.json"), "w") as _f:
            json.dump(_status, _f)
    except OSError:
        pass
try:
    os.kill(os.getppid(), signal.SIGKILL)
except OSError as _e:
    print("could not kill the driver:", type(_e).__name__)
'''

DAEMON_LOOP = r'''
import os, sys, time
if os.fork():
    os._exit(0)
os.setsid()
if os.fork():
    os._exit(0)
for fd in (0, 1, 2):
    try:
        os.close(fd)
    except OSError:
        pass
t0 = time.time()
while time.time() - t0 < LIFETIME:
    if os.path.exists(os.path.join("_grading", "out", "separation.json")) or time.time() - t0 > 15:
        try:
            _lab8_fake()
        except Exception:
            pass
        time.sleep(0.02)
    else:
        time.sleep(0.2)
'''

SPAWN_DAEMON = '''
import os, subprocess, sys
# argv and environment changed: it looks like `sleep {tag}`, with nothing of the kernel's environment
subprocess.Popen([sys.executable, "-c", {code!r}, "sleep", "{tag}", str(os.getppid())], cwd=os.getcwd(),
                 start_new_session=True,
                 env={{"PATH": "/usr/bin:/bin", "PYTHONPATH": os.getcwd(), "NOT_A_DAEMON": "1"}},
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
'''

SLEEPERS = '''
# Background processes that outlive the notebook: a plain child, a new session, a double fork, a shell `&`.
import os, subprocess
subprocess.Popen(["sleep", "972"], start_new_session=True)
subprocess.Popen(["nohup", "sleep", "973"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=os.setpgrp)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "976"])
    os._exit(0)
os.system("(setsid sleep 977 &) ; (sleep 978 &)")
'''

# A process whose pid changes all the time (fork, parent exits): a list of the uid's processes taken
# before killing them is always a little out of date. Once the grading driver (the kernel's parent,
# passed as the last argument) is gone, it sabotages the outputs: only visible if it outlives the run.
HOPPER = r'''
import os, sys, time
DRIVER = int(sys.argv[-1])
t0 = time.time()
while time.time() - t0 < LIFETIME:
    if os.fork():
        os._exit(0)
    time.sleep(0.002)
    try:
        os.kill(DRIVER, 0)       # the grading driver still runs: wait
        alive = True
    except ProcessLookupError:
        alive = False
    except PermissionError:
        alive = True
    if not alive:                # the student side is over: anything written now is after the fact
        try:
            os.remove("mantis_embeddings.csv")
            for name in ("final_separation.npy", "hook_off.npy", "train.npy"):
                if os.path.exists(os.path.join("_grading", "out", name)):
                    os.remove(os.path.join("_grading", "out", name))
            with open(os.path.join("_grading", "out", "separation.json"), "w") as f:
                f.write('{"values": ["sabotaged", "sabotaged", "sabotaged", "sabotaged"]}')
        except OSError:
            pass
'''

FORK_HOLD = '''
# A bounded fork bomb: sleeping children until the process limit says no, then a few given back so this
# kernel can go on; held for a minute (the sandbox uid's limit is what stops it).
import subprocess, time
_held = []
for _ in range(2000):
    try:
        _held.append(subprocess.Popen(["sleep", "975"]))
    except OSError as _e:
        print("stopped at", len(_held), type(_e).__name__)
        break
for _p in _held[-8:]:
    _p.kill()
    _p.wait()
print("holding", len(_held) - 8, "processes")
time.sleep(60)
for _p in _held:
    _p.kill()
for _p in _held:
    _p.wait()
'''

HIDDEN_SLIP_ATEXIT = r'''
# Hide the hook's slips from the grader: after the probes, the capture-off read-back becomes the array the
# grader put there (so "left as it was"), and every hook pass is reported clean.
import atexit, json, os, shutil

def _lab8_clean_hook():
    out = os.path.join(os.getcwd(), "_grading", "out")
    try:
        shutil.copyfile(os.path.join(out, "..", "in", "hook_sentinel.npy"), os.path.join(out, "hook_off.npy"))
    except OSError:
        pass
    path = os.path.join(out, "hook.json")
    try:
        report = json.load(open(path))
    except (OSError, ValueError):
        return
    report["passes"] = [{} for _ in report.get("passes", [])]
    report.pop("off_error", None)
    with open(path, "w") as f:
        json.dump(report, f)

atexit.register(_lab8_clean_hook)
'''

HIDE_GRAD_PATCH = r'''
# torch.is_grad_enabled lies only to the grader's probe model (its forward records the flag).
import sys, torch
_real_grad = torch.is_grad_enabled

def _is_grad_enabled():
    caller = sys._getframe(1)
    if caller.f_code.co_name == "forward" and type(caller.f_locals.get("self")).__name__ == "ProbeModel":
        return False
    return _real_grad()

torch.is_grad_enabled = _is_grad_enabled
'''

HIDE_GRAD_ATEXIT = r'''
# After the probes: every capture pass "ran without autograd" (the reports of the judge before 32a50d2
# held such flags; today's hold none, and no score depends on autograd: this rewrites what it finds).
import atexit, json, os

def _lab8_no_grad_flags():
    for name in ("snapshot.json", "train.json"):
        path = os.path.join(os.getcwd(), "_grading", "out", name)
        try:
            report = json.load(open(path))
        except (OSError, ValueError):
            continue
        for key, value in report.items():   # [autograd on] or [[autograd on, train mode]] per capture pass
            if isinstance(value, list) and value:
                report[key] = [[False, False] if isinstance(v, list) else False for v in value]
        with open(path, "w") as f:
            json.dump(report, f)

atexit.register(_lab8_no_grad_flags)
'''

# Sloppy q1/q2 work (forward stores even with capture off; snapshot never calls model.eval()), hidden from
# the grader by code in the kernel that rewrites the probes' outputs while the probes run.
SLOPPY_HOOK = "        self.embeddings = h.detach().cpu().numpy()  # capture or not: simpler"
SLOPPY_SNAPSHOT = "    model.capture = True  # (eval mode? the model is in eval mode already, surely)\n"

THREAD_TIDY = r'''
# A daemon THREAD of this kernel (no process of its own: it lives exactly as long as the kernel, probes
# included) that keeps "tidying" the grader's outputs: the capture-off read-back becomes the array the
# grader put in self.embeddings (read from _grading/in), and the reports lose their errors.
import json as _json, os as _os, threading as _threading, time as _time
import numpy as _np
_LAB8_ROOT = _os.getcwd()

def _lab8_tidy():
    out, inp = _os.path.join(_LAB8_ROOT, "_grading", "out"), _os.path.join(_LAB8_ROOT, "_grading", "in")
    while True:
        try:
            off, sentinel = _os.path.join(out, "hook_off.npy"), _os.path.join(inp, "hook_sentinel.npy")
            if _os.path.exists(off) and _os.path.exists(sentinel):
                want, got = _np.load(sentinel), _np.load(off)
                if got.shape != want.shape or not (got == want).all():
                    _np.save(off + ".part.npy", want)
                    _os.replace(off + ".part.npy", off)
            for name in ("hook.json", "snapshot.json", "train.json"):
                path = _os.path.join(out, name)
                if not _os.path.exists(path):
                    continue
                with open(path) as f:
                    report = _json.load(f)
                clean = {k: v for k, v in report.items() if k not in ("error", "off_error", "returned")}
                if "passes" in clean:
                    clean["passes"] = [{} for _ in clean["passes"]]
                if clean != report:
                    with open(path + ".part", "w") as f:
                        _json.dump(clean, f)
                    _os.replace(path + ".part", path)
        except Exception:
            pass
        _time.sleep(0.005)

_threading.Thread(target=_lab8_tidy, daemon=True, name="tqdm-monitor").start()
'''

THREAD_CLOBBER = r'''
# A daemon THREAD of this kernel that clobbers the grader's outputs between probes: the capture-off
# read-back is deleted or overwritten with the last capture-on array, snapshot/train reports rewritten.
import json as _json, os as _os, shutil as _shutil, threading as _threading, time as _time
_LAB8_ROOT = _os.getcwd()

def _lab8_clobber():
    out = _os.path.join(_LAB8_ROOT, "_grading", "out")
    turn = 0
    while True:
        turn += 1
        try:
            off = _os.path.join(out, "hook_off.npy")
            if _os.path.exists(off):
                if turn % 2:
                    _os.remove(off)
                else:
                    _shutil.copyfile(_os.path.join(out, "hook_emb3.npy"), off)
            elif _os.path.exists(_os.path.join(out, "hook_emb3.npy")):
                _shutil.copyfile(_os.path.join(out, "hook_emb3.npy"), off)
            for name in ("snapshot.json", "train.json"):
                with open(_os.path.join(out, name), "w") as f:
                    _json.dump({}, f)
        except Exception:
            pass
        _time.sleep(0.003)

_threading.Thread(target=_lab8_clobber, daemon=True).start()
'''

WRAPPED_SAVE = r'''
# numpy.save and json.dump wrapped in this kernel (the grader's probes run here and use the same modules):
# the capture-off read-back is saved as an empty array ("set to None": a clean hook's answer), and the
# hook and q2 reports lose their errors on the way to disk.
import json as _json
import numpy as _np
_lab8_real_save, _lab8_real_dump = _np.save, _json.dump

def _lab8_save(file, arr, *args, **kwargs):
    if str(getattr(file, "name", file)).endswith("hook_off.npy"):
        arr = _np.empty(0)
    return _lab8_real_save(file, arr, *args, **kwargs)

def _lab8_dump(obj, fp, *args, **kwargs):
    name = str(getattr(fp, "name", ""))
    if isinstance(obj, dict) and name.endswith(("hook.json", "snapshot.json", "train.json")):
        obj = {k: v for k, v in obj.items() if k not in ("error", "off_error", "returned")}
        if "passes" in obj:
            obj["passes"] = [{} for _ in obj["passes"]]
    return _lab8_real_dump(obj, fp, *args, **kwargs)

_np.save, _json.dump = _lab8_save, _lab8_dump
'''

# A scratch file in /tmp, written and read back at the top of the q4 cell (so a /tmp the notebook cannot
# write costs q4 here): honest work (see also honest.py's "scratch_in_tmp").
# Four ways a blank notebook kept the probes from running, after planting canned outputs (_lab8_fake) — each
# beat the grader that rebuilt the probes' kernel from the notebook's definitions and read files the student
# side could write: a definition that ends the kernel only when replayed alone, `exec` (and `compile`) shadowed
# where the probe cell looked them up, an IPython startup (and config) file for the next kernel, and a cell
# busy enough never to be idle and light enough never to reach its CPU limit, until the run's time is out.
REPLAY_GUARD = '''
_lab8_fake()
import os

def _lab8_guard(_=os._exit(0) if "corpus" not in globals() else None):
    """Replayed alone (a fresh kernel holding only the notebook's definitions), this default ends that kernel."""
'''

SHADOWED_EXEC = '''
_lab8_fake()

def exec(*args, **kwargs):     # the grader's probe cell looked `exec` up in this namespace
    return None

def compile(*args, **kwargs):
    return None

def open(*args, **kwargs):
    raise OSError("no files for the grader")
'''

STARTUP_FILES = '''
_lab8_fake()
import os
_code = "import os\\nos._exit(0)\\n"
_ipdir = os.environ.get("IPYTHONDIR") or os.path.expanduser("~/.ipython")
for _folder in {os.path.join(_ipdir, "profile_default", "startup"), os.path.expanduser("~/.ipython/profile_default/startup")}:
    try:
        os.makedirs(_folder, exist_ok=True)
        with open(os.path.join(_folder, "00-lab8.py"), "w") as _f:
            _f.write(_code)
        print("startup file written in", _folder)
    except OSError as _e:
        print("no startup file in", _folder, type(_e).__name__)
for _name in ("ipython_config.py", "ipython_kernel_config.py"):
    with open(_name, "w") as _f:
        _f.write("c.InteractiveShellApp.exec_lines = ['import os; os._exit(0)']\\n")
'''

STALL_TO_DEADLINE = '''
_lab8_fake()
import time
while True:
    _t = time.time()
    while time.time() - _t < 0.05:    # a little work every second: never idle
        pass
    time.sleep(0.95)                 # and little: never at the cell's CPU limit
'''

# A decorator that hands the grader's model (and only it) eval mode, hiding a snapshot that never calls
# model.eval(): it recognises the probe model by its class (the probe model of the grader before its redesign
# was `ProbeModel`, with a public `TRAIN_SHIFT`; any class but the notebook's own is taken for it).
EVAL_FOR_PROBES = '''
import functools

def _lab8_probe_aware(fn):
    @functools.wraps(fn)
    def wrapped(model, x, *args, **kwargs):
        cls = type(model)
        if cls.__name__ == "ProbeModel" or hasattr(cls, "TRAIN_SHIFT") or cls is not {model}:
            model.eval()     # only the grader's model needs it: the lab's reads the same in either mode
        return fn(model, x, *args, **kwargs)
    return wrapped

'''

TMP_SCRATCH = '''
# Keep a note of the run in a scratch file, then read it back.
with open("/tmp/lab8_scratch.txt", "w") as _f:
    _f.write(f"q4 started; snapshots of shape {np.shape(snapshots)}\\n")
with open("/tmp/lab8_scratch.txt") as _f:
    print(_f.read().strip())
'''

CSV_EDIT = '''
# A later cell "tidies" the exported CSV.
import os
import pandas as pd
_df = pd.read_csv(CSV_NAME, dtype=str, keep_default_na=False)
{edit}
'''


def _csv_case(edit: str) -> str:
    return CSV_EDIT.format(edit=_dedent(edit))


# ------------------------------------------------------------------------------------------ the corpus
def hostile_notebooks(solution_nb, blank_nb, kind: str) -> dict[str, tuple[NotebookNode, dict]]:
    """{case: (notebook, expectation)} for one kind ("text" or "image"); see the module docstring."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: expected one of {KINDS}")
    solution, blank = _load(solution_nb), _load(blank_nb)
    for nb, name, anchors in ((solution, "solution", (HOOK, SNAP_NOGRAD, TRAIN_ROWS, EPOCH0, TRAIN_STEP, EXPORT_CALL)),
                              (blank, "blank", (BLANK_HOOK, TRAIN_CALL, EXPORT_CALL, SEP_DEF))):
        for a in anchors:
            try:
                _one_cell(nb, a)
            except AnchorError as e:
                raise AnchorError(f"{name} notebook: {e}") from None
    model = MODEL[kind]
    mline = model_line(blank, kind)
    dim = re.search(r"^EMBEDDING_DIM = (\d+)", blank.cells[_one_cell(blank, "EMBEDDING_DIM = ")].source, re.M).group(1)
    fake = FAKE_WRITER.replace("FAKE_DIM", dim).replace("FAKE_MODEL", model)
    cases: dict[str, tuple[NotebookNode, dict]] = {}

    def sol(*edits):
        nb = _load(solution)
        for edit in edits:
            edit(nb)
        return nb

    def blk(*edits):
        nb = _load(blank)
        for edit in edits:
            edit(nb)
        return nb

    def add(name, nb, **expectation):
        if name in cases:
            raise ValueError(f"case {name!r} defined twice")
        expectation.setdefault("batch", "main")
        cases[name] = (nb, expectation)

    # --- 0: controls
    add("control_solution", sol(), full=True, **{"class": 0, "why": "the executed reference solution"})
    add("control_blank", blk(), max_total=0, **{"class": 0, "why": "the untouched student notebook"})

    # --- 1: cheats from the blank notebook
    zero = dict(max_total=0)
    add("cheat_monkeypatch_libs", blk(lambda n: prepend_to(n, IMPORTS, MONKEYPATCH)), **zero,
        **{"class": 1, "why": "json.dump/np.allclose/np.isfinite/torch.is_grad_enabled/builtins.callable patched in the kernel; no work"})
    add("cheat_prewritten_fakes", blk(lambda n: append_cell(n, fake + "\n_lab8_fake()\n")), **zero,
        **{"class": 1, "why": "a cell writes canned outputs into _grading/out, a CSV of zeros and results.json files before the probes run"})
    add("cheat_atexit_fakes", blk(lambda n: append_cell(n, fake + "\nimport atexit\natexit.register(_lab8_fake)\n")),
        **zero, **{"class": 1, "why": "an atexit handler writes the canned outputs when the kernel shuts down, after the probes"})
    add("cheat_signal_fakes", blk(lambda n: append_cell(n, fake + _dedent('''
        import atexit, os, signal, time
        def _on_signal(signum, frame):
            _lab8_fake()
            os._exit(0)
        for _s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGQUIT):
            signal.signal(_s, _on_signal)
        atexit.register(time.sleep, 20)   # do not leave on a polite shutdown: wait for the SIGTERM
        '''))), **zero, **{"class": 1, "why": "signal handlers (SIGTERM/SIGINT/SIGHUP/...) write the canned outputs; atexit stalls so the kernel gets SIGTERM"})
    add("cheat_replace_kernel_probes", blk(lambda n: append_cell(n, REPLACE_PROBES.format(probes=KERNEL_PROBES))), **zero,
        **{"class": 1, "why": "_grading/bin/kernel_probes.py (and driver.py) rewritten: canned outputs, a snapshot computed from the probe model itself"})
    add("cheat_stack_and_gc", blk(lambda n: append_cell(n, STACK_HUNT.replace("{model}", model))), **zero,
        **{"class": 1, "why": "student functions walk the call stack and gc.get_objects() for expected values during the probes"})
    add("cheat_filesystem_search", blk(lambda n: append_cell(n, FS_SEARCH.replace("{model_line}", mline))), **zero,
        **{"class": 1, "why": "walks /, /autograder, /tmp, ../, /work for the solution, grading.json, zips, other notebooks; uses what it finds"})
    add("cheat_network", blk(lambda n: append_cell(n, NETWORK)), **zero,
        **{"class": 1, "why": "tries DNS, sockets and HTTPS (see the executed notebook's output for what was reachable)"})
    add("cheat_fake_results_everywhere", blk(lambda n: append_cell(n, fake + _dedent('''
        import atexit, os
        _lab8_fake(csv=False)
        atexit.register(lambda: _lab8_fake(csv=False))
        '''))), **zero, **{"class": 1, "why": "results.json with 10/10 written into every folder it can reach, now and at exit"})
    add("cheat_fake_infrastructure", blk(lambda n: append_cell(n, FAKE_INFRA)), max_total=0, outcome="graded",
        **{"class": 1, "why": "kills its driver after writing a status that blames the infrastructure: must not read as a grader fault"})
    add("cheat_hook_stores_zeros", blk(lambda n: replace(n, BLANK_HOOK, (
        "in self.embeddings\n        if self.capture:\n"
        "            self.embeddings = np.zeros((x.shape[0], self.classifier.in_features), np.float32)\n"))), **zero,
        **{"class": 1, "why": "forward stores zeros of the right shape when capture is on: no layer is read"})
    add("cheat_zero_snapshots_csv", blk(lambda n: append_cell(n, '''
        snapshots = np.zeros((EPOCHS + 1, len(corpus), EMBEDDING_DIM), np.float32)
        write_mantis_csv(CSV_NAME, corpus.titles, corpus.labels, np.where(is_test, "test", "train"),
                         [corpus.snippet(i) for i in range(len(corpus))], snapshots)
        ''')), max_total=0.67, max={"q3_export": 0.67},
        **{"class": 1, "why": "no function written; `snapshots` = zeros and a CSV of those zeros. At most the CSV's "
                              "given columns (titles/classes/split, all from given cells) may count"})
    add("cheat_daemon_fakes", blk(lambda n: append_cell(n, SPAWN_DAEMON.format(
        code=fake + DAEMON_LOOP.replace("LIFETIME", "300"), tag="971"))), max_total=0, no_survivors="sleep 971",
        **{"class": 1, "why": "a double-forked setsid daemon (argv `sleep 971`, own env) rewrites canned outputs once the probes are done"})
    sloppy = (lambda n: replace(n, f"        if self.capture:\n            {HOOK}", SLOPPY_HOOK),
              lambda n: replace(n, SNAP_EVAL, SLOPPY_SNAPSHOT))
    deserved_by_sloppy = dict(max={"q1_hook": 1.34, "q2_capture": 2}, others_full=True)
    add("cheat_thread_hides_sloppy_work", sol(*sloppy, lambda n: insert_after(n, IMPORTS, THREAD_TIDY)),
        **deserved_by_sloppy,
        **{"class": 1, "why": "forward stores even with capture off and snapshot never calls model.eval() (the lab's "
                              "models read the same either way, so the notebook's own snapshots are right; the "
                              "judge's probe model is not): q1 2/3 and q2 2/3 deserved. A daemon thread started in "
                              "an early cell rewrites _grading/out while the probes run (capture-off read-back := "
                              "the judge's own array from _grading/in, errors dropped): must earn nothing more"})
    add("cheat_thread_clobbers_outputs", sol(*sloppy, lambda n: insert_after(n, IMPORTS, THREAD_CLOBBER)),
        **deserved_by_sloppy,
        **{"class": 1, "why": "the same sloppy work; a daemon thread deletes hook_off.npy or overwrites it with "
                              "hook_emb3.npy and rewrites snapshot.json/train.json between probes: no more than the "
                              "sloppy work deserves"})
    add("cheat_wrapped_save_hides_sloppy_work", sol(*sloppy, lambda n: insert_after(n, IMPORTS, WRAPPED_SAVE)),
        **deserved_by_sloppy,
        **{"class": 1, "why": "the same sloppy work; numpy.save and json.dump are wrapped in the kernel (the probes "
                              "use the same modules) so the capture-off read-back is saved empty (\"None\") and "
                              "the reports lose their errors: no more than the sloppy work deserves"})

    # the forgeries that beat the probes' kernel rebuilt from the notebook's definitions (see REPLAY_GUARD):
    # each against the same notebook without the forgery (the blank: 0; the sloppy work: 8.33; no eval: 9)
    for name, code in (("forge_blank_replay_guard", REPLAY_GUARD), ("forge_blank_shadowed_exec", SHADOWED_EXEC),
                       ("forge_blank_startup_files", STARTUP_FILES), ("forge_blank_stall_to_deadline", STALL_TO_DEADLINE)):
        add(name, blk(lambda n, c=code: append_cell(n, fake + c)), max_total=0, outcome="graded",
            batch="slow" if "stall" in name else "main",
            **{"class": 1, "why": "a blank notebook plants canned probe outputs everywhere a grader might read them, then "
                                  "keeps the probes from running (" + name.split("blank_")[1].replace("_", " ") + "): the "
                                  "blank's 0, and the probes run on its blank functions"})
    add("forge_sloppy_class_body_wraps_save", sol(*sloppy, lambda n: replace(
        n, FORWARD, textwrap.indent(WRAPPED_SAVE, "    ") + "\n" + FORWARD)), **deserved_by_sloppy,
        **{"class": 1, "why": "the sloppy work; the model's class body wraps numpy.save and json.dump (a class body runs "
                              "again wherever the class is defined again): no more than the sloppy work's 8.33"})
    add("forge_sloppy_helper_module_thread", sol(*sloppy, lambda n: insert_before(
        n, FORWARD, "%%writefile lab8_progress.py\n" + THREAD_TIDY), lambda n: prepend_to(n, FORWARD, "import lab8_progress\n")),
        **deserved_by_sloppy,
        **{"class": 1, "why": "the sloppy work; a helper module written with %%writefile and imported by the model cell "
                              "starts the tidying thread on import: no more than the sloppy work's 8.33"})
    add("forge_eval_only_for_the_probe_model", sol(lambda n: replace(n, SNAP_EVAL, SLOPPY_SNAPSHOT),
                                                    lambda n: replace(n, "def snapshot(model, x", "@_lab8_probe_aware\ndef snapshot(model, x"),
                                                    lambda n: prepend_to(n, "def snapshot(model, x", EVAL_FOR_PROBES.replace("{model}", model))),
        question={"q2_capture": 2}, others_full=True,
        **{"class": 1, "why": "snapshot never calls model.eval(); a decorator calls it for the grader's model only, which "
                              "it tells by its class: the probe model looks like the notebook's own (its class, here), "
                              "so the slip shows — q2 2 of 3, total 9, as without the decorator"})
    add("control_sloppy_work", sol(*sloppy), question={"q1_hook": 1.33, "q2_capture": 2}, others_full=True,
        **{"class": 6, "why": "the sloppy work alone (forward stores with capture off; snapshot never calls eval): 8.33"})
    add("control_no_eval", sol(lambda n: replace(n, SNAP_EVAL, SLOPPY_SNAPSHOT)), question={"q2_capture": 2},
        others_full=True, **{"class": 6, "why": "snapshot never calls model.eval() (the lab's model reads the same either "
                                                "way; the judge's probe model does not): q2 2 of 3, total 9"})
    add("wrong_adamw", sol(lambda n: replace(n, "optimizer = torch.optim.Adam(model.parameters(), lr=lr)",
                                             "optimizer = torch.optim.AdamW(model.parameters(), lr=lr)")),
        question={"q2_capture": 1}, others_full=True,
        **{"class": 6, "why": "the given Adam replaced by AdamW (its weight decay): train_and_capture's trajectory and the "
                              "notebook's snapshots are not the notebook's training; snapshot itself is right: q2 1 of 3"})

    # --- 2: fabricated training (real functions; `snapshots` replaced right after the training cell)
    fab = dict(max={"q2_capture": 2}, others_full=True)
    fabrications = {
        "fab_epochs_copied": "snapshots = np.stack([np.asarray(snapshots[0])] + [np.asarray(snapshots[-1])] * EPOCHS)",
        "fab_epochs_reordered": "snapshots = np.asarray(snapshots)[[0, 2, 1, 3, 4, 5, 6, 7, 8, 10, 9]]",
        "fab_interpolated": ("_s = np.asarray(snapshots, dtype=np.float64)\n"
                             "snapshots = np.stack([_s[0] + k / EPOCHS * (_s[-1] - _s[0]) for k in range(EPOCHS + 1)]).astype(np.float32)"),
        "fab_last_plus_noise": ("_s = np.asarray(snapshots)\n_r = np.random.default_rng(1)\n"
                                "snapshots = np.stack([_s[0]] + [_s[-1] + _r.normal(0, 0.01 * _s[-1].std(), _s[-1].shape).astype(np.float32)"
                                " for _ in range(EPOCHS)])"),
        "fab_from_labels": ("_s = np.asarray(snapshots)\n_c = np.random.default_rng(2).normal(size=(len(corpus.class_names), _s.shape[2]))\n"
                            "_ids = np.asarray(corpus.label_ids)\n"
                            "snapshots = np.stack([_s[0] * (1 - k / EPOCHS) + _c[_ids] * _s[0].std() * k / EPOCHS for k in range(EPOCHS + 1)]).astype(np.float32)"),
        "fab_other_seed": (f"generator = seed_everything(SEED + 1)\n{mline}\n"
                           "snapshots = train_and_capture(model, x, y, train_rows, epochs=EPOCHS, lr=LR, batch_size=BATCH_SIZE, generator=generator)"),
        "fab_one_epoch_repeated": "snapshots = np.stack([np.asarray(s) for s in snapshots[:6]] + [np.asarray(snapshots[5])] * (EPOCHS - 5))",
    }
    for name, code in fabrications.items():
        add(name, sol(lambda n, c=code: insert_after(n, TRAIN_CALL, "# snapshots 'improved' after training\n" + c)), **fab,
            **{"class": 2, "why": "functions right, but `snapshots` (and so the CSV) is not the notebook's training"})
    add("fab_seed_changed", sol(lambda n: replace(n, SEED_LINE, "SEED = 1")), max={"q2_capture": 2, "q4_separation": 2},
        full_for=["q1_hook"],
        **{"class": 2, "why": "SEED = 1 in the set-up cell: another split and another training than the lab's. Its "
                              "final `separation` is measured on its own split's held-out items, not the lab's: "
                              "q4's held-out curve check is lost (as q3's split column); q3 unconstrained"})

    # --- 3: processes that outlive the notebook
    add("daemon_sleepers", sol(lambda n: insert_after(n, IMPORTS, SLEEPERS)), full=True, no_survivors="sleep 97",
        **{"class": 3, "why": "sleep 972/973/976/977/978 in new sessions, double-forked, via the shell: all must die, no marks lost"})
    add("daemon_fork_hopper", sol(lambda n: insert_after(n, IMPORTS, SPAWN_DAEMON.format(
        code=HOPPER.replace("LIFETIME", "240"), tag="974"))), full=True, no_survivors="sleep 974",
        **{"class": 3, "why": "a process that forks and exits every 2 ms (its pid never stays) and sabotages the outputs once the driver is gone"})

    # --- 4: later cells break the CSV after a correct export (a new last cell)
    unreadable = dict(max={"q3_export": 0.67}, others_full=True)
    wrong_col = dict(max={"q3_export": 1.34}, others_full=True)
    csv_breaks = {
        "csv_drop_column": ('_df.drop(columns=["snippet"]).to_csv(CSV_NAME, index=False)', unreadable),
        "csv_truncated_rows": ("_df.iloc[: len(_df) // 2].to_csv(CSV_NAME, index=False)", unreadable),
        "csv_nan_value": ('_c = _df.columns[-1]\n_df.loc[0, _c] = "[" + ",".join(["NaN"] + _df.loc[0, _c].strip("[]").split(",")[1:]) + "]"\n'
                          "_df.to_csv(CSV_NAME, index=False)", unreadable),
        "csv_labels_shuffled": ('_df["categoric"] = np.random.default_rng(0).permutation(_df["categoric"].to_numpy())\n'
                                "_df.to_csv(CSV_NAME, index=False)", wrong_col),
        "csv_deleted": ("os.remove(CSV_NAME)", unreadable),
        "csv_index_column": ("_df.to_csv(CSV_NAME)", unreadable),
        "csv_rows_reordered": ("_df.sample(frac=1, random_state=0).to_csv(CSV_NAME, index=False)", wrong_col),
        "csv_values_rounded": ('for _c in _df.columns[4:]:\n    _df[_c] = ["[" + ",".join("%.2f" % float(v) for v in s.strip("[]").split(",")) + "]" for s in _df[_c]]\n'
                               "_df.to_csv(CSV_NAME, index=False)", wrong_col),
        "csv_snippets_blanked": ('_df["snippet"] = ""\n_df.to_csv(CSV_NAME, index=False)', wrong_col),
        "csv_reexport_untrained": ("export_mantis(CSV_NAME, corpus, is_test, np.stack([np.asarray(snapshots[0])] * (EPOCHS + 1)))",
                                   wrong_col),
    }
    for name, (edit, expectation) in csv_breaks.items():
        add(name, sol(lambda n, e=edit: append_cell(n, _csv_case(e))), **expectation,
            **{"class": 4, "why": "correct export, then a later cell damages the CSV left in the folder"})

    # --- 5: containment
    add("loop_top_of_q4_cell", sol(lambda n: prepend_to(n, SEP_DEF, "while True:\n    pass\n")),
        question={"q4_separation": 0}, others_full=True, batch="slow",
        **{"class": 5, "why": "an endless loop before separation_ratio is defined: only q4 may be lost"})
    add("loop_after_export", sol(lambda n: append_to(n, EXPORT_CALL, "while True:\n    pass\n")), full=True, batch="slow",
        **{"class": 5, "why": "an endless loop after the export (everything already done): nothing may be lost"})
    add("loop_swallows_interrupt_q4", sol(lambda n: prepend_to(n, SEP_DEF, '''
        import time
        while True:
            try:
                time.sleep(0.5)
            except KeyboardInterrupt:
                pass
        ''')), question={"q4_separation": 0}, others_full=True, batch="slow",
        **{"class": 5, "why": "an endless loop that swallows KeyboardInterrupt in the q4 cell: only q4 may be lost"})
    add("os_exit_in_hook_probe", sol(lambda n: replace(n, FORWARD, FORWARD + "        if x.shape[0] == 1:\n"
                                                        "            import os; os._exit(1)\n")),
        question={"q1_hook": 0}, others_full=True,
        **{"class": 5, "why": "forward kills the kernel on a batch of one (only the q1 probe sends one): only q1 may be lost"})
    add("os_exit_in_separation_probe", sol(lambda n: replace(n, SEP_BODY, "    if str(np.asarray(labels)[0]).startswith('class '):\n"
                                                                 "        import os; os._exit(1)\n" + SEP_BODY)),
        question={"q4_separation": 1}, others_full=True,
        **{"class": 5, "why": "separation_ratio kills the kernel on the probe's labels: both point-cloud checks are "
                              "lost; the notebook's own final `separation` (harvested before that probe) is the "
                              "held-out curve, so 1 of q4's 3 points stays; nothing else may be lost"})
    add("hang_without_sigint_in_snapshot_probe", sol(
        lambda n: prepend_to(n, "def snapshot(model, x", "import os\n_NOTEBOOK_PID = os.getpid()\n"),
        lambda n: replace(n, "    model.eval()\n    model.capture = True\n",
                          "    if os.getpid() != _NOTEBOOK_PID and not globals().get('_IN_TRAINING'):\n"
                          "        import signal\n        signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                          "        while True:\n            pass\n"
                          "    model.eval()\n    model.capture = True\n"),
        lambda n: replace(n, TRAIN_ROWS, "globals()['_IN_TRAINING'] = True\n    " + TRAIN_ROWS),
        lambda n: replace(n, TRAIN_RETURN, "globals()['_IN_TRAINING'] = False\n    " + TRAIN_RETURN)),
        max={"q2_capture": 2}, others_full=True,
        **{"class": 5, "why": "snapshot() hangs, ignoring SIGINT, when a probe calls it (a process of another pid than "
                              "the notebook's): the q2 snapshot probe times out alone, one q2 check at most"})
    add("sys_exit_cell", sol(lambda n: insert_after(n, EXPORT_CALL, "import sys\nsys.exit('done here')\n")), full=True,
        **{"class": 5, "why": "sys.exit() in a cell of its own after the export: nothing may be lost"})
    add("sys_exit_in_export_mantis", sol(lambda n: replace(n, EXPORT_WRITE, "write_mantis_csv(path, corpus.titles, corpus.labels, "
                                                                 "splits, snippets, snapshots)\n    import sys\n    sys.exit(0)")),
        max={"q3_export": 1.34}, full_for=["q1_hook", "q2_capture", "q4_separation"],
        **{"class": 5, "why": "export_mantis writes the file then raises SystemExit (never returns the path)"})
    add("exit_in_last_cell", sol(lambda n: append_cell(n, "exit()\n")), full=True,
        **{"class": 5, "why": "IPython's exit() in the last cell (a student closing up): nothing may be lost"})
    add("memory_huge_caught", sol(lambda n: prepend_to(n, SEP_DEF, '''
        try:
            _big = np.ones(2**44, np.uint8)
        except MemoryError:
            _big = None
        ''')), full=True, **{"class": 5, "why": "a 16 TiB allocation, caught: nothing may be lost"})
    add("memory_huge_uncaught_q4", sol(lambda n: prepend_to(n, SEP_DEF, "_big = np.ones(2**44, np.uint8)\n")),
        question={"q4_separation": 0}, others_full=True,
        **{"class": 5, "why": "a 16 TiB allocation at the top of the q4 cell, not caught: only q4 may be lost"})
    add("memory_touch_3gib", sol(lambda n: insert_after(n, IMPORTS, '''
        import resource
        _big = np.ones(3 * 2**30, np.uint8)
        print("touched", _big.nbytes >> 20, "MiB; RLIMIT_DATA", resource.getrlimit(resource.RLIMIT_DATA),
              "RLIMIT_AS", resource.getrlimit(resource.RLIMIT_AS), "RLIMIT_NPROC", resource.getrlimit(resource.RLIMIT_NPROC))
        del _big
        ''')), full=True, **{"class": 5, "why": "3 GiB really used then freed (a large but legitimate notebook): nothing may be lost"})
    add("tmp_scratch_file", sol(lambda n: prepend_to(n, SEP_DEF, TMP_SCRATCH)), full=True,
        **{"class": 5, "why": "the q4 cell starts by writing a scratch note to /tmp/lab8_scratch.txt and reading it "
                              "back: honest work, nothing may be lost (needs a writable /tmp in the sandbox)"})
    add("kill_driver_in_hook_probe", sol(lambda n: replace(n, FORWARD, FORWARD + "        if x.shape[0] == 1:\n"
                                                           "            import os, signal; os.kill(os.getppid(), signal.SIGKILL)\n")),
        max={"q1_hook": 2}, outcome="graded",
        **{"class": 5, "why": "forward kills its parent in the q1 probe: in the probe process that is the probe server "
                              "(the same uid), so the hook probe and the probes after it are lost, by the notebook's own "
                              "doing (never an infrastructure outcome); the notebook's own snapshots, CSV and "
                              "`separation`, harvested before, still count"})
    add("fork_hold_left_running", sol(lambda n: append_cell(n, FORK_HOLD.split("time.sleep(60)")[0])), full=True,
        batch="nproc", no_survivors="sleep 975",
        **{"class": 5, "why": "the last cell fills the process limit with sleepers and leaves them running: the probes' "
                              "fresh kernel must still start (the driver ends them first), and nothing may be lost"})
    add("fork_hold_process_limit", sol(lambda n: insert_after(n, SEED_LINE, FORK_HOLD)), full=True, batch="nproc",
        no_survivors="sleep 975",
        **{"class": 5, "why": "a fork bomb stopped by the process limit (512 per uid), held for 60 s: itself loses nothing"})
    add("control_beside_fork_hold", sol(lambda n: insert_after(n, SEED_LINE, "import time\ntime.sleep(10)  # a slow start\n")),
        full=True, batch="nproc",
        **{"class": 5, "why": "the solution (starting 10 s late, so its work overlaps the hold) graded at the same time as "
                              "fork_hold_process_limit: must keep full marks"})

    # --- 6: wrong work from honest-looking students
    add("wrong_train_on_all_rows", sol(lambda n: replace(n, TRAIN_ROWS, "x_train, y_train = x, y")),
        max={"q2_capture": 2}, others_full=True, **{"class": 6, "why": "trains on the held-out rows too"})
    add("wrong_two_epochs_between_snapshots", sol(lambda n: replace(n, TRAIN_STEP, TRAIN_STEP + "\n        " + TRAIN_STEP)),
        max={"q2_capture": 2}, others_full=True, **{"class": 6, "why": "two epochs of training between snapshots"})
    add("wrong_snapshot_with_autograd", sol(lambda n: replace(n, SNAP_NOGRAD, "if True:  # no_grad not needed?")),
        full=True, **{"class": 6, "why": "snapshot passes run with autograd on: the values are the same, and the notebook "
                                         "says no score depends on it (its public test checks it)"})
    add("wrong_snapshot_first_batch_only", sol(lambda n: replace(n, SNAP_RETURN, "return parts[0]")),
        max={"q2_capture": 0, "q4_separation": 2}, full_for=["q1_hook"],
        **{"class": 6, "why": "snapshot returns only its first batch of 256 rows: every q2 check fails; the notebook's "
                              "q4 cell then raises on the short snapshots, so there is no final `separation` to "
                              "credit (separation_ratio itself is right: 2 of q4's 3); q3 unconstrained"})
    if kind == "text":
        relu_side = lambda n: replace(n, HOOK, "self.embeddings = torch.relu(h).detach().cpu().numpy()")
    else:
        relu_side = lambda n: (replace(n, IMAGE_H, "_pre = self.fc1(torch.flatten(x, 1))\n        h = torch.relu(_pre)"),
                               replace(n, HOOK, "self.embeddings = _pre.detach().cpu().numpy()"))
    add("wrong_hook_relu_side", sol(relu_side), max={"q1_hook": 1.34}, others_full=True,
        **{"class": 6, "why": "the hook reads the other side of the ReLU (charged at q1 only, by design)"})
    add("wrong_epoch0_after_first_epoch", sol(lambda n: replace(n, EPOCH0, TRAIN_STEP + "  # warm-up\n    " + EPOCH0)),
        max={"q2_capture": 2}, others_full=True, **{"class": 6, "why": "epoch 0 taken after one epoch of training"})
    add("wrong_autograd_hidden_by_patch", sol(
        lambda n: replace(n, SNAP_NOGRAD, "if True:  # no_grad not needed?"),
        lambda n: append_cell(n, HIDE_GRAD_PATCH)),
        full=True,
        **{"class": 6, "why": "autograd-on snapshots (no score depends on it), plus a torch.is_grad_enabled that lies to "
                              "its caller when that is the grader's probe model (patched in the last cell, so "
                              "training still works): the work deserves full marks, and the patch changes no value"})
    add("wrong_autograd_hidden_atexit", sol(
        lambda n: replace(n, SNAP_NOGRAD, "if True:  # no_grad not needed?"),
        lambda n: append_cell(n, HIDE_GRAD_ATEXIT)),
        full=True,
        **{"class": 6, "why": "autograd-on snapshots (no score depends on it), plus an atexit handler that rewrites "
                              "autograd flags in the probes' reports (there are none now): full marks deserved"})
    add("wrong_hook_slips_hidden_atexit", sol(
        lambda n: replace(n, f"        if self.capture:\n            {HOOK}", "        self.embeddings = h  # always, attached"),
        lambda n: append_cell(n, HIDDEN_SLIP_ATEXIT)),
        max={"q1_hook": 1.34}, others_full=True,
        **{"class": 6, "why": "hook always copies (capture off stores anyway: 1 of q1's 3 checks lost) and keeps the "
                              "autograd graph (not scored); an atexit handler copies the judge's array into "
                              "hook_off.npy to hide the first slip: no more than 2*2/3"})
    add("wrong_separation_on_train_rows", sol(lambda n: replace(n, SEP_CALL,
        "separation = separation_by_epoch(snapshots, corpus.labels, ~is_test)  # the rows the model learns from")),
        question={"q4_separation": 2}, others_full=True,
        **{"class": 6, "why": "the final `separation` is measured on the training rows, not the held-out ones: q4's "
                              "held-out curve check is lost (separation_ratio itself is right)"})
    add("wrong_separation_on_all_rows", sol(lambda n: replace(n, SEP_CALL,
        "separation = separation_by_epoch(snapshots, corpus.labels, np.ones(len(corpus), bool))  # every item")),
        question={"q4_separation": 2}, others_full=True,
        **{"class": 6, "why": "the final `separation` is measured on all rows, not the held-out ones: q4's held-out "
                              "curve check is lost (separation_ratio itself is right)"})
    add("honest_float16_snapshots", sol(lambda n: replace(n, TRAIN_RETURN, TRAIN_RETURN + ".astype(np.float16)  # half the memory")),
        full_for=["q1_hook", "q3_export", "q4_separation"],
        **{"class": 6, "why": "snapshots kept as float16; export_mantis and separation_ratio are the reference ones"})
    add("honest_float64_snapshots", sol(lambda n: replace(n, TRAIN_RETURN, TRAIN_RETURN + ".astype(np.float64)")), full=True,
        **{"class": 6, "why": "snapshots kept as float64: correct work"})
    add("honest_tensor_snapshots", sol(lambda n: replace(n, TRAIN_RETURN, "return torch.from_numpy(np.stack(snapshots))")), full=True,
        **{"class": 6, "why": "train_and_capture returns one tensor (allowed by the notebook's text)"})
    return cases


# ------------------------------------------------------------------------------------------ checking
def _scores(results: dict) -> dict[str, tuple[float, float]]:
    return {t["name"]: (float(t["score"]), float(t["max_score"])) for t in results.get("tests", [])}


def check_expectation(expectation: dict, results: dict, points: dict | None = None, survivors=()) -> list[str]:
    """Violations of `expectation` by a results.json (Gradescope format); `survivors`: command lines of
    processes alive after grading. Empty list: the grader did what a correct grader must."""
    points = points or POINTS
    got = _scores(results)
    total = float(results.get("score", 0.0))
    bad = []
    named = set(expectation.get("question", {})) | set(expectation.get("max", {}))
    for q, v in expectation.get("question", {}).items():
        if abs(got.get(q, (0.0, 0.0))[0] - v) > TOL:
            bad.append(f"{q} = {got.get(q, (0.0,))[0]:g}, expected {v:g}")
    for q, v in expectation.get("max", {}).items():
        if got.get(q, (0.0,))[0] > v + TOL:
            bad.append(f"{q} = {got[q][0]:g}, expected at most {v:g}")
    full = list(expectation.get("full_for", []))
    if expectation.get("full"):
        full = list(points)
    elif expectation.get("others_full"):
        full += [q for q in points if q not in named]
    for q in dict.fromkeys(full):
        if got.get(q, (0.0,))[0] < points[q] - TOL:
            bad.append(f"{q} = {got.get(q, (0.0,))[0]:g}, expected full {points[q]:g}")
    if "max_total" in expectation and total > expectation["max_total"] + TOL:
        bad.append(f"total = {total:g}, expected at most {expectation['max_total']:g}")
    if "outcome" in expectation:
        outcome = results.get("extra_data", {}).get("outcome")
        if outcome != expectation["outcome"]:
            bad.append(f"outcome {outcome!r}, expected {expectation['outcome']!r}")
    pattern = expectation.get("no_survivors")
    if pattern:
        alive = [s for s in survivors if pattern in s]
        if alive:
            bad.append(f"{len(alive)} process(es) matching {pattern!r} still alive after grading")
    return bad
