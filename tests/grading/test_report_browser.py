"""The TA report (autograder.grading.report) opened in headless Chromium: offline, the numbers at the top
are the results', its table sorts and filters. The screenshot is kept in tests/artifacts/report.png."""
from __future__ import annotations

import random
import re
from collections import Counter

import pytest
from selenium.webdriver.common.by import By

from autograder.grading.report import write_report
from tests.browser import chromium, screenshot

QUESTIONS = {"q1_hook": 2, "q2_capture": 3, "q3_export": 2, "q4_separation": 3}
FAILS = {"q1_hook": "q1_hook: the hook returned None: return the layer's output from the hook",
         "q2_capture": "q2_capture: snapshots has 10 epochs, expected 11 (epoch 0 is before any training)",
         "q3_export": "q3_export: mantis_embeddings.csv: row 1, column embedding_epoch_0: expected 64 numbers, got 6",
         "q4_separation": "q4_separation: separation_ratio differs from the reference on the judge's data"}
HOSTILE = "<script>alert(1)</script>"


def synthetic_results(n=14, seed=1):
    """Results shaped as grade_submissions returns them (one time-out, one infrastructure fault, one
    submission with a hostile name, TA-scored written answers on some), and a silhouette curve for most."""
    rng = random.Random(seed)
    results, curves = [], {}
    for k in range(n):
        name = HOSTILE if k == 9 else f"student_{k:02d}"
        outcome = {3: "timeout", 7: "infrastructure"}.get(k, "graded")
        tests = []
        for q, points in QUESTIONS.items():
            ok = outcome != "infrastructure" and rng.random() > 0.3
            output = "All checks passed." if ok else FAILS[q]
            if outcome == "infrastructure":
                output = "The grader could not start Python for this notebook (twice)."
            tests.append({"name": q, "score": points if ok else 0.0, "max_score": points,
                          "status": "passed" if ok else "failed", "visibility": "visible", "output": output})
        if k % 2 == 0 and outcome == "graded":
            tests.append({"name": "w1_overlaps", "score": 1.0, "max_score": 2, "status": "failed", "written": True,
                          "visibility": "hidden", "output": "written answer: 1/2 points (TA)"})
        score = sum(t["score"] for t in tests)
        results.append({"submission": name, "source": f"{name}.ipynb", "outcome": outcome, "score": score,
                        "execution_time": round(rng.uniform(40, 200), 1), "output": f"Score {score:g}/10.",
                        "tests": tests, "extra_data": {"outcome": outcome, "sandbox": "bwrap"}})
        if outcome != "infrastructure":
            curves[name] = [0.02 + 0.5 * (1 - 0.7 ** e) * rng.uniform(0.5, 1) for e in range(11)]
    return results, curves


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    results, curves = synthetic_results()
    return write_report(tmp_path_factory.mktemp("graded"), results, curves=curves), results


def test_report_reads_at_a_glance_offline(report):
    path, results = report
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I) and "<link" not in page
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    with chromium(1300, 900) as driver:
        driver.get(path.as_uri())
        cards = {c.find_element(By.CLASS_NAME, "k").text.lower(): c.find_element(By.CLASS_NAME, "v").text
                 for c in driver.find_elements(By.CSS_SELECTOR, ".card")}
        assert cards["submissions"] == "14" and cards["need a look"] == "2"   # the time-out and the fault
        assert cards["full marks"] == str(sum(r["score"] >= sum(t["max_score"] for t in r["tests"]) for r in results))

        judged = [r for r in results if r["outcome"] != "infrastructure"]
        for row in driver.find_elements(By.CSS_SELECTOR, ".rate"):
            name = row.find_element(By.CLASS_NAME, "name").text.split()[0]
            tests = [t for r in judged for t in r["tests"] if t["name"] == name]
            passed = sum(t["status"] == "passed" for t in tests)
            assert row.find_element(By.CSS_SELECTOR, ".num").text == f"{passed} / {len(tests)} · {100 * passed / len(tests):.0f} %"
        assert "written · TA" in driver.find_element(By.CSS_SELECTOR, ".row2").text

        counts = Counter(t["output"] for r in judged for t in r["tests"] if t["status"] != "passed" and not t.get("written"))
        first = driver.find_element(By.CSS_SELECTOR, "#failures tr:nth-child(2)")
        assert first.find_element(By.CSS_SELECTOR, ".num").text == str(counts.most_common(1)[0][1])
        assert "written answer" not in driver.find_element(By.ID, "failures").text

        rows = driver.find_elements(By.CSS_SELECTOR, "#rows tbody tr")
        assert len(rows) == 14 and driver.find_element(By.XPATH, "//td[text()='<script>alert(1)</script>']")
        driver.find_element(By.XPATH, "//table[@id='rows']//th[text()='Score']").click()  # sorts, highest first
        shown = [float(tr.find_element(By.CSS_SELECTOR, "td:nth-child(2)").get_attribute("data-v"))
                 for tr in driver.find_elements(By.CSS_SELECTOR, "#rows tbody tr")]
        assert shown == sorted((r["score"] for r in results), reverse=True)
        driver.set_window_size(1300, driver.execute_script("return document.body.scrollHeight") + 120)
        screenshot(driver, "report")
        driver.find_element(By.ID, "filter").send_keys("timeout")
        visible = [tr for tr in driver.find_elements(By.CSS_SELECTOR, "#rows tbody tr") if tr.is_displayed()]
        assert [tr.find_element(By.CSS_SELECTOR, "td").text for tr in visible] == ["student_03"]
        assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
