"""Peak memory of grading one submission: the whole process tree (the grader, bubblewrap, the driver,
the kernel and everything they start), sampled every 0.2 s and summed over processes as PSS (each
shared page counted once over the processes that share it, as a container's memory limit counts it;
RSS summed over the tree counts torch's libraries once per process and is reported beside it).

    python bench/memory_bench.py RELEASE_DIR [--variant cifar10]

The number to set Gradescope's memory limit from (README: Gradescope settings).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def tree_memory(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of pid and all its descendants, in bytes."""
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return 0, 0
    pss = rss = 0
    for proc in procs:
        try:
            info = proc.memory_full_info()
            pss, rss = pss + info.pss, rss + info.rss
        except psutil.Error:
            pass
    return pss, rss


def measure(release_dir: Path, variant: str) -> dict:
    notebook = Path(release_dir) / variant / "solutions" / f"lab8_{variant}.ipynb"
    with tempfile.TemporaryDirectory(prefix="lab8-mem-") as out:
        cmd = [sys.executable, "build.py", "grade", str(notebook), "--variant", variant, "--release",
               str(release_dir), "--out", out]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        peak_pss = peak_rss = 0
        started = time.monotonic()
        while proc.poll() is None:
            pss, rss = tree_memory(proc.pid)
            peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
            time.sleep(0.2)
        score = json.loads((Path(out) / notebook.stem / "results.json").read_text())["score"]
    return {"metric": "memory", "variant": variant, "peak_pss_mib": round(peak_pss / 2**20),
            "peak_rss_sum_mib": round(peak_rss / 2**20), "score": score,
            "seconds": round(time.monotonic() - started, 1)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("release")
    p.add_argument("--variant", default="cifar10")
    args = p.parse_args(argv)
    print(json.dumps(measure(Path(args.release), args.variant)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
