"""replab.arrays.as_snapshots: every honest form of snapshots in, float32 (E, N, D) out; an unfinished q2 named in one line."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from replab import mantis, metrics, plots, viewer
from replab.arrays import as_snapshots

E, N, D = 3, 24, 5
LABELS = ["a", "b", "c"] * 8
IS_TEST = np.arange(N) % 4 == 0


def snapshots(dtype=np.float32):
    return np.random.default_rng(0).standard_normal((E, N, D)).astype(dtype)


FORMS = {
    "float32 array": lambda: snapshots(),
    "float64 array": lambda: snapshots(np.float64),
    "float16 array": lambda: snapshots(np.float16),
    "tensor": lambda: torch.from_numpy(snapshots()),
    "tensor with grad": lambda: torch.from_numpy(snapshots()).requires_grad_() * 1.0,
    "bfloat16 tensor": lambda: torch.from_numpy(snapshots()).to(torch.bfloat16),
    "list of arrays": lambda: list(snapshots()),
    "tuple of float64 arrays": lambda: tuple(snapshots(np.float64)),
    "list of tensors with grad": lambda: [torch.from_numpy(e).requires_grad_() for e in snapshots()],
}


@pytest.mark.parametrize("form", FORMS)
def test_every_honest_form_becomes_float32(form):
    got = as_snapshots(FORMS[form]())
    assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == (E, N, D)
    assert got.flags.c_contiguous
    exact = form not in ("float16 array", "bfloat16 tensor")
    assert np.allclose(got, snapshots(), atol=0 if exact else 0.05)


def test_a_float32_array_is_not_copied():
    array = snapshots()
    assert as_snapshots(array) is array


# What each function a student calls after q2 does with the snapshots (argument given as s).
CALLS = {
    "metrics.epoch_metrics": lambda s, tmp: metrics.epoch_metrics(s, LABELS, IS_TEST),
    "plots.plot_epoch_grid": lambda s, tmp: plots.plot_epoch_grid(s, LABELS, tmp / "grid.png"),
    "viewer.write_viewer_html": lambda s, tmp: viewer.write_viewer_html(tmp / "viewer.html", LABELS, LABELS, LABELS, s),
    "mantis.write_mantis_csv": lambda s, tmp: mantis.write_mantis_csv(tmp / "out.csv", LABELS, LABELS,
                                                                      np.where(IS_TEST, "test", "train"), LABELS, s),
}
UNFINISHED = {
    None: "snapshots is None: finish q2 (train_and_capture) and run its cell first",
    ...: "snapshots is ... (the placeholder): finish q2 (train_and_capture) and run its cell first",
}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("value", [None, ...], ids=["None", "Ellipsis"])
def test_unfinished_q2_is_named_in_one_line(call, value, tmp_path):
    with pytest.raises(ValueError) as info:
        CALLS[call](value, tmp_path)
    message = str(info.value)
    prefix = "out.csv: cannot write Mantis CSV: " if call.startswith("mantis") else ""
    assert message == prefix + UNFINISHED[value]
    assert info.value.__context__ is None or info.value.__suppress_context__  # one error in the traceback, not two
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("form", ["tensor with grad", "list of tensors with grad", "float64 array"])
def test_every_function_takes_every_form(call, form, tmp_path):
    CALLS[call](FORMS[form](), tmp_path)  # no error


@pytest.mark.parametrize("value, message", [
    ([snapshots()[0], None], "snapshots[1] is None: does snapshot return its array? finish q2"),
    (np.array([None, None]), "snapshots holds None values: finish q2"),
    ([], "snapshots is an empty list (no epochs): finish q2"),
    (snapshots()[0], "snapshots has shape (24, 5), expected (epochs, rows, dim) (one snapshot of every row per "
                     "epoch, stacked: np.stack)"),
    ([snapshots()[0], snapshots()[1][:, :3]], "snapshots: epoch 1 has shape (24, 3) but epoch 0 has (24, 5); "
                                              "every epoch needs the same (rows, dim)"),
    ([[[1.0, 2.0], [3.0]]], "snapshots[0] is not a (rows, dim) array: its rows have different lengths"),
    ({"epoch": 0}, "snapshots has type dict, expected an array of shape (epochs, rows, dim)"),
    (snapshots().astype(complex), "snapshots has dtype complex128, expected real numbers"),
    (torch.zeros(2, 3, 0), "snapshots has shape (2, 3, 0): it needs at least one epoch, row and dimension"),
])
def test_wrong_snapshots_are_named_in_one_line(value, message):
    with pytest.raises(ValueError) as info:
        as_snapshots(value)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_replab_does_not_import_torch():
    code = ("import sys; import replab.arrays, replab.mantis, replab.metrics, replab.plots, replab.viewer; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(metrics.__file__).parents[1])
