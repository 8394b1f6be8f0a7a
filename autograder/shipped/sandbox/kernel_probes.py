"""Runs inside the student's kernel after the notebook: one probe per call, plain data out.

This is student-side code. Nothing here decides a score: each probe calls the student's functions on
inputs the judge made (read from IN), converts what they return to plain arrays and writes them to
OUT as `.npy` (never pickled) and `.json`. The judge compares those with answers it computes itself,
so a probe whose output was tampered with can only ever agree with the judge by being right.

The driver executes this file into a dictionary of its own, so the student's namespace gains nothing
but the call. The judge imports ProbeModel from here: both sides use the one definition.
"""
import torch
from torch import nn


class ProbeModel(nn.Module):
    """The judge's own small hooked model for q2 (so q2 is judged apart from the student's q1), with the
    capture contract of the lab's models. In train mode its hooked layer's output is shifted by TRAIN_SHIFT,
    so a snapshot taken in train mode shows in the values themselves, which the judge compares with its
    own. (A shift, not a batch norm: a norm's cancelled bias has a rounding-noise gradient that Adam's first
    steps turn into full steps, so the training would differ with the thread count.)"""
    TRAIN_SHIFT = 1.0

    def __init__(self, n_inputs, dim, n_classes):
        super().__init__()
        self.body = nn.Linear(n_inputs, dim)
        self.head = nn.Linear(dim, n_classes)
        self.capture, self.embeddings = False, None

    def forward(self, x):
        h = self.body(x) + (self.TRAIN_SHIFT if self.training else 0.0)
        if self.capture:
            self.embeddings = h.detach().cpu().numpy()
        return self.head(torch.relu(h))


def run(ns, probe, in_dir, out_dir):
    import builtins
    import json
    import os

    import numpy as np

    def save_json(name, data):
        with open(os.path.join(out_dir, name + ".json"), "w") as f:
            json.dump(data, f)

    def error_name(e):
        # Only a built-in exception's name goes back: the judge shows it to the student, and the
        # student controls the name of an exception class of their own (and every message).
        name = type(e).__name__
        return name if isinstance(getattr(builtins, name, None), type) else "an exception"

    class Raised(Exception):
        """The student's function raised: reported by the exception's name, apart from a bad return."""

    def call(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BaseException as e:   # SystemExit too: sys.exit() inside a student function fails that probe only
            raise Raised(error_name(e)) from None

    def returned(value):
        """A function's result → float64 array; ReturnedNothing / TypeError say what came back instead."""
        if value is None or value is Ellipsis:
            raise Returned("None" if value is None else "...")
        try:
            return to_array(value)
        except Exception:
            raise Returned("something that is not an array of numbers") from None

    class Returned(Exception):
        pass

    def to_array(value):
        """What a student function returned → float64 array: arrays, tensors (attached or not),
        lists or tuples of per-epoch arrays or tensors, any float dtype."""
        if value is None or value is Ellipsis:
            raise TypeError("nothing returned")
        if isinstance(value, torch.Tensor):
            return value.detach().cpu().to(torch.float64).numpy()
        if isinstance(value, (list, tuple)):
            return np.stack([to_array(v) for v in value])
        array = np.asarray(value)
        if array.dtype == object or not np.issubdtype(array.dtype, np.number):
            raise TypeError("not numbers")
        return array.astype(np.float64)

    def structure(value):
        """How the notebook holds its snapshots, so the probes hand the student's functions the same
        kind of object their own code passes them (a list of tensors, one array...)."""
        def leaf(v):
            if isinstance(v, torch.Tensor):
                return {"type": "tensor", "dtype": str(v.dtype).replace("torch.", "")}
            return {"type": "ndarray", "dtype": str(np.asarray(v).dtype)}
        if isinstance(value, (list, tuple)) and value:
            return {"container": type(value).__name__, **leaf(value[0])}
        return {"container": "single", **leaf(value)}

    def mirror(array, how, per_epoch):
        """array (float) → the object kind described by `how` (from structure())."""
        how = how or {"container": "single", "type": "ndarray", "dtype": "float32"}
        dtype = how.get("dtype", "float32")
        if dtype not in ("float32", "float64"):   # never fewer digits than the judge's float32 inputs
            dtype = "float32"

        def leaf(a):
            if how.get("type") == "tensor":
                return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(getattr(torch, dtype))
            return np.ascontiguousarray(a, dtype=dtype)
        if per_epoch and how.get("container") in ("list", "tuple"):
            items = [leaf(a) for a in array]
            return items if how["container"] == "list" else tuple(items)
        return leaf(array)

    def load(name):
        return np.load(os.path.join(in_dir, name + ".npy"), allow_pickle=False)

    def state_dict(name):
        with np.load(os.path.join(in_dir, name + ".npz"), allow_pickle=False) as z:
            return {k: torch.from_numpy(z[k]) for k in z.files}

    with open(os.path.join(in_dir, "probes.json")) as f:
        spec = json.load(f)
    # What this probe writes is removed first, so nothing written earlier can pass for its output.
    for name in os.listdir(out_dir):
        if name.split(".")[0] == probe or (probe == "hook" and name.startswith(("hook_emb", "hook_off"))) or \
                (probe == "harvest" and name in ("snapshots.npy", "final_separation.npy")):
            os.remove(os.path.join(out_dir, name))

    def probe_model():
        p = spec["probe_model"]
        model = ProbeModel(p["n_inputs"], p["dim"], p["n_classes"])
        model.load_state_dict(state_dict("probe_model"))
        return model

    def need(name):
        if not callable(ns.get(name)):
            save_json(probe, {"missing": name})
            return None
        return ns[name]

    how = None
    if os.path.exists(os.path.join(out_dir, "harvest.json")):
        with open(os.path.join(out_dir, "harvest.json")) as f:
            how = json.load(f).get("snapshots_structure")

    try:
        if probe == "harvest":
            report = {"defined": sorted(n for n in spec["names"] if callable(ns.get(n)))}
            # saved as snapshots.npy and final_separation.npy (separation.npy is the separation probe's)
            for name, file in (("snapshots", "snapshots.npy"), ("separation", "final_separation.npy")):
                value = ns.get(name)
                try:
                    array = to_array(value)
                    np.save(os.path.join(out_dir, file), array)
                    if name == "snapshots":
                        report["snapshots_structure"] = structure(value)
                except Exception as e:
                    report[name + "_problem"] = ("missing" if name not in ns else "None" if value is None
                                                 else error_name(e))
            save_json("harvest", report)

        elif probe == "hook":
            cls = need(spec["model_class"])
            if cls is None:
                return
            h = spec["hook"]
            model = cls(*[tuple(a) if isinstance(a, list) else a for a in h["args"]])
            try:
                model.load_state_dict(state_dict("hook_model"))
            except Exception as e:
                save_json(probe, {"load_error": error_name(e)})
                return
            report = {"passes": []}
            for k, batch in enumerate(h["batches"]):
                x = torch.from_numpy(load(f"hook_x{k}"))
                model.capture, model.embeddings = True, None
                row = {}
                try:
                    if batch["grad"]:   # as in a training step: train mode, autograd recording
                        model.train()
                        model(x)
                    else:               # as in a snapshot pass
                        model.eval()
                        with torch.no_grad():
                            model(x)
                except Exception as e:
                    row["error"] = error_name(e)
                emb = model.embeddings
                if "error" not in row:
                    try:
                        np.save(os.path.join(out_dir, f"hook_emb{k}.npy"), to_array(emb))
                    except Exception as e:
                        row["problem"] = "not stored" if emb is None else error_name(e)
                report["passes"].append(row)
            # Capture off: the judge's own array is put in self.embeddings first; what is there after a
            # pass with capture off goes back as data — that array untouched, or None written as an empty
            # array (so a missing file is no answer at all).
            model.embeddings = load("hook_sentinel")
            model.capture = False
            model.train()
            try:
                model(torch.from_numpy(load("hook_x_off")))
                after = model.embeddings
                np.save(os.path.join(out_dir, "hook_off.npy"), np.empty(0) if after is None else to_array(after))
            except Exception as e:
                report["off_error"] = error_name(e)
            save_json(probe, report)

        elif probe == "snapshot":
            fn = need("snapshot")
            if fn is None:
                return
            model = probe_model()
            model.eval()   # "eval() inside or just before snapshot" are both fine
            out = call(fn, model, torch.from_numpy(load("snap_x")))
            np.save(os.path.join(out_dir, "snapshot.npy"), returned(out))
            save_json(probe, {})

        elif probe == "train":
            fn = need("train_and_capture")
            if fn is None:
                return
            t = spec["train"]
            model = probe_model()
            out = call(fn, model, torch.from_numpy(load("train_x")), torch.from_numpy(load("train_y")),
                       torch.from_numpy(load("train_rows")), epochs=t["epochs"], lr=t["lr"],
                       batch_size=t["batch_size"], generator=torch.Generator().manual_seed(t["generator_seed"]))
            np.save(os.path.join(out_dir, "train.npy"), returned(out))
            save_json(probe, {})

        elif probe == "export":
            fn = need("export_mantis")
            if fn is None:
                return
            from replab.corpus import Corpus
            e = spec["export"]
            images = load("export_images") if e["texts"] is None else None   # the release's own pictures
            corpus = Corpus(name="probe", titles=e["titles"], labels=e["labels"], texts=e["texts"], images=images)
            is_test = load("export_is_test")
            path = os.path.join(out_dir, "export.csv")
            call(fn, path, corpus, is_test, mirror(load("export_snapshots"), how, per_epoch=True))
            save_json(probe, {"written": os.path.isfile(path)})

        elif probe == "separation":
            fn = need("separation_ratio")
            if fn is None:
                return
            values = []
            for k in range(spec["separation"]["cases"]):
                emb = mirror(load(f"sep_emb{k}"), how, per_epoch=False)
                labels = load(f"sep_labels{k}")
                try:
                    value = fn(emb, labels)
                    value = float(value.item() if hasattr(value, "item") else value)
                    values.append(value if np.isfinite(value) else None)
                except Exception as e:
                    values.append(error_name(e))
            save_json(probe, {"values": values})
    except Raised as e:
        save_json(probe, {"error": str(e)})
    except Returned as e:
        save_json(probe, {"returned": str(e)})
    except Exception as e:   # our own step failed on what the notebook left (e.g. a class that breaks)
        save_json(probe, {"error": error_name(e)})
