"""One self-contained HTML page for TAs summarising a grading run, to be read at a glance.

At the top, the numbers (submissions, mean and median score, full marks, how many need a TA); then the
score histogram beside the pass rate of every question; the submissions a TA must look at (not graded
normally: time-outs, infrastructure faults, grader errors); the most common failures, by question; and a
row per submission (sortable, filterable) with its failed questions and its held-out silhouette curve over
the epochs, all curves on one shared scale so they compare down the column. Inline CSS, SVG and a few
lines of inline JavaScript (sorting, filtering): nothing is fetched, it opens offline.
"""

import math
import statistics
from collections import Counter
from pathlib import Path

from autograder.grading.html import environment

TEMPLATE_NAME = "report.html.j2"
HIST_W, HIST_H = 440, 150  # histogram drawing area, in SVG units
SPARK_W, SPARK_H = 140, 30
# Outcomes where the grade says nothing about the student's work: a TA must look (the tests only carry
# the grader's own message). A time-out is graded on what ran, so its failures count as failures.
NOT_THE_STUDENTS = ("infrastructure", "grader error", "cancelled", "invalid submission")


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
        full = (i == n_bins - 1) and possible > 0
        bars.append({"x": i * bar_w + 1, "y": HIST_H - height, "w": bar_w - 2, "h": height, "full": full,
                     "count": count, "label": label, "label_x": i * bar_w + bar_w / 2})
    return bars


def _rate_class(percent):
    return "good" if percent >= 80 else "warn" if percent >= 50 else "bad"


def pass_rates(results):
    """[{name, passed, total, percent, points, written, level}] over all submissions, in the order tests
    first appear; submissions a TA must look at anyway are left out of the rates."""
    passed, total, points, written = Counter(), Counter(), {}, {}
    for result in results:
        if result["outcome"] in NOT_THE_STUDENTS:
            continue
        for test in result["tests"]:
            total[test["name"]] += 1
            passed[test["name"]] += test["status"] == "passed"
            points[test["name"]] = test["max_score"]
            written[test["name"]] = bool(test.get("written"))
    rates = []
    for name in total:
        percent = 100 * passed[name] / total[name]
        rates.append({"name": name, "passed": passed[name], "total": total[name], "percent": percent,
                      "points": points[name], "written": written[name], "level": _rate_class(percent)})
    return rates


def _failed_cases(test):
    """One line per failed check: the judge writes them as 'q2_capture: <what is wrong>'."""
    lines = [l.strip() for l in test.get("output", "").splitlines() if l.strip().startswith(test["name"] + ":")]
    return lines or [f"{test['name']}: " + (test.get("output", "").strip().splitlines() or ["failed"])[0]]


def common_failures(results, limit=12):
    """[(message, count)]: failing checks over the submissions, most common first. Written answers
    (scored by TAs) and submissions that were not the student's doing are not failures of a check."""
    counts = Counter()
    for result in results:
        if result["outcome"] in NOT_THE_STUDENTS:
            continue
        for test in _questions(result):
            if test["status"] != "passed" and not test.get("written"):
                counts.update(set(_failed_cases(test)))
    return counts.most_common(limit)


def _split_failure(message):
    """'q2_capture: snapshots has …' → ('q2_capture', 'snapshots has …')."""
    question, _, rest = message.partition(": ")
    return (question, rest) if rest and " " not in question else ("", message)


def sparkline(values, low=None, high=None):
    """SVG polyline points for a curve (non-finite epochs skipped) on the scale low..high (its own range
    when not given), or None without a curve."""
    values = [float(v) for v in values or []]
    finite = [(i, v) for i, v in enumerate(values) if math.isfinite(v)]
    if not finite:
        return None
    own_low, own_high = min(v for _, v in finite), max(v for _, v in finite)
    low = own_low if low is None else low
    high = own_high if high is None else high
    span = (high - low) or 1.0
    step = SPARK_W / max(1, len(values) - 1)
    y = lambda v: SPARK_H - 2 - (v - low) / span * (SPARK_H - 4)  # noqa: E731
    points = " ".join(f"{i * step:.1f},{y(v):.1f}" for i, v in finite)
    return {"points": points, "first": finite[0][1], "last": finite[-1][1], "low": own_low, "high": own_high,
            "end_x": finite[-1][0] * step, "end_y": y(finite[-1][1]),
            "zero_y": y(0.0) if low < 0 < high else None}


def _first_line(text):
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


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
    finite = [v for c in curves.values() for v in c if math.isfinite(float(v))]
    low, high = (min(finite), max(finite)) if finite else (None, None)  # one scale for every curve
    rows = []
    for idx, r in enumerate(results, start=1):   # rows are named by number: a name is never an id
        row_possible = sum(t["max_score"] for t in _questions(r))
        rows.append({
            "idx": idx, "name": r["submission"], "score": r["score"], "possible": row_possible,
            "percent": 100 * r["score"] / row_possible if row_possible else 0.0,
            "time": r.get("execution_time", 0.0), "outcome": r["outcome"], "output": r["output"],
            "summary": _first_line(r["output"]),
            "failed": [t["name"] for t in _questions(r) if t["status"] != "passed"],
            "curve": sparkline(curves.get(r["submission"]), low, high),
        })
    attention = [row for row in rows if row["outcome"] != "graded"]
    failures = [{"count": count, "question": q, "message": m}
                for (q, m), count in ((_split_failure(msg), n) for msg, n in common_failures(results))]
    html = environment().get_template(TEMPLATE_NAME).render(
        n=len(results), possible=possible, rows=rows, attention=attention,
        mean=sum(scores) / len(scores) if scores else 0.0,
        median=statistics.median(scores) if scores else 0.0,
        full_marks=sum(row["score"] >= row["possible"] > 0 for row in rows),  # each against its own total
        histogram=score_histogram(scores, possible), hist_w=HIST_W, hist_h=HIST_H,
        pass_rates=pass_rates(results), failures=failures, top_failure=max((f["count"] for f in failures), default=1),
        spark_w=SPARK_W, spark_h=SPARK_H, curve_low=low, curve_high=high,
        sandboxes=sorted({r.get("extra_data", {}).get("sandbox", "unknown") for r in results}),
    )
    path = out_dir / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
