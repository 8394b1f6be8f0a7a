"""P4 and P5: what the grading engine costs, measured on a built release (`python build.py --out DIR`).

    P4 = time to grade the executed solution notebook with grade_submissions (jobs=1)
         / time to just execute the same notebook with nbclient beside the student support files
         (target ≤ 2.0: grading runs the notebook contained, then probes of the student's functions, and
         the judge computes its own reference run). The two are measured alternately, `repeats` times
         each; medians.
    P5 = wall time to grade n submissions (solution and blank student notebooks, alternating) with
         jobs=1 / with jobs=2 (target ≥ 1.7).

    python bench/grade_bench.py RELEASE_DIR [--variant wikipedia] [--n 20] [--repeats 5] [--only p4|p5]
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]

from autograder.contract import notebook_name, zip_name  # noqa: E402
from autograder.grading.batch import grade_submissions  # noqa: E402


def _release_files(release_dir, variant):
    base = Path(release_dir) / variant
    name = notebook_name(variant)
    files = {"solution": base / "solutions" / name, "student_dir": base / "student",
             "student": base / "student" / name, "zip": base / "autograder" / zip_name(variant)}
    for key, path in files.items():
        if not path.exists():
            raise FileNotFoundError(f"{path}: not in the release; build it with `python build.py --out {release_dir}`")
    return files


def _execute_plain(notebook: Path, student_dir: Path, timeout: int) -> float:
    """Seconds to run the notebook with nbclient in a fresh folder holding the student support files."""
    with tempfile.TemporaryDirectory(prefix="replab-bench-") as tmp:
        folder = Path(tmp)
        for item in student_dir.iterdir():
            if item.is_dir():
                shutil.copytree(item, folder / item.name)
        nb = nbformat.read(str(notebook), as_version=4)
        started = time.monotonic()
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(folder)}}).execute()
        return time.monotonic() - started


def _grade(submissions, zip_path, jobs, timeout) -> tuple[float, list[dict]]:
    with tempfile.TemporaryDirectory(prefix="replab-bench-out-") as out:
        started = time.monotonic()
        results = grade_submissions(submissions, zip_path, out, jobs=jobs, timeout=timeout, progress=False)
        return time.monotonic() - started, results


def measure_p4(release_dir, variant="wikipedia", repeats=5, timeout=900) -> dict:
    """Grading overhead on one notebook: median grade time / median plain execution time."""
    files = _release_files(release_dir, variant)
    grade_s, plain_s = [], []
    for _ in tqdm(range(repeats), desc="P4 grade vs execute", unit="pair"):
        seconds, [result] = _grade([files["solution"]], files["zip"], 1, timeout)
        if result["outcome"] != "graded":
            raise RuntimeError(f"{files['solution']}: grading failed ({result['output']})")
        grade_s.append(seconds)
        plain_s.append(_execute_plain(files["solution"], files["student_dir"], timeout))
    grade, plain = statistics.median(grade_s), statistics.median(plain_s)
    return {"metric": "P4", "grade_s": round(grade, 2), "execute_s": round(plain, 2),
            "ratio": round(grade / plain, 3), "target": "<= 2.0", "ok": grade / plain <= 2.0,
            "runs": {"grade_s": [round(s, 2) for s in grade_s], "execute_s": [round(s, 2) for s in plain_s]},
            "score": result["score"]}


def measure_p5(release_dir, n=20, variant="wikipedia", timeout=900) -> dict:
    """Parallel speed-up: wall time of n gradings with jobs=1 / with jobs=2."""
    files = _release_files(release_dir, variant)
    with tempfile.TemporaryDirectory(prefix="replab-bench-subs-") as tmp:
        subs = []
        for i in range(n):  # distinct files: solution and blank student notebooks, alternating
            source = files["solution"] if i % 2 == 0 else files["student"]
            subs.append(Path(tmp) / f"sub{i:03d}.ipynb")
            shutil.copyfile(source, subs[-1])
        walls = {}
        for jobs in tqdm((1, 2), desc=f"P5 {n} gradings", unit="run"):
            walls[jobs], results = _grade(subs, files["zip"], jobs, timeout)
            bad = [r["submission"] for r in results if r["outcome"] != "graded"]
            if bad:
                raise RuntimeError(f"P5 with jobs={jobs}: not graded: {', '.join(bad)}")
    speedup = walls[1] / walls[2]
    return {"metric": "P5", "n": n, "jobs1_s": round(walls[1], 1), "jobs2_s": round(walls[2], 1),
            "speedup": round(speedup, 3), "target": ">= 1.7", "ok": speedup >= 1.7}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("release", help="a release folder built by build.py")
    p.add_argument("--variant", default="wikipedia")
    p.add_argument("--n", type=int, default=20, help="submissions graded for P5")
    p.add_argument("--repeats", type=int, default=5, help="grade/execute pairs for P4")
    p.add_argument("--only", choices=("p4", "p5"))
    args = p.parse_args(argv)
    try:
        if args.only != "p5":
            print(json.dumps(measure_p4(args.release, args.variant, args.repeats)), flush=True)
        if args.only != "p4":
            print(json.dumps(measure_p5(args.release, args.n, args.variant)), flush=True)
    except (FileNotFoundError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
