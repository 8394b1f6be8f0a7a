"""Names are data, never paths or code: hostile submission file names and student names go through every
writer — the result folders, grades.csv, report.html, written.html, `build.py merge` — and nothing is
written outside --out, no page runs them, no CSV cell is a formula. No notebook is run: the grading
function is replaced by one writing stored results (tests/grading/conftest.py's fake_grading)."""
from __future__ import annotations

import csv
import html.parser
import io
import json
import random
import re
import unicodedata
import zipfile
from pathlib import Path

import pytest

from autograder.grading import main as grade_main
from autograder.grading.batch import (MAX_STEM, _one_like_gradescope, canonical_order, inside, is_safe_stem,
                                      spreadsheet_safe, write_grades_csv)
from autograder.grading.merge import MergeError, merge
from autograder.grading.merge import main as merge_main
from autograder.shipped.grade import GradingError

from .conftest import notebook, results

FORMULA = ("=", "+", "-", "@", "\t", "\r")
# File names a student (or a careless export) can give a submission; "/" cannot be in a file name, so the
# zip below carries it inside. A 300-character name cannot exist on disk (255 bytes): checked as a string.
HOSTILE_FILES = [
    "it's \"quoted\".ipynb",
    "...ipynb",                                  # stem "..": the parent of --out, once
    "..ipynb",                                   # stem "."
    "．．.ipynb",                                 # full-width dots, ".." after NFKC
    '=HYPERLINK("http:evil.example","x").ipynb',
    "+SUM(1+1).ipynb",
    "@SUM(1).ipynb",
    "-rf.ipynb",
    "<img src=x onerror=alert(1)>.ipynb",
    "<script>alert(1)<\\script>.ipynb",
    "new\nline.ipynb",
    "\tTab.ipynb",
    "gpj.\u202eevil.ipynb",                       # right-to-left override: reads as "evil.jpg"
    "zero\u200bwidth.ipynb",
    "x" * 240 + ".ipynb",
    "__proto__.ipynb",
    "constructor.ipynb",
    "Alice.ipynb",
    "alice.ipynb",                               # one folder each, even on a case-insensitive disk
    "grades.csv.ipynb",                          # not the folder's own grades.csv
    "history.ipynb",
    "zipped.zip",                                # holds "a/../<svg onload=alert(1)>/nb.ipynb"
]
HOSTILE_PEOPLE = [
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "<img src='http://127.0.0.1:9/leak.png'>",
    '=HYPERLINK("http://evil.example","click")', "+1+1", "@SUM(1)", "-2", "\u202eevil", "javascript:alert(1)",
    "'; alert(1); '", "Zoë Ångström",
]


def make_class(folder: Path) -> list[Path]:
    """The hostile submissions, each naming a hostile student."""
    folder.mkdir(parents=True)
    paths = []
    for i, name in enumerate(HOSTILE_FILES):
        person = HOSTILE_PEOPLE[i % len(HOSTILE_PEOPLE)]
        if name.endswith(".zip"):
            inner = notebook(folder / "inner.ipynb", person, "1")
            with zipfile.ZipFile(folder / name, "w") as zf:
                zf.write(inner, "a/../<svg onload=alert(1)>/nb.ipynb")
            inner.unlink()
            paths.append(folder / name)
        else:
            paths.append(notebook(folder / name, person, f"{i:09d}"))
    return paths


def listing(root: Path, skip: tuple[Path, ...]) -> dict[str, tuple]:
    """Every path under root but the skipped folders; files with their size and modification time (a
    folder's own time changes when --out is made in it: its entries are compared instead)."""
    found = {}
    for p in sorted(root.rglob("*")):
        if any(p == s or s in p.parents for s in skip):
            continue
        st = p.lstat()
        found[str(p.relative_to(root))] = ("dir",) if p.is_dir() else (st.st_size, st.st_mtime_ns)
    return found


def handlers_and_tags(page: str) -> list:
    """Event-handler attributes, and elements that fetch (img, iframe…), as an HTML parser finds them."""
    found = []

    class Parser(html.parser.HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend((tag, name) for name, _ in attrs if name.startswith("on"))
            if tag in ("img", "iframe", "object", "embed", "base", "link"):   # the pages have none of their own
                found.append((tag, "element"))

    Parser().feed(page)
    return found


def assert_safe(stem: str, out: Path) -> None:
    assert is_safe_stem(stem) and 0 < len(stem) <= MAX_STEM and len(stem.encode()) <= 200, stem
    assert not stem.startswith((".", "-", "=", "+", "@", "'", " ")) and stem not in (".", "..", "...")
    assert not any(ch in "/\\" or (unicodedata.category(ch)[0] in "CZ" and ch != " ") for ch in stem), stem
    assert inside(out, out / stem).parent == out.resolve()


def test_hostile_names_give_safe_unique_folder_names(tmp_path):
    names = [f"subs/{n}" for n in HOSTILE_FILES] + ["subs/" + "y" * 300 + ".ipynb", "late/alice.ipynb",
                                                    "subs/\uff21lice.ipynb"]   # full-width A: "Alice" again
    ordered = canonical_order(names)
    stems = [s for _, s in ordered]
    assert len({s.casefold() for s in stems}) == len(names)                       # unique, whatever the case
    for stem in stems:
        assert_safe(stem, tmp_path)
    assert ordered == canonical_order(random.Random(3).sample(names, len(names)))  # shards agree
    by_name = {Path(p).name: s for p, s in ordered if str(p).startswith("subs")}
    assert by_name["...ipynb"] not in ("..", ".") and by_name["．．.ipynb"] not in ("..", "．．")
    assert len(by_name["y" * 300 + ".ipynb"]) == MAX_STEM
    assert by_name["grades.csv.ipynb"] != "grades.csv" and by_name["history.ipynb"] != "history"


def test_gradescope_trial_refuses_a_folder_outside_out(tmp_path):
    """`...ipynb` had the stem "..": the trial's rmtree(out / stem) deleted the parent of --out."""
    out = tmp_path / "class" / "tried"
    out.mkdir(parents=True)
    (tmp_path / "class" / "keep.txt").write_text("a TA's notes")
    for stem in ("..", ".", "../elsewhere", "/etc"):
        with pytest.raises(GradingError, match="not inside"):
            _one_like_gradescope(tmp_path / "none.zip", tmp_path / "x.ipynb", stem, tmp_path, out)
    assert (tmp_path / "class" / "keep.txt").read_text() == "a TA's notes" and out.is_dir()


def grade_hostile_class(tmp_path: Path, fake_grading) -> dict:
    """`build.py grade` (faked grading) of the hostile class, in one run and in two shards merged by
    `build.py merge`; returns the folders and the listing of everything else before and after."""
    zip_path, _, _ = fake_grading
    work = tmp_path / "work"
    subs = make_class(work / "subs")
    (work / "notes.txt").write_text("the TA's own file beside --out")
    outs = [work / "graded", work / "s1", work / "s2", work / "merged"]
    before = listing(tmp_path, tuple(outs))
    common = [*map(str, subs), "--variant", "wikipedia", "--zip", str(zip_path)]
    assert grade_main([*common, "--out", str(outs[0])]) == 0
    assert grade_main([*common, "--out", str(outs[1]), "--shard", "1/2"]) == 0
    assert grade_main([*common, "--out", str(outs[2]), "--shard", "2/2"]) == 0
    assert merge_main([str(outs[1]), str(outs[2]), "--out", str(outs[3])]) == 0
    return {"subs": subs, "graded": outs[0], "merged": outs[3], "before": before,
            "after": listing(tmp_path, tuple(outs))}


def test_every_writer_keeps_names_as_data(tmp_path, fake_grading):
    run = grade_hostile_class(tmp_path, fake_grading)
    assert run["after"] == run["before"]                                  # nothing outside --out changed
    graded = run["graded"]
    stems = [s for _, s in canonical_order(run["subs"])]
    assert sorted(p.name for p in graded.iterdir() if p.is_dir() and p.name != "feedback") == sorted(stems)
    assert sorted(p.name for p in (graded / "feedback").iterdir()) == sorted(f"{s}.html" for s in stems)
    for stem in stems:
        assert_safe(stem, graded)
        assert (graded / stem / "results.json").is_file() and (graded / stem / "written.json").is_file()

    with open(graded / "grades.csv", newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    assert [row[0] for row in table[1:]] == stems
    for row in table:
        for cell in row:
            try:
                float(cell)
            except ValueError:
                assert not cell.startswith(FORMULA), cell                 # text: never a formula

    for page_name in ("report.html", "written.html", *(f"feedback/{s}.html" for s in stems)):
        page = (graded / page_name).read_text(encoding="utf-8")
        assert not handlers_and_tags(page), page_name                       # as a browser's parser reads it
        assert "<script>alert" not in page and "<img" not in page and "<svg onload" not in page
        assert "Content-Security-Policy" in page and "default-src 'none'" in page
    written = (graded / "written.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in written              # the student's name, as text
    assert (run["merged"] / "grades.csv").read_bytes() == (graded / "grades.csv").read_bytes()
    assert (run["merged"] / "written.html").read_bytes() == (graded / "written.html").read_bytes()


def test_text_cells_are_neutralised_numbers_kept(tmp_path):
    assert spreadsheet_safe(-0.5) == -0.5 and spreadsheet_safe(0) == 0 and spreadsheet_safe("abc") == "abc"
    for text in ("=1+1", "+1", "-cmd", "@SUM(1)", "\tx", "\rx"):
        assert spreadsheet_safe(text) == "'" + text
    old = [{**results("x", 3.0), "submission": name, "source": "", "outcome": outcome}
           for name, outcome in (("=cmd|' /C calc'!A0", "graded"), ("bob", "+evil"))]
    old[1]["tests"][0]["score"] = -0.5                                     # a penalty is a number
    path = write_grades_csv(old, tmp_path / "grades.csv")
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[1][0] == "'=cmd|' /C calc'!A0" and rows[2][-1] == "'+evil"
    assert rows[2][1] == "-0.5"


def test_a_record_naming_a_path_is_refused(tmp_path, class_of_three):
    from .conftest import make_run
    run = make_run(tmp_path / "old", {"alice": class_of_three["alice"]}, ["alice"])
    record = json.loads((run / "shard.json").read_text())
    record["all_submissions"] = ["../../victim"]
    record["submissions"][0]["submission"] = "../../victim"
    (run / "shard.json").write_text(json.dumps(record))
    with pytest.raises(MergeError, match=r"shard.json: submission name '../../victim' is not a safe folder name"):
        merge([run], tmp_path / "new")
    assert not (tmp_path / "new").exists()


@pytest.mark.browser
def test_pages_with_hostile_names_run_nothing_and_fetch_nothing(tmp_path, fake_grading):
    """Every name link and row of report.html, every tab and card of written.html clicked in headless
    Chromium: no dialog opens, no request leaves the page, no element carries an event handler."""
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    from tests.browser import chromium, screenshot
    graded = grade_hostile_class(tmp_path, fake_grading)["graded"]

    def no_dialog(driver):
        with pytest.raises(NoAlertPresentException):
            driver.switch_to.alert.text

    def clean(driver):
        no_dialog(driver)
        urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert not [u for u in urls if re.match(r"(https?|wss?|ftp):", u)], urls
        handlers = driver.execute_script(
            "return [...document.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name))"
            ".filter(n => n.startsWith('on'))")
        assert handlers == []
        assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]   # CSP refusals included

    with chromium(1300, 900) as driver:
        driver.get((graded / "report.html").as_uri())
        driver.execute_script("alert('control')")                            # the check sees a dialog
        driver.switch_to.alert.accept()
        driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")   # "and N more"
        # the links within the page (a feedback link opens another page: those pages are checked on their own)
        links = [a for a in driver.find_elements(By.CSS_SELECTOR, "a") if "#" in (a.get_attribute("href") or "")]
        assert len(links) > len(HOSTILE_FILES)                                  # failures list who failed
        rows = driver.find_elements(By.CSS_SELECTOR, "#rows tbody tr")
        assert len(rows) == len(HOSTILE_FILES)
        for element in links + rows:
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
            element.click()
            no_dialog(driver)
        clean(driver)
        driver.find_element(By.ID, "filter").send_keys("<img src=x onerror=alert(1)>")
        clean(driver)
        screenshot(driver, "hostile_report")

        driver.get((graded / "written.html").as_uri())
        tabs = driver.find_elements(By.CSS_SELECTOR, "nav .tab")
        assert tabs
        for tab in tabs:   # every tab; every submission's card (its name, a score) on the first
            tab.click()
            no_dialog(driver)
        tabs[0].click()
        cards = [c for c in driver.find_elements(By.CSS_SELECTOR, ".card") if c.is_displayed()]
        assert len(cards) == len(HOSTILE_FILES)
        for card in cards:
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", card)
            card.find_element(By.CSS_SELECTOR, ".who").click()
            card.find_element(By.CSS_SELECTOR, "button.quick").click()       # scored: names used as keys
            no_dialog(driver)
        clean(driver)
        names = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "section.question:not([hidden]) .name")]
        assert any("<script>alert(1)</script>" in n for n in names)              # shown as typed
        saved = driver.execute_script("return writtenScores.csv()")
        screenshot(driver, "hostile_written")
    table = list(csv.DictReader(io.StringIO(saved)))
    assert len(table) == len(HOSTILE_FILES) and all(r["w1_sparse_vs_dense"] == "0" for r in table)
    assert any(r["submission"] == "__proto__" for r in table)               # a key like any other
    for row in table:
        for cell in row.values():
            assert not cell.startswith(FORMULA), cell
    assert any(r["name"].startswith("'=HYPERLINK(") for r in table)
    (tmp_path / "scores.csv").write_text(saved, encoding="utf-8")           # and build.py reads it back
    assert merge_main([str(graded), "--out", str(graded), "--written-scores", str(tmp_path / "scores.csv")]) == 0


@pytest.mark.browser
def test_a_right_to_left_mark_stays_inside_its_name(tmp_path):
    """U+202E in a student's name reverses that name only, not the student ID shown after it."""
    from selenium.webdriver.common.by import By

    from autograder.grading.written import write_written_html
    from tests.browser import chromium

    from .conftest import QUESTIONS, SHA, written
    records = [written("rtl", {}, name="\u202eevil", student_id="12345"), written("ltr", {}, name="plain", student_id="12345")]
    page = write_written_html(tmp_path, QUESTIONS, records, release_sha=SHA, variant="wikipedia", title="t")
    with chromium() as driver:
        driver.get(page.as_uri())
        ids = driver.execute_script("""
          return [...document.querySelectorAll('section.question:not([hidden]) .name > :last-child')].map(b => {
            const r = document.createRange(); r.selectNodeContents(b); const box = r.getBoundingClientRect();
            const name = b.parentNode.firstElementChild.getBoundingClientRect();
            return [b.textContent, box.left > name.right - 0.5];
          });""")
    assert ids == [["12345", True], ["12345", True]]      # the ID is after the name, in reading order, for both
