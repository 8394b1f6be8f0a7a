"""Speed targets, each measured side by side in one run on this machine → bench/latest.json.

    P1  11 snapshots on top of training, CNN on 5,000 generated images: ours / plain      ≤ 1.5
    P2  Mantis CSV write, 5,000 × 11 × 128: original pandas style / ours                  ≥ 8
    P3  Mantis CSV read + parse: original ast.literal_eval style / our read + validate     ≥ 15
    P4  grading one submission / plain nbclient execution of it                           ≤ 2.0
    P5  grading 20 submissions: --jobs 1 / --jobs 2                                       ≥ 1.7
    P6  seconds for `python build.py --data-dir ../shared/fixtures`, per step             ≤ 240
    P7  each solution through the faithful Gradescope trial at half a CPU: share of the
        10-minute limit left, the worst variant                                          ≥ 0.30
    P8  the release's mutation proof: the wall time it adds (its step, waiting for the proof
        started beside verify) / the verify step's, the worst variant of P6's release      ≤ 1.0
    P9  a class of 8 through the Gradescope trial: --jobs 1 / --jobs 2                      ≥ 1.7

    python bench/run.py [--only P1,P2,...]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

TARGETS = {"P1": ("<=", 1.5), "P2": (">=", 8), "P3": (">=", 15), "P4": ("<=", 2.0), "P5": (">=", 1.7), "P6": ("<=", 240),
           "P7": (">=", 0.30), "P8": ("<=", 1.0), "P9": (">=", 1.7)}
OUT = BENCH / "out"


def p6_build() -> dict:
    """The full release on the shared fixtures, as an instructor runs it; the build's own step times."""
    dist = OUT / "dist"
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "build.py", "--data-dir", str(ROOT.parent / "shared" / "fixtures"),
                           "--out", str(dist), "--jobs", "2"], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"build failed: {proc.stderr.strip().splitlines()[-1:]}")
    manifest = json.loads((dist / "release.json").read_text())
    steps: dict[str, float] = {}
    for record in manifest["variants"].values():
        for step, s in record["seconds"].items():
            steps[step] = round(steps.get(step, 0) + s, 1)
    steps["worksheet"] = manifest["worksheet"]["seconds"]
    return {"P6": round(seconds, 1), "steps_summed_over_variants": steps, "jobs": 2}


def p8_mutation() -> dict:
    """From P6's release: per variant, the mutate step's wall seconds (what the proof adds to the release), the
    proof's own seconds (it runs beside verify) and the verify step's."""
    manifest = json.loads((OUT / "dist" / "release.json").read_text())
    rows = {name: {"mutate_step_s": r["seconds"]["mutate"], "proof_s": r["mutation"]["seconds"],
                   "verify_s": r["seconds"]["verify"], "caught": r["mutation"]["score"],
                   "ratio": round(r["seconds"]["mutate"] / r["seconds"]["verify"], 3)}
            for name, r in manifest["variants"].items()}
    return {"P8": max(r["ratio"] for r in rows.values()), "variants": rows}


def _named(key: str, field: str, result: dict) -> dict:
    return {key: result[field], **{k: v for k, v in result.items() if k not in (field, "metric", "target", "ok")}}


def measures() -> dict:
    import capture_bench
    import csv_bench
    import grade_bench
    import trial_bench
    return {
        "P1": capture_bench.measure,
        "P2": csv_bench.measure_write,
        "P3": csv_bench.measure_read,
        "P6": p6_build,  # before P4/P5: they grade the release it builds
        "P4": lambda: _named("P4", "ratio", grade_bench.measure_p4(OUT / "dist")),
        "P5": lambda: _named("P5", "speedup", grade_bench.measure_p5(OUT / "dist")),
        "P7": lambda: trial_bench.measure(OUT / "dist"),
        "P8": p8_mutation,   # from P6's release
        "P9": lambda: trial_bench.measure_p9(OUT / "dist"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated subset, e.g. P1,P2")
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else list(measures())
    latest_path = BENCH / "latest.json"
    latest = json.loads(latest_path.read_text()) if latest_path.exists() else {}
    OUT.mkdir(exist_ok=True)
    for key, fn in measures().items():
        if key not in chosen:
            continue
        print(f"measuring {key} …", flush=True)
        result = fn()
        latest[key] = {"value": round(result[key], 3), "target": " ".join(map(str, TARGETS[key])),
                       "details": {k: v for k, v in result.items() if k != key},
                       "measured": time.strftime("%Y-%m-%d %H:%M")}
        latest_path.write_text(json.dumps(dict(sorted(latest.items())), indent=1))  # after each: keep what is done
    print(f"\n{'':4} {'value':>8}  {'target':>7}  ok")
    for key, r in sorted(latest.items()):
        if key not in TARGETS:   # a measurement with no ratio target (e.g. memory, from its own bench)
            continue
        op, bound = TARGETS[key]
        ok = r["value"] <= bound if op == "<=" else r["value"] >= bound
        print(f"{key:4} {r['value']:>8.2f}  {op}{bound:<6}  {'yes' if ok else 'NO'}")
    print(f"written {latest_path}")


if __name__ == "__main__":
    main()
