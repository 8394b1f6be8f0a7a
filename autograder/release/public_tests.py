"""The public tests: the test cells of the master notebook, one per autograded question, that students
run with grader.check(...). Each checks the basic form of every requirement the question states, and
nothing the hidden checks would not also accept (style is free where results are equal). The hidden
checks live on the judge side (autograder/shipped/judge/) and never run in the student's kernel.

Written assert-style: otter's default doctest format would compare against the master's saved
outputs, which an unexecuted master lacks.
"""
from __future__ import annotations

# A tiny hooked model of the tests' own, so q2's public test does not depend on q1.
_TINY = """\
import numpy as _np, torch as _t
class _Tiny(_t.nn.Module):
    def __init__(self):
        super().__init__(); _t.manual_seed(0)
        self.body, self.head = _t.nn.Linear(4, 3), _t.nn.Linear(3, 2)
        self.capture, self.embeddings, self.grad_seen = False, None, []
    def forward(self, x):
        h = self.body(x)
        if self.capture:
            self.grad_seen.append(_t.is_grad_enabled()); self.embeddings = h.detach().cpu().numpy()
        return self.head(_t.relu(h))
def _arr(v):
    return _np.stack([_arr(e) for e in v]) if isinstance(v, (list, tuple)) else \\
        (v.detach().cpu().double().numpy() if isinstance(v, _t.Tensor) else _np.asarray(v, dtype=float))
"""

PUBLIC = {
    "q1_hook": (
        "import numpy as _np, torch as _t\n"
        "_m = MODEL_CLASS(x.shape[1], len(corpus.class_names), hidden=HIDDEN)\n"
        "_m.train(); _m.capture = True\n"
        "_ = _m(x[:4])  # a training-style pass: train mode, autograd on\n"
        "_e = _m.embeddings\n"
        "assert _e is not None, 'with capture on, forward should store self.embeddings'\n"
        "assert not getattr(_e, 'requires_grad', False), 'store the embeddings detached from autograd (h.detach())'\n"
        "assert tuple(_e.shape) == (4, EMBEDDING_DIM), f'for 4 rows, self.embeddings should have shape (4, {EMBEDDING_DIM}), got {tuple(_e.shape)}'\n"
        "_m.capture = False\n"
        "_ = _m(x[:2])\n"
        "assert _m.embeddings is None or _m.embeddings is _e, 'with capture off, forward should store nothing'"
    ),
    "q2_capture": _TINY + (
        "_x = _t.randn(300, 4, generator=_t.Generator().manual_seed(1))\n"
        "_m = _Tiny(); _m.eval()\n"
        "_s = _arr(snapshot(_m, _x))\n"
        "assert _s.shape == (300, 3), f'snapshot of 300 rows should have shape (300, 3), got {_s.shape}'\n"
        "with _t.no_grad():\n"
        "    assert _np.allclose(_s, _m.body(_x).numpy(), atol=1e-5), 'snapshot rows should be the hooked layer output, in row order'\n"
        "assert _m.grad_seen and not any(_m.grad_seen), 'snapshot should switch capture on and run without autograd'\n"
        "_y = _t.randint(0, 2, (300,), generator=_t.Generator().manual_seed(2))\n"
        "_m = _Tiny(); _first = _arr(snapshot(_m.eval(), _x))\n"
        "_s = _arr(train_and_capture(_m, _x, _y, _t.arange(0, 300, 2), epochs=2, lr=0.05, batch_size=BATCH_SIZE,\n"
        "                            generator=_t.Generator().manual_seed(0)))\n"
        "assert _s.shape == (3, 300, 3), f'2 epochs should give 3 snapshots (epoch 0 first): got shape {_s.shape}'\n"
        "assert _np.allclose(_s[0], _first, atol=1e-5), 'snapshot 0 should be taken before any training step'\n"
        "assert not _np.allclose(_s[1], _s[0]), 'each later snapshot should follow one epoch of training'\n"
        "assert len(snapshots) == EPOCHS + 1, 'snapshots should hold epoch 0 plus one snapshot per epoch'"
    ),
    "q3_export": (
        "import numpy as _np\n"
        "_table = read_mantis_csv(CSV_NAME, epochs=EPOCHS + 1, dim=EMBEDDING_DIM, n_rows=len(corpus))\n"
        "assert _table.titles == list(corpus.titles), 'one row per item, in the data order, titled corpus.titles'\n"
        "assert _table.splits == ['test' if t else 'train' for t in is_test], 'split should follow is_test'\n"
        "assert _np.allclose(_table.embeddings, as_snapshots(snapshots), atol=1e-5), 'embedding_epoch_k should hold snapshots[k]'"
    ),
    "q4_separation": (
        "import numpy as _np\n"
        "_e = _np.array([[0, 0], [2, 0], [10, 0], [12, 0]], dtype=_np.float32)\n"
        "_r = separation_ratio(_e, _np.array(['a', 'a', 'b', 'b']))\n"
        "assert abs(float(_r) - 10.0) < 1e-4, f'centroids 10 apart, rows 1 from their centroid: expected 10, got {_r}'\n"
        "assert len(separation) == EPOCHS + 1, 'one separation value per snapshot'"
    ),
}


def _config_header(points: float, hidden: bool) -> str:
    return f'""" # BEGIN TEST CONFIG\npoints: {points:g}\nhidden: {str(hidden).lower()}\n""" # END TEST CONFIG\n'


def public_test(question: str, model_class: str = "") -> str:
    """The test cell: its body runs with stdout and stderr captured, so a student's prints, warnings
    and progress bars (and values the statements return) never fail it: otter compares a public
    test's output with nothing. model_class: the name of the kind's model class (q1 builds one)."""
    source = PUBLIC[question].replace("MODEL_CLASS", model_class)
    body = "\n".join("    " + line if line else line for line in source.splitlines())
    return (_config_header(0, hidden=False)
            + "import contextlib as _cl, io as _io\n"
            + "with _cl.redirect_stdout(_io.StringIO()), _cl.redirect_stderr(_io.StringIO()):\n" + body)
