"""End to end: `python build.py` releases a variant offline, verified; the pieces hold what they should."""
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from replab.corpus import sha256_file

ROOT = Path(__file__).resolve().parents[1]


def _build(out, *args):
    proc = subprocess.run([sys.executable, "build.py", "--out", str(out), "--variant", "wikipedia", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    return proc


@pytest.fixture(scope="module")
def release(tmp_path_factory, fixtures_dir):
    out = tmp_path_factory.mktemp("dist")
    proc = _build(out, "--data-dir", str(fixtures_dir))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out, proc.stdout


def test_release_is_verified_and_recorded(release, fixtures_dir):
    out, stdout = release
    manifest = json.loads((out / "release.json").read_text())
    wiki = manifest["variants"]["wikipedia"]
    assert wiki["solution"]["score"] == wiki["solution"]["possible"] == 10
    assert wiki["blank"]["score"] == 0 and not wiki["leaks"] and not wiki["problems"]
    assert wiki["data"]["source"].startswith("data-dir") and wiki["data"]["items"] == 397
    assert wiki["data"]["sha256"] == sha256_file(out / "wikipedia/student/data/wikipedia.npz")
    for rel, digest in wiki["files"].items():
        assert sha256_file(out / rel) == digest
    assert set(wiki["seconds"]) == {"data", "render", "assign", "execute", "verify"}
    assert "wikipedia" in stdout and "10/10" in stdout  # the summary table


def test_student_folder_holds_only_what_students_need(release):
    out, _ = release
    student = out / "wikipedia" / "student"
    files = {p.relative_to(student).as_posix() for p in student.rglob("*") if p.is_file()}
    assert "lab8_wikipedia.ipynb" in files and "data/wikipedia.npz" in files and "replab/mantis.py" in files
    assert not any("checks" in f or "expected" in f or "offline" in f for f in files)
    nb = nbformat.read(student / "lab8_wikipedia.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "self.embeddings = h.detach().cpu().numpy()" not in text and "_lab8_checks" not in text
    assert text.count("...") >= 6  # the four questions' bodies are blanks


def test_solution_outputs_and_autograder_zip(release):
    out, _ = release
    sol = out / "wikipedia" / "solutions"
    for name in ("lab8_wikipedia.ipynb", "mantis_embeddings.csv", "epoch_grid.png", "metrics.png", "viewer.html"):
        assert (sol / name).is_file(), name
    zip_path = out / "wikipedia/autograder/lab8_wikipedia_autograder.zip"
    with zipfile.ZipFile(zip_path) as z:
        names = set(z.namelist())
        env = z.read("environment.yml").decode()
    assert {"run_autograder", "setup.sh", "environment.yml", "otter_config.json", "files/lab8_checks.py",
            "files/lab8_expected.json", "files/data/wikipedia.npz", "tests/q1_hook.py"} <= names
    import torch
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in env
    assert f"torch=={torch.__version__.split('+')[0]}+cpu" in env and "otter-grader[grading]==7.0.0" in env


def test_grading_by_hand_with_otter_run_agrees(release, tmp_path):
    """What the build recorded is what `otter run -a <zip>` gives, also for a renamed notebook."""
    out, _ = release
    zip_path = out / "wikipedia/autograder/lab8_wikipedia_autograder.zip"
    scores = {}
    for label, nb in (("solution", out / "wikipedia/solutions/lab8_wikipedia.ipynb"),
                      ("student", out / "wikipedia/student/lab8_wikipedia.ipynb")):
        work = tmp_path / label
        (work / "out").mkdir(parents=True)
        target = work / f"my_{label}_copy.ipynb"  # renamed on purpose
        target.write_bytes(nb.read_bytes())
        subprocess.run([sys.executable, "-m", "otter", "run", "-a", str(zip_path), "-o", "out", target.name],
                       cwd=work, capture_output=True, timeout=600, check=True)
        results = json.loads((work / "out/results.json").read_text())
        scores[label] = sum(t.get("score") or 0 for t in results["tests"])
    assert scores == {"solution": 10, "student": 0}


def test_offline_build_without_data_dir_uses_the_embedded_default(tmp_path):
    proc = _build(tmp_path, "--offline")
    assert proc.returncode == 0, proc.stderr[-2000:]
    wiki = json.loads((tmp_path / "release.json").read_text())["variants"]["wikipedia"]
    assert wiki["data"]["source"].startswith("offline default") and wiki["solution"]["score"] == 10
    assert "offline default" in proc.stdout


def test_bad_arguments_fail_with_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "build.py", "--data-dir", str(tmp_path / "nope"), "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "--data-dir is not a folder" in proc.stderr


def test_zip_guards_otter_faults_on_gradescope(release, tmp_path):
    """run_autograder is ours (time limit, kernel clean-up), and ensure_results.py fills in a
    results.json listing every question when otter wrote none, and zeroes a run whose notebook
    rewrote the shipped checks."""
    out, _ = release
    zip_path = out / "wikipedia/autograder/lab8_wikipedia_autograder.zip"
    source = tmp_path / "source"
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(source)
        runner = z.read("run_autograder").decode()
        mode = z.getinfo("run_autograder").external_attr >> 16
    assert "timeout" in runner and "ensure_results.py" in runner and mode & 0o111
    ensure = [sys.executable, str(source / "ensure_results.py")]
    results = tmp_path / "results" / "results.json"
    subprocess.run(ensure + ["124", str(results), str(source)], check=True)
    data = json.loads(results.read_text())
    assert data["score"] == 0 and "time limit" in data["output"]
    assert {t["name"]: t["max_score"] for t in data["tests"]} == {"q1_hook": 2, "q2_capture": 3, "q3_export": 2, "q4_separation": 3}

    # what otter's runner lays out beside the notebook: files/* and tests/
    submission = tmp_path / "submission"
    shutil.copytree(source / "files", submission)
    shutil.copytree(source / "tests", submission / "tests")
    results.write_text('{"score": 10}')
    subprocess.run(ensure + ["0", str(results), str(source), str(submission)], check=True)
    assert json.loads(results.read_text()) == {"score": 10}  # untouched: otter's results stand
    (submission / "lab8_checks.py").write_text("def run(name, ns): pass\n")
    subprocess.run(ensure + ["0", str(results), str(source), str(submission)], check=True)
    data = json.loads(results.read_text())
    assert data["score"] == 0 and "lab8_checks.py" in data["output"]
