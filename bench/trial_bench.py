"""P7: each variant's solution graded through the Gradescope-faithful trial (build.py grade --gradescope:
half a CPU, 3 GB, Docker's capabilities, no user namespaces), the whole run against Gradescope's
10-minute limit. Target: at least 30 % of the limit to spare for every variant.
P9: a class through that trial, --jobs 1 against --jobs 2 (each submission in its own container, with its own
uids and /tmp, as on Gradescope): the second may take the machine's two cores. Target ≥ 1.7.

    python bench/trial_bench.py DIST [--cpus 0.5]      (DIST: a release folder, e.g. bench/out/dist)
    python bench/trial_bench.py DIST --p9 [N]          (N copies of the wikipedia solution, default 8)
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT_S = 600   # Gradescope's default autograder timeout


def measure(dist: Path, cpus: float = 0.5, memory_gb: float = 3.0) -> dict:
    rows = {}
    for variant in sorted(json.loads((dist / "release.json").read_text())["variants"]):
        solution = dist / variant / "solutions" / f"lab8_{variant}.ipynb"
        with tempfile.TemporaryDirectory(prefix="lab8-p7-") as tmp:
            sub = Path(tmp) / solution.name
            shutil.copyfile(solution, sub)
            started = time.perf_counter()
            subprocess.run([sys.executable, "build.py", "grade", str(sub), "--variant", variant, "--release", str(dist),
                            "--gradescope", "--cpus", str(cpus), "--memory", str(memory_gb), "--out", f"{tmp}/out"],
                           cwd=ROOT, check=True, capture_output=True, text=True)
            wall = time.perf_counter() - started
            result = json.loads((Path(tmp) / "out" / sub.stem / "results.json").read_text())
        extra = result.get("extra_data", {})
        rows[variant] = {"score": result["score"], "trial_wall_s": round(wall, 1),
                         "graded_s": result.get("execution_time"), **extra.get("seconds", {}),
                         "memory_peak_mb": round((extra.get("trial", {}).get("memory_peak_bytes") or 0) / 2**20),
                         "sandbox": extra.get("sandbox"), "spare": round(1 - wall / LIMIT_S, 3)}
    return {"P7": min(r["spare"] for r in rows.values()), "cpus": cpus, "memory_gb": memory_gb,
            "limit_s": LIMIT_S, "variants": rows,
            "note": "trial wall includes the container's set-up per submission and the TA-side publish"}


def measure_p9(dist: Path, n: int = 8, variant: str = "wikipedia") -> dict:
    """The same N submissions through the trial with --jobs 1, then --jobs 2: seconds each, and the speed-up."""
    solution = dist / variant / "solutions" / f"lab8_{variant}.ipynb"
    walls, scores = {}, {}
    with tempfile.TemporaryDirectory(prefix="lab8-p9-") as tmp:
        subs = [Path(tmp) / f"s{i:02d}.ipynb" for i in range(n)]
        for sub in subs:
            shutil.copyfile(solution, sub)
        for jobs in (1, 2):
            started = time.perf_counter()
            subprocess.run([sys.executable, "build.py", "grade", *map(str, subs), "--variant", variant, "--release",
                            str(dist), "--gradescope", "--jobs", str(jobs), "--out", f"{tmp}/out{jobs}"],
                           cwd=ROOT, check=True, capture_output=True, text=True)
            walls[jobs] = round(time.perf_counter() - started, 1)
            scores[jobs] = sorted({json.loads((Path(tmp) / f"out{jobs}" / s.stem / "results.json").read_text())["score"]
                                   for s in subs})
    return {"P9": round(walls[1] / walls[2], 2), "submissions": n, "variant": variant, "jobs1_s": walls[1],
            "jobs2_s": walls[2], "scores": scores}


if __name__ == "__main__":
    if "--p9" in sys.argv:
        rest = sys.argv[sys.argv.index("--p9") + 1:]
        print(json.dumps(measure_p9(Path(sys.argv[1]), int(rest[0]) if rest else 8), indent=1))
        sys.exit()
    out = measure(Path(sys.argv[1]), float(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--cpus" else 0.5)
    print(json.dumps(out, indent=1))
