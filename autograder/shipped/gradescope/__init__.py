"""The Gradescope side of grading: what the zip's run_autograder and setup.sh call, and the local
trial of a zip as Gradescope runs it lives with the TA's tools (autograder/grading/batch.py).

    python -m autograder.shipped.gradescope setup       make the interpreter reachable to user mode's uids,
                                                        replay the reference training into the judge's cache
    python -m autograder.shipped.gradescope run         grade /autograder/submission into /autograder/results
    python -m autograder.shipped.gradescope fallback S  results.json with score 0 when `run` itself died (status S)
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path


from autograder.shipped import sandbox
from autograder.contract import GRADESCOPE_MEMORY_GB, GRADING_FILE, STUDENT_FILES, GradingSpec
from autograder.shipped.grade import Release, grade_one


def autograder_root() -> Path:
    return Path(os.environ.get("LAB8_AUTOGRADER_ROOT", "/autograder"))


def setup_user() -> None:
    """User mode's set-up, as the zip's setup.sh runs it (sandbox/user.py: setup)."""
    sandbox.user.setup()


def warm_replay(source: Path) -> None:
    """Replay the notebook's reference training once, while the image is built, into the judge's cache
    (root's home, closed to the sandbox user): each submission's run then starts with it."""
    from autograder.shipped.judge.reference import cached_lab_reference
    spec = GradingSpec.read(source / GRADING_FILE)
    cached_lab_reference(spec, Release(spec, source / STUDENT_FILES).data)


def _submitted_notebook(folder: Path, spec: GradingSpec) -> Path | None:
    found = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    named = [p for p in found if p.name == spec.notebook]
    zips = sorted(folder.glob("*.zip"))   # a zip left packed (refused by whoever unpacked it): staged, and named
    return (named or found or zips or [None])[0]


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
    """results.json when the grading run itself died. The container's memory counters tell a run the
    out-of-memory killer ended (Gradescope's default 768 MB is too little for PyTorch) from one that ran out
    of time: each container holds one submission, so any kill counted there was this grading's."""
    spec = GradingSpec.read(root / "source" / GRADING_FILE)
    memory = sandbox.memory_counters()
    if memory["oom_kills"]:
        limit = f"{memory['limit'] / 2**20:.0f} MB" if memory["limit"] else "the container's memory"
        peak = f", peak {memory['peak'] / 2**20:.0f} MB" if memory["peak"] else ""
        reason, outcome = (f"the autograder ran out of memory ({limit}{peak}): the course staff must raise the "
                           f"autograder's memory ({GRADESCOPE_MEMORY_GB} GB or more)", "infrastructure")
    elif status in (124, 137):
        reason, outcome = "the autograder ran out of time", "timeout"
    else:
        reason, outcome = f"the autograder stopped unexpectedly (status {status})", "grader error"
    tests = [{"name": q, "score": 0.0, "max_score": p, "status": "failed", "visibility": "visible",
              "output": f"Not graded: {reason}. Not the notebook's fault; a TA will look."}
             for q, p in spec.questions.items()]
    (root / "results").mkdir(parents=True, exist_ok=True)
    (root / "results" / "results.json").write_text(json.dumps(
        {"score": 0.0, "output": f"Score 0: {reason}.", "tests": tests,
         "extra_data": {"outcome": outcome, "memory": memory}}, indent=1))


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else "run"
    if command == "setup":
        setup_user()
        warm_replay(Path.cwd())   # setup.sh runs this from the unpacked zip
    elif command == "run":
        run(autograder_root())
    elif command == "fallback":
        fallback(autograder_root(), int(argv[1]) if len(argv) > 1 else -1)
    else:
        print(f"usage: python -m autograder.shipped.gradescope setup|run|fallback STATUS (got {command!r})", file=sys.stderr)
        return 2
    return 0
