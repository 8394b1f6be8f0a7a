"""Honest students: complete the released student notebook in many different, correct ways.

Each style is one imagined student who read the notebook's text (the markdown next to each task, the
docstrings and comments in the given cells) and nothing else: no solution, no hidden test. Every style
solves q1 (the hook in ``forward``), q2 (``snapshot`` and ``train_and_capture``), q3 (``export_mantis``)
and q4 (``separation_ratio``) as the notebook asks, in its own way, and works for both kinds of model:

* ``"text"`` (wikipedia, bbc): ``TextMLP`` with ``fc1``/``fc2``/``classifier``; the hook reads ``fc2``
  *before* its ReLU;
* ``"image"`` (cifar10): ``ImageCNN``; the hook reads ``fc1`` *after* its ReLU.

``honest_notebooks(student_nb, kind)`` returns ``{style: completed notebook}``; the blanks (the ``...``
lines of the answer cells) are replaced in a deep copy, and an assertion names any blank or anchor that
cannot be found, so that a template change is noticed rather than silently producing a wrong student.
The written questions (w1–w7) are left as they are: they are not autograded.
"""
from __future__ import annotations

import copy
import re
import textwrap

import nbformat

KINDS = ("text", "image")

# --- finding and filling the blanks ------------------------------------------------------------------


def _dedent(code: str) -> str:
    return textwrap.dedent(code).strip("\n")


def _find_cell(nb, *needles: str):
    """The one code cell whose source holds every needle."""
    hits = [c for c in nb.cells if c.cell_type == "code" and all(n in c.source for n in needles)]
    assert len(hits) == 1, (f"student notebook: expected exactly one code cell containing {needles!r}, "
                            f"found {len(hits)} — has the template changed?")
    return hits[0]


def _line_index(lines: list[str], needle: str, start: int = 0) -> int:
    for i in range(start, len(lines)):
        if needle in lines[i]:
            return i
    raise AssertionError(f"student notebook: no line containing {needle!r} (after line {start + 1}) — "
                         "has the template changed?")


def _indent(code: str, pad: str) -> list[str]:
    return [pad + line if line.strip() else "" for line in _dedent(code).split("\n")]


def _fill(source: str, anchor: str, code: str) -> str:
    """Replace the first ``...`` line after the line holding ``anchor`` with ``code``, at that line's indent."""
    lines = source.split("\n")
    a = _line_index(lines, anchor)
    for j in range(a + 1, len(lines)):
        if lines[j].strip() == "...":
            break
        if j > a + 1 and lines[j].strip().startswith("def "):  # the blank must belong to this function
            raise AssertionError(f"student notebook: no `...` blank in the body after {anchor!r} — "
                                 "has the template changed?")
    else:
        raise AssertionError(f"student notebook: no `...` blank after {anchor!r} — has the template changed?")
    pad = lines[j][: len(lines[j]) - len(lines[j].lstrip())]
    lines[j:j + 1] = _indent(code, pad)
    return "\n".join(lines)


def _insert(source: str, anchor: str, code: str, *, before: bool = False, blank_after: bool = False) -> str:
    """Insert ``code`` after (or before) the line holding ``anchor``, at that line's indent."""
    lines = source.split("\n")
    a = _line_index(lines, anchor)
    pad = lines[a][: len(lines[a]) - len(lines[a].lstrip())]
    new = _indent(code, pad) + ([""] if blank_after else [])
    at = a if before else a + 1
    lines[at:at] = new
    return "\n".join(lines)


def _prepend(source: str, code: str) -> str:
    return _dedent(code) + "\n\n" + source


def _no_blanks_left(source: str, where: str) -> None:
    left = [i + 1 for i, line in enumerate(source.split("\n")) if line.strip() == "..."]
    assert not left, f"{where}: `...` blank(s) left unfilled at line(s) {left}"


# --- what the notebook says about the hooked layer -----------------------------------------------------


def _hook_facts(nb, kind: str) -> tuple[str, bool]:
    """(name of the hooked layer, whether the hook reads it after its ReLU), from the model cell and q1."""
    model = _find_cell(nb, "def forward(self, x):", "# q1:")
    m = re.search(r"self\.(\w+)\s*=\s*nn\.Linear\([^\n]*#\s*the hooked layer", model.source)
    assert m, "student notebook: the model cell has no `self.<layer> = nn.Linear(...)  # the hooked layer` line"
    layer = m.group(1)
    q1 = [c for c in nb.cells if c.cell_type == "markdown" and c.source.lstrip().startswith("**q1.**")]
    assert len(q1) == 1, "student notebook: expected one markdown cell starting with **q1.**"
    after = "**after** its ReLU" in q1[0].source
    before = "**before** its ReLU" in q1[0].source
    assert after != before, "student notebook: q1 should say the hook reads the layer **before** or **after** its ReLU"
    expected = {"text": ("TextMLP", False), "image": ("ImageCNN", True)}[kind]
    assert f"class {expected[0]}(" in model.source, f"kind {kind!r}: the model cell should define {expected[0]}"
    assert after == expected[1], f"kind {kind!r}: q1 says the hook reads {layer} {'after' if after else 'before'} its ReLU"
    return layer, after


# --- the students ---------------------------------------------------------------------------------------
# Each style is a dict of fragments. Keys:
#   forward            the q1 blank in forward (``h`` is the hooked value the template computed)
#   init               (optional) code inserted at the end of __init__ (after ``self.embeddings = None``)
#   method             (optional) a method inserted into the model class, just before ``def forward``
#   model_imports      (optional) prepended to the model cell
#   q2_imports         (optional) prepended to the snapshot cell
#   snapshot_decorator (optional) a line put just above ``def snapshot``
#   snapshot, train    the two q2 blanks
#   q3_imports, export the q3 blank
#   q4_imports, separation
# Fragments may use {layer} (the hooked layer's attribute) and {post} (``torch.relu`` or an empty
# string: what turns that layer's raw output into the value the hook must keep).

ORIGINAL_PORT = dict(
    doc="The original MIT lab's style: .detach().cpu().numpy() in forward, a printed loss per epoch, "
        "pandas to_csv with str(list of floats) cells, separation with numpy loops.",
    forward="""
        if self.capture:
            self.embeddings = h.detach().cpu().numpy()
    """,
    snapshot="""
        model.eval()
        model.capture = True
        chunks = []
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                model(x[start:start + batch_size])
                chunks.append(model.embeddings)
        model.capture = False
        return np.concatenate(chunks, axis=0)
    """,
    train="""
        embeddings_per_epoch = [snapshot(model, x)]  # epoch 0: before any training step
        for epoch in range(1, epochs + 1):
            loss = train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
            embeddings_per_epoch.append(snapshot(model, x))
            print(f"Epoch {epoch}/{epochs} - loss: {loss:.4f}")
        return np.array(embeddings_per_epoch)
    """,
    q3_imports="""
        import pandas as pd
    """,
    export="""
        records = []
        for i in range(len(corpus.titles)):
            record = {
                "title": corpus.titles[i],
                "categoric": corpus.labels[i],
                "split": "test" if is_test[i] else "train",
                "snippet": corpus.snippet(i),
            }
            for epoch in range(len(snapshots)):
                record[f"embedding_epoch_{epoch}"] = str(snapshots[epoch][i].tolist())
            records.append(record)
        pd.DataFrame(records).to_csv(path, index=False)
        return path
    """,
    separation="""
        embeddings = np.asarray(embeddings)
        labels = np.asarray(labels)
        classes = sorted(set(labels.tolist()))
        centroids = {}
        for c in classes:
            centroids[c] = embeddings[labels == c].mean(axis=0)
        between = []
        for a in range(len(classes)):
            for b in range(a + 1, len(classes)):
                between.append(np.linalg.norm(centroids[classes[a]] - centroids[classes[b]]))
        within = []
        for i in range(len(embeddings)):
            within.append(np.linalg.norm(embeddings[i] - centroids[labels[i]]))
        return float(np.mean(between) / np.mean(within))
    """,
)

FORWARD_HOOK = dict(
    doc="q1 via register_forward_hook on the hooked layer (set up in __init__, stores only when capture is "
        "on); snapshot under torch.inference_mode() that restores the previous train/eval mode; "
        "export via the given write_mantis_csv.",
    forward="""
        # the forward hook registered in __init__ keeps the hooked layer's output while self.capture is on
    """,
    init="""
        self.{layer}.register_forward_hook(self._keep_hooked_output)
    """,
    method="""
        def _keep_hooked_output(self, module, inputs, output):
            if self.capture:
                self.embeddings = {post}(output).detach().cpu().numpy()
    """,
    snapshot="""
        was_training = model.training
        model.eval()
        model.capture = True
        parts = []
        with torch.inference_mode():
            for batch in torch.split(x, batch_size):
                model(batch)
                parts.append(model.embeddings)
        model.capture = False
        model.train(was_training)
        return np.concatenate(parts)
    """,
    train="""
        x_train, y_train = x[train_rows], y[train_rows]
        history = [snapshot(model, x)]
        for _ in range(epochs):
            train_one_epoch(model, x_train, y_train, optimizer, batch_size, generator)
            history.append(snapshot(model, x))
        return history
    """,
    export="""
        splits = ["test" if t else "train" for t in is_test]
        snippets = [corpus.snippet(i) for i in range(len(corpus.titles))]
        write_mantis_csv(path, corpus.titles, corpus.labels, splits, snippets, snapshots)
        return path
    """,
    separation="""
        X = np.asarray(embeddings, dtype=np.float64)
        labels = np.asarray(labels)
        classes = np.unique(labels)
        centroids = np.stack([X[labels == c].mean(axis=0) for c in classes])
        i, j = np.triu_indices(len(classes), k=1)
        between = np.linalg.norm(centroids[i] - centroids[j], axis=1).mean()
        own = centroids[np.searchsorted(classes, labels)]
        within = np.linalg.norm(X - own, axis=1).mean()
        return between / within
    """,
)

TORCH_TENSORS = dict(
    doc="Everything in torch: forward keeps a detached CPU tensor, snapshot returns a concatenated tensor, "
        "train_and_capture a list of tensors, separation with torch.cdist returning a 0-d tensor; export "
        "with csv.DictWriter and json.dumps(tensor.tolist()).",
    forward="""
        if self.capture:
            self.embeddings = h.detach().cpu()  # a detached CPU tensor
    """,
    snapshot="""
        model.eval()
        model.capture = True
        outs = []
        with torch.no_grad():
            for i in range(0, x.shape[0], batch_size):
                model(x[i:i + batch_size])
                outs.append(torch.as_tensor(model.embeddings))
        model.capture = False
        return torch.cat(outs)
    """,
    train="""
        snaps = [snapshot(model, x)]
        for epoch in range(epochs):
            train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
            snaps.append(snapshot(model, x))
        return snaps
    """,
    q3_imports="""
        import csv
        import json
    """,
    export="""
        n_epochs = len(snapshots)
        fields = ["title", "categoric", "split", "snippet"] + [f"embedding_epoch_{k}" for k in range(n_epochs)]
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            for i, title in enumerate(corpus.titles):
                row = {"title": title, "categoric": corpus.labels[i],
                       "split": "test" if is_test[i] else "train", "snippet": corpus.snippet(i)}
                for k in range(n_epochs):
                    row[f"embedding_epoch_{k}"] = json.dumps(torch.as_tensor(snapshots[k][i]).tolist())
                writer.writerow(row)
        return path
    """,
    separation="""
        e = torch.as_tensor(embeddings).float()
        labels = np.asarray(labels)
        classes, inverse = np.unique(labels, return_inverse=True)
        idx = torch.as_tensor(inverse)
        centroids = torch.stack([e[idx == k].mean(dim=0) for k in range(len(classes))])
        pair = torch.triu_indices(len(classes), len(classes), offset=1)
        between = torch.cdist(centroids, centroids)[pair[0], pair[1]].mean()
        within = (e - centroids[idx]).norm(dim=1).mean()
        return between / within
    """,
)

NUMPY_VECTORISED = dict(
    doc="NumPy everywhere: float64 embeddings (.double() before .numpy()), snapshot in batches of 100 "
        "with np.vstack, np.stack of the epochs, separation by broadcasting; pandas export from columns.",
    forward="""
        if self.capture:
            self.embeddings = h.detach().cpu().double().numpy()
    """,
    snapshot="""
        model.eval()
        model.capture = True
        rows = []
        with torch.no_grad():
            for start in range(0, len(x), 100):
                model(x[start:start + 100])
                rows.append(model.embeddings)
        model.capture = False
        return np.vstack(rows)
    """,
    train="""
        snaps = [snapshot(model, x)]
        for _ in range(epochs):
            train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
            snaps.append(snapshot(model, x))
        return np.stack(snaps)
    """,
    q3_imports="""
        import json
        import pandas as pd
    """,
    export="""
        is_test = np.asarray(is_test, dtype=bool)
        columns = {
            "title": list(corpus.titles),
            "categoric": list(corpus.labels),
            "split": np.where(is_test, "test", "train"),
            "snippet": [corpus.snippet(i) for i in range(len(corpus.titles))],
        }
        for k in range(len(snapshots)):
            epoch = np.asarray(snapshots[k], dtype=np.float64)
            columns[f"embedding_epoch_{k}"] = [json.dumps(row.tolist()) for row in epoch]
        pd.DataFrame(columns).to_csv(path, index=False)
        return path
    """,
    separation="""
        X = np.asarray(embeddings, dtype=np.float64)
        classes, inverse = np.unique(np.asarray(labels), return_inverse=True)
        onehot = (inverse[:, None] == np.arange(len(classes))[None, :]).astype(np.float64)
        centroids = onehot.T @ X / onehot.sum(axis=0)[:, None]
        diff = centroids[:, None, :] - centroids[None, :, :]
        pairwise = np.sqrt((diff ** 2).sum(axis=-1))
        i, j = np.triu_indices(len(classes), k=1)
        within = np.sqrt(((X - centroids[inverse]) ** 2).sum(axis=1)).mean()
        return pairwise[i, j].mean() / within
    """,
)

EVAL_OUTSIDE = dict(
    doc="Calls model.eval() just before each snapshot call inside train_and_capture (not inside snapshot), "
        "torch.no_grad(), leaves model.capture switched on after the pass, sets self.embeddings = None "
        "when capture is off; export with csv.writer and repr'd floats; separation with np.add.at.",
    forward="""
        if self.capture:
            self.embeddings = h.detach().cpu().numpy()
        else:
            self.embeddings = None
    """,
    snapshot="""
        model.capture = True
        collected = []
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                model(x[start:start + batch_size])
                collected.append(model.embeddings)
        return np.concatenate(collected)
    """,
    train="""
        model.eval()
        snaps = [snapshot(model, x)]
        for epoch in range(epochs):
            train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
            model.eval()
            snaps.append(snapshot(model, x))
        return snaps
    """,
    q3_imports="""
        import csv
    """,
    export="""
        header = ["title", "categoric", "split", "snippet"] + ["embedding_epoch_%d" % k for k in range(len(snapshots))]
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            for i in range(len(corpus.titles)):
                cells = [corpus.titles[i], corpus.labels[i], "test" if is_test[i] else "train", corpus.snippet(i)]
                for k in range(len(snapshots)):
                    cells.append("[" + ", ".join(repr(float(v)) for v in snapshots[k][i]) + "]")
                w.writerow(cells)
        return path
    """,
    separation="""
        X = np.asarray(embeddings, dtype=np.float64)
        classes, inverse = np.unique(np.asarray(labels), return_inverse=True)
        sums = np.zeros((len(classes), X.shape[1]))
        np.add.at(sums, inverse, X)
        counts = np.bincount(inverse, minlength=len(classes))
        centroids = sums / counts[:, None]
        between = [np.linalg.norm(centroids[a] - centroids[b])
                   for a in range(len(classes)) for b in range(a + 1, len(classes))]
        within = np.linalg.norm(X - centroids[inverse], axis=1)
        return np.mean(between) / np.mean(within)
    """,
)

CSV_MODULE = dict(
    doc="Export with csv.writer (QUOTE_ALL) and json.dumps per embedding cell; snapshot through a "
        "DataLoader(shuffle=False); separation with scipy.spatial.distance.cdist / pdist.",
    forward="""
        if self.capture:
            self.embeddings = h.detach().cpu().numpy()
    """,
    q2_imports="""
        from torch.utils.data import DataLoader, TensorDataset
    """,
    snapshot="""
        model.eval()
        model.capture = True
        pieces = []
        with torch.no_grad():
            for (batch,) in DataLoader(TensorDataset(x), batch_size=batch_size, shuffle=False):
                model(batch)
                pieces.append(np.asarray(model.embeddings))
        model.capture = False
        return np.concatenate(pieces)
    """,
    train="""
        by_epoch = {0: snapshot(model, x)}
        for epoch in range(1, epochs + 1):
            train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
            by_epoch[epoch] = snapshot(model, x)
        return [by_epoch[e] for e in range(epochs + 1)]
    """,
    q3_imports="""
        import csv
        import json
    """,
    export="""
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
            writer.writerow(["title", "categoric", "split", "snippet"]
                            + [f"embedding_epoch_{k}" for k in range(len(snapshots))])
            for i in range(len(corpus.titles)):
                writer.writerow([corpus.titles[i], corpus.labels[i], "test" if is_test[i] else "train",
                                 corpus.snippet(i)]
                                + [json.dumps([float(v) for v in snapshots[k][i]]) for k in range(len(snapshots))])
        return path
    """,
    q4_imports="""
        from scipy.spatial.distance import cdist, pdist
    """,
    separation="""
        X = np.asarray(embeddings, dtype=float)
        classes, inverse = np.unique(np.asarray(labels), return_inverse=True)
        centroids = np.array([X[inverse == k].mean(axis=0) for k in range(len(classes))])
        between = pdist(centroids).mean()
        to_centroids = cdist(X, centroids)
        within = to_centroids[np.arange(len(X)), inverse].mean()
        return float(between / within)
    """,
)

SKLEARN_USER = dict(
    doc="Separation with scikit-learn (NearestCentroid + pairwise_distances); export via write_mantis_csv; "
        "train_and_capture fills a preallocated NumPy array.",
    forward="""
        if self.capture:
            self.embeddings = h.detach().cpu().numpy()
    """,
    snapshot="""
        model.eval()
        model.capture = True
        with torch.no_grad():
            out = []
            for batch in x.split(batch_size):
                model(batch)
                out.append(model.embeddings)
        model.capture = False
        return np.concatenate(out)
    """,
    train="""
        first = snapshot(model, x)
        snaps = np.empty((epochs + 1,) + first.shape, dtype=first.dtype)
        snaps[0] = first
        for e in range(1, epochs + 1):
            train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
            snaps[e] = snapshot(model, x)
        return snaps
    """,
    export="""
        write_mantis_csv(path,
                         titles=corpus.titles,
                         categories=corpus.labels,
                         splits=np.where(is_test, "test", "train"),
                         snippets=[corpus.snippet(i) for i in range(len(corpus.titles))],
                         embeddings=snapshots)
        return path
    """,
    q4_imports="""
        from sklearn.metrics import pairwise_distances
        from sklearn.neighbors import NearestCentroid
    """,
    separation="""
        X = np.asarray(embeddings, dtype=np.float64)
        labels = np.asarray(labels)
        nc = NearestCentroid().fit(X, labels)
        C = nc.centroids_
        D = pairwise_distances(C)
        between = D[np.triu_indices(len(C), k=1)].mean()
        own = C[np.searchsorted(nc.classes_, labels)]
        within = np.linalg.norm(X - own, axis=1).mean()
        return float(between / within)
    """,
)

CHATTY_LOGGER = dict(
    doc="Prints everywhere (stdout, sys.stderr.write, warnings.warn), tqdm over batches and epochs, logs "
        "shapes in forward; export via write_mantis_csv and returns its Path; separation in pure Python + math.",
    model_imports="""
        import sys
    """,
    forward="""
        print(f"[forward] batch {x.shape[0]} -> hooked layer {tuple(h.shape)}, capture={self.capture}")
        if self.capture:
            self.embeddings = h.detach().cpu().numpy()
            sys.stderr.write(f"[forward] stored embeddings {self.embeddings.shape}\\n")
    """,
    q2_imports="""
        import sys
        import warnings
    """,
    snapshot="""
        if model.training:
            warnings.warn("snapshot: the model was in train mode; switching to eval mode")
        model.eval()
        model.capture = True
        print(f"snapshot: {len(x)} rows in batches of {batch_size}")
        got = []
        with torch.no_grad():
            for start in tqdm(range(0, len(x), batch_size), desc="snapshot", leave=False):
                model(x[start:start + batch_size])
                got.append(model.embeddings)
                print(f"  rows {start}..{start + len(got[-1]) - 1}: {got[-1].shape}")
        model.capture = False
        result = np.concatenate(got)
        sys.stderr.write(f"snapshot done: {result.shape}, mean {result.mean():.4f}\\n")
        return result
    """,
    train="""
        print(f"train_and_capture: {epochs} epochs, lr={lr}, batch_size={batch_size}, {len(train_rows)} training rows")
        all_snaps = [snapshot(model, x)]
        print("epoch 0 snapshot:", all_snaps[0].shape)
        for epoch in tqdm(range(1, epochs + 1), desc="epochs"):
            loss = train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
            all_snaps.append(snapshot(model, x))
            print(f"epoch {epoch}: loss {loss:.5f}, snapshot {all_snaps[-1].shape}")
            sys.stderr.write(f"epoch {epoch} done\\n")
        warnings.warn(f"kept {len(all_snaps)} snapshots")
        return all_snaps
    """,
    export="""
        print(f"export_mantis: writing {len(corpus.titles)} rows x {len(snapshots)} epochs to {path}")
        written = write_mantis_csv(path, list(corpus.titles), list(corpus.labels),
                                   ["test" if t else "train" for t in is_test],
                                   [corpus.snippet(i) for i in range(len(corpus.titles))],
                                   snapshots)
        print("export_mantis: wrote", written)
        return written
    """,
    q4_imports="""
        import math
    """,
    separation="""
        rows = np.asarray(embeddings).tolist()
        labs = [str(label) for label in labels]
        sums, counts = {}, {}
        for row, lab in zip(rows, labs):
            if lab not in sums:
                sums[lab], counts[lab] = [0.0] * len(row), 0
            sums[lab] = [s + v for s, v in zip(sums[lab], row)]
            counts[lab] += 1
        centroid = {lab: [s / counts[lab] for s in sums[lab]] for lab in sums}
        names = sorted(centroid)
        pair_distances = [math.dist(centroid[a], centroid[b]) for i, a in enumerate(names) for b in names[i + 1:]]
        own_distances = [math.dist(row, centroid[lab]) for row, lab in zip(rows, labs)]
        between = sum(pair_distances) / len(pair_distances)
        within = sum(own_distances) / len(own_distances)
        print(f"separation_ratio: {len(names)} classes, {len(rows)} rows: {between:.4f} / {within:.4f} = {between / within:.4f}")
        return between / within
    """,
)

HANDWRITTEN_WRITER = dict(
    doc="A CSV writer of its own (manual quoting), @torch.no_grad() as a decorator on snapshot, one full "
        "pass with no batching, forward keeps a .copy(); separation with a pandas groupby.",
    forward="""
        if self.capture:
            self.embeddings = h.detach().cpu().numpy().copy()
    """,
    snapshot_decorator="@torch.no_grad()",
    snapshot="""
        model.eval()
        model.capture = True
        model(x)  # one batch holding every row
        model.capture = False
        return model.embeddings
    """,
    train="""
        results = []
        results.append(snapshot(model, x))
        for epoch in range(epochs):
            train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
            results.append(snapshot(model, x))
        return np.array(results)
    """,
    q3_imports="""
        import json
    """,
    export="""
        def field(text):
            text = str(text)
            if any(ch in text for ch in ',"\\r\\n') or text != text.strip():
                text = '"' + text.replace('"', '""') + '"'
            return text

        n_epochs = len(snapshots)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(",".join(["title", "categoric", "split", "snippet"]
                             + ["embedding_epoch_" + str(k) for k in range(n_epochs)]) + "\\n")
            for i in range(len(corpus.titles)):
                cells = [field(corpus.titles[i]), field(corpus.labels[i]),
                         "test" if is_test[i] else "train", field(corpus.snippet(i))]
                for k in range(n_epochs):
                    cells.append(field(json.dumps([float(v) for v in snapshots[k][i]])))
                f.write(",".join(cells) + "\\n")
        return path
    """,
    q4_imports="""
        import pandas as pd
    """,
    separation="""
        X = np.asarray(embeddings, dtype=np.float64)
        frame = pd.DataFrame(X)
        frame["label"] = np.asarray(labels)
        centroids = frame.groupby("label").mean()
        C = centroids.to_numpy()
        between = [np.linalg.norm(C[a] - C[b]) for a in range(len(C)) for b in range(a + 1, len(C))]
        own = centroids.loc[frame["label"]].to_numpy()
        within = np.linalg.norm(X - own, axis=1)
        return float(np.mean(between) / within.mean())
    """,
)

CAPTURE_RESTORE = dict(
    doc="A careful student: forward keeps a detached CPU tensor (.to('cpu')), snapshot restores the "
        "previous capture flag and train/eval mode in try/finally, snapshots are one stacked 3-D tensor; "
        "pandas export with Python lists in the cells; separation with itertools.combinations and "
        "torch.linalg.vector_norm.",
    forward="""
        if self.capture:
            self.embeddings = h.detach().to("cpu")
    """,
    snapshot="""
        previous_capture, previous_mode = model.capture, model.training
        model.capture = True
        model.eval()
        try:
            with torch.inference_mode():
                batches = []
                for start in range(0, len(x), batch_size):
                    model(x[start:start + batch_size])
                    batches.append(torch.as_tensor(model.embeddings).clone())
            return torch.cat(batches, dim=0)
        finally:
            model.capture = previous_capture
            model.train(previous_mode)
    """,
    train="""
        snaps = [snapshot(model, x)]
        for _ in range(epochs):
            train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
            snaps.append(snapshot(model, x))
        return torch.stack(snaps)
    """,
    q3_imports="""
        import pandas as pd
    """,
    export="""
        n = len(corpus.titles)
        frame = pd.DataFrame({
            "title": corpus.titles,
            "categoric": corpus.labels,
            "split": ["test" if is_test[i] else "train" for i in range(n)],
            "snippet": [corpus.snippet(i) for i in range(n)],
        })
        for k, epoch in enumerate(snapshots):
            frame[f"embedding_epoch_{k}"] = [epoch[i].tolist() for i in range(n)]
        frame.to_csv(path, index=False)
        return path
    """,
    q4_imports="""
        from itertools import combinations
    """,
    separation="""
        e = torch.as_tensor(embeddings, dtype=torch.float64)
        labels = np.asarray(labels)
        centroids = {}
        for name in np.unique(labels):
            centroids[name] = e[torch.as_tensor(labels == name)].mean(dim=0)
        between = torch.stack([torch.linalg.vector_norm(centroids[a] - centroids[b])
                               for a, b in combinations(sorted(centroids), 2)]).mean()
        own = torch.stack([centroids[name] for name in labels])
        within = torch.linalg.vector_norm(e - own, dim=1).mean()
        return (between / within).item()
    """,
)

DEVICE_AWARE = dict(
    doc="Written to run on a GPU too: inputs moved to the model's device, torch.set_grad_enabled(False), "
        "a list comprehension over epochs; export with csv.DictWriter; separation with np.einsum.",
    forward="""
        if self.capture:
            self.embeddings = h.detach().cpu().numpy()
    """,
    snapshot="""
        device = next(model.parameters()).device
        model.eval()
        model.capture = True
        gathered = []
        with torch.set_grad_enabled(False):
            for start in range(0, x.shape[0], batch_size):
                model(x[start:start + batch_size].to(device))
                gathered.append(np.array(model.embeddings, copy=True))
        model.capture = False
        return np.concatenate(gathered, axis=0)
    """,
    train="""
        def one_epoch_then_snapshot():
            train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
            return snapshot(model, x)

        return [snapshot(model, x)] + [one_epoch_then_snapshot() for _ in range(epochs)]
    """,
    q3_imports="""
        import csv
        import json
    """,
    export="""
        columns = ["title", "categoric", "split", "snippet"]
        columns += [f"embedding_epoch_{k}" for k in range(len(snapshots))]
        epochs = [np.asarray(s) for s in snapshots]
        with open(path, "w", encoding="utf-8", newline="") as f:
            out = csv.DictWriter(f, fieldnames=columns)
            out.writeheader()
            for i in range(len(corpus.titles)):
                row = dict(title=corpus.titles[i], categoric=corpus.labels[i],
                           split="test" if is_test[i] else "train", snippet=corpus.snippet(i))
                row.update({f"embedding_epoch_{k}": json.dumps(e[i].astype(float).tolist())
                            for k, e in enumerate(epochs)})
                out.writerow(row)
        return path
    """,
    separation="""
        X = np.asarray(embeddings, dtype=np.float64)
        labels = np.asarray(labels)
        classes = list(dict.fromkeys(labels.tolist()))
        C = np.array([X[labels == c].mean(axis=0) for c in classes])
        diff = C[:, None, :] - C[None, :, :]
        D = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
        mask = np.triu(np.ones(D.shape, dtype=bool), k=1)
        index = np.array([classes.index(c) for c in labels.tolist()])
        r = X - C[index]
        within = np.sqrt(np.einsum("ij,ij->i", r, r)).mean()
        return D[mask].mean() / within
    """,
)

SCRATCH_IN_TMP = dict(
    doc="Works in /tmp: export_mantis writes the CSV to a scratch file in /tmp, reads it back with "
        "read_mantis_csv and only then copies it to `path`; separation_ratio keeps a one-line note in "
        "/tmp/lab8_scratch.txt and reads it back. (Needs a writable /tmp wherever the notebook runs.)",
    forward="""
        if self.capture:
            self.embeddings = h.detach().cpu().numpy()
    """,
    snapshot="""
        model.eval()
        model.capture = True
        out = []
        with torch.no_grad():
            for i in range(0, len(x), batch_size):
                model(x[i:i + batch_size])
                out.append(model.embeddings)
        model.capture = False
        return np.concatenate(out)
    """,
    train="""
        history = [snapshot(model, x)]  # epoch 0, before any step
        for _ in range(epochs):
            train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
            history.append(snapshot(model, x))
        return np.stack(history)
    """,
    q3_imports="""
        import os
        import shutil
        import tempfile
    """,
    export="""
        fd, scratch = tempfile.mkstemp(suffix=".csv", prefix="lab8_scratch_", dir="/tmp")
        os.close(fd)
        try:
            n = len(corpus.titles)
            write_mantis_csv(scratch, corpus.titles, corpus.labels,
                             ["test" if is_test[i] else "train" for i in range(n)],
                             [corpus.snippet(i) for i in range(n)], snapshots)
            read_mantis_csv(scratch, epochs=len(snapshots))  # a broken file never replaces a good one
            shutil.copyfile(scratch, path)
        finally:
            os.remove(scratch)
        return path
    """,
    separation="""
        e = np.asarray(embeddings, dtype=np.float64)
        labels = np.asarray(labels)
        names, idx = np.unique(labels, return_inverse=True)
        cents = np.array([e[idx == k].mean(axis=0) for k in range(len(names))])
        pairs = [np.linalg.norm(cents[a] - cents[b]) for a in range(len(names)) for b in range(a + 1, len(names))]
        ratio = float(np.mean(pairs) / np.linalg.norm(e - cents[idx], axis=1).mean())
        with open("/tmp/lab8_scratch.txt", "w") as note:
            note.write(repr(ratio))
        with open("/tmp/lab8_scratch.txt") as note:
            return float(note.read())
    """,
)

STYLES = {
    "original_port": ORIGINAL_PORT,
    "forward_hook": FORWARD_HOOK,
    "torch_tensors": TORCH_TENSORS,
    "numpy_vectorised": NUMPY_VECTORISED,
    "eval_outside": EVAL_OUTSIDE,
    "csv_module": CSV_MODULE,
    "sklearn_user": SKLEARN_USER,
    "chatty_logger": CHATTY_LOGGER,
    "handwritten_writer": HANDWRITTEN_WRITER,
    "capture_restore": CAPTURE_RESTORE,
    "device_aware": DEVICE_AWARE,
    "scratch_in_tmp": SCRATCH_IN_TMP,
}


def _render(fragment: str, layer: str, after_relu: bool) -> str:
    return _dedent(fragment).replace("{layer}", layer).replace("{post}", "torch.relu" if after_relu else "")


def complete(student_nb, kind: str, style: str):
    """A deep copy of ``student_nb`` with every autograded blank filled in ``style``."""
    assert kind in KINDS, f"kind must be one of {KINDS}, got {kind!r}"
    assert style in STYLES, f"unknown style {style!r} (known: {', '.join(STYLES)})"
    spec = STYLES[style]
    nb = copy.deepcopy(student_nb)
    layer, after_relu = _hook_facts(nb, kind)

    def r(key: str) -> str:
        return _render(spec[key], layer, after_relu)

    # q1: the model cell
    cell = _find_cell(nb, "def forward(self, x):", "# q1:")
    src = _fill(cell.source, "# q1:", r("forward"))
    if "method" in spec:
        src = _insert(src, "def forward(self, x):", r("method"), before=True, blank_after=True)
    if "init" in spec:
        src = _insert(src, "self.embeddings = None", r("init"))
    if "model_imports" in spec:
        src = _prepend(src, r("model_imports"))
    _no_blanks_left(src, f"{style}: model cell")
    cell.source = src

    # q2: snapshot and train_and_capture
    cell = _find_cell(nb, "def snapshot(model, x", "def train_and_capture(")
    src = _fill(cell.source, "def snapshot(model, x", r("snapshot"))
    src = _fill(src, "optimizer = torch.optim.Adam(", r("train"))
    if "snapshot_decorator" in spec:
        src = _insert(src, "def snapshot(model, x", spec["snapshot_decorator"], before=True)
    if "q2_imports" in spec:
        src = _prepend(src, r("q2_imports"))
    _no_blanks_left(src, f"{style}: q2 cell")
    cell.source = src

    # q3: export_mantis
    cell = _find_cell(nb, "def export_mantis(path, corpus, is_test, snapshots)")
    src = _fill(cell.source, "def export_mantis(", r("export"))
    if "q3_imports" in spec:
        src = _prepend(src, r("q3_imports"))
    _no_blanks_left(src, f"{style}: q3 cell")
    cell.source = src

    # q4: separation_ratio
    cell = _find_cell(nb, "def separation_ratio(embeddings, labels)")
    src = _fill(cell.source, "def separation_ratio(", r("separation"))
    if "q4_imports" in spec:
        src = _prepend(src, r("q4_imports"))
    _no_blanks_left(src, f"{style}: q4 cell")
    cell.source = src

    for c in nb.cells:  # a fresh, unexecuted submission
        if c.cell_type == "code":
            c.outputs = []
            c.execution_count = None
    nbformat.validate(nb)
    return nb


def honest_notebooks(student_nb, kind: str) -> dict[str, nbformat.NotebookNode]:
    """``{style: completed notebook}`` for every honest style, each a deep copy of ``student_nb``."""
    return {style: complete(student_nb, kind, style) for style in STYLES}


def kind_of(variant: str) -> str:
    """The model kind of a released variant."""
    return {"wikipedia": "text", "bbc": "text", "cifar10": "image"}[variant]
