"""After otter's Gradescope run: make sure results.json exists and can be trusted.

    python ensure_results.py EXIT_STATUS RESULTS_JSON SOURCE_DIR [SUBMISSION_DIR]

- No results.json (corrupt notebook, crash, time limit): write one with score 0 that lists every
  question with its points and says why.
- SUBMISSION_DIR given: the hidden checks, their expected values, the tests and the data that
  otter copied beside the notebook must be unchanged after the run; a notebook that rewrote them
  graded itself, so its results are replaced by a score of 0 naming the files.
"""
import glob
import hashlib
import json
import os
import sys


def question_points(tests_dir):
    """{question: max points} from otter's OK-format test files (each defines a dict `test`)."""
    points = {}
    for path in sorted(glob.glob(os.path.join(tests_dir, "*.py"))):
        scope = {}
        with open(path, encoding="utf-8") as f:
            exec(compile(f.read(), path, "exec"), scope)  # our own test files, written by the build
        test = scope["test"]
        cases = [c for suite in test["suites"] for c in suite["cases"]]
        points[test["name"]] = test.get("points") or sum(c.get("points") or 0 for c in cases)
    return points


def _digest(path):
    if os.path.islink(path) or not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def changed_files(source_dir, submission_dir):
    """Shipped files (source/files/** and source/tests/**) whose copy beside the notebook differs."""
    pairs = []
    for sub, dest in (("files", ""), ("tests", "tests")):
        root = os.path.join(source_dir, sub)
        for folder, _, names in os.walk(root):
            for name in names:
                rel = os.path.relpath(os.path.join(folder, name), root)
                pairs.append((os.path.join(root, rel), os.path.join(submission_dir, dest, rel)))
    return sorted(os.path.relpath(copy, submission_dir) for shipped, copy in pairs if _digest(shipped) != _digest(copy))


def zero_results(results_path, tests_dir, reason):
    tests = [{"name": q, "score": 0, "max_score": p, "status": "failed", "visibility": "visible",
              "output": f"Not graded: {reason}."} for q, p in question_points(tests_dir).items()]
    os.makedirs(os.path.dirname(results_path) or ".", exist_ok=True)
    with open(results_path, "w", encoding="utf-8") as f:
        json.dump({"score": 0, "output": f"Score 0: {reason}.", "tests": tests}, f, indent=1)


def main(status, results_path, source_dir, submission_dir=None):
    tests_dir = os.path.join(source_dir, "tests")
    if submission_dir:
        changed = changed_files(source_dir, submission_dir)
        if changed:
            zero_results(results_path, tests_dir, "the notebook changed files the autograder relies on ("
                         + ", ".join(changed[:5]) + "), so its results cannot be trusted")
            return
    if os.path.isfile(results_path) and os.path.getsize(results_path) > 0:
        return
    reason = ("grading stopped at the time limit (an endless loop, or far too much work?)"
              if status in (124, 137) else f"the autograder could not run the notebook (exit status {status}); "
              "is it a valid, uncorrupted .ipynb?")
    zero_results(results_path, tests_dir, reason)


if __name__ == "__main__":
    main(int(sys.argv[1]), *sys.argv[2:])
