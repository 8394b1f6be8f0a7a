"""One self-contained HTML page for TAs summarising a grading run, to be read at a glance, for a class
of 5 or of 500.

At the top, the numbers (submissions, mean and median score, full marks, how many need a look); then the
score histogram beside the pass rate of every question; the submissions a TA must look at, each with why
(a time-out, an infrastructure fault or grader error, no autograded points at all, code that ran without a
sandbox); the most common failures, by question, each with the submissions that hit it; and a row per
submission (sortable, filterable) with its score as autograded + written = total against fixed totals, its
failed and partly scored questions and its held-out silhouette curve over the epochs, all curves on one
shared scale so they compare down the column. Numbers are rounded for people (two decimals at most).
Inline CSS, SVG and a few lines of inline JavaScript (sorting, filtering): nothing is fetched, it opens
offline.
"""

import math
import statistics
from collections import Counter
from pathlib import Path

from autograder.grading.html import environment, num

TEMPLATE_NAME = "report.html.j2"
HIST_W, HIST_H = 440, 150  # histogram drawing area, in SVG units
SPARK_W, SPARK_H = 140, 30
CHAR_W = 6.2               # width of a character of the histogram's 10-unit labels, generously (digits, "–")
MAX_BINS = 15              # ranges of points once whole points would make more bars than this + 15
WHO_SHOWN = 8              # submissions listed under a common failure before "and N more"
# Outcomes where the grade says nothing about the student's work: a TA must look (the tests only carry
# the grader's own message). A time-out is graded on what ran, so its failures count as failures.
NOT_THE_STUDENTS = ("infrastructure", "grader error", "cancelled", "invalid submission")
WHY = {   # what a TA reads next to a submission that needs a look, by outcome
    "timeout": "timed out: graded on what ran by then; check whether a cell loops or trains too long",
    "infrastructure": "the grader could not start Python for it (not the student's doing): regrade it",
    "grader error": "the grader itself failed on it (see its grading.log): regrade it",
    "cancelled": "grading was cancelled before it finished: regrade it",
    "invalid submission": "not a gradable notebook",
}
UNSCORED = "not scored"    # a written question no TA has scored yet (see written.with_written)


def _questions(result):
    return result["tests"]


def _possible(results):
    return max((sum(t["max_score"] for t in _questions(r)) for r in results), default=0.0)


def _nice_width(possible: float) -> float:
    """The bin width: whole points when that gives few enough bars, else a round width (2, 2.5, 5, 10…)."""
    if float(possible).is_integer() and possible <= 2 * MAX_BINS:
        return 1.0
    scale = 10 ** math.floor(math.log10(possible / MAX_BINS))
    return next(scale * m for m in (1, 2, 2.5, 5, 10) if possible / (scale * m) <= MAX_BINS)


def score_histogram(scores, possible):
    """Bars for the score distribution: one per whole point (or per round range of points), then one for
    full marks. Labels never collide: an axis label is shown on every k-th bar so they fit (full marks
    always), a count only where it fits over its bar (its <title> always has it)."""
    possible = possible if possible > 0 else (max(scores, default=0.0) or 1.0)
    width = _nice_width(possible)
    n_bins = math.ceil(possible / width - 1e-9) + 1       # the ranges below full marks, then full marks
    counts = [0] * n_bins
    for score in scores:
        at = n_bins - 1 if score >= possible - 1e-9 else min(n_bins - 2, max(0, int(score / width + 1e-9)))
        counts[at] += 1
    labels = [num(i * width) if width == 1 else f"{num(i * width)}–{num(min((i + 1) * width, possible))}"
              for i in range(n_bins - 1)] + [num(possible)]
    top = max(counts, default=0) or 1
    bar_w = HIST_W / n_bins
    every = max(1, math.ceil((max(len(l) for l in labels) * CHAR_W + 4) / bar_w))
    last = n_bins - 1   # full marks is always labelled; a label closer to it than `every` bars is dropped
    shown = {i for i in range(0, n_bins, every) if i == last or last - i >= every} | {last}
    bars = []
    for i, count in enumerate(counts):
        height = HIST_H * count / top
        bars.append({"x": i * bar_w + 1, "y": HIST_H - height, "w": bar_w - 2, "h": height, "full": i == n_bins - 1,
                     "count": count, "label": labels[i], "show_label": i in shown,
                     "show_count": count > 0 and len(str(count)) * CHAR_W <= bar_w - 1,
                     "label_x": i * bar_w + bar_w / 2})
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
            if test["status"] == UNSCORED:
                continue   # a written answer no TA has scored yet: the rate is over the scored ones
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
    """[(message, [result index…])]: failing checks over the submissions, most common first, with the
    submissions (by their index in results) that failed each. Written answers (scored by TAs) and
    submissions that were not the student's doing are not failures of a check."""
    who = {}
    for i, result in enumerate(results):
        if result["outcome"] in NOT_THE_STUDENTS:
            continue
        for test in _questions(result):
            if test["status"] != "passed" and not test.get("written"):
                for case in dict.fromkeys(_failed_cases(test)):
                    who.setdefault(case, []).append(i)
    ranked = sorted(who.items(), key=lambda item: -len(item[1]))   # stable: ties keep their first appearance
    return ranked[:limit]


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


def _needs_a_look(result, auto: float) -> list[str]:
    """Why a TA should look at this submission (nothing: it was graded normally)."""
    why = []
    if result["outcome"] in WHY:
        detail = _first_line(result["output"]) if result["outcome"] == "invalid submission" else ""
        why.append(WHY[result["outcome"]] + (f" ({detail})" if detail else ""))
    elif result["outcome"] != "graded":
        why.append(f"outcome {result['outcome']!r}: see its grading.log")
    if auto <= 0 and result["outcome"] in ("graded", "timeout"):
        why.append("no autograded points at all: a blank, unsaved or wrong notebook?")
    if result.get("extra_data", {}).get("sandbox") == "none":
        why.append("its code ran uncontained (--no-sandbox): it could reach this machine's files and network")
    return why


def _row(idx, r, curve):
    tests = _questions(r)
    auto = [t for t in tests if not t.get("written")]
    written = [t for t in tests if t.get("written")]
    scored = [t for t in written if t["status"] != UNSCORED]
    row = {
        "idx": idx, "name": r["submission"], "score": r["score"], "possible": sum(t["max_score"] for t in tests),
        "auto": sum(t["score"] for t in auto), "auto_possible": sum(t["max_score"] for t in auto),
        "written": sum(t["score"] for t in scored) if written else None,
        "written_possible": sum(t["max_score"] for t in written),   # every written point, scored or not
        "unscored": len(written) - len(scored),
        "time": r.get("execution_time", 0.0), "outcome": r["outcome"], "output": r["output"],
        "summary": _first_line(r["output"]),
        # the autograded checks of a run that was not the student's doing (infrastructure…) failed nothing
        "failed": [t["name"] for t in auto if t["status"] != "passed" and r["outcome"] not in NOT_THE_STUDENTS]
                  + [t["name"] for t in scored if t["score"] <= 0 < t["max_score"]],
        # a TA's partial credit is partial, not a failure
        "partial": [{"name": t["name"], "score": t["score"], "max": t["max_score"]}
                    for t in scored if 0 < t["score"] < t["max_score"]],
        "sandbox": r.get("extra_data", {}).get("sandbox", "unknown"),
        "curve": curve,
    }
    row["percent"] = 100 * r["score"] / row["possible"] if row["possible"] else 0.0
    row["why"] = _needs_a_look(r, row["auto"])
    return row


def similarity_section(similarity, rows) -> dict | None:
    """similarity.json's pairs for the page: each side's row (for a link to it), grouped by kind."""
    if similarity is None:
        return None
    by_name = {row["name"]: row for row in rows}
    labels = {"code": "same code", "csv": "identical CSV", "written": "same written answer"}
    pairs = [{**p, "label": labels[p["kind"]], "row_a": by_name.get(p["a"]), "row_b": by_name.get(p["b"])}
             for p in similarity["pairs"]]
    counts = Counter(p["kind"] for p in pairs)
    return {"pairs": pairs, "counts": [(labels[k], counts[k]) for k in labels],
            "with_code": similarity.get("with_code", 0), "given_known": similarity.get("given_code_known", False)}


def write_report(out_dir, results, curves=None, roster=None, matches=None, feedback=None, similarity=None):
    """Write out_dir/report.html for the given grade_submissions() results (with written.with_written's
    written questions, if any); return its path.

    curves maps submission name → held-out separation per epoch (0..10); a submission
    without one shows "no CSV". roster: roster.summary() of the join (students with no submission,
    submissions with no student), matches: roster.join()'s, feedback: {submission: link to its page},
    similarity: similarity.json's data (its pairs get a section of their own).
    """
    curves = curves or {}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    possible = _possible(results)
    scores = [r["score"] for r in results]
    finite = [v for c in curves.values() for v in c if math.isfinite(float(v))]
    low, high = (min(finite), max(finite)) if finite else (None, None)  # one scale for every curve
    # rows are named by number (row-1, row-2…): a submission's name is never an id, a URL or code
    rows = [_row(idx, r, sparkline(curves.get(r["submission"]), low, high)) for idx, r in enumerate(results, start=1)]
    by_match = {m.submission: m for m in matches or []}
    for row in rows:   # the roster's student and the feedback page, where there are any
        match = by_match.get(row["name"])
        row["student"] = ({"name": match.student.shown, "id": match.student.student_id, "how": match.how}
                          if match is not None and match.student is not None else None)
        row["feedback"] = (feedback or {}).get(row["name"])
    row_of = {row["name"]: row for row in rows}
    attention = [row for row in rows if row["why"]]
    failures = []
    for message, who in common_failures(results):
        question, text = _split_failure(message)
        failures.append({"count": len(who), "question": question, "message": text,
                         "who": [rows[i] for i in who[:WHO_SHOWN]], "more": [rows[i] for i in who[WHO_SHOWN:]]})
    html = environment().get_template(TEMPLATE_NAME).render(
        n=len(results), possible=possible, rows=rows, attention=attention,
        any_written=any(row["written"] is not None for row in rows),
        mean=sum(scores) / len(scores) if scores else 0.0,
        median=statistics.median(scores) if scores else 0.0,
        full_marks=sum(row["score"] >= row["possible"] > 0 for row in rows),  # each against its own total
        histogram=score_histogram(scores, possible), hist_w=HIST_W, hist_h=HIST_H,
        pass_rates=pass_rates(results), failures=failures, top_failure=max((f["count"] for f in failures), default=1),
        spark_w=SPARK_W, spark_h=SPARK_H, curve_low=low, curve_high=high,
        sandboxes=sorted({r.get("extra_data", {}).get("sandbox", "unknown") for r in results}),
        roster=roster, row_of=row_of,
        similarity=similarity_section(similarity, rows),
    )
    path = out_dir / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
