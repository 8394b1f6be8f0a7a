"""written.html in a real browser (Debian's chromium, headless, through selenium): one question at a
time beside its key, points typed and kept in the browser, written_scores.csv downloaded and merged."""
from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest

from autograder.grading.merge import merge
from autograder.grading.written import PAGE, anon_code, write_written_html
from tests.browser import chromium, screenshot

from .conftest import QUESTIONS, SHA, make_run

selenium = pytest.importorskip("selenium")
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

W1, W2, W3 = (q["id"] for q in QUESTIONS)


def page(tmp_path: Path, class_of_three, anonymous=False) -> Path:
    records = [record for _, record in class_of_three.values()]
    return write_written_html(tmp_path, QUESTIONS, records, release_sha=SHA, variant="wikipedia",
                              title="Lab 8 — Wikipedia", anonymous=anonymous)


def field(driver, sub: str, q: str):
    return driver.find_element(By.CSS_SELECTOR, f'input.pts[data-sub="{sub}"][data-q="{q}"]')


def visible_questions(driver) -> list[str]:
    return [s.get_attribute("data-q") for s in driver.find_elements(By.CSS_SELECTOR, "section.question") if s.is_displayed()]


def wait_for(path: Path, seconds=10.0) -> Path:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if path.is_file() and path.stat().st_size:
            return path
        time.sleep(0.1)
    raise AssertionError(f"{path} was not downloaded")


def test_written_page_scores_an_answer_at_a_time_and_saves_them(tmp_path, class_of_three):
    html = page(tmp_path / "graded", class_of_three)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with chromium() as driver:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        driver.get(html.as_uri())
        assert visible_questions(driver) == [W1]                              # one question at a time
        key = driver.find_element(By.CSS_SELECTOR, f"#q-{W1} .key").text
        assert "One slot per term; almost all zero." in key and "2 points" in key
        cards = driver.find_elements(By.CSS_SELECTOR, f"#q-{W1} .card")
        assert [c.get_attribute("data-sub") for c in cards] == ["alice", "bob", "carol"]
        assert "Alice Liddell · 900000001" in cards[0].text and "no name given" in cards[2].text
        assert "Most entries are zero.\nAnd the width grows" in cards[0].text  # line breaks kept
        assert "No answer: the answer cell still holds the placeholder text." in cards[2].text

        field(driver, "alice", W1).send_keys("2", Keys.ENTER)                 # Enter: on to the next answer
        assert driver.switch_to.active_element.get_attribute("data-sub") == "bob"
        driver.switch_to.active_element.send_keys("1.5")
        carol = field(driver, "carol", W1)
        carol.send_keys("5")                                                  # more than the question's 2 points
        assert "invalid" in carol.get_attribute("class")
        assert "enter 0 to 2 points" in driver.find_element(By.ID, "status").text
        carol.send_keys(Keys.BACK_SPACE)
        assert driver.find_element(By.CSS_SELECTOR, f'.count[data-q="{W1}"]').text == "2"

        driver.find_element(By.CSS_SELECTOR, f'nav .tab[data-q="{W2}"]').click()
        assert visible_questions(driver) == [W2] and driver.current_url.endswith("#" + W2)
        hostile = driver.find_element(By.CSS_SELECTOR, f'#q-{W2} .card[data-sub="alice"] .text').text
        assert hostile == "<script>alert('x')</script> the softmax loses detail"   # shown as text, never run
        with pytest.raises(NoAlertPresentException):
            driver.switch_to.alert.text
        driver.find_element(By.CSS_SELECTOR, f'#q-{W2} .card[data-sub="alice"] button.quick[data-v="1"]').click()
        assert field(driver, "alice", W2).get_attribute("value") == "1"
        assert "empty" in driver.find_element(By.CSS_SELECTOR, f'#q-{W2} .card[data-sub="bob"] .badge').text

        loader = driver.find_element(By.ID, "load")                           # scores from a TA's earlier CSV
        (tmp_path / "earlier.csv").write_text(f"submission,{W3}\nbob,2\nnobody,1\n")
        driver.execute_script("arguments[0].hidden = false", loader)
        loader.send_keys(str(tmp_path / "earlier.csv"))
        time.sleep(0.5)
        assert "loaded 1 score from earlier.csv, 1 skipped" in driver.find_element(By.ID, "status").text

        driver.refresh()                                                       # kept in this browser
        assert visible_questions(driver) == [W2]
        assert field(driver, "alice", W1).get_attribute("value") == "2"
        assert field(driver, "bob", W1).get_attribute("value") == "1.5"
        assert field(driver, "bob", W3).get_attribute("value") == "2"
        driver.find_element(By.CSS_SELECTOR, f'nav .tab[data-q="{W1}"]').click()
        screenshot(driver, "written_html")

        driver.find_element(By.ID, "download").click()
        saved = wait_for(downloads / "written_scores.csv")
    table = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [r["submission"] for r in table] == ["alice", "bob", "carol"]
    assert (table[0]["name"], table[0][W1], table[0][W2], table[0][W3]) == ("Alice Liddell", "2", "1", "")
    assert (table[1][W1], table[1][W3], table[2][W1]) == ("1.5", "2", "")

    run = make_run(tmp_path / "graded", class_of_three, ["alice", "bob", "carol"])
    merge([run], run, written_scores=saved)                                    # the saved file, merged
    grades = {r["submission"]: r for r in csv.DictReader(open(run / "grades.csv"))}
    assert (grades["alice"]["written"], grades["alice"]["total"]) == ("3.0", "13.0")
    assert (grades["bob"]["written"], grades["bob"]["total"]) == ("3.5", "9.5")


def test_anonymous_page_hides_who_wrote_what(tmp_path, class_of_three):
    html = page(tmp_path, class_of_three, anonymous=True)
    source = html.read_text()
    for hidden in ("alice", "Alice", "bob", "Bob", "900000001"):
        assert hidden not in source
    codes = sorted(anon_code(SHA, s) for s in ("alice", "bob", "carol"))
    with chromium() as driver:
        driver.get(html.as_uri())
        assert [c.get_attribute("data-sub") for c in driver.find_elements(By.CSS_SELECTOR, f"#q-{W1} .card")] == codes
        field(driver, anon_code(SHA, "alice"), W1).send_keys("2")
        saved = driver.execute_script("return writtenScores.csv()")
    assert saved.splitlines()[0] == f"submission,{W1},{W2},{W3}"                # no name columns
    (tmp_path / "anon.csv").write_text(saved)
    run = make_run(tmp_path / "graded", class_of_three, ["alice", "bob", "carol"], anonymous=True)
    merge([run], run, written_scores=tmp_path / "anon.csv")
    grades = {r["submission"]: r for r in csv.DictReader(open(run / "grades.csv"))}
    assert grades["alice"][W1] == "2.0" and "alice" not in (run / PAGE).read_text()
