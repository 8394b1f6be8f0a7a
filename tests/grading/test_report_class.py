"""report.html for a real class, from stored results (nothing is graded): numbers rounded for people, the
submissions that need a look each with why, each common failure with its students, every row's
"autograded a/10 + written w/16 = t/26" out of the full written points, partly scored written answers as
partial, and a histogram whose labels never collide — at 4, 5, 50, 200 and 500 submissions. Screenshots
of the 4- and 200-submission reports go to tests/artifacts/report_class_*.png."""
from __future__ import annotations

import html.parser
import random
import re

import pytest

from autograder.grading.html import num
from autograder.grading.report import CHAR_W, HIST_W, score_histogram, write_report
from autograder.grading.written import with_written

AUTO = {"q1_hook": 2.0, "q2_capture": 3.0, "q3_export": 2.0, "q4_separation": 3.0}
WRITTEN = [{"id": f"w{i + 1}", "points": p} for i, p in enumerate((2.0, 2.0, 3.0, 2.0, 2.0, 3.0, 2.0))]   # 16
FAILS = {"q1_hook": "q1_hook: the hook returned None: return the layer's output from the hook",
         "q2_capture": "q2_capture: snapshots has 10 epochs, expected 11 (epoch 0 is before any training)",
         "q3_export": "q3_export: mantis_embeddings.csv: row 1, column embedding_epoch_0: expected 64 numbers, got 6",
         "q4_separation": "q4_separation: separation_ratio differs from the reference on the judge's data"}


def result(name, outcome="graded", passed=(), sandbox="bwrap", partial=None):
    """A stored result: `passed` questions earn their points, `partial` {question: points} some."""
    tests = []
    for q, points in AUTO.items():
        got = points if q in passed else (partial or {}).get(q, 0.0)
        tests.append({"name": q, "score": got, "max_score": points, "status": "passed" if got >= points else "failed",
                      "output": "All checks passed." if got >= points else FAILS[q]})
    if outcome == "infrastructure":
        for t in tests:
            t.update(score=0.0, status="failed", output="The grader could not start Python for this notebook (twice).")
    score = round(sum(t["score"] for t in tests), 4)
    return {"submission": name, "source": f"{name}.ipynb", "outcome": outcome, "score": score,
            "execution_time": 61.25, "output": f"Score {score:g}/10.", "tests": tests,
            "extra_data": {"outcome": outcome, "sandbox": sandbox}}


def four():
    """ada: a good one, partly scored written; bob: no points; cy: timed out; dee: a fault, run uncontained."""
    results = [result("ada", passed=("q1_hook", "q2_capture", "q3_export"), partial={"q4_separation": 1.16665}),
               result("bob"), result("cy", "timeout", passed=("q1_hook",)),
               result("dee", "infrastructure", sandbox="none")]
    scores = {"ada": {"w1": 2, "w2": 1.5, "w3": 3}, "bob": {"w1": 0}, "cy": {}}
    return with_written(results, scores, WRITTEN)


def a_class(n, seed=7):
    """n stored results, the written part partly scored, with the outcomes a real class has now and then."""
    rng = random.Random(seed)
    results, scores, curves = [], {}, {}
    for k in range(n):
        name = f"student_{k:03d}"
        outcome = "timeout" if k % 41 == 5 else "infrastructure" if k % 67 == 9 else "graded"
        passed = [q for q in AUTO if rng.random() < 0.75]
        partial = {q: round(rng.uniform(0.1, AUTO[q] - 0.1), 4) for q in AUTO if q not in passed and rng.random() < 0.3}
        results.append(result(name, outcome, passed, partial=partial))
        scores[name] = {w["id"]: rng.choice([0, w["points"] / 2, w["points"], w["points"] - 0.5])
                        for w in WRITTEN if rng.random() < 0.8}
        if outcome != "infrastructure":
            curves[name] = [0.02 + 0.5 * (1 - 0.7 ** e) * rng.uniform(0.5, 1) for e in range(11)]
    return with_written(results, scores, WRITTEN), curves


def visible_text(page: str) -> str:
    """What the page shows but the grader's own output (kept as the student saw it, under "output")."""
    page = re.sub(r'<details class="out">.*?</details>', "", page, flags=re.S)

    class Text(html.parser.HTMLParser):
        skip, parts = 0, []

        def handle_starttag(self, tag, attrs):
            self.skip += tag in ("script", "style")

        def handle_endtag(self, tag):
            self.skip -= tag in ("script", "style")

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    parser = Text()
    parser.parts = []
    parser.feed(page)
    return " ".join(parser.parts)


def test_numbers_are_rounded_for_people():
    assert [num(v) for v in (8.16665, 6.0, 2.5, -0.001, 0, 26, 1234.5678)] == ["8.17", "6", "2.5", "0", "0", "26", "1234.57"]


def test_report_of_four(tmp_path):
    page = write_report(tmp_path, four()).read_text(encoding="utf-8")
    text = visible_text(page)
    assert not re.search(r"\d\.\d{3,}", text) and "8.16665" not in page  # 8.16665 shows as 8.17
    assert "autograded 8.17/10 + written 6.5/16 = 14.67/26" in text
    assert "4 written questions not scored yet" in text                     # ada: 3 of 7 scored
    assert "autograded 0/10 + written 0/16 = 0/26" in text and "6 written questions not scored yet" in text
    assert "w2 1.5/2" in text and "q4_separation 1.17/3" not in text        # a TA's partial credit: partial
    attention = re.search(r'<section class="box" id="attention">(.*?)</section>', page, re.S).group(1)
    names = re.findall(r'<a class="jump" href="#row-(\d+)">(\w+)</a>', attention)
    assert names == [("2", "bob"), ("3", "cy"), ("4", "dee")]              # ada needs nothing
    why = visible_text(attention)
    assert "no autograded points at all" in why and "timed out: graded on what ran" in why
    assert "could not start Python" in why and "ran uncontained (--no-sandbox)" in why
    assert re.search(r'<div class="v">3</div><div class="k">need a look</div>', page)
    failures = re.search(r'<section class="box" id="failures">(.*?)</section>', page, re.S).group(1)
    q2 = next(r for r in failures.split("<tr>") if "snapshots has 10 epochs" in r)
    assert re.findall(r'href="#row-(\d+)">(\w+)<', q2) == [("2", "bob"), ("3", "cy")]   # dee: not the student's
    assert 'id="row-2"' in page and "<td data-v=\"bob\">bob</td>" in page


def test_report_of_200_lists_who_failed(tmp_path):
    results, curves = a_class(200)
    page = write_report(tmp_path, results, curves=curves).read_text(encoding="utf-8")
    failures = re.search(r'<section class="box" id="failures">(.*?)</section>', page, re.S).group(1)
    first = failures.split("<tr>")[2]
    count = int(re.search(r'<span class="num">(\d+)</span>', first).group(1))
    linked = re.findall(r'href="#row-(\d+)">(student_\d+)<', first)
    assert len(linked) == count > 8 and f"and {count - 8} more" in first
    assert all(int(idx) == int(name[-3:]) + 1 for idx, name in linked)      # each link goes to its own row
    assert not re.search(r"\d\.\d{3,}", visible_text(page))


@pytest.mark.parametrize("n", [5, 50, 500])
@pytest.mark.parametrize("possible", [10, 17, 26, 23.5, 100])
def test_histogram_labels_have_room(n, possible):
    rng = random.Random(n)
    bars = score_histogram([round(rng.uniform(0, possible), 2) for _ in range(n)] + [possible], possible)
    assert sum(b["count"] for b in bars) == n + 1 and bars[-1]["full"] and bars[-1]["count"] >= 1
    bar_w = HIST_W / len(bars)
    shown = [i for i, b in enumerate(bars) if b["show_label"]]
    assert shown[0] == 0 and shown[-1] == len(bars) - 1
    for a, b in zip(shown, shown[1:]):
        room = (b - a) * bar_w
        assert room >= (len(bars[a]["label"]) + len(bars[b]["label"])) / 2 * CHAR_W + 4, (a, b)
    for b in bars:
        assert not b["show_count"] or len(str(b["count"])) * CHAR_W <= bar_w


@pytest.mark.browser
def test_report_in_a_browser_at_4_and_200(tmp_path):
    """The two reports in headless Chromium: links of failures lead to the student's row; no label of the
    histogram overlaps another at 5, 50 or 500 submissions; screenshots for a person to look at."""
    from selenium.webdriver.common.by import By

    from tests.browser import chromium, screenshot
    small = write_report(tmp_path / "four", four())
    results, curves = a_class(200)
    big = write_report(tmp_path / "class", results, curves=curves)
    sizes = {n: write_report(tmp_path / f"h{n}", a_class(n, seed=n)[0]) for n in (5, 50, 500)}

    overlaps = """
      const boxes = [...document.querySelectorAll('#histogram svg text')].map(t => t.getBoundingClientRect());
      const hit = [];
      boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => {
        if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) hit.push([a.left, b.left]);
      }));
      return [boxes.length, hit];"""
    with chromium(1300, 900) as driver:
        for n, path in sizes.items():
            driver.get(path.as_uri())
            count, hits = driver.execute_script(overlaps)
            assert count >= 3 and hits == [], (n, hits)

        driver.get(small.as_uri())
        driver.set_window_size(1300, driver.execute_script("return document.body.scrollHeight") + 140)
        screenshot(driver, "report_class_4")

        driver.get(big.as_uri())
        assert driver.execute_script(overlaps)[1] == []
        driver.set_window_size(1300, 1500)
        screenshot(driver, "report_class_200_top")
        driver.find_element(By.ID, "filter").send_keys("timeout")            # a filter, then a link: the row shows
        link = driver.find_element(By.CSS_SELECTOR, "#failures td.who a.jump")
        name = link.text
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
        link.click()
        target = driver.find_element(By.CSS_SELECTOR, "#rows tbody tr:target")
        assert target.is_displayed() and target.find_element(By.CSS_SELECTOR, "td").text == name
        driver.execute_script("document.getElementById('failures').scrollIntoView()")
        screenshot(driver, "report_class_200_failures")
        assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
