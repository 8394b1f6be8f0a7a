"""One self-contained HTML page for TAs summarising a grading run.

Score histogram, pass rate per test, the most common failures, a row per submission
with its held-out separation curve over epochs. Inline CSS and SVG only: it opens offline.
"""

import math
import re
from collections import Counter
from pathlib import Path

import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"
TEMPLATE_NAME = "report.html.j2"
HIST_W, HIST_H = 480, 160  # histogram drawing area, in SVG units
SPARK_W, SPARK_H = 120, 28


def _questions(result):
    return result["tests"]


def _possible(results):
    return max((sum(t["max_score"] for t in _questions(r)) for r in results), default=0.0)


def score_histogram(scores, possible):
    """Bars for the score distribution: one per whole point when that is few bars, else 10 bins."""
    possible = possible if possible > 0 else (max(scores, default=0.0) or 1.0)
    per_point = float(possible).is_integer() and possible <= 20
    n_bins = int(possible) + 1 if per_point else 10
    width = 1.0 if per_point else possible / n_bins
    counts = [0] * n_bins
    for score in scores:
        counts[min(n_bins - 1, max(0, int(score / width + 1e-9)))] += 1
    top = max(counts, default=0) or 1
    bar_w = HIST_W / n_bins
    bars = []
    for i, count in enumerate(counts):
        height = HIST_H * count / top
        label = f"{i:g}" if per_point else f"{i * width:.3g}–{(i + 1) * width:.3g}"
        bars.append({"x": i * bar_w + 1, "y": HIST_H - height, "w": bar_w - 2, "h": height,
                     "count": count, "label": label, "label_x": i * bar_w + bar_w / 2})
    return bars


def pass_rates(results):
    """[(test name, passed, total)] over all submissions, in the order tests first appear."""
    passed, total = Counter(), Counter()
    for result in results:
        for test in result["tests"]:
            total[test["name"]] += 1
            passed[test["name"]] += test["status"] == "passed"
    return [{"name": n, "passed": passed[n], "total": total[n],
             "percent": 100 * passed[n] / total[n]} for n in total]


def _failed_cases(test):
    """One line per failed check: the judge writes them as 'q2_capture: <what is wrong>'."""
    lines = [l.strip() for l in test.get("output", "").splitlines() if l.strip().startswith(test["name"] + ":")]
    return lines or [f"{test['name']}: " + (test.get("output", "").strip().splitlines() or ["failed"])[0]]


def common_failures(results, limit=10):
    """[(message, count)]: failing cases grouped by their first line, most common first."""
    counts = Counter()
    for result in results:
        if result["outcome"] != "graded":  # one fault message per submission, file name removed
            source = Path(result.get("source", "")).name
            message = result["output"].splitlines()[0]
            counts[message.split(": ", 1)[-1] if source and message.startswith(source) else message] += 1
            continue
        for test in _questions(result):
            if test["status"] != "passed":
                counts.update(set(_failed_cases(test)))
    return counts.most_common(limit)


def sparkline(values):
    """SVG polyline points for a curve (non-finite epochs skipped), or None without a curve."""
    values = [float(v) for v in values or []]
    finite = [(i, v) for i, v in enumerate(values) if math.isfinite(v)]
    if not finite:
        return None
    low, high = min(v for _, v in finite), max(v for _, v in finite)
    span = (high - low) or 1.0
    step = SPARK_W / max(1, len(values) - 1)
    points = " ".join(f"{i * step:.1f},{SPARK_H - 2 - (v - low) / span * (SPARK_H - 4):.1f}"
                      for i, v in finite)
    return {"points": points, "first": finite[0][1], "last": finite[-1][1], "low": low, "high": high}


def write_report(out_dir, results, curves=None):
    """Write out_dir/report.html for the given grade_submissions() results; return its path.

    curves maps submission name → held-out separation per epoch (0..10); a submission
    without one shows "no CSV".
    """
    curves = curves or {}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    possible = _possible(results)
    scores = [r["score"] for r in results]
    rows = []
    for r in results:
        curve = curves.get(r["submission"])
        rows.append({
            "name": r["submission"], "score": r["score"],
            "possible": sum(t["max_score"] for t in _questions(r)),
            "time": r.get("execution_time", 0.0), "outcome": r["outcome"], "output": r["output"],
            "failed": [t["name"] for t in _questions(r) if t["status"] != "passed"],
            "curve": sparkline(curve),
        })
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    html = env.get_template(TEMPLATE_NAME).render(
        n=len(results), possible=possible, rows=rows,
        mean=sum(scores) / len(scores) if scores else 0.0,
        full_marks=sum(s >= possible > 0 for s in scores),
        histogram=score_histogram(scores, possible), hist_w=HIST_W, hist_h=HIST_H,
        pass_rates=pass_rates(results), failures=common_failures(results),
        spark_w=SPARK_W, spark_h=SPARK_H,
        sandboxes=sorted({r.get("extra_data", {}).get("sandbox", "unknown") for r in results}),
    )
    path = out_dir / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
