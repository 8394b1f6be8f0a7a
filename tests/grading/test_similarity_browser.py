"""The similarity section of report.html in headless Chromium, for the constructed class of
test_similarity.py: each pair with its kind, question and both sides, the shared lines highlighted, the
students' text escaped under the page's Content-Security-Policy. Screenshot: tests/artifacts/similarity.png."""
from __future__ import annotations

from selenium.webdriver.common.by import By

from tests.browser import chromium, screenshot
from tests.grading.test_similarity import graded_class  # noqa: F401  (the fixture)


def test_the_section_shows_each_pair_side_by_side(graded_class):
    one, _ = graded_class
    page = (one / "report.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and " onclick=" not in page
    assert "<img src=x" not in page and "# my own work!! &lt;img src=x onerror=alert(1)&gt;" in page
    with chromium(1300, 900) as driver:
        driver.get((one / "report.html").as_uri())
        section = driver.find_element(By.ID, "similarity")
        pairs = section.find_elements(By.CSS_SELECTOR, ".pair")
        assert len(pairs) == 4
        heads = [" ".join(p.find_element(By.CSS_SELECTOR, ".head").text.split()) for p in pairs]   # flex items
        assert heads[0].startswith("same code q4_separation alice ↔ bob")
        assert "carol ↔ answer key" in heads[3]
        code = pairs[0].find_elements(By.CSS_SELECTOR, ".side")
        assert "def separation_ratio(E, y):" in code[1].text and "# my own work!! <img src=x onerror=alert(1)>" in code[1].text
        # Bob's comment is his alone; the lines both wrote alike (after trimming) are highlighted
        same = [s.text.strip() for s in code[1].find_elements(By.CSS_SELECTOR, "span.same")]
        assert not [t for t in same if "my own work" in t] and "return float(b / w)" in same
        driver.execute_script("document.getElementById('similarity').scrollIntoView()")
        driver.set_window_size(1300, section.size["height"] + 200)
        driver.execute_script("document.getElementById('similarity').scrollIntoView()")
        screenshot(driver, "similarity")
        assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
