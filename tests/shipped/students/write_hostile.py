"""Write the hostile corpus of one variant, and compare graded results with its expectations.

    python -m tests.shipped.students.write_hostile RELEASE_DIR VARIANT OUT_DIR
        writes OUT_DIR/<case>.ipynb for every case and OUT_DIR/expectations.json, grouped by batch:
        grade "main" cases together, the "slow" ones (endless loops) with the release's own timeouts,
        and the "nproc" pair on their own, two at a time:
        python build.py grade OUT_DIR/<case>.ipynb ... --variant VARIANT --release RELEASE_DIR --out GRADED --jobs 2

    python -m tests.shipped.students.write_hostile --compare OUT_DIR GRADED_DIR [GRADED_DIR ...]
        one line per case: expected, got, and what a correct grader would not have given; processes
        named by a case's `no_survivors` text that are still alive are counted against it.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import nbformat

from tests.shipped.students.hostile import POINTS, check_expectation, hostile_notebooks

KIND = {"wikipedia": "text", "bbc": "text", "cifar10": "image"}


def main(release_dir, variant: str, out_dir) -> dict:
    """Write every case of `variant` into out_dir; returns {case: expectation} (also expectations.json)."""
    release, out = Path(release_dir), Path(out_dir)
    solution = release / variant / "solutions" / f"lab8_{variant}.ipynb"
    blank = release / variant / "student" / f"lab8_{variant}.ipynb"
    for path in (solution, blank):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: not in the release")
    out.mkdir(parents=True, exist_ok=True)
    expectations = {}
    for name, (nb, expectation) in hostile_notebooks(solution, blank, KIND[variant]).items():
        nbformat.validate(nb)
        nbformat.write(nb, str(out / f"{name}.ipynb"))
        expectations[name] = expectation
    (out / "expectations.json").write_text(json.dumps({"variant": variant, "points": POINTS, "cases": expectations},
                                                      indent=1))
    return expectations


def survivors() -> list[str]:
    """Command lines of every process alive now (to look for a case's `no_survivors` text)."""
    import psutil
    lines = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            lines.append(" ".join(proc.info["cmdline"] or []))
        except psutil.Error:
            continue
    return lines


def describe(expectation: dict) -> str:
    parts = []
    if expectation.get("full"):
        parts.append("full")
    if "max_total" in expectation:
        parts.append(f"total≤{expectation['max_total']:g}")
    parts += [f"{q[:2]}={v:g}" for q, v in expectation.get("question", {}).items()]
    parts += [f"{q[:2]}≤{v:g}" for q, v in expectation.get("max", {}).items()]
    if expectation.get("others_full"):
        parts.append("others full")
    if expectation.get("full_for"):
        parts.append(",".join(q[:2] for q in expectation["full_for"]) + " full")
    if "outcome" in expectation:
        parts.append(f"outcome {expectation['outcome']}")
    if expectation.get("no_survivors"):
        parts.append(f"no '{expectation['no_survivors']}'")
    return " ".join(parts)


def compare(out_dir, graded_dirs, alive=None) -> list[dict]:
    """Rows {case, expected, got, violations} for every case graded in one of graded_dirs."""
    spec = json.loads((Path(out_dir) / "expectations.json").read_text())
    alive = survivors() if alive is None else alive
    rows = []
    for name, expectation in spec["cases"].items():
        found = [Path(g) / name / "results.json" for g in graded_dirs if (Path(g) / name / "results.json").is_file()]
        if not found:
            continue
        results = json.loads(found[0].read_text())
        got = {t["name"]: t["score"] for t in results.get("tests", [])}
        rows.append({"case": name, "class": expectation.get("class"), "expected": describe(expectation),
                     "got": " ".join(f"{q[:2]}={got.get(q, 0):g}" for q in spec["points"]) + f" = {results.get('score', 0):g}"
                            + f" ({results.get('extra_data', {}).get('outcome', '?')})",
                     "violations": check_expectation(expectation, results, spec["points"], alive)})
    return rows


def cli(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("args", nargs="+")
    parser.add_argument("--compare", action="store_true", help="OUT_DIR GRADED_DIR...: compare graded results")
    a = parser.parse_args(argv)
    if a.compare:
        rows = compare(a.args[0], a.args[1:])
        for r in rows:
            mark = "OK " if not r["violations"] else "BAD"
            print(f"{mark} {r['case']:<40} {r['expected']:<42} {r['got']}" +
                  ("".join(f"\n      - {v}" for v in r["violations"])))
        return 1 if any(r["violations"] for r in rows) else 0
    release, variant, out = a.args
    expectations = main(release, variant, out)
    batches = {}
    for name, e in expectations.items():
        batches.setdefault(e.get("batch", "main"), []).append(name)
    for batch, names in batches.items():
        print(f"{batch}: {len(names)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(cli())
