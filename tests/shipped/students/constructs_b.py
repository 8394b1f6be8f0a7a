"""Honest students, second set: ordinary Python constructs around correct answers.

These students were written from the student notebook's words alone (the task markdown of q1-q4, the
given code, the public tests and the replab package beside the notebook); nothing of the reference
solution or the autograder was read. Every notebook answers q1-q4 correctly by the notebook's words
(the same values a careful student gets), so every one of them should get full marks. What varies is
how the code is written; each construct below appears in at least two notebooks:

1. cell magics: ``%%capture`` on a cell, ``%%time`` on the q3/q4 cell, ``%time`` / ``%timeit -n1 -r1``
   line magics before a statement, ``%who``
2. definitions inside ``if`` / ``try`` blocks
3. walrus assignments (``:=``) in comprehensions and conditions
4. module-level globals and class attributes computed from the data, read by the functions
5. a helper module written with ``%%writefile lab8_helpers.py``, then imported and used
6. a function redefined in a later cell (the last definition wins; what depends on it is redone)
7. star imports (``from lab8_helpers import *``, ``from math import *``)
8. ``if __name__ == "__main__":`` blocks around the notebook's own calls
9. the hook done with ``register_forward_hook`` in ``__init__``, the hook made by a factory
10. a ``CONFIG = {...}`` dict of settings read by the functions

    construct_notebooks(student_nb, kind) -> {name: completed notebook}, kind "text" (TextMLP) or "image" (ImageCNN)
"""
from __future__ import annotations

import copy
import textwrap

import nbformat

ANCHORS = {
    "model": "def forward(self, x):",
    "q2": "def snapshot(model, x",
    "q3": "def export_mantis(",
    "q4": "def separation_ratio(",
}
CHECKS = {"model": 'grader.check("q1_hook")', "q2": 'grader.check("q2_capture")',
          "q3": 'grader.check("q3_export")', "q4": 'grader.check("q4_separation")'}


def _d(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


class _Book:
    """A deep copy of the student notebook with its answer cells located once, by their anchors."""

    def __init__(self, student_nb, kind: str):
        assert kind in ("text", "image"), f"kind must be 'text' or 'image', not {kind!r}"
        self.nb = copy.deepcopy(student_nb)
        self.kind = kind
        self.model_class = "TextMLP" if kind == "text" else "ImageCNN"
        self.layer = "fc2" if kind == "text" else "fc1"
        self.after_relu = kind == "image"
        self.cells = {}
        for key, anchor in ANCHORS.items():
            found = [c for c in self.nb.cells if c.cell_type == "code" and anchor in c.source]
            assert len(found) == 1, f"anchor {anchor!r} ({key}) found in {len(found)} code cells, expected exactly 1"
            self.cells[key] = found[0]
        assert f"class {self.model_class}(nn.Module):" in self.cells["model"].source, \
            f"the model cell does not define {self.model_class}: is kind {kind!r} right for this notebook?"
        self.original = {k: c.source for k, c in self.cells.items()}

    # -- the given code that must stay -------------------------------------------------------------
    def tail(self, key: str) -> str:
        start = {"q2": "generator = seed_everything(SEED)", "q3": "csv_path = export_mantis(",
                 "q4": "def separation_by_epoch("}[key]
        src = self.original[key]
        assert src.count(start) == 1, f"{key}: the given line {start!r} found {src.count(start)} times"
        return src[src.index(start):].rstrip("\n") + "\n"

    def q2_tail_one_line(self) -> str:
        """The given training call on one line (for a line magic in front of it)."""
        tail = self.tail("q2")
        call = tail[tail.index("snapshots = train_and_capture("):]
        flat = " ".join(part.strip() for part in call.splitlines())
        return tail[:tail.index("snapshots = train_and_capture(")], flat.replace("( ", "(")

    def q4_given_def(self) -> str:
        tail = self.tail("q4")
        return tail[:tail.index("separation = separation_by_epoch(")].rstrip("\n") + "\n"

    # -- editing -------------------------------------------------------------------------------------
    def set(self, key: str, source: str):
        self.cells[key].source = source.rstrip("\n")

    def _index(self, key: str) -> int:
        cell = self.cells[key]
        return next(i for i, c in enumerate(self.nb.cells) if c is cell)

    def insert_before(self, key: str, source: str):
        self.nb.cells.insert(self._index(key), nbformat.v4.new_code_cell(source.rstrip("\n")))

    def insert_after_check(self, key: str, source: str):
        i = self._index(key) + 1
        check = self.nb.cells[i]
        assert check.cell_type == "code" and check.source.strip() == CHECKS[key], \
            f"expected {CHECKS[key]} right after the {key} cell"
        self.nb.cells.insert(i + 1, nbformat.v4.new_code_cell(source.rstrip("\n")))

    # -- q1 ------------------------------------------------------------------------------------------
    def model(self, body: str, prefix: str = "") -> str:
        """The given model cell with the `...` under the q1 comment replaced by `body` (indented 8)."""
        src = self.original["model"]
        old = "        ...\n        return self.classifier"
        assert src.count(old) == 1, "the model cell's `...` placeholder before `return self.classifier` not found once"
        body = textwrap.indent(_d(body), " " * 8)
        return prefix + src.replace(old, body + "        return self.classifier")

    def model_std(self, prefix: str = "") -> str:
        return self.model("""
            if self.capture:
                self.embeddings = h.detach().cpu().numpy()
        """, prefix)

    def model_hooked(self, register: str, prefix: str = "") -> str:
        """Model cell with `register` (one line, in __init__, after self.embeddings = None) and a forward
        that leaves the storing to the hook."""
        src = self.model("""
            # q1: the forward hook registered in __init__ stores h when self.capture is on
        """, prefix)
        old = "        self.embeddings = None\n"
        assert src.count(old) == 1, "`self.embeddings = None` not found once in the model cell"
        return src.replace(old, old + textwrap.indent(_d(register), " " * 8))


# ---------------------------------------------------------------------------------------------------
# Shared answer pieces (each student uses some of them, and writes the rest in their own way)

SNAPSHOT_STD = _d('''
    def snapshot(model, x, batch_size=256):
        """The hooked layer's output for every row of x, in row order, as one (N, D) array."""
        model.eval()
        model.capture = True
        parts = []
        try:
            with torch.no_grad():
                for start in range(0, len(x), batch_size):
                    model(x[start:start + batch_size])
                    parts.append(np.asarray(model.embeddings))
        finally:
            model.capture = False
        return np.concatenate(parts)
''')

TRAIN_STD = _d('''
    def train_and_capture(model, x, y, train_rows, epochs=10, lr=0.002, batch_size=0, generator=None):
        """Snapshot 0 before any step, then one epoch of training and one snapshot per epoch."""
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        snaps = [snapshot(model, x)]
        for epoch in range(epochs):
            train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
            snaps.append(snapshot(model, x))
        return np.stack(snaps)
''')

EXPORT_STD = _d('''
    def export_mantis(path, corpus, is_test, snapshots):
        """Write title, categoric, split, snippet and embedding_epoch_0 … embedding_epoch_E to `path`."""
        n = len(corpus.titles)
        splits = ["test" if t else "train" for t in is_test]
        snippets = [corpus.snippet(i) for i in range(n)]
        write_mantis_csv(path, corpus.titles, corpus.labels, splits, snippets, snapshots)
        return path
''')

SEPARATION_STD = _d('''
    def separation_ratio(embeddings, labels):
        """Mean distance between class centroids / mean distance of a row to its own class centroid."""
        if torch.is_tensor(embeddings):
            embeddings = embeddings.detach().cpu().numpy()
        e = np.asarray(embeddings, dtype=np.float64)
        labels = np.asarray(labels)
        classes = np.unique(labels)
        centroids = np.stack([e[labels == c].mean(axis=0) for c in classes])
        between = [np.linalg.norm(centroids[i] - centroids[j])
                   for i in range(len(classes)) for j in range(i + 1, len(classes))]
        within = np.linalg.norm(e - centroids[np.searchsorted(classes, labels)], axis=1)
        return float(np.mean(between) / np.mean(within))
''')


def _q2(book: _Book, *defs: str) -> str:
    return "\n\n\n".join(d.rstrip("\n") for d in defs) + "\n\n\n" + book.tail("q2")


def _q3(book: _Book, *defs: str) -> str:
    return "\n\n\n".join(d.rstrip("\n") for d in defs) + "\n\n\n" + book.tail("q3")


def _q4(book: _Book, *defs: str) -> str:
    return "\n\n\n".join(d.rstrip("\n") for d in defs) + "\n\n\n" + book.tail("q4")


def _hook_factory_src(book: _Book, name: str = "make_capture_hook") -> str:
    return _d(f'''
        def {name}(owner, after_relu):
            """A forward hook for the hooked layer: stores its output (after a ReLU if asked) in
            owner.embeddings, detached and on the CPU, only while owner.capture is on."""
            def hook(module, inputs, output):
                if owner.capture:
                    h = torch.relu(output) if after_relu else output
                    owner.embeddings = h.detach().cpu().numpy()
            return hook
    ''')


# ---------------------------------------------------------------------------------------------------
# The students

def _cell_magics(book: _Book):
    # %%capture on the model cell and on the training cell (which prints the loss), %%time on q3 and q4.
    book.set("model", book.model_std(prefix="%%capture\n"))
    train_printing = _d('''
        def train_and_capture(model, x, y, train_rows, epochs=10, lr=0.002, batch_size=0, generator=None):
            """Snapshot 0 before any step, then one epoch and one snapshot per epoch."""
            optimizer = torch.optim.Adam(model.parameters(), lr=lr)
            snaps = [snapshot(model, x)]
            for epoch in range(1, epochs + 1):
                loss = train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
                snaps.append(snapshot(model, x))
                print(f"epoch {epoch:2d}  loss {loss:.4f}")
            return np.stack(snaps)
    ''')
    book.set("q2", "%%capture\n" + _q2(book, SNAPSHOT_STD, train_printing))
    book.set("q3", "%%time\n" + _q3(book, EXPORT_STD))
    book.set("q4", "%%time\n" + _q4(book, SEPARATION_STD))


def _line_magics_config(book: _Book):
    # %time before the (one-lined) training and export calls, %timeit -n1 -r1 on a self-check, %who; CONFIG dict.
    book.insert_before("model", _d('''
        CONFIG = {
            "snapshot_batch": 100,             # rows per forward pass when taking a snapshot
            "split_names": ("train", "test"),  # is_test False / True
        }
    '''))
    book.set("model", book.model_std())
    snap = _d('''
        def snapshot(model, x, batch_size=None):
            """The hooked layer's output for every row of x, in row order, as one (N, D) array."""
            batch_size = batch_size or CONFIG["snapshot_batch"]
            model.eval()
            model.capture = True
            with torch.no_grad():
                parts = []
                for start in range(0, len(x), batch_size):
                    model(x[start:start + batch_size])
                    parts.append(model.embeddings)
            model.capture = False
            return np.concatenate(parts, axis=0)
    ''')
    head, call = book.q2_tail_one_line()
    book.set("q2", "\n\n".join([snap.rstrip(), TRAIN_STD.rstrip()]) + "\n\n\n" + head + "%time " + call + "\n")
    export = _d('''
        def export_mantis(path, corpus, is_test, snapshots):
            """Write the Mantis CSV with replab's writer; returns path."""
            train_name, test_name = CONFIG["split_names"]
            splits = [test_name if flag else train_name for flag in is_test]
            snippets = [corpus.snippet(i) for i in range(len(corpus.titles))]
            write_mantis_csv(path, corpus.titles, corpus.labels, splits, snippets, snapshots)
            return path
    ''')
    tail = book.tail("q3")
    given = "csv_path = export_mantis(CSV_NAME, corpus, is_test, snapshots)"
    assert tail.count(given) == 1, "q3: the given export call not found"
    book.set("q3", export + "\n\n" + tail.replace(given, "%time " + given))
    book.set("q4", _q4(book, SEPARATION_STD))
    book.insert_after_check("q4", _d('''
        # how long does one epoch's ratio take? and what is in the namespace now?
        %timeit -n1 -r1 separation_ratio(snapshots[-1][is_test], np.asarray(corpus.labels)[is_test])
        %who
    '''))


def _if_flag_defs(book: _Book):
    # snapshot and separation_ratio each defined in the branches of an `if` (the torch maths branch runs).
    book.set("model", book.model_std())
    book.insert_before("q2", _d('''
        USE_INFERENCE_MODE = hasattr(torch, "inference_mode")   # newer torch: the faster no-autograd mode
        USE_NUMPY = False                                          # q4 in torch this time
    '''))
    snaps = _d('''
        if USE_INFERENCE_MODE:
            def snapshot(model, x, batch_size=256):
                """Hooked layer for all rows of x, in order: eval mode, capture on, inference mode."""
                model.eval()
                model.capture = True
                parts = []
                with torch.inference_mode():
                    for batch in torch.split(x, batch_size):
                        model(batch)
                        parts.append(np.array(model.embeddings))
                model.capture = False
                return np.concatenate(parts)
        else:
            def snapshot(model, x, batch_size=256):
                """Hooked layer for all rows of x, in order: eval mode, capture on, no_grad."""
                model.eval()
                model.capture = True
                parts = []
                with torch.no_grad():
                    for batch in torch.split(x, batch_size):
                        model(batch)
                        parts.append(np.array(model.embeddings))
                model.capture = False
                return np.concatenate(parts)
    ''')
    book.set("q2", _q2(book, snaps, TRAIN_STD))
    book.set("q3", _q3(book, EXPORT_STD))
    sep = _d('''
        if USE_NUMPY:
            def separation_ratio(embeddings, labels):
                """Mean centroid-pair distance / mean distance to the own centroid (NumPy)."""
                e = np.asarray(embeddings, dtype=np.float64)
                labels = np.asarray(labels)
                classes = np.unique(labels)
                centroids = np.array([e[labels == c].mean(axis=0) for c in classes])
                diffs = centroids[:, None, :] - centroids[None, :, :]
                pair = np.linalg.norm(diffs, axis=2)[np.triu_indices(len(classes), k=1)]
                own = np.linalg.norm(e - centroids[np.searchsorted(classes, labels)], axis=1)
                return pair.mean() / own.mean()
        else:
            def separation_ratio(embeddings, labels):
                """Mean centroid-pair distance / mean distance to the own centroid (torch)."""
                if torch.is_tensor(embeddings):
                    e = embeddings.detach().cpu().double()
                else:
                    e = torch.as_tensor(np.asarray(embeddings, dtype=np.float64))
                classes, inverse = np.unique(np.asarray(labels), return_inverse=True)
                idx = torch.as_tensor(inverse.reshape(-1))
                centroids = torch.stack([e[idx == k].mean(dim=0) for k in range(len(classes))])
                between = torch.pdist(centroids).mean()
                within = (e - centroids[idx]).norm(dim=1).mean()
                return (between / within).item()
    ''')
    book.set("q4", _q4(book, sep))


def _try_defs_walrus(book: _Book):
    # export_mantis and separation_ratio defined inside try/except ImportError (pandas, scipy); walrus in loops.
    book.set("model", book.model_std())
    train = _d('''
        def train_and_capture(model, x, y, train_rows, epochs=10, lr=0.002, batch_size=0, generator=None):
            """Snapshot 0 before any step, then one epoch and one snapshot per epoch."""
            optimizer = torch.optim.Adam(model.parameters(), lr=lr)
            snaps = [snapshot(model, x)]
            while (done := len(snaps) - 1) < epochs:
                train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
                snaps.append(snapshot(model, x))
            return np.stack(snaps)
    ''')
    book.set("q2", _q2(book, SNAPSHOT_STD, train))
    export = _d('''
        import json

        try:
            import pandas as pd

            def export_mantis(path, corpus, is_test, snapshots):
                """The Mantis CSV with pandas: each embedding cell a JSON list of the float32 values."""
                snaps = as_snapshots(snapshots)
                table = pd.DataFrame({
                    "title": list(corpus.titles),
                    "categoric": list(corpus.labels),
                    "split": ["test" if (flag := bool(t)) else "train" for t in is_test],
                    "snippet": [corpus.snippet(i) for i in range(len(corpus.titles))],
                })
                for k, epoch in enumerate(snaps):
                    table[f"embedding_epoch_{k}"] = [json.dumps(row) for row in epoch.tolist()]
                table.to_csv(path, index=False)
                return path
        except ImportError:
            def export_mantis(path, corpus, is_test, snapshots):
                """No pandas here: replab's writer."""
                splits = ["test" if t else "train" for t in is_test]
                snippets = [corpus.snippet(i) for i in range(len(corpus.titles))]
                write_mantis_csv(path, corpus.titles, corpus.labels, splits, snippets, snapshots)
                return path
    ''')
    book.set("q3", _q3(book, export))
    sep = _d('''
        try:
            from scipy.spatial.distance import pdist

            def separation_ratio(embeddings, labels):
                """Mean centroid-pair distance (scipy's pdist) / mean distance to the own centroid."""
                e = np.asarray(embeddings.detach().cpu() if torch.is_tensor(embeddings) else embeddings, dtype=np.float64)
                labels = np.asarray(labels)
                centroids = {c: e[m].mean(axis=0) for c in np.unique(labels) if (m := labels == c).any()}
                within = [np.linalg.norm(row - centroids[lab]) for row, lab in zip(e, labels)]
                return float(pdist(np.stack(list(centroids.values()))).mean() / np.mean(within))
        except ImportError:
            def separation_ratio(embeddings, labels):
                """Without scipy: the pairs by hand."""
                e = np.asarray(embeddings.detach().cpu() if torch.is_tensor(embeddings) else embeddings, dtype=np.float64)
                labels = np.asarray(labels)
                classes = list(np.unique(labels))
                cents = [e[labels == c].mean(axis=0) for c in classes]
                pairs = [np.linalg.norm(a - b) for i, a in enumerate(cents) for b in cents[i + 1:]]
                within = [np.linalg.norm(row - cents[classes.index(lab)]) for row, lab in zip(e, labels)]
                return float(np.mean(pairs) / np.mean(within))
    ''')
    book.set("q4", _q4(book, sep))


def _walrus(book: _Book):
    # walrus assignments in the hook condition, the snapshot comprehension, the export checks and q4.
    book.set("model", book.model("""
        if self.capture and (kept := h.detach().cpu().numpy()) is not None:
            self.embeddings = kept
    """))
    snap = _d('''
        def snapshot(model, x, batch_size=256):
            """The hooked layer's output for every row of x, in row order, as one (N, D) array."""
            model.eval()
            model.capture = True
            with torch.no_grad():
                parts = [emb for start in range(0, len(x), batch_size)
                         if (out := model(x[start:start + batch_size])) is not None
                         and (emb := np.asarray(model.embeddings)) is not None]
            model.capture = False
            return np.concatenate(parts)
    ''')
    book.set("q2", _q2(book, snap, TRAIN_STD))
    export = _d('''
        def export_mantis(path, corpus, is_test, snapshots):
            """Write the Mantis CSV with replab's writer and return path."""
            if (n := len(corpus.titles)) != len(is_test):
                raise ValueError(f"{n} titles but {len(is_test)} split flags")
            splits = [split for t in is_test if (split := "test" if t else "train")]
            write_mantis_csv(path, corpus.titles, corpus.labels, splits,
                             [corpus.snippet(i) for i in range(n)], snapshots)
            return path
    ''')
    book.set("q3", _q3(book, export))
    sep = _d('''
        def separation_ratio(embeddings, labels):
            """Mean centroid-pair distance / mean distance to the own centroid."""
            if (is_tensor := torch.is_tensor(embeddings)):
                embeddings = embeddings.detach().cpu().numpy()
            e = np.asarray(embeddings, dtype=np.float64)
            labels = np.asarray(labels)
            centroids = {c: e[mask].mean(axis=0) for c in np.unique(labels) if (mask := labels == c).any()}
            if (k := len(cents := list(centroids.values()))) < 2:
                raise ValueError("separation needs at least two classes")
            between = [np.linalg.norm(cents[i] - cents[j]) for i in range(k) for j in range(i + 1, k)]
            within = [d for row, lab in zip(e, labels) if (d := np.linalg.norm(row - centroids[lab])) >= 0]
            return float(np.mean(between) / np.mean(within))
    ''')
    book.set("q4", _q4(book, sep))


def _data_globals(book: _Book):
    # globals computed from the data (CLASS_NAMES, N_ITEMS, SNAPSHOT_BATCH...) and model class attributes as defaults.
    book.insert_before("model", _d('''
        # Facts about this data set, used as defaults by the functions below
        CLASS_NAMES = list(corpus.class_names)
        N_CLASSES = len(CLASS_NAMES)
        N_ITEMS = len(corpus)
        N_INPUTS = x.shape[1]
        DIM = EMBEDDING_DIM
        SNAPSHOT_BATCH = min(256, N_ITEMS)
        SPLIT_NAMES = np.array(["train", "test"])   # indexed by is_test (0 or 1)
        print(N_ITEMS, "items,", N_CLASSES, "classes,", N_INPUTS, "inputs, hooked width", DIM)
    '''))
    src = book.model_std()
    sig = [line for line in src.splitlines() if line.strip().startswith("def __init__(self, n_inputs")]
    assert len(sig) == 1, "the model's __init__ signature not found once"
    src = src.replace(sig[0], textwrap.indent(_d('''
        n_inputs_default = N_INPUTS    # class attributes from the data: the defaults of __init__
        n_classes_default = N_CLASSES
        hidden_default = HIDDEN

        def __init__(self, n_inputs=None, n_classes=None, hidden=None):
            n_inputs = self.n_inputs_default if n_inputs is None else n_inputs
            n_classes = self.n_classes_default if n_classes is None else n_classes
            hidden = self.hidden_default if hidden is None else hidden
    '''), "    ").rstrip("\n"))
    book.set("model", src)
    snap = _d('''
        def snapshot(model, x, batch_size=None):
            """The hooked layer's output for every row of x, in row order, as one (N, D) array."""
            batch_size = batch_size or SNAPSHOT_BATCH
            model.eval()
            model.capture = True
            parts = []
            with torch.no_grad():
                for start in range(0, len(x), batch_size):
                    model(x[start:start + batch_size])
                    parts.append(np.asarray(model.embeddings))
            model.capture = False
            return np.concatenate(parts)
    ''')
    book.set("q2", _q2(book, snap, TRAIN_STD))
    export = _d('''
        def export_mantis(path, corpus, is_test, snapshots):
            """Write the Mantis CSV (replab's writer) and return path."""
            splits = SPLIT_NAMES[np.asarray(is_test).astype(int)]
            snippets = [corpus.snippet(i) for i in range(len(corpus.titles))]
            write_mantis_csv(path, corpus.titles, corpus.labels, list(splits), snippets, snapshots)
            return path
    ''')
    book.set("q3", _q3(book, export))
    sep = _d('''
        def separation_ratio(embeddings, labels):
            """Mean centroid-pair distance / mean distance to the own centroid."""
            e = np.asarray(embeddings.detach().cpu() if torch.is_tensor(embeddings) else embeddings, dtype=np.float64)
            labels = np.asarray(labels)
            present = set(labels.tolist())
            # this data's classes in their usual order; other labels (someone else's data) sorted
            classes = [c for c in CLASS_NAMES if c in present] if present <= set(CLASS_NAMES) else sorted(present)
            centroids = {c: e[labels == c].mean(axis=0) for c in classes}
            between = [np.linalg.norm(centroids[a] - centroids[b])
                       for i, a in enumerate(classes) for b in classes[i + 1:]]
            within = np.linalg.norm(e - np.stack([centroids[c] for c in labels]), axis=1)
            return float(np.mean(between) / within.mean())
    ''')
    book.set("q4", _q4(book, sep))


HELPERS_SRC = _d('''
    """Lab 8 helpers: the separation maths and a Mantis CSV writer of my own."""
    import csv

    import numpy as np


    def to_numpy(a):
        """A tensor (detached, on the CPU) or anything array-like as a NumPy array."""
        if hasattr(a, "detach"):
            a = a.detach().cpu().numpy()
        return np.asarray(a)


    def centroid_ratio(embeddings, labels):
        """Mean distance between class centroids / mean distance of a row to its own centroid."""
        e = to_numpy(embeddings).astype(np.float64)
        labels = np.asarray(labels)
        classes, inverse = np.unique(labels, return_inverse=True)
        inverse = inverse.reshape(-1)
        centroids = np.stack([e[inverse == k].mean(axis=0) for k in range(len(classes))])
        i, j = np.triu_indices(len(classes), k=1)
        between = np.linalg.norm(centroids[i] - centroids[j], axis=1).mean()
        within = np.linalg.norm(e - centroids[inverse], axis=1).mean()
        return float(between / within)


    def stack_snapshots(snapshots):
        """(E, N, D) float array from a list of per-epoch arrays/tensors or one array/tensor."""
        if isinstance(snapshots, (list, tuple)):
            return np.stack([to_numpy(s) for s in snapshots])
        return to_numpy(snapshots)


    def write_rows(path, titles, categories, splits, snippets, snapshots):
        """title, categoric, split, snippet, embedding_epoch_0 …: one row per item, floats at full repr."""
        snaps = stack_snapshots(snapshots)
        header = ["title", "categoric", "split", "snippet"] + [f"embedding_epoch_{k}" for k in range(len(snaps))]
        with open(path, "w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(header)
            for i in range(len(titles)):
                cells = ["[" + ",".join(repr(float(v)) for v in snaps[k, i]) + "]" for k in range(len(snaps))]
                out.writerow([titles[i], categories[i], splits[i], snippets[i]] + cells)
        return path
''')


def _writefile_helpers(book: _Book):
    # %%writefile lab8_helpers.py (separation maths, CSV writer), then `import lab8_helpers` used by q3 and q4.
    book.set("model", book.model_std())
    book.insert_before("q2", "%%writefile lab8_helpers.py\n" + HELPERS_SRC)
    book.insert_before("q2", _d('''
        import importlib
        import lab8_helpers
        importlib.reload(lab8_helpers)   # pick up edits to the file when this cell runs again
    '''))
    train = _d('''
        def train_and_capture(model, x, y, train_rows, epochs=10, lr=0.002, batch_size=0, generator=None):
            """Snapshot 0 before any step, then one epoch and one snapshot per epoch."""
            optimizer = torch.optim.Adam(model.parameters(), lr=lr)
            snaps = [snapshot(model, x)]
            for _ in range(epochs):
                train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
                snaps.append(snapshot(model, x))
            return lab8_helpers.stack_snapshots(snaps)
    ''')
    book.set("q2", _q2(book, SNAPSHOT_STD, train))
    export = _d('''
        def export_mantis(path, corpus, is_test, snapshots):
            """Write the Mantis CSV with my helper's writer; returns path."""
            n = len(corpus.titles)
            splits = ["test" if is_test[i] else "train" for i in range(n)]
            lab8_helpers.write_rows(path, list(corpus.titles), list(corpus.labels), splits,
                                    [corpus.snippet(i) for i in range(n)], snapshots)
            return path
    ''')
    book.set("q3", _q3(book, export))
    sep = _d('''
        def separation_ratio(embeddings, labels):
            """Mean centroid-pair distance / mean distance to the own centroid (see lab8_helpers)."""
            return lab8_helpers.centroid_ratio(embeddings, labels)
    ''')
    book.set("q4", _q4(book, sep))


def _writefile_star_import(book: _Book):
    # %%writefile lab8_helpers.py, then `from lab8_helpers import *`: the answers call the helpers by bare name.
    book.set("model", book.model_std())
    book.insert_before("q2", "%%writefile lab8_helpers.py\n" + HELPERS_SRC)
    book.insert_before("q2", "from lab8_helpers import *\n")
    snap = _d('''
        def snapshot(model, x, batch_size=256):
            """The hooked layer's output for every row of x, in row order, as one (N, D) array."""
            model.eval()
            model.capture = True
            with torch.no_grad():
                parts = []
                for start in range(0, len(x), batch_size):
                    model(x[start:start + batch_size])
                    parts.append(to_numpy(model.embeddings))
            model.capture = False
            return np.concatenate(parts)
    ''')
    book.set("q2", _q2(book, snap, TRAIN_STD))
    export = _d('''
        def export_mantis(path, corpus, is_test, snapshots):
            """Write the Mantis CSV with write_rows (from lab8_helpers); returns path."""
            n = len(corpus.titles)
            write_rows(path, corpus.titles, corpus.labels, ["test" if t else "train" for t in is_test],
                       [corpus.snippet(i) for i in range(n)], snapshots)
            return path
    ''')
    book.set("q3", _q3(book, export))
    sep = _d('''
        def separation_ratio(embeddings, labels):
            """Mean centroid-pair distance / mean distance to the own centroid."""
            return centroid_ratio(embeddings, labels)
    ''')
    book.set("q4", _q4(book, sep))


def _star_math_main(book: _Book):
    # `from math import *` (dist, fsum, sqrt) for a pure-Python q4; __main__ guards around the export and q4 calls.
    book.set("model", book.model_std())
    book.set("q2", _q2(book, SNAPSHOT_STD, TRAIN_STD))
    tail = book.tail("q3")
    guarded = "if __name__ == \"__main__\":\n" + textwrap.indent(tail, "    ")
    book.set("q3", EXPORT_STD + "\n\n" + guarded)
    sep = _d('''
        from math import *


        def separation_ratio(embeddings, labels):
            """Mean centroid-pair distance / mean distance to the own centroid, in plain Python."""
            if torch.is_tensor(embeddings):
                embeddings = embeddings.detach().cpu().numpy()
            rows = np.asarray(embeddings, dtype=np.float64).tolist()
            names = np.asarray(labels).tolist()
            groups = {}
            for row, name in zip(rows, names):
                groups.setdefault(name, []).append(row)
            centroids = {name: [fsum(col) / len(g) for col in zip(*g)] for name, g in groups.items()}
            keys = list(centroids)
            between = [dist(centroids[a], centroids[b]) for i, a in enumerate(keys) for b in keys[i + 1:]]
            within = [sqrt(fsum((r - c) ** 2 for r, c in zip(row, centroids[name]))) for row, name in zip(rows, names)]
            return (fsum(between) / len(between)) / (fsum(within) / len(within))
    ''')
    given_def = book.q4_given_def()
    rest = book.tail("q4")[len(given_def):].lstrip("\n")
    book.set("q4", sep + "\n\n" + given_def + "\n\nif __name__ == \"__main__\":\n" + textwrap.indent(rest, "    "))


def _main_guard_globals(book: _Book):
    # __main__ guards around the training call, the export and a self-check; globals from the data read by q2-q4.
    book.insert_before("model", _d('''
        DATA = corpus                                   # the corpus this notebook exports
        SNIPPETS = [corpus.snippet(i) for i in range(len(corpus))]   # computed once, reused by export_mantis
        CLASS_NAMES = list(corpus.class_names)
        SNAPSHOT_BATCH = min(256, len(corpus))
    '''))
    book.set("model", book.model_std())
    snap = _d('''
        def snapshot(model, x, batch_size=None):
            """The hooked layer's output for every row of x, in row order, as one (N, D) array."""
            step = batch_size or SNAPSHOT_BATCH
            model.eval()
            model.capture = True
            with torch.no_grad():
                parts = []
                for start in range(0, len(x), step):
                    model(x[start:start + step])
                    parts.append(np.asarray(model.embeddings))
            model.capture = False
            return np.vstack(parts)
    ''')
    tail = book.tail("q2")
    call = tail[tail.index("snapshots = train_and_capture("):]
    q2 = snap + "\n\n" + TRAIN_STD + "\n\n" + tail[:tail.index("snapshots = train_and_capture(")]
    book.set("q2", q2 + "if __name__ == \"__main__\":\n" + textwrap.indent(call, "    "))
    export = _d('''
        def export_mantis(path, corpus, is_test, snapshots):
            """Write the Mantis CSV (replab's writer); the snippets of this notebook's corpus are cached."""
            snippets = SNIPPETS if corpus is DATA else [corpus.snippet(i) for i in range(len(corpus.titles))]
            splits = ["test" if t else "train" for t in is_test]
            write_mantis_csv(path, corpus.titles, corpus.labels, splits, snippets, snapshots)
            return path
    ''')
    book.set("q3", export + "\n\nif __name__ == \"__main__\":\n" + textwrap.indent(book.tail("q3"), "    "))
    sep = _d('''
        def separation_ratio(embeddings, labels):
            """Mean centroid-pair distance / mean distance to the own centroid."""
            e = np.asarray(embeddings.detach().cpu() if torch.is_tensor(embeddings) else embeddings, dtype=np.float64)
            labels = np.asarray(labels)
            present = set(labels.tolist())
            classes = [c for c in CLASS_NAMES if c in present] if present <= set(CLASS_NAMES) else sorted(present)
            centroids = np.stack([e[labels == c].mean(axis=0) for c in classes])
            where = {c: k for k, c in enumerate(classes)}
            own = centroids[[where[c] for c in labels.tolist()]]
            gaps = [np.linalg.norm(centroids[a] - centroids[b]) for a in range(len(classes)) for b in range(a + 1, len(classes))]
            return float(np.mean(gaps) / np.linalg.norm(e - own, axis=1).mean())


        if __name__ == "__main__":   # quick self-check on the example of the task
            toy = np.array([[0, 0], [2, 0], [10, 0], [12, 0]], dtype=np.float32)
            assert abs(separation_ratio(toy, np.array(["a", "a", "b", "b"])) - 10) < 1e-9
    ''')
    book.set("q4", _q4(book, sep))


def _redefined_drafts(book: _Book):
    # first drafts (unbatched snapshot, unfinished export and separation) in earlier cells; the answer cells redefine them.
    book.set("model", book.model_std())
    book.insert_before("q2", _d('''
        # first drafts, to get the shapes right; the cells below hold the real versions
        def snapshot(model, x, batch_size=256):
            model.eval()
            model.capture = True
            with torch.no_grad():
                model(x)
            model.capture = False
            return model.embeddings


        def separation_ratio(embeddings, labels):
            labels = np.asarray(labels)
            centroids = [np.asarray(embeddings)[labels == c].mean(axis=0) for c in np.unique(labels)]
            return np.mean([np.linalg.norm(a - b) for i, a in enumerate(centroids) for b in centroids[i + 1:]])
            # TODO: divide by the spread within the classes
    '''))
    book.set("q2", _q2(book, SNAPSHOT_STD, TRAIN_STD))
    book.insert_before("q3", _d('''
        def export_mantis(path, corpus, is_test, snapshots):
            raise NotImplementedError("q3: write the CSV")   # see the next cell
    '''))
    book.set("q3", _q3(book, EXPORT_STD))
    book.set("q4", _q4(book, SEPARATION_STD))


def _redefined_export_redo(book: _Book):
    # a slow first export_mantis (csv module, loops) in q3; a later %%capture cell redefines it and re-exports,
    # and a cell after q4 redefines separation_ratio (vectorised) and recomputes `separation`.
    book.set("model", book.model_std())
    book.set("q2", _q2(book, SNAPSHOT_STD, TRAIN_STD))
    first = _d('''
        import csv


        def export_mantis(path, corpus, is_test, snapshots):
            """First version: the csv module, one value at a time."""
            header = ["title", "categoric", "split", "snippet"] + [f"embedding_epoch_{k}" for k in range(len(snapshots))]
            with open(path, "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(header)
                for i in range(len(corpus.titles)):
                    row = [corpus.titles[i], corpus.labels[i], "test" if is_test[i] else "train", corpus.snippet(i)]
                    for k in range(len(snapshots)):
                        values = [float(v) for v in np.asarray(snapshots[k][i]).ravel()]
                        row.append("[" + ", ".join(repr(v) for v in values) + "]")
                    writer.writerow(row)
            return path
    ''')
    book.set("q3", _q3(book, first))
    book.insert_after_check("q3", "%%capture\n" + _d('''
        # Faster: replab's own writer. Redo the export so that CSV_NAME is written by this version.
        def export_mantis(path, corpus, is_test, snapshots):
            """Write title, categoric, split, snippet and embedding_epoch_0 … embedding_epoch_E to `path`."""
            splits = np.where(np.asarray(is_test, dtype=bool), "test", "train").tolist()
            snippets = [corpus.snippet(i) for i in range(len(corpus.titles))]
            write_mantis_csv(path, corpus.titles, corpus.labels, splits, snippets, snapshots)
            return path


        csv_path = export_mantis(CSV_NAME, corpus, is_test, snapshots)
        table = read_mantis_csv(csv_path, epochs=EPOCHS + 1)
        print(csv_path, len(table.titles), "rows")
    '''))
    loops = _d('''
        def separation_ratio(embeddings, labels):
            """First version: loops over classes and rows."""
            e = np.asarray(embeddings, dtype=np.float64)
            labels = np.asarray(labels)
            classes = sorted(set(labels.tolist()))
            centroids = {}
            for c in classes:
                centroids[c] = e[labels == c].mean(axis=0)
            total, pairs = 0.0, 0
            for i in range(len(classes)):
                for j in range(i + 1, len(classes)):
                    total += np.linalg.norm(centroids[classes[i]] - centroids[classes[j]])
                    pairs += 1
            spread = 0.0
            for row, lab in zip(e, labels):
                spread += np.linalg.norm(row - centroids[lab])
            return (total / pairs) / (spread / len(e))
    ''')
    book.set("q4", _q4(book, loops))
    book.insert_after_check("q4", _d('''
        # Vectorised version (same numbers); recompute separation with it.
        def separation_ratio(embeddings, labels):
            """Mean distance between class centroids / mean distance of a row to its own centroid."""
            e = np.asarray(embeddings.detach().cpu() if torch.is_tensor(embeddings) else embeddings, dtype=np.float64)
            classes, inverse = np.unique(np.asarray(labels), return_inverse=True)
            inverse = inverse.reshape(-1)
            counts = np.bincount(inverse, minlength=len(classes))
            sums = np.zeros((len(classes), e.shape[1]))
            np.add.at(sums, inverse, e)
            centroids = sums / counts[:, None]
            i, j = np.triu_indices(len(classes), k=1)
            return float(np.linalg.norm(centroids[i] - centroids[j], axis=1).mean()
                         / np.linalg.norm(e - centroids[inverse], axis=1).mean())


        separation = separation_by_epoch(snapshots, corpus.labels, is_test)
        print(np.round(separation, 2))
    '''))


def _hook_factory(book: _Book):
    # q1 done with register_forward_hook in __init__; the hook closure made by a factory function.
    src = book.model_hooked(
        f"self.{book.layer}.register_forward_hook(make_capture_hook(self, after_relu={book.after_relu}))",
        prefix=_hook_factory_src(book) + "\n\n")
    book.set("model", src)
    book.set("q2", _q2(book, SNAPSHOT_STD, TRAIN_STD))
    book.set("q3", _q3(book, EXPORT_STD))
    book.set("q4", _q4(book, SEPARATION_STD))


def _hook_config_main(book: _Book):
    # hook factory registered in __init__ with its layer and ReLU read from CONFIG; CONFIG drives the snapshot
    # batch and the split names; __main__ guards around the training, export and separation calls.
    book.insert_before("model", _d(f'''
        CONFIG = {{
            "hook_layer": "{book.layer}",          # the layer whose output we keep
            "relu_in_hook": {book.after_relu},     # the task: {"after" if book.after_relu else "before"} its ReLU
            "snapshot_batch": 64,
            "split_names": {{False: "train", True: "test"}},
        }}
    '''))
    factory = _d('''
        def capture_hook_factory(model):
            """Returns the forward hook that keeps the hooked layer's output in model.embeddings."""
            relu = CONFIG["relu_in_hook"]

            def keep(module, inputs, output):
                if model.capture:
                    model.embeddings = (torch.relu(output) if relu else output).detach().cpu().numpy()
            return keep
    ''')
    src = book.model_hooked(
        'self.hook_handle = getattr(self, CONFIG["hook_layer"]).register_forward_hook(capture_hook_factory(self))',
        prefix=factory + "\n\n")
    book.set("model", src)
    snap = _d('''
        def snapshot(model, x, batch_size=None):
            """The hooked layer's output for every row of x, in row order, as one (N, D) array."""
            size = batch_size or CONFIG["snapshot_batch"]
            model.eval()
            model.capture = True
            try:
                with torch.no_grad():
                    kept = []
                    for start in range(0, len(x), size):
                        model(x[start:start + size])
                        kept.append(model.embeddings)
            finally:
                model.capture = False
            return np.concatenate(kept)
    ''')
    tail = book.tail("q2")
    call = tail[tail.index("snapshots = train_and_capture("):]
    book.set("q2", snap + "\n\n" + TRAIN_STD + "\n\n" + tail[:tail.index("snapshots = train_and_capture(")]
             + "if __name__ == \"__main__\":\n" + textwrap.indent(call, "    "))
    export = _d('''
        def export_mantis(path, corpus, is_test, snapshots):
            """Write the Mantis CSV (replab's writer); returns path."""
            splits = [CONFIG["split_names"][bool(t)] for t in is_test]
            snippets = [corpus.snippet(i) for i in range(len(corpus.titles))]
            write_mantis_csv(path, corpus.titles, corpus.labels, splits, snippets, snapshots)
            return path
    ''')
    book.set("q3", export + "\n\nif __name__ == \"__main__\":\n" + textwrap.indent(book.tail("q3"), "    "))
    given_def = book.q4_given_def()
    rest = book.tail("q4")[len(given_def):].lstrip("\n")
    book.set("q4", SEPARATION_STD + "\n\n" + given_def + "\n\nif __name__ == \"__main__\":\n"
             + textwrap.indent(rest, "    "))


def _config_csv_writer(book: _Book):
    # CONFIG holds the column names, float format, encoding and snapshot batch; a csv-module writer of my own
    # with walrus assignments; q4 with walrus in comprehensions.
    book.insert_before("model", _d('''
        CONFIG = {
            "snapshot_batch": 200,
            "text_columns": ["title", "categoric", "split", "snippet"],
            "epoch_column": "embedding_epoch_{}",
            "float_format": "{!r}",        # repr: the shortest text that reads back as the same number
            "encoding": "utf-8",
            "splits": ("train", "test"),
        }
    '''))
    book.set("model", book.model_std())
    snap = _d('''
        def snapshot(model, x, batch_size=None):
            """The hooked layer's output for every row of x, in row order, as one (N, D) array."""
            step = batch_size or CONFIG["snapshot_batch"]
            model.eval()
            model.capture = True
            out = []
            with torch.inference_mode():
                for start in range(0, len(x), step):
                    model(x[start:start + step])
                    out.append(np.asarray(model.embeddings))
            model.capture = False
            return np.concatenate(out)
    ''')
    book.set("q2", _q2(book, snap, TRAIN_STD))
    export = _d('''
        import csv


        def export_mantis(path, corpus, is_test, snapshots):
            """My own writer: the columns and number format come from CONFIG."""
            snaps = as_snapshots(snapshots)
            fmt = CONFIG["float_format"]
            header = CONFIG["text_columns"] + [CONFIG["epoch_column"].format(k) for k in range(len(snaps))]
            with open(path, "w", newline="", encoding=CONFIG["encoding"]) as f:
                writer = csv.writer(f)
                writer.writerow(header)
                for i, (title, label) in enumerate(zip(corpus.titles, corpus.labels)):
                    split = CONFIG["splits"][1] if (flag := bool(is_test[i])) else CONFIG["splits"][0]
                    cells = ["[" + ",".join(fmt.format(v) for v in vec) + "]"
                             for epoch in snaps if (vec := epoch[i].tolist())]
                    writer.writerow([title, label, split, corpus.snippet(i), *cells])
            return path
    ''')
    book.set("q3", _q3(book, export))
    sep = _d('''
        def separation_ratio(embeddings, labels):
            """Mean centroid-pair distance / mean distance to the own centroid."""
            e = torch.as_tensor(np.asarray(embeddings.detach().cpu() if torch.is_tensor(embeddings) else embeddings,
                                           dtype=np.float64))
            labels = np.asarray(labels)
            cents = [e[torch.as_tensor(m)].mean(dim=0) for c in np.unique(labels) if (m := labels == c).any()]
            between = torch.stack([(a - b).norm() for i, a in enumerate(cents) for b in cents[i + 1:]]).mean()
            own = torch.stack([cents[k] for k in np.unique(labels, return_inverse=True)[1].reshape(-1)])
            return float(between / (e - own).norm(dim=1).mean())
    ''')
    book.set("q4", _q4(book, sep))


def _kitchen_sink(book: _Book):
    # %%writefile helpers holding the hook factory (registered in __init__), %%time on q2, a try-wrapped q4 with
    # walrus, and a later cell that redefines separation_ratio and recomputes separation.
    book.insert_before("model", "%%writefile lab8_helpers.py\n" + _d('''
        """My lab 8 helpers: the capture hook."""
        import torch


        def make_capture_hook(owner, after_relu=False):
            """A forward hook keeping the layer's output (after a ReLU if asked) in owner.embeddings while
            owner.capture is on: detached, on the CPU, as a NumPy array."""
            def hook(module, inputs, output):
                if owner.capture:
                    h = torch.relu(output) if after_relu else output
                    owner.embeddings = h.detach().cpu().numpy()
            return hook
    '''))
    src = book.model_hooked(
        f"self.{book.layer}.register_forward_hook(make_capture_hook(self, after_relu={book.after_relu}))",
        prefix="from lab8_helpers import make_capture_hook\n\n\n")
    book.set("model", src)
    book.set("q2", "%%time\n" + _q2(book, SNAPSHOT_STD, TRAIN_STD))
    book.set("q3", _q3(book, EXPORT_STD))
    sep = _d('''
        try:
            def separation_ratio(embeddings, labels):
                """Mean centroid-pair distance / mean distance to the own centroid."""
                e = np.asarray(embeddings.detach().cpu() if torch.is_tensor(embeddings) else embeddings, dtype=np.float64)
                labels = np.asarray(labels)
                cents = {c: e[labels == c].mean(axis=0) for c in np.unique(labels)}
                if (k := len(names := list(cents))) < 2:
                    raise ValueError("need two classes")
                between = np.mean([np.linalg.norm(cents[names[a]] - cents[names[b]])
                                   for a in range(k) for b in range(a + 1, k)])
                within = np.mean([np.linalg.norm(r - cents[l]) for r, l in zip(e, labels)])
                return float(between / within)
        except Exception as err:   # (a habit of mine around definitions)
            print("could not define separation_ratio:", err)
    ''')
    book.set("q4", _q4(book, sep))
    book.insert_after_check("q4", _d('''
        # Same ratio, vectorised; recompute separation with this final version.
        def separation_ratio(embeddings, labels):
            e = np.asarray(embeddings.detach().cpu() if torch.is_tensor(embeddings) else embeddings, dtype=np.float64)
            classes, inverse = np.unique(np.asarray(labels), return_inverse=True)
            inverse = inverse.reshape(-1)
            centroids = np.stack([e[inverse == k].mean(axis=0) for k in range(len(classes))])
            pairs = np.linalg.norm(centroids[:, None] - centroids[None], axis=2)[np.triu_indices(len(classes), 1)]
            return float(pairs.mean() / np.linalg.norm(e - centroids[inverse], axis=1).mean())


        separation = separation_by_epoch(snapshots, corpus.labels, is_test)
    '''))


STUDENTS = {
    "cell_magics": _cell_magics,
    "line_magics_config": _line_magics_config,
    "if_flag_defs": _if_flag_defs,
    "try_defs_walrus": _try_defs_walrus,
    "walrus": _walrus,
    "data_globals": _data_globals,
    "writefile_helpers": _writefile_helpers,
    "writefile_star_import": _writefile_star_import,
    "star_math_main": _star_math_main,
    "main_guard_globals": _main_guard_globals,
    "redefined_drafts": _redefined_drafts,
    "redefined_export_redo": _redefined_export_redo,
    "hook_factory": _hook_factory,
    "hook_config_main": _hook_config_main,
    "config_csv_writer": _config_csv_writer,
    "kitchen_sink": _kitchen_sink,
}


def construct_notebooks(student_nb, kind: str) -> dict[str, nbformat.NotebookNode]:
    """{name: completed notebook} for kind "text" (TextMLP) or "image" (ImageCNN)."""
    out = {}
    for name, write in STUDENTS.items():
        book = _Book(student_nb, kind)
        write(book)
        out[name] = book.nb
    return out
