"""`python build.py validate` — the student-facing check of an export — and the CLI's error handling."""
import subprocess
import sys
from pathlib import Path

import numpy as np

from replab.mantis import write_mantis_csv

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args):
    return subprocess.run([sys.executable, "build.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def _export(path, epochs=11, dim=64):
    emb = np.random.default_rng(0).normal(size=(epochs, 4, dim)).astype(np.float32)
    write_mantis_csv(path, ["a", "b", "c", "d"], ["x", "x", "y", "y"], ["train", "test", "train", "test"],
                     ["s"] * 4, emb)
    return path


def test_validate_accepts_a_good_export(tmp_path):
    proc = _cli("validate", str(_export(tmp_path / "good.csv")), "--variant", "wikipedia")
    assert proc.returncode == 0 and "OK — 4 rows, epochs 0–10, 64 dimensions, 2 categories" in proc.stdout


def test_validate_names_file_and_problem_in_one_line(tmp_path):
    ten = _export(tmp_path / "ten.csv", epochs=10)
    proc = _cli("validate", str(ten))
    assert proc.returncode == 2 and "ten.csv" in proc.stderr and "embedding_epoch_10" in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    wrong_dim = _export(tmp_path / "dim.csv", dim=32)
    proc = _cli("validate", str(wrong_dim), "--variant", "wikipedia")
    assert proc.returncode == 2 and "dim.csv" in proc.stderr and "64" in proc.stderr
    proc = _cli("validate", str(tmp_path / "missing.csv"))
    assert proc.returncode == 2 and "missing.csv" in proc.stderr and "not found" in proc.stderr


def test_grade_without_a_release_says_what_to_do(tmp_path):
    nb = tmp_path / "sub.ipynb"
    nb.write_text("{}")
    proc = _cli("grade", str(nb), "--variant", "bbc", "--release", str(tmp_path / "nodist"), "--out", str(tmp_path / "g"))
    assert proc.returncode == 2 and "no autograder zip" in proc.stderr and "--variant bbc" in proc.stderr
