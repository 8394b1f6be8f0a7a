"""One feedback page per submission, ready to send to its student: feedback/<submission>.html.

Each page holds the student's score on every question with every message its checks gave (results.json's
tests[].output, as Gradescope shows them), their held-out separation curve drawn over the class's (the
median and the range of every curve, curves.py), their written scores with the TA's comments (the
written-scores file's `comment` and `<question>_comment` columns), and the total. It opens offline and
prints on its own: inline CSS and SVG, no script at all (its Content-Security-Policy allows none), and
everything from a submission is escaped text. The file is named by the submission's safe folder name
(batch.safe_stem), never by what the student typed.
"""
from __future__ import annotations

import math
import statistics
from pathlib import Path
from urllib.parse import quote

from autograder.grading.batch import inside, is_safe_stem
from autograder.grading.html import environment

FOLDER = "feedback"
TEMPLATE_NAME = "feedback.html.j2"
CURVE_W, CURVE_H = 420, 170    # the plot area, in SVG units


def href(stem: str) -> str:
    """The link to a submission's page from the grading folder (report.html): its name percent-encoded."""
    return f"{FOLDER}/{quote(stem, safe='')}.html"


def class_band(curves: dict) -> list[dict]:
    """Per epoch over every submission's curve: {epoch, low, median, high} (finite values only; an epoch
    no curve reaches is left out)."""
    length = max((len(c) for c in curves.values()), default=0)
    band = []
    for epoch in range(length):
        values = [float(c[epoch]) for c in curves.values() if epoch < len(c) and math.isfinite(float(c[epoch]))]
        if values:
            band.append({"epoch": epoch, "low": min(values), "median": statistics.median(values), "high": max(values)})
    return band


def curve_plot(own, band: list[dict]) -> dict | None:
    """SVG coordinates of the student's curve over the class's band and median, on one scale; None when
    neither exists."""
    own = [float(v) for v in own or []]
    values = [v for v in own if math.isfinite(v)] + [b[k] for b in band for k in ("low", "high")]
    if not values:
        return None
    low, high = min(values + [0.0]), max(values)
    span = (high - low) or 1.0
    epochs = max(len(own), max((b["epoch"] for b in band), default=0) + 1)
    x = lambda e: e * CURVE_W / max(1, epochs - 1)  # noqa: E731
    y = lambda v: CURVE_H - (v - low) / span * CURVE_H  # noqa: E731
    pts = lambda pairs: " ".join(f"{x(e):.1f},{y(v):.1f}" for e, v in pairs)  # noqa: E731
    finite = [(e, v) for e, v in enumerate(own) if math.isfinite(v)]
    area = [(b["epoch"], b["high"]) for b in band] + [(b["epoch"], b["low"]) for b in reversed(band)]
    ticks = sorted({round(low, 2), round(high, 2), *([0.0] if low < 0 < high else [])})
    return {"own": pts(finite) if finite else "", "median": pts((b["epoch"], b["median"]) for b in band),
            "band": pts(area), "zero_y": y(0.0) if low < 0 < high else None,
            "end": {"x": x(finite[-1][0]), "y": y(finite[-1][1]), "v": finite[-1][1]} if finite else None,
            "class_end": band[-1]["median"] if band else None,
            "yticks": [{"y": y(t), "label": f"{t:.2f}"} for t in ticks],
            "xticks": [{"x": x(e), "label": str(e)} for e in range(epochs)]}


def _who(stem: str, record: dict, match) -> dict:
    if match is not None and match.student is not None:
        s = match.student
        return {"name": s.shown, "student_id": s.student_id, "from": f"roster (matched by {match.how})"}
    return {"name": record.get("name", ""), "student_id": record.get("student_id", ""),
            "from": "as the notebook gives them" + (" (not on the roster)" if match is not None else "")}


def write_feedback(out, results, written_records, *, curves=None, comments=None, matches=None,
                   title: str = "") -> dict[str, str]:
    """out/feedback/<submission>.html for every result (with written.with_written's written questions, if
    any); pages of submissions no longer in the folder are removed. Returns {submission: href from out}."""
    out = Path(out)
    folder = inside(out, out / FOLDER)
    folder.mkdir(exist_ok=True)
    curves, comments = curves or {}, comments or {}
    band = class_band(curves)
    records = {w["submission"]: w for w in written_records}
    by_match = {m.submission: m for m in matches or []}
    template = environment().get_template(TEMPLATE_NAME)
    pages = {}
    for r in results:
        stem = r["submission"]
        if not is_safe_stem(stem):   # names are data: a page is only ever named by a safe folder name
            continue
        tests = r["tests"]
        auto = [t for t in tests if not t.get("written")]
        written = [t for t in tests if t.get("written")]
        said = comments.get(stem, {})
        html = template.render(
            title=title, stem=stem, who=_who(stem, records.get(stem, {}), by_match.get(stem)),
            outcome=r["outcome"], summary=(r.get("output") or "").strip(),
            score=r["score"], possible=sum(t["max_score"] for t in tests),
            auto=auto, auto_score=sum(t["score"] for t in auto), auto_possible=sum(t["max_score"] for t in auto),
            written=[{**t, "comment": said.get(t["name"], "")} for t in written],
            written_score=sum(t["score"] for t in written if t["status"] != "not scored"),
            written_possible=sum(t["max_score"] for t in written),
            comment=said.get("", ""), plot=curve_plot(curves.get(stem), band), curve_w=CURVE_W, curve_h=CURVE_H,
            own_curve=[float(v) for v in curves.get(stem) or []], class_size=len(curves))
        path = inside(out, folder / f"{stem}.html")
        path.write_text(html, encoding="utf-8")
        pages[stem] = href(stem)
    keep = {f"{stem}.html" for stem in pages}
    for old in folder.glob("*.html"):   # a submission no longer graded here keeps no page
        if old.name not in keep:
            inside(out, old).unlink()
    return pages
