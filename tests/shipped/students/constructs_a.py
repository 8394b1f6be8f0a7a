"""Honest students who write ordinary Python with less common constructs (set A).

These students were written from the student notebook's words alone (the task markdown of q1-q4, the
given cells and the helper package ``replab`` beside it), without looking at the reference solution or
the autograder. Every notebook here is meant to be CORRECT: a notebook that scores below full marks
points at the autograder, not at the student.

Constructs, each used by at least two notebooks:

1. ``%%time`` as the first line of the q2 cell (the cell that defines snapshot / train_and_capture and trains)
2. ``try: from torch import inference_mode as no_autograd`` / ``except ImportError: from torch import
   no_grad as no_autograd``, then ``@no_autograd()`` as a decorator on ``snapshot``
3. ``train_and_capture`` bound by assignment (``functools.partial`` of a private function, or a closure
   returned by a factory) instead of ``def``
4. ``export_mantis = lambda path, corpus, is_test, snapshots: ...`` (writes the CSV, returns ``path``)
5. constants bound by tuple assignment and read by the functions: ``TRAIN, TEST = "train", "test"`` in
   export_mantis, ``_NORM, _EPS = 2, 0.0`` in separation_ratio
6. the CSV header list built incrementally (``COLUMNS += [...]``) or by a ``for`` loop, used by export_mantis
7. ``import pandas as pd`` inside ``with warnings.catch_warnings():``, pandas then used by export_mantis
8. ``from __future__ import annotations`` at the top of a cell, with ``if TYPE_CHECKING:`` imports used
   only in type hints
9. ``try: from scipy.spatial.distance import pdist`` / ``except ImportError: def pdist(...)`` (a fallback)
   used by separation_ratio
10. the model's ``__init__`` given defaults read from the data (``N_FEATURES = x.shape[1]``,
    ``N_CLASSES = len(corpus.class_names)``), the layers kept exactly as given

Only the standard library and nbformat are imported at module level.
"""
from __future__ import annotations

import copy
import re

import nbformat

__all__ = ["construct_notebooks", "STUDENTS"]

# --------------------------------------------------------------------------------------------------
# anchors in the blank notebook

MODEL_ANCHOR = "def forward(self, x):"
Q2_ANCHOR = "def snapshot(model, x"
Q3_ANCHOR = "def export_mantis("
Q4_ANCHOR = "def separation_ratio("

Q1_PLACEHOLDER = ("        # q1: when self.capture is on, keep h (detached, on the CPU, as a numpy array) in self.embeddings\n"
                  "        ...\n")
Q2_TAIL = "generator = seed_everything(SEED)"
Q3_TAIL = "csv_path = export_mantis("
Q4_TAIL = "def separation_by_epoch("
INIT_RE = re.compile(r"(?m)def __init__\(self, n_inputs.*\):$")
CLASS_NAMES = {"text": "TextMLP", "image": "ImageCNN"}


def _find_cell(nb, anchor: str) -> int:
    hits = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and anchor in c.source]
    assert len(hits) == 1, f"anchor {anchor!r}: expected exactly one code cell containing it, found {len(hits)}"
    assert nb.cells[hits[0]].source.count(anchor) == 1, f"anchor {anchor!r} occurs more than once in its cell"
    return hits[0]


def _tail_from(source: str, anchor: str) -> str:
    """The given code from the line that starts with ``anchor`` to the end of the cell (kept verbatim)."""
    starts = [m.start() for m in re.finditer(r"(?m)^" + re.escape(anchor), source)]
    assert len(starts) == 1, f"tail anchor {anchor!r}: expected exactly one line starting with it, found {len(starts)}"
    return source[starts[0]:]


def _clean(code: str) -> str:
    return code.strip("\n") + "\n"


# --------------------------------------------------------------------------------------------------
# q1: the hook (same code for both variants: `h` is the hooked layer's output in both forwards)

HOOK_NUMPY = """\
        # q1: keep the hooked layer (detached, on the CPU, as a numpy array) only when capturing
        if self.capture:
            self.embeddings = h.detach().cpu().numpy()
"""

HOOK_TENSOR = """\
        # q1: a detached CPU tensor is fine too (the notebook says so)
        if self.capture:
            self.embeddings = h.detach().to("cpu")
"""

DATA_DEFAULTS = """\
# Defaults for the model read from the data, so TextMLP() / ImageCNN() alone builds the right model.
N_FEATURES = x.shape[1]
N_CLASSES = len(corpus.class_names)
"""

# --------------------------------------------------------------------------------------------------
# q2: snapshot

SNAP_NO_GRAD = '''
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
        model.capture = False  # training steps copy nothing
    return np.concatenate(parts)
'''

SNAP_NO_GRAD_TENSOR = '''
def snapshot(model, x, batch_size=256):
    """Capture on, eval mode, no autograd; the batches' embeddings joined in row order."""
    model.eval()
    model.capture = True
    try:
        with torch.no_grad():
            chunks = []
            for batch in torch.split(x, batch_size):
                model(batch)
                chunks.append(torch.as_tensor(model.embeddings))
    finally:
        model.capture = False
    return torch.cat(chunks).numpy()
'''

SNAP_DECORATED = '''
try:
    from torch import inference_mode as no_autograd
except ImportError:  # an older torch without inference_mode
    from torch import no_grad as no_autograd


@no_autograd()
def snapshot(model, x, batch_size=256):
    """The hooked layer's output for every row of x, in row order, as one (N, D) array."""
    model.eval()
    model.capture = True
    try:
        rows = []
        for start in range(0, x.shape[0], batch_size):
            model(x[start:start + batch_size])
            rows.append(np.array(model.embeddings, dtype=np.float32))
        return np.vstack(rows)
    finally:
        model.capture = False
'''

SNAP_FUTURE = '''
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from torch import Generator, Tensor


def snapshot(model: nn.Module, x: Tensor, batch_size: int = 256) -> NDArray[np.float32]:
    """The hooked layer's output for every row of x, in row order, as one (N, D) array."""
    model.eval()
    model.capture = True
    out: list[NDArray[np.float32]] = []
    try:
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                model(x[start:start + batch_size])
                out.append(np.asarray(model.embeddings))
    finally:
        model.capture = False
    return np.concatenate(out, axis=0)
'''

# --------------------------------------------------------------------------------------------------
# q2: train_and_capture

TRAIN_DEF = '''
def train_and_capture(model, x, y, train_rows, epochs=10, lr=0.002, batch_size=0, generator=None):
    """Snapshot 0 before any training step, then per epoch one call of train_one_epoch on the rows in
    `train_rows` followed by one snapshot of all rows; returns the epochs + 1 snapshots, epoch 0 first."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = [snapshot(model, x)]  # epoch 0, before any step
    for epoch in range(epochs):
        loss = train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
        history.append(snapshot(model, x))
    return np.stack(history)
'''

TRAIN_DEF_TQDM = '''
def train_and_capture(model, x, y, train_rows, epochs=10, lr=0.002, batch_size=0, generator=None):
    """Snapshot 0 before any training step, then one epoch + one snapshot at a time."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    x_train, y_train = x[train_rows], y[train_rows]
    snaps = [snapshot(model, x)]
    for _ in tqdm(range(epochs), desc="epochs"):
        train_one_epoch(model, x_train, y_train, optimizer, batch_size, generator)
        snaps.append(snapshot(model, x))
    return snaps  # a list of per-epoch arrays
'''

TRAIN_PARTIAL = '''
import functools


def _train_and_capture(model, x, y, train_rows, epochs=10, lr=0.002, batch_size=0, generator=None, *,
                       take=None):
    """Snapshot 0 before any step, then per epoch one train_one_epoch on the training rows and one snapshot."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    snaps = [take(model, x)]
    for _ in range(epochs):
        train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
        snaps.append(take(model, x))
    return snaps


train_and_capture = functools.partial(_train_and_capture, take=snapshot)
'''

TRAIN_CLOSURE = '''
def make_train_and_capture(take_snapshot):
    """A train_and_capture that uses `take_snapshot` for every snapshot."""
    def run(model, x, y, train_rows, epochs=10, lr=0.002, batch_size=0, generator=None):
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        snaps = [torch.from_numpy(take_snapshot(model, x))]
        for _ in range(epochs):
            train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
            snaps.append(torch.from_numpy(take_snapshot(model, x)))
        return torch.stack(snaps)  # (epochs + 1, N, D) tensor
    return run


train_and_capture = make_train_and_capture(snapshot)
'''

TRAIN_FUTURE = '''
def train_and_capture(model: nn.Module, x: Tensor, y: Tensor, train_rows: Tensor, epochs: int = 10,
                      lr: float = 0.002, batch_size: int = 0, generator: Generator | None = None
                      ) -> NDArray[np.float32]:
    """Snapshot 0 before any training step, then per epoch one call of train_one_epoch on the rows in
    `train_rows` followed by one snapshot of all rows; returns the epochs + 1 snapshots, epoch 0 first."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    first = snapshot(model, x)
    result = np.empty((epochs + 1, *first.shape), dtype=first.dtype)
    result[0] = first
    for epoch in range(1, epochs + 1):
        train_one_epoch(model, x[train_rows], y[train_rows], optimizer, batch_size, generator)
        result[epoch] = snapshot(model, x)
    return result
'''

# --------------------------------------------------------------------------------------------------
# q3: export_mantis

EXPORT_WRITER = '''
def export_mantis(path, corpus, is_test, snapshots):
    """Write title, categoric, split, snippet and embedding_epoch_0 … embedding_epoch_E to `path`."""
    splits = ["test" if flag else "train" for flag in is_test]
    snippets = [corpus.snippet(i) for i in range(len(corpus.titles))]
    write_mantis_csv(path, corpus.titles, corpus.labels, splits, snippets, snapshots)
    return path
'''

EXPORT_LAMBDA_WRITER = '''
export_mantis = lambda path, corpus, is_test, snapshots: (
    write_mantis_csv(path, corpus.titles, corpus.labels,
                     ["test" if t else "train" for t in is_test],
                     [corpus.snippet(i) for i in range(len(corpus.titles))],
                     snapshots),
    path,
)[1]  # write the CSV, then hand back the path we were given
'''

EXPORT_LAMBDA_PANDAS = '''
import json
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # no import-time warnings in my output
    import pandas as pd

export_mantis = lambda path, corpus, is_test, snapshots: pd.DataFrame(
    {
        "title": list(corpus.titles),
        "categoric": list(corpus.labels),
        "split": ["test" if t else "train" for t in is_test],
        "snippet": [corpus.snippet(i) for i in range(len(corpus.titles))],
        **{f"embedding_epoch_{k}": [json.dumps(row) for row in epoch.tolist()]
           for k, epoch in enumerate(as_snapshots(snapshots))},
    }
).to_csv(path, index=False) or path  # to_csv returns None when given a path
'''

EXPORT_COLUMNS_PLUS = '''
import csv
import json

COLUMNS = ["title", "categoric"]
COLUMNS += ["split", "snippet"]  # the text columns; the embedding columns depend on the snapshots


def export_mantis(path, corpus, is_test, snapshots):
    """Write title, categoric, split, snippet and embedding_epoch_0 … embedding_epoch_E to `path`."""
    epochs = as_snapshots(snapshots)
    header = list(COLUMNS)
    header += [f"embedding_epoch_{k}" for k in range(len(epochs))]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for i in range(len(corpus.titles)):
            row = [corpus.titles[i], corpus.labels[i], "test" if is_test[i] else "train", corpus.snippet(i)]
            row += [json.dumps(epoch[i].tolist()) for epoch in epochs]
            writer.writerow(row)
    return path
'''

EXPORT_COLUMNS_LOOP_PANDAS = '''
import json
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=DeprecationWarning)
    import pandas as pd

COLUMNS = []
for name in ("title", "categoric", "split", "snippet"):
    COLUMNS.append(name)


def export_mantis(path, corpus, is_test, snapshots):
    """Write title, categoric, split, snippet and embedding_epoch_0 … embedding_epoch_E to `path`."""
    epochs = as_snapshots(snapshots)
    columns = list(COLUMNS)
    for k in range(len(epochs)):
        columns.append(f"embedding_epoch_{k}")
    rows = []
    for i in range(len(corpus.titles)):
        rows.append([corpus.titles[i], corpus.labels[i], "test" if is_test[i] else "train",
                     corpus.snippet(i), *(json.dumps(epoch[i].tolist()) for epoch in epochs)])
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path
'''

EXPORT_PANDAS_LISTS = '''
def export_mantis(path, corpus, is_test, snapshots):
    """One row per item in the data's order; each embedding cell holds the list of floats."""
    frame = pd.DataFrame({
        "title": corpus.titles,
        "categoric": corpus.labels,
        "split": np.where(np.asarray(is_test, dtype=bool), "test", "train"),
        "snippet": [corpus.snippet(i) for i in range(len(corpus.titles))],
    })
    for k, epoch in enumerate(as_snapshots(snapshots)):
        frame[f"embedding_epoch_{k}"] = pd.Series(epoch.tolist(), dtype=object)  # str(list) in the file
    frame.to_csv(path, index=False)
    return path
'''

PANDAS_QUIET_IMPORT = '''
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pandas can warn about optional dependencies on import
    import pandas as pd
'''

EXPORT_TUPLE = '''
import csv

TRAIN, TEST = "train", "test"


def export_mantis(path, corpus, is_test, snapshots):
    """Write title, categoric, split, snippet and embedding_epoch_0 … embedding_epoch_E to `path`."""
    epochs = as_snapshots(snapshots)
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["title", "categoric", "split", "snippet"]
                     + [f"embedding_epoch_{k}" for k in range(len(epochs))])
        for i, (title, label) in enumerate(zip(corpus.titles, corpus.labels)):
            out.writerow([title, label, TEST if is_test[i] else TRAIN, corpus.snippet(i)]
                         + [str([float(v) for v in epoch[i]]) for epoch in epochs])
    return path
'''

EXPORT_TUPLE_WRITER = '''
def export_mantis(path, corpus, is_test, snapshots):
    """write_mantis_csv does the format; I only build the columns."""
    n = len(corpus.titles)
    splits = [TEST if is_test[i] else TRAIN for i in range(n)]
    write_mantis_csv(path, list(corpus.titles), list(corpus.labels), splits,
                     [corpus.snippet(i) for i in range(n)], snapshots)
    return path
'''

# --------------------------------------------------------------------------------------------------
# q4: separation_ratio (the given separation_by_epoch and the call after it stay as they are)

SEP_NUMPY = '''
def separation_ratio(embeddings, labels):
    """Mean distance between class centroids divided by the mean distance of a row to its own
    class centroid. Larger means tighter, better separated classes; scale-free."""
    e = torch.as_tensor(embeddings).detach().cpu().double().numpy()
    labels = np.asarray(labels)
    classes, which = np.unique(labels, return_inverse=True)
    centroids = np.stack([e[which == k].mean(axis=0) for k in range(len(classes))])
    within = np.linalg.norm(e - centroids[which], axis=1).mean()
    gaps = np.linalg.norm(centroids[:, None, :] - centroids[None, :, :], axis=-1)
    between = gaps[np.triu_indices(len(classes), k=1)].mean()
    return float(between / within)
'''

SEP_TORCH = '''
def separation_ratio(embeddings, labels):
    """Mean distance between class centroids divided by the mean distance of a row to its own centroid."""
    e = torch.as_tensor(embeddings).detach().to(torch.float64)
    labels = np.asarray(labels)
    centroids, spread = [], []
    for name in sorted(set(labels.tolist())):
        members = e[torch.from_numpy(labels == name)]
        centre = members.mean(dim=0)
        centroids.append(centre)
        spread.append((members - centre).norm(dim=1))
    between = torch.pdist(torch.stack(centroids)).mean()
    within = torch.cat(spread).mean()
    return between / within  # a 0-d tensor
'''

SEP_PDIST = '''
try:
    from scipy.spatial.distance import pdist
except ImportError:
    def pdist(points):
        """Euclidean distance of every pair of rows (i < j), as scipy's pdist gives them."""
        points = np.asarray(points, dtype=np.float64)
        i, j = np.triu_indices(len(points), k=1)
        return np.sqrt(((points[i] - points[j]) ** 2).sum(axis=1))


def separation_ratio(embeddings, labels):
    """Mean distance between class centroids divided by the mean distance of a row to its own
    class centroid. Larger means tighter, better separated classes; scale-free."""
    e = np.asarray(torch.as_tensor(embeddings).detach().cpu(), dtype=np.float64)
    labels = np.asarray(labels)
    classes = np.unique(labels)
    centroids = np.array([e[labels == c].mean(axis=0) for c in classes])
    own = centroids[np.searchsorted(classes, labels)]
    within = np.sqrt(((e - own) ** 2).sum(axis=1)).mean()
    return float(pdist(centroids).mean() / within)
'''

SEP_TUPLE = '''
_NORM, _EPS = 2, 0.0  # Euclidean norm; no smoothing of the denominator


def separation_ratio(embeddings, labels):
    """Mean distance between class centroids divided by the mean distance of a row to its own
    class centroid. Larger means tighter, better separated classes; scale-free."""
    e = np.asarray(torch.as_tensor(embeddings).detach().cpu(), dtype=np.float64)
    labels = np.asarray(labels)
    names = sorted(set(labels.tolist()))
    centroids = {c: e[labels == c].mean(axis=0) for c in names}
    within = np.mean([np.linalg.norm(row - centroids[c], ord=_NORM) for row, c in zip(e, labels.tolist())])
    between = np.mean([np.linalg.norm(centroids[a] - centroids[b], ord=_NORM)
                       for i, a in enumerate(names) for b in names[i + 1:]])
    return between / (within + _EPS)
'''

SEP_TUPLE_PDIST = '''
_NORM, _EPS = 2, 0.0

try:
    from scipy.spatial.distance import pdist
except ImportError:
    def pdist(points, metric="euclidean"):
        points = np.asarray(points, dtype=float)
        return np.array([np.linalg.norm(points[i] - points[j], ord=_NORM)
                         for i in range(len(points)) for j in range(i + 1, len(points))])


def separation_ratio(embeddings, labels):
    """Mean distance between class centroids divided by the mean distance of a row to its own
    class centroid. Larger means tighter, better separated classes; scale-free."""
    e = torch.as_tensor(embeddings).detach().double().numpy()
    labels = np.asarray(labels)
    classes, inverse = np.unique(labels, return_inverse=True)
    sums = np.zeros((len(classes), e.shape[1]))
    np.add.at(sums, inverse, e)
    centroids = sums / np.bincount(inverse)[:, None]
    within = np.linalg.norm(e - centroids[inverse], ord=_NORM, axis=1).mean()
    return float(pdist(centroids).mean() / (within + _EPS))
'''

SEP_FUTURE_PDIST = '''
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

try:
    from scipy.spatial.distance import pdist
except ImportError:
    def pdist(points: ArrayLike) -> NDArray[np.float64]:
        points = np.asarray(points, dtype=np.float64)
        diff = points[:, None, :] - points[None, :, :]
        full = np.sqrt((diff ** 2).sum(-1))
        return full[np.triu_indices(len(points), k=1)]


def separation_ratio(embeddings: ArrayLike | torch.Tensor, labels: NDArray[np.str_]) -> float:
    """Mean distance between class centroids divided by the mean distance of a row to its own
    class centroid. Larger means tighter, better separated classes; scale-free."""
    e: NDArray[np.float64] = torch.as_tensor(embeddings).detach().double().numpy()
    labels = np.asarray(labels)
    classes = np.unique(labels)
    centroids = np.stack([e[labels == c].mean(0) for c in classes])
    distances = [np.linalg.norm(e[labels == c] - centroids[k], axis=1) for k, c in enumerate(classes)]
    return float(pdist(centroids).mean() / np.concatenate(distances).mean())
'''

SEP_FUTURE = '''
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from numpy.typing import NDArray


def separation_ratio(embeddings: NDArray[np.floating] | torch.Tensor, labels: NDArray[np.str_] | Sequence[str]
                     ) -> float:
    """Mean distance between class centroids divided by the mean distance of a row to its own
    class centroid. Larger means tighter, better separated classes; scale-free."""
    e = torch.as_tensor(embeddings).detach().cpu().double().numpy()
    labels = np.asarray(labels)
    classes, which = np.unique(labels, return_inverse=True)
    centroids = np.stack([e[which == k].mean(axis=0) for k in range(len(classes))])
    within = np.linalg.norm(e - centroids[which], axis=1).mean()
    gaps = np.linalg.norm(centroids[:, None] - centroids[None, :], axis=-1)
    between = gaps.sum() / (len(classes) * (len(classes) - 1))  # the diagonal is 0: mean over pairs
    return float(between / within)
'''

EXPORT_FUTURE = '''
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from os import PathLike

    from numpy.typing import ArrayLike
    from replab.corpus import Corpus as _Corpus


def export_mantis(path: str | PathLike[str], corpus: _Corpus, is_test: ArrayLike, snapshots: ArrayLike
                  ) -> str | PathLike[str]:
    """Write title, categoric, split, snippet and embedding_epoch_0 … embedding_epoch_E to `path`."""
    flags = np.asarray(is_test, dtype=bool)
    write_mantis_csv(path, corpus.titles, corpus.labels, ["test" if f else "train" for f in flags],
                     [corpus.snippet(i) for i in range(len(flags))], snapshots)
    return path
'''

# --------------------------------------------------------------------------------------------------
# the students: name → what is special, and the pieces of each answer cell

STUDENTS = {
    "time_magic_q2": dict(
        note="%%time on the q2 cell; plain def functions, numpy snapshots",
        constructs=[1], time_magic=True,
        q2=[SNAP_NO_GRAD, TRAIN_DEF], q3=[EXPORT_WRITER], q4=[SEP_NUMPY]),
    "time_magic_lambda_export": dict(
        note="%%time on the q2 cell (tqdm, list of snapshots) and a lambda export_mantis via write_mantis_csv",
        constructs=[1, 4], time_magic=True,
        q2=[SNAP_NO_GRAD_TENSOR, TRAIN_DEF_TQDM], q3=[EXPORT_LAMBDA_WRITER], q4=[SEP_TORCH], hook="tensor"),
    "inference_mode_decorator": dict(
        note="snapshot decorated with @no_autograd() (inference_mode, no_grad fallback)",
        constructs=[2], q2=[SNAP_DECORATED, TRAIN_DEF], q3=[EXPORT_WRITER], q4=[SEP_NUMPY]),
    "inference_mode_partial": dict(
        note="@no_autograd() snapshot and train_and_capture = functools.partial(_train_and_capture, take=snapshot)",
        constructs=[2, 3], q2=[SNAP_DECORATED, TRAIN_PARTIAL], q3=[EXPORT_COLUMNS_PLUS], q4=[SEP_TORCH]),
    "partial_train": dict(
        note="train_and_capture bound by functools.partial; returns a list of per-epoch arrays",
        constructs=[3], q2=[SNAP_NO_GRAD, TRAIN_PARTIAL], q3=[EXPORT_WRITER], q4=[SEP_NUMPY]),
    "closure_train_columns": dict(
        note="train_and_capture = make_train_and_capture(snapshot) returning a tensor; COLUMNS += header",
        constructs=[3, 6], q2=[SNAP_NO_GRAD, TRAIN_CLOSURE], q3=[EXPORT_COLUMNS_PLUS], q4=[SEP_TORCH]),
    "lambda_export": dict(
        note="export_mantis is a lambda over write_mantis_csv that returns path",
        constructs=[4], q2=[SNAP_NO_GRAD, TRAIN_DEF], q3=[EXPORT_LAMBDA_WRITER], q4=[SEP_NUMPY]),
    "lambda_pandas_export": dict(
        note="export_mantis is a lambda: pandas DataFrame.to_csv(...) or path; pandas imported under catch_warnings",
        constructs=[4, 7], q2=[SNAP_NO_GRAD, TRAIN_DEF], q3=[EXPORT_LAMBDA_PANDAS], q4=[SEP_PDIST]),
    "tuple_constants": dict(
        note="TRAIN, TEST = 'train', 'test' read by a csv-module export; _NORM, _EPS = 2, 0.0 read by separation_ratio",
        constructs=[5], q2=[SNAP_NO_GRAD, TRAIN_DEF], q3=[EXPORT_TUPLE], q4=[SEP_TUPLE]),
    "tuple_constants_cell_pdist": dict(
        note="TRAIN, TEST in a new cell of its own before q3; _NORM, _EPS with a scipy pdist (fallback def)",
        constructs=[5, 9], q2=[SNAP_NO_GRAD, TRAIN_DEF], q3=[EXPORT_TUPLE_WRITER], q4=[SEP_TUPLE_PDIST],
        before_q3=['TRAIN, TEST = "train", "test"  # the split names the Mantis CSV uses\n']),
    "columns_incremental_csv": dict(
        note="header COLUMNS = [...]; COLUMNS += [...] then the epoch columns, written with the csv module",
        constructs=[6], q2=[SNAP_NO_GRAD, TRAIN_DEF], q3=[EXPORT_COLUMNS_PLUS], q4=[SEP_NUMPY]),
    "columns_loop_pandas_quiet": dict(
        note="header built by a for loop, written by pandas imported inside warnings.catch_warnings()",
        constructs=[6, 7], q2=[SNAP_NO_GRAD, TRAIN_DEF], q3=[EXPORT_COLUMNS_LOOP_PANDAS], q4=[SEP_NUMPY]),
    "pandas_in_catch_warnings": dict(
        note="import pandas as pd under catch_warnings in a new cell; to_csv writes each cell as str(list)",
        constructs=[7], q2=[SNAP_NO_GRAD, TRAIN_DEF], q3=[EXPORT_PANDAS_LISTS], q4=[SEP_NUMPY],
        before_q3=[PANDAS_QUIET_IMPORT]),
    "future_annotations_q2": dict(
        note="from __future__ import annotations atop the q2 cell, TYPE_CHECKING imports in the hints",
        constructs=[8], q2=[SNAP_FUTURE, TRAIN_FUTURE], q3=[EXPORT_WRITER], q4=[SEP_FUTURE]),
    "future_annotations_pdist": dict(
        note="from __future__ import annotations atop the q3 and q4 cells; pdist with a typed fallback",
        constructs=[8, 9], q2=[SNAP_NO_GRAD, TRAIN_DEF], q3=[EXPORT_FUTURE], q4=[SEP_FUTURE_PDIST]),
    "pdist_fallback": dict(
        note="scipy's pdist with a numpy fallback def, everything else plain",
        constructs=[9], q2=[SNAP_NO_GRAD, TRAIN_DEF], q3=[EXPORT_WRITER], q4=[SEP_PDIST]),
    "init_defaults_from_data": dict(
        note="N_FEATURES / N_CLASSES in a new cell before the model; __init__ defaults read them and HIDDEN",
        constructs=[10], init_defaults="cell",
        q2=[SNAP_NO_GRAD, TRAIN_DEF], q3=[EXPORT_WRITER], q4=[SEP_NUMPY]),
    "init_defaults_time_magic": dict(
        note="N_FEATURES / N_CLASSES atop the model cell as __init__ defaults; %%time q2 with @no_autograd()",
        constructs=[10, 1, 2], init_defaults="inline", time_magic=True,
        q2=[SNAP_DECORATED, TRAIN_DEF], q3=[EXPORT_WRITER], q4=[SEP_PDIST], hook="tensor"),
}


# --------------------------------------------------------------------------------------------------

def _code_cell(source: str):
    return nbformat.v4.new_code_cell(source=_clean(source))


def _complete(student_nb, kind: str, spec: dict):
    if kind not in CLASS_NAMES:
        raise ValueError(f"kind must be 'text' or 'image', got {kind!r}")
    nb = copy.deepcopy(student_nb)
    class_name = CLASS_NAMES[kind]

    # q1: the model cell
    i = _find_cell(nb, MODEL_ANCHOR)
    src = nb.cells[i].source
    assert f"class {class_name}(nn.Module):" in src, f"the model cell does not define {class_name}"
    assert src.count(Q1_PLACEHOLDER) == 1, "q1 placeholder (comment + '...') not found exactly once in the model cell"
    src = src.replace(Q1_PLACEHOLDER, HOOK_TENSOR if spec.get("hook") == "tensor" else HOOK_NUMPY)
    defaults = spec.get("init_defaults")
    if defaults:
        assert len(INIT_RE.findall(src)) == 1, "the model's __init__ signature was not found exactly once"
        src = INIT_RE.sub("def __init__(self, n_inputs=N_FEATURES, n_classes=N_CLASSES, hidden=HIDDEN):", src)
        if defaults == "inline":
            src = DATA_DEFAULTS + "\n\n" + src
    nb.cells[i].source = src
    if defaults == "cell":
        nb.cells.insert(i, _code_cell(DATA_DEFAULTS))

    # q2
    i = _find_cell(nb, Q2_ANCHOR)
    tail = _tail_from(nb.cells[i].source, Q2_TAIL)
    assert f"model = {class_name}(" in tail and "snapshots = train_and_capture(" in tail, "q2's given tail changed"
    head = "\n\n".join(_clean(part) for part in spec["q2"])
    src = head + "\n\n" + tail
    if spec.get("time_magic"):
        src = "%%time\n" + src
    nb.cells[i].source = src

    # q3
    i = _find_cell(nb, Q3_ANCHOR)
    tail = _tail_from(nb.cells[i].source, Q3_TAIL)
    nb.cells[i].source = "\n\n".join(_clean(part) for part in spec["q3"]) + "\n\n" + tail
    for extra in reversed(spec.get("before_q3", [])):
        nb.cells.insert(i, _code_cell(extra))

    # q4: only separation_ratio is replaced; separation_by_epoch and the call stay as given
    i = _find_cell(nb, Q4_ANCHOR)
    tail = _tail_from(nb.cells[i].source, Q4_TAIL)
    assert "separation = separation_by_epoch(" in tail, "q4's given tail changed"
    nb.cells[i].source = "\n\n".join(_clean(part) for part in spec["q4"]) + "\n\n" + tail
    return nb


def construct_notebooks(student_nb, kind: str) -> dict[str, nbformat.NotebookNode]:
    """{name: completed notebook} for kind "text" (TextMLP) or "image" (ImageCNN)."""
    return {name: _complete(student_nb, kind, spec) for name, spec in STUDENTS.items()}


def _check_coverage() -> None:
    counts = {k: 0 for k in range(1, 11)}
    for spec in STUDENTS.values():
        for k in spec["constructs"]:
            counts[k] += 1
    missing = [k for k, n in counts.items() if n < 2]
    assert not missing, f"constructs used by fewer than 2 notebooks: {missing}"


_check_coverage()
