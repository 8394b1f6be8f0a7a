"""The Gradescope side of grading: what the zip's run_autograder and setup.sh call, and the local
trial of a zip as Gradescope runs it (`python build.py grade --gradescope`).

    python -m autograder.gradescope setup       create the sandbox user, make the interpreter reachable
    python -m autograder.gradescope run         grade /autograder/submission into /autograder/results
    python -m autograder.gradescope fallback S  results.json with score 0 when `run` itself died (status S)
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from autograder import sandbox
from autograder.contract import GRADING_FILE, STUDENT_FILES, GradingSpec
from autograder.grade import GradingError, Release, grade_one, unique_stems


def autograder_root() -> Path:
    return Path(os.environ.get("LAB8_AUTOGRADER_ROOT", "/autograder"))


def setup_user() -> None:
    """Create the unprivileged user student code runs as, when namespaces are refused, and let it reach
    the interpreter: search (not list) permission on the folders above the Python installation."""
    if sandbox.sandbox_user() is None:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        sandbox.SANDBOX_USER], check=True)
    for root in sandbox._python_roots():
        for folder in [Path(root), *Path(root).parents]:
            mode = folder.stat().st_mode
            if not mode & 0o001:
                os.chmod(folder, mode | 0o001)


def _submitted_notebook(folder: Path, spec: GradingSpec) -> Path | None:
    found = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    named = [p for p in found if p.name == spec.notebook]
    return (named or found or [None])[0]


def run(root: Path) -> dict:
    source, results = root / "source", root / "results"
    results.mkdir(parents=True, exist_ok=True)
    spec = GradingSpec.read(source / GRADING_FILE)
    release = Release(spec, source / STUDENT_FILES)
    notebook = _submitted_notebook(root / "submission", spec)
    mode = sandbox.choose_mode(os.environ.get("LAB8_SANDBOX") or "auto")
    if notebook is None:
        notebook = root / "submission" / "(no notebook submitted).ipynb"
    timeout = float(os.environ.get("LAB8_TIMEOUT") or 0) or None   # a trial's own limit (--timeout)
    return grade_one(notebook, release, results, mode, timeout=timeout, private=(source, results))


def fallback(root: Path, status: int) -> None:
    spec = GradingSpec.read(root / "source" / GRADING_FILE)
    reason = ("the autograder ran out of time" if status in (124, 137)
              else f"the autograder stopped unexpectedly (status {status})")
    tests = [{"name": q, "score": 0.0, "max_score": p, "status": "failed", "visibility": "visible",
              "output": f"Not graded: {reason}. A TA will look."} for q, p in spec.questions.items()]
    (root / "results").mkdir(parents=True, exist_ok=True)
    (root / "results" / "results.json").write_text(json.dumps(
        {"score": 0.0, "output": f"Score 0: {reason}.", "tests": tests}, indent=1))


def _one_like_gradescope(zip_path: Path, sub: Path, stem: str, tmp: Path, out_dir: Path, timeout=None) -> dict:
    root = tmp / stem / "autograder"
    for sub_dir in ("source", "submission", "results"):
        (root / sub_dir).mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
    for name in ("run_autograder", "setup.sh"):
        os.chmod(root / "source" / name, 0o755)
    if sub.suffix.lower() == ".zip":   # Gradescope unpacks an uploaded zip into submission/
        try:
            with zipfile.ZipFile(sub) as zf:
                zf.extractall(root / "submission")
        except zipfile.BadZipFile:
            pass
    elif sub.is_file():
        shutil.copyfile(sub, root / "submission" / sub.name)
    env = {**os.environ, "LAB8_AUTOGRADER_ROOT": str(root), "LAB8_PYTHON": sys.executable,
           "LAB8_TIMEOUT": str(timeout or "")}
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dest = out_dir / stem
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(root / "results", dest)
    shutil.rmtree(root.parent, ignore_errors=True)
    data = json.loads((dest / "results.json").read_text())
    outcome = data.get("extra_data", {}).get("outcome", "graded")
    return {"submission": stem, "source": str(sub), "outcome": outcome, **data}


def grade_like_gradescope(zip_path: Path, submissions, out_dir: Path, jobs: int = 1, timeout=None,
                          progress=True) -> list[dict]:
    """Each submission through the zip's own set-up and its real run_autograder, as root, in an
    /autograder tree laid out for it (path-mapped); results like `build.py grade` writes them."""
    if os.geteuid() != 0:
        raise GradingError("--gradescope runs the zip as Gradescope does, as root: run it as root")
    try:
        zipfile.ZipFile(zip_path).close()
    except (zipfile.BadZipFile, OSError) as e:
        raise GradingError(f"{zip_path}: not a usable autograder zip ({e})") from None
    out_dir = Path(out_dir)
    submissions = [Path(s) for s in submissions]
    if os.environ.get("LAB8_SANDBOX") == "user" or not sandbox.bwrap_works():
        jobs = 1   # the user fallback kills every process of its user after each run: one at a time
    with tempfile.TemporaryDirectory(prefix="lab8-gradescope-") as tmp:
        os.chmod(tmp, 0o755)
        with zipfile.ZipFile(zip_path) as zf:   # setup.sh's last step (its package installs are this machine's)
            zf.extractall(Path(tmp) / "setup")
        subprocess.run([sys.executable, "-m", "autograder.gradescope", "setup"], cwd=Path(tmp) / "setup", check=True)
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(_one_like_gradescope, Path(zip_path), sub, stem, Path(tmp), out_dir, timeout)
                       for sub, stem in zip(submissions, unique_stems(submissions))]
            return [f.result() for f in tqdm(futures, desc="grading (gradescope)", unit="nb", disable=not progress)]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else "run"
    if command == "setup":
        setup_user()
    elif command == "run":
        run(autograder_root())
    elif command == "fallback":
        fallback(autograder_root(), int(argv[1]) if len(argv) > 1 else -1)
    else:
        print(f"usage: python -m autograder.gradescope setup|run|fallback STATUS (got {command!r})", file=sys.stderr)
        return 2
    return 0
