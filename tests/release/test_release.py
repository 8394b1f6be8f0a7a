"""End to end: `python build.py` releases every variant, verified; the pieces hold what they should."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from replab.corpus import Corpus, sha256_file

ROOT = Path(__file__).resolve().parents[2]


def _build(out, *args):
    proc = subprocess.run([sys.executable, "build.py", "--out", str(out), "--variant", "wikipedia", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    return proc


@pytest.mark.slow
def test_release_is_verified_and_recorded(release, fixtures_dir):
    """Slow: the session's full release of every variant (each solution and blank notebook executed and graded)."""
    out, stdout = release
    manifest = json.loads((out / "release.json").read_text())
    for name, variant in manifest["variants"].items():  # every variant: full marks, blank 0, no leak
        assert variant["solution"]["score"] == variant["solution"]["possible"] == 10, name
        if os.geteuid() == 0:   # verified where students are graded: the Gradescope trial, which picks user mode
            assert variant["trial"]["path"] == "gradescope trial" and variant["solution"]["sandbox"] == "user", name
            assert variant["trial"]["container"].startswith("0.5 CPU, 3 GiB"), variant["trial"]
            assert variant["trial"]["solution_seconds"] <= 0.7 * 600, variant["trial"]   # 30 % to spare
        else:
            assert variant["trial"]["path"] == "local" and variant["solution"]["sandbox"] == "bwrap", name
        assert variant["blank"]["score"] == 0 and not variant["leaks"] and not variant["problems"], name
    wiki = manifest["variants"]["wikipedia"]
    assert wiki["data"]["source"].startswith("data-dir") and wiki["data"]["items"] == 397
    assert wiki["data"]["snapshot_sha256"] == sha256_file(out / "wikipedia/student/data/wikipedia.npz")
    assert wiki["data"]["sha256"] == Corpus.load(out / "wikipedia/student/data/wikipedia.npz").digest()
    for rel, digest in wiki["files"].items():
        assert sha256_file(out / rel) == digest
    assert list(wiki["seconds"]) == ["data", "render", "assign", "execute", "verify", "mutate", "publish"]  # in order
    sep = wiki["separation"]
    assert sep["silhouette_last"] >= sep["silhouette_min"] and sep["silhouette_last"] - sep["silhouette_first"] >= sep["silhouette_gain_min"]
    assert not (out / ".work").exists()
    assert "wikipedia" in stdout and "10/10" in stdout  # the summary table


@pytest.mark.slow
def test_student_folder_holds_only_what_students_need(release):
    """Slow: reads the session's full release."""
    out, _ = release
    student = out / "wikipedia" / "student"
    files = {p.relative_to(student).as_posix() for p in student.rglob("*") if p.is_file()}
    assert "lab8_wikipedia.ipynb" in files and "data/wikipedia.npz" in files and "replab/mantis.py" in files
    # the public checks' runner (replab/checks.py) is the students'; nothing of the hidden checks or the judge is
    assert "replab/checks.py" in files
    assert not any("lab8_checks" in f or "expected" in f or "offline" in f or "judge" in f for f in files)
    nb = nbformat.read(student / "lab8_wikipedia.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "self.embeddings = h.detach().cpu().numpy()" not in text and "autograder.shipped.judge" not in text
    assert text.count("...") >= 6  # the four questions' bodies are blanks


@pytest.mark.slow
def test_solution_outputs_and_autograder_zip(release, cfg):
    """Slow: reads the session's full release."""
    out, _ = release
    sol = out / "wikipedia" / "solutions"
    for name in ("lab8_wikipedia.ipynb", "mantis_embeddings.csv", "epoch_grid.png", "metrics.png", "viewer.html"):
        assert (sol / name).is_file(), name
    zip_path = out / "wikipedia/autograder/lab8_wikipedia_autograder.zip"
    with zipfile.ZipFile(zip_path) as z:
        names = set(z.namelist())
        requirements = z.read("requirements.txt").decode()
        spec = json.loads(z.read("grading.json"))
        runner_mode = z.getinfo("run_autograder").external_attr >> 16
    assert {"run_autograder", "setup.sh", "requirements.txt", "grading.json", "autograder/shipped/judge/checks.py",
            "autograder/shipped/sandbox/driver.py", "autograder/contract.py", "solutions/kinds.py", "solutions/capture.py", "replab/mantis.py",
            "student_files/data/wikipedia.npz", "student_files/tests/q1_hook.py"} <= names
    assert runner_mode & 0o111
    assert not any(n.startswith(("otter_config", "files/")) or "offline/" in n for n in names)  # otter's zip is not ours
    # what ships is the shipped room: no release or TA code, no build-side data sources
    assert not any(n.startswith(("autograder/release/", "autograder/grading/", "assignment/")) for n in names)
    assert spec["questions"] == cfg.points and spec["notebook"] == "lab8_wikipedia.ipynb"
    import torch
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in requirements
    assert f"torch=={torch.__version__.split('+')[0]}+cpu" in requirements


@pytest.mark.slow
def test_gradescope_fallback_lists_every_question_when_the_run_dies(release, tmp_path):
    """Slow: uses the session's full release. run_autograder always leaves a results.json: when the Python run itself is killed (here: an
    interpreter that exits at once), its fallback scores every question 0 and says why."""
    out, _ = release
    root = tmp_path / "autograder"
    with zipfile.ZipFile(out / "wikipedia/autograder/lab8_wikipedia_autograder.zip") as z:
        z.extractall(root / "source")
    (root / "submission").mkdir()
    fake = tmp_path / "python"
    fake.write_text(f"#!/bin/sh\n[ \"$3\" = fallback ] && exec {sys.executable} \"$@\"\nexit 137\n")
    fake.chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "LAB8_AUTOGRADER_ROOT": str(root), "LAB8_PYTHON": str(fake)}
    subprocess.run(["bash", str(root / "source/run_autograder")], env=env, check=True, timeout=120)
    data = json.loads((root / "results/results.json").read_text())
    assert data["score"] == 0 and "out of time" in data["output"]
    assert {t["name"]: t["max_score"] for t in data["tests"]} == {"q1_hook": 2, "q2_capture": 3, "q3_export": 2,
                                                                 "q4_separation": 3}


def test_offline_build_without_data_dir_uses_the_embedded_default(small_release):
    """The quick tier's one end-to-end path (the session's small release, about 35 s): one variant on its
    embedded offline corpus, rendered, assigned, its solution executed and graded in the sandbox (full
    marks), the untouched student notebook graded (0 on every question), leak-scanned, published."""
    out, stdout = small_release
    wiki = json.loads((out / "release.json").read_text())["variants"]["wikipedia"]
    assert wiki["data"]["source"].startswith("offline default") and wiki["solution"]["score"] == 10
    assert wiki["blank"]["score"] == 0 and not wiki["leaks"] and not wiki["problems"]
    assert "offline default" in stdout
    assert wiki["trial"]["path"] == ("gradescope trial" if os.geteuid() == 0 else "local"), wiki["trial"]


def test_bad_arguments_fail_with_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "build.py", "--data-dir", str(tmp_path / "nope"), "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "--data-dir is not a folder" in proc.stderr


@pytest.mark.slow   # tens of seconds (a release or a kernel run to its limits): the full tier
def test_a_failed_step_keeps_its_work_and_still_records_the_release(tmp_path):
    """The release stops a variant at the failing step, keeps .work (the message points into it) and
    still writes release.json; here the execute step fails because no notebook may run for 1 s."""
    proc = _build(tmp_path, "--offline", "--timeout", "1")
    assert proc.returncode == 1
    record = json.loads((tmp_path / "release.json").read_text())["variants"]["wikipedia"]
    assert list(record["seconds"]) == ["data", "render", "assign", "execute"]
    assert record["problems"][0].startswith("execute: ") and "FAILED wikipedia: execute: " in proc.stderr
    assert (tmp_path / ".work" / "wikipedia" / "assigned").is_dir() and not (tmp_path / "wikipedia").exists()
