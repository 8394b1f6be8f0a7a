"""The probes: each calls one of the notebook's functions on inputs the judge drew for this grading and
returns plain data. Student-side code; nothing here decides a score.

Where it runs: in a probe process (probe_kernel.py), a fork of the notebook's own kernel made after the
notebook's run, so `ns` is exactly what the run left in the notebook's namespace, however it was written
(a `%%time` cell, a lambda, a partial, a name bound in a `try`...). This file is executed when the kernel
starts, before any notebook code: the references below are taken then, so a probe never looks up a name
the notebook could have rebound (numpy's, torch's or the builtins'). What a probe returns — a report (JSON)
and arrays (.npy bytes, never pickled) — goes to the driver over the probe line; the judge compares it with
answers it computes itself from the same inputs, so an output can only agree with the judge by being right.

The judge imports `probe_model`, `probe_batch` and `PROBE_SHAPE` from here: both sides build q2's model
and its inputs from one definition.
"""
import builtins
import io
import os
import tempfile
import types

import numpy as np
import torch
from torch import nn

# Held from before any notebook code runs (see the module docstring).
_isinstance, _len, _getattr, _callable, _float, _str, _sorted = \
    builtins.isinstance, builtins.len, builtins.getattr, builtins.callable, builtins.float, builtins.str, builtins.sorted
_open, _range, _list, _tuple, _type, _dict = builtins.open, builtins.range, builtins.list, builtins.tuple, builtins.type, builtins.dict
_BaseException, _Exception = builtins.BaseException, builtins.Exception
_np_asarray, _np_stack, _np_empty, _np_isfinite = np.asarray, np.stack, np.empty, np.isfinite
_np_contiguous, _np_issubdtype, _np_number, _np_float64 = np.ascontiguousarray, np.issubdtype, np.number, np.float64
_write_array, _np_load = np.lib.format.write_array, np.load
_Tensor, _from_numpy, _no_grad, _manual_seed, _Generator = torch.Tensor, torch.from_numpy, torch.no_grad, torch.manual_seed, torch.Generator
_relu, _flatten, _torch_float64 = torch.relu, torch.flatten, torch.float64
_detach, _cpu, _to, _tensor_numpy = torch.Tensor.detach, torch.Tensor.cpu, torch.Tensor.to, torch.Tensor.numpy
_Module, _Linear, _Conv2d, _MaxPool2d = nn.Module, nn.Linear, nn.Conv2d, nn.MaxPool2d
_module_train, _module_eval, _load_state = nn.Module.train, nn.Module.eval, nn.Module.load_state_dict
_issubclass, _setattr = builtins.issubclass, builtins.setattr
_MethodType = types.MethodType
_mkdtemp, _path_join, _isfile, _remove = tempfile.mkdtemp, os.path.join, os.path.isfile, os.remove

PROBES = ("harvest", "hook", "snapshot", "train", "export", "separation")

# ---------------------------------------------------------------- q2's model, shared with the judge
PROBE_SHAPE = {"text": (12,), "image": (3, 10, 10)}   # one input row of q2's model, per kind


def probe_model(kind: str, name: str, dim: int, n_classes: int, shift):
    """q2's model: it looks like the lab's own — the class name (`name`) and module of the notebook's model,
    its layer names, `capture` and `embeddings` (and in the probe process it is dressed as an instance of the
    notebook's own class: _q2_model) — and in train mode its hooked layer's output is moved by `shift`, a
    vector the judge draws for each grading and hands over only with the probes' inputs: a snapshot taken in
    train mode shows in the values, and nothing on the model, its class or the notebook's files says by how
    much. (A shift, not a batch norm or dropout: their rounding would make the training differ with the
    thread count.)"""
    moved = _from_numpy(_np_asarray(shift, dtype=np.float32))

    def __init__(self, n_inputs=PROBE_SHAPE[kind][0], n_classes=n_classes, hidden=(dim,)):
        _Module.__init__(self)
        if kind == "image":
            self.conv1 = _Conv2d(n_inputs, 4, 3)     # 10×10 → 8×8, pooled to 4×4
            self.conv2 = _Conv2d(4, 6, 3)            # → 2×2, pooled to 1×1
            self.pool = _MaxPool2d(2)
            self.fc1 = _Linear(6, hidden[-1])
        else:
            self.fc1 = _Linear(n_inputs, 10)
            self.fc2 = _Linear(10, hidden[-1])
        self.classifier = _Linear(hidden[-1], n_classes)
        self.capture = False
        self.embeddings = None

    def forward(self, x):
        if kind == "image":   # read after its ReLU, as the lab's CNN; moved before it (after, a negative shift
            x = self.pool(_relu(self.conv2(self.pool(_relu(self.conv1(x))))))   # would block every gradient)
            z = self.fc1(_flatten(x, 1))
            h = _relu(z + moved if self.training else z)
        else:
            h = self.fc2(_relu(self.fc1(x)))
            if self.training:
                h = h + moved
        if self.capture:
            self.embeddings = _tensor_numpy(_cpu(_detach(h)))
        return self.classifier(_relu(h))

    __init__.__qualname__, forward.__qualname__ = f"{name}.__init__", f"{name}.forward"
    return _type(name, (_Module,), {"__init__": __init__, "forward": forward, "__module__": "__main__",
                                    "__qualname__": name, "__doc__": None})


def probe_batch(kind: str, generator, rows: int):
    """q2's random inputs for the model above."""
    return torch.randn((rows, *PROBE_SHAPE[kind]), generator=generator)


# ---------------------------------------------------------------- plain data out
class Raised(Exception):
    """The student's function raised: reported by the exception's name."""


class Returned(Exception):
    """The student's function returned something that is not an array of numbers."""


def error_name(e) -> str:
    """Only a built-in exception's name goes back: the judge shows it to the student, and the student
    controls the name of an exception class of their own (and every message)."""
    name = _type(e).__name__
    return name if _isinstance(_getattr(builtins, name, None), _type) else "an exception"


def call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except _BaseException as e:   # SystemExit too: sys.exit() inside a student function fails that probe only
        raise Raised(error_name(e)) from None


def to_array(value):
    """What a student function returned → float64 array: arrays, tensors (attached or not), lists or tuples
    of per-epoch arrays or tensors, any float dtype."""
    if value is None or value is Ellipsis:
        raise TypeError("nothing returned")
    if _isinstance(value, _Tensor):
        return _tensor_numpy(_to(_cpu(_detach(value)), _torch_float64))
    if _isinstance(value, (_list, _tuple)):
        return _np_stack([to_array(v) for v in value])
    array = _np_asarray(value)
    if array.dtype == object or not _np_issubdtype(array.dtype, _np_number):
        raise TypeError("not numbers")
    return array.astype(_np_float64)


def returned(value):
    if value is None or value is Ellipsis:
        raise Returned("None" if value is None else "...")
    try:
        return to_array(value)
    except _Exception:
        raise Returned("something that is not an array of numbers") from None


def npy(array) -> bytes:
    buffer = io.BytesIO()
    _write_array(buffer, _np_contiguous(array), allow_pickle=False)
    return buffer.getvalue()


def structure(value) -> dict:
    """How the notebook holds its snapshots, so the probes hand the student's functions the same kind of
    object their own code passes them (a list of tensors, one array...)."""
    def leaf(v):
        if _isinstance(v, _Tensor):
            return {"type": "tensor", "dtype": _str(v.dtype).replace("torch.", "")}
        return {"type": "ndarray", "dtype": _str(_np_asarray(v).dtype)}
    if _isinstance(value, (_list, _tuple)) and value:
        return {"container": _type(value).__name__, **leaf(value[0])}
    return {"container": "single", **leaf(value)}


def mirror(array, how, per_epoch):
    """array (float) → the object kind described by `how` (from structure())."""
    how = how or {"container": "single", "type": "ndarray", "dtype": "float32"}
    dtype = how.get("dtype", "float32")
    if dtype not in ("float32", "float64"):   # never fewer digits than the judge's float32 inputs
        dtype = "float32"

    def leaf(a):
        if how.get("type") == "tensor":
            return _to(_from_numpy(_np_contiguous(a, dtype=np.float32)), _getattr(torch, dtype))
        return _np_contiguous(a, dtype=dtype)
    if per_epoch and how.get("container") in ("list", "tuple"):
        items = [leaf(a) for a in array]
        return items if how["container"] == "list" else _tuple(items)
    return leaf(array)


# ---------------------------------------------------------------- the probes
def run_probe(ns: dict, probe: str, spec: dict, arrays: dict) -> tuple[dict, dict]:
    """One probe on the namespace `ns`: (its report, {file name: bytes}). The report is also one of the
    files (`<probe>.json`, written by the caller). `spec` and `arrays` are the judge's inputs."""
    blobs = {}
    try:
        report = _PROBES[probe](ns, spec, arrays, blobs)
    except Raised as e:
        report = {"error": _str(e)}
    except Returned as e:
        report = {"returned": _str(e)}
    except _Exception as e:   # our own step failed on what the notebook left (e.g. a class that breaks)
        report = {"error": error_name(e)}
    return report, blobs


def _need(ns, name):
    value = ns.get(name)
    return value if _callable(value) else None


def _state_dict(arrays, prefix):
    return {k[len(prefix):]: _from_numpy(v) for k, v in arrays.items() if k.startswith(prefix)}


def _q2_model(ns, spec, arrays):
    """q2's model (probe_model) with the judge's weights, dressed as an instance of the notebook's own model
    class where it defines one: its type is that class (name, module, methods), its forward this one."""
    p = spec["probe_model"]
    cls = probe_model(p["kind"], spec["model_class"], p["dim"], p["n_classes"], arrays["probe_shift"])
    model = cls()
    _load_state(model, _state_dict(arrays, "probe_model."))
    own = ns.get(spec["model_class"])
    if _isinstance(own, _type) and _issubclass(own, _Module):
        try:
            _setattr(model, "forward", _MethodType(cls.forward, model))
            model.__class__ = own
        except _Exception:
            model = cls()
            _load_state(model, _state_dict(arrays, "probe_model."))
    return model


def harvest(ns, spec, arrays, blobs):
    """What the run left: which graded names it defines, its final `snapshots` and `separation`."""
    report = {"defined": _sorted(n for n in spec["names"] if _callable(ns.get(n)))}
    # saved as snapshots.npy and final_separation.npy (separation.npy is the separation probe's)
    for name, file in (("snapshots", "snapshots.npy"), ("separation", "final_separation.npy")):
        value = ns.get(name)
        try:
            blobs[file] = npy(to_array(value))
            if name == "snapshots":
                report["snapshots_structure"] = structure(value)
        except _Exception as e:
            report[name + "_problem"] = ("missing" if name not in ns else "None" if value is None else error_name(e))
    return report


def hook(ns, spec, arrays, blobs):
    cls = _need(ns, spec["model_class"])
    if cls is None:
        return {"missing": spec["model_class"]}
    h = spec["hook"]
    model = call(cls, *[_tuple(a) if _isinstance(a, _list) else a for a in h["args"]])
    try:
        model.load_state_dict(_state_dict(arrays, "hook_model."))
    except _Exception as e:
        return {"load_error": error_name(e)}
    report = {"passes": []}
    for k, batch in enumerate(h["batches"]):
        x = _from_numpy(arrays[f"hook_x{k}"])
        model.capture, model.embeddings = True, None
        row = {}
        try:
            if batch["grad"]:   # as in a training step: train mode, autograd recording
                model.train()
                model(x)
            else:               # as in a snapshot pass
                model.eval()
                with _no_grad():
                    model(x)
        except _Exception as e:
            row["error"] = error_name(e)
        emb = model.embeddings
        if "error" not in row:
            try:
                blobs[f"hook_emb{k}.npy"] = npy(to_array(emb))
            except _Exception as e:
                row["problem"] = "not stored" if emb is None else error_name(e)
        report["passes"].append(row)
    # Capture off: the judge's own array is put in self.embeddings first; what is there after a pass with
    # capture off goes back as data — that array untouched, or None written as an empty array (so a missing
    # file is no answer at all).
    model.embeddings = arrays["hook_sentinel"].copy()
    model.capture = False
    model.train()
    try:
        model(_from_numpy(arrays["hook_x_off"]))
        after = model.embeddings
        blobs["hook_off.npy"] = npy(_np_empty(0) if after is None else to_array(after))
    except _Exception as e:
        report["off_error"] = error_name(e)
    return report


def snapshot(ns, spec, arrays, blobs):
    fn = _need(ns, "snapshot")
    if fn is None:
        return {"missing": "snapshot"}
    model = _q2_model(ns, spec, arrays)
    _module_eval(model)   # "eval() inside or just before snapshot" are both fine
    blobs["snapshot.npy"] = npy(returned(call(fn, model, _from_numpy(arrays["snap_x"]))))
    return {}


def train(ns, spec, arrays, blobs):
    fn = _need(ns, "train_and_capture")
    if fn is None:
        return {"missing": "train_and_capture"}
    t = spec["train"]
    model = _q2_model(ns, spec, arrays)
    out = call(fn, model, _from_numpy(arrays["train_x"]), _from_numpy(arrays["train_y"]),
               _from_numpy(arrays["train_rows"]), epochs=t["epochs"], lr=t["lr"], batch_size=t["batch_size"],
               generator=_Generator().manual_seed(t["generator_seed"]))
    blobs["train.npy"] = npy(returned(out))
    return {}


def export(ns, spec, arrays, blobs):
    fn = _need(ns, "export_mantis")
    if fn is None:
        return {"missing": "export_mantis"}
    from replab.corpus import Corpus   # the lab's own package, beside the notebook
    e = spec["export"]
    images = arrays.get("export_images") if e["texts"] is None else None   # the release's own pictures
    corpus = Corpus(name="probe", titles=e["titles"], labels=e["labels"], texts=e["texts"], images=images)
    folder = _mkdtemp(prefix="lab8-export-")
    path = _path_join(folder, "export.csv")
    how = structure(ns["snapshots"]) if ns.get("snapshots") is not None else None
    try:
        call(fn, path, corpus, arrays["export_is_test"], mirror(arrays["export_snapshots"], how, per_epoch=True))
    finally:
        written = _isfile(path)
        if written:
            with _open(path, "rb") as f:
                blobs["export.csv"] = f.read(spec["export"]["max_bytes"] + 1)
            _remove(path)
    return {"written": written}


def separation(ns, spec, arrays, blobs):
    fn = _need(ns, "separation_ratio")
    if fn is None:
        return {"missing": "separation_ratio"}
    how = structure(ns["snapshots"]) if ns.get("snapshots") is not None else None
    values = []
    for k in _range(spec["separation"]["cases"]):
        emb = mirror(arrays[f"sep_emb{k}"], how, per_epoch=False)
        try:
            value = fn(emb, arrays[f"sep_labels{k}"].copy())
            value = _float(value.item() if _getattr(value, "item", None) is not None else value)
            values.append(value if _np_isfinite(value) else None)
        except _BaseException as e:
            values.append(error_name(e))
    return {"values": values}


_PROBES = {"harvest": harvest, "hook": hook, "snapshot": snapshot, "train": train, "export": export,
           "separation": separation}


def load_arrays(blobs: dict) -> dict:
    """The judge's input arrays from their .npy bytes (never pickled)."""
    return {name[:-4]: _np_load(io.BytesIO(data), allow_pickle=False) for name, data in blobs.items()
            if name.endswith(".npy")}
