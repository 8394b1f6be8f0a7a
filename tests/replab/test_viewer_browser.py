"""The viewer in a real browser (headless Chromium): what a student does with it, checked against the same
numbers computed here with numpy and scikit-learn. Screenshots are kept in tests/artifacts/."""
from __future__ import annotations

import base64
import io
import time

import numpy as np
import pytest
from PIL import Image
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sklearn.neighbors import NearestNeighbors

from replab.mantis import MantisFormatError, read_mantis_csv, write_mantis_csv
from replab.viewer import write_viewer_html
from replab.viewer_data import project
from tests.browser import chromium, screenshot
from tests.replab.synthetic import drifting, picture_like, wikipedia_like

K = 10
FRAME_BUDGET_MS = 33.0


# -------------------------------------------------------------------------------- fixtures and helpers

@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        driver.set_script_timeout(90)
        yield driver


@pytest.fixture(scope="module")
def wiki(tmp_path_factory):
    """A wikipedia-like run (300 articles, 6 topics, 64-d), as a page written by Python and as a CSV."""
    folder = tmp_path_factory.mktemp("wiki")
    titles, labels, splits, snippets, embeddings = wikipedia_like(300)
    page = write_viewer_html(folder / "viewer.html", titles, labels, snippets, embeddings, splits, title="wikipedia")
    csv = write_mantis_csv(folder / "mantis_embeddings.csv", titles, labels, splits, snippets, embeddings)
    classes = sorted(set(labels))
    return {"page": page, "csv": csv, "titles": titles, "labels": labels, "splits": splits, "emb": embeddings,
            "classes": classes, "label_ids": np.array([classes.index(c) for c in labels])}


def open_page(driver, path):
    driver.get(path.as_uri())
    wait_for(driver, "return !!window.viewer")


def wait_for(driver, condition_js, timeout=60):
    """Poll a JavaScript condition until it is true (the page computes some things in slices)."""
    end = time.monotonic() + timeout
    while not driver.execute_script(condition_js):
        assert time.monotonic() < end, f"timed out waiting for: {condition_js}"
        time.sleep(0.05)


def settle(driver):
    wait_for(driver, "return !viewer.busy()")


def sklearn_neighbours(x, k=K):
    return NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(x).kneighbors(x, return_distance=False)[:, 1:]


def python_overlaps(x, label_ids, k=K):
    """{item: (class it sits among, how many of its k neighbours are of that class)} for items whose
    neighbours are more than half of one other class."""
    out = {}
    for i, nb in enumerate(sklearn_neighbours(x, k)):
        counts = np.bincount(label_ids[nb], minlength=label_ids.max() + 1)
        for c in np.flatnonzero(counts * 2 > k):
            if c != label_ids[i]:
                out[i] = (int(c), int(counts[c]))
    return out


def dom_neighbours(driver):
    """(item, class shown) of each row of the pinned item's neighbour list, as the page shows them."""
    return driver.execute_script(
        "return [...document.querySelectorAll('#neighbours .row')].map(r => [+r.dataset.index, r.querySelector('.c').textContent])")


def dom_overlaps(driver):
    """Every row of the overlaps list: (item, title, class it sits among, its count), all pages of it."""
    while driver.find_elements(By.CSS_SELECTOR, "#overlaps .more button"):
        driver.find_element(By.CSS_SELECTOR, "#overlaps .more button").click()
    return driver.execute_script("""return [...document.querySelectorAll('#overlaps .row')].map(r =>
        [+r.dataset.index, r.querySelector('.t').textContent, r.querySelector('.sub .c').textContent,
         +r.querySelector('.sub').textContent.match(/(\\d+) of/)[1]])""")


def check_overlaps(driver, data, epoch):
    want = python_overlaps(data["emb"][epoch], data["label_ids"])
    rows = dom_overlaps(driver)
    assert {i: (data["classes"].index(c), n) for i, _, c, n in rows} == want
    assert all(title == data["titles"][i] for i, title, _, _ in rows)
    assert [n for *_, n in rows] == sorted((n for *_, n in rows), reverse=True)  # most surrounded first
    return rows


def severe_logs(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


# -------------------------------------------------------------------------------- the page written by Python

def test_slider_search_pin_and_neighbours_match_sklearn(browser, wiki):
    open_page(browser, wiki["page"])
    assert browser.find_element(By.ID, "epochLabel").text == "epoch 10 / 10"
    screenshot(browser, "viewer_wikipedia_3d")

    slider = browser.find_element(By.ID, "epoch")  # drag it to the far left, then step right with the keyboard
    ActionChains(browser).click_and_hold(slider).move_by_offset(-slider.size["width"] // 2 - 5, 0).release().perform()
    settle(browser)  # the picture moves there smoothly
    assert browser.find_element(By.ID, "epochLabel").text == "epoch 0 / 10 · untrained"
    for _ in range(3):
        slider.send_keys(Keys.ARROW_RIGHT)
    settle(browser)
    assert browser.execute_script("return viewer.state.epoch") == 3
    assert browser.find_element(By.ID, "epochLabel").text == "epoch 3 / 10"

    target = 137
    search = browser.find_element(By.ID, "search")
    search.send_keys(f"article {target}")
    results = browser.find_elements(By.CSS_SELECTOR, "#results .row")
    assert [int(r.get_attribute("data-index")) for r in results] == [target]
    results[0].click()
    assert browser.find_element(By.CSS_SELECTOR, "#pinned h2").text == wiki["titles"][target]
    meta = browser.find_element(By.CSS_SELECTOR, "#pinned .meta").text
    assert wiki["labels"][target] in meta and wiki["splits"][target] in meta

    want = sklearn_neighbours(wiki["emb"][3])[target]
    assert dom_neighbours(browser) == [[int(j), wiki["labels"][j]] for j in want]
    # its own-class share per epoch, one bar each, from the same neighbours
    bars = browser.execute_script("return [...document.querySelectorAll('#purity div')].map(b => b.title)")
    own = wiki["label_ids"][target]
    assert bars == [f"epoch {e}: {int((wiki['label_ids'][sklearn_neighbours(wiki['emb'][e])[target]] == own).sum())} of {K}"
                    for e in range(11)]
    screenshot(browser, "viewer_wikipedia_pinned_trail_epoch3")

    browser.execute_script("viewer.setEpoch(10)")
    settle(browser)
    assert dom_neighbours(browser) == [[int(j), wiki["labels"][j]] for j in sklearn_neighbours(wiki["emb"][10])[target]]
    assert not severe_logs(browser)


def test_clicking_a_point_pins_it(browser, wiki):
    open_page(browser, wiki["page"])
    canvas = browser.find_element(By.CSS_SELECTOR, "#panelB canvas")
    x, y = browser.execute_script("return viewer.screenPos(42)")[:2]
    ActionChains(browser).move_to_element_with_offset(canvas, x - canvas.size["width"] / 2,
                                                      y - canvas.size["height"] / 2).click().perform()
    pinned = browser.execute_script("return viewer.state.pinned")
    px, py = browser.execute_script("return viewer.screenPos(arguments[0])", pinned)[:2]
    assert pinned >= 0 and (px - x) ** 2 + (py - y) ** 2 <= 81  # 42, or a point drawn on top of it
    assert browser.find_element(By.CSS_SELECTOR, "#pinned h2").text == wiki["titles"][pinned]
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    assert browser.execute_script("return viewer.state.pinned") == -1


def test_overlaps_panel_matches_numpy_and_jumps(browser, wiki):
    open_page(browser, wiki["page"])
    rows = check_overlaps(browser, wiki, 10)
    assert rows, "the synthetic run has items that end among another class"
    browser.execute_script("viewer.setEpoch(2)")
    settle(browser)
    check_overlaps(browser, wiki, 2)
    browser.execute_script("viewer.setEpoch(10)")
    settle(browser)
    browser.find_elements(By.CSS_SELECTOR, "#overlaps .row")[0].click()
    first = rows[0][0]
    assert browser.execute_script("return viewer.state.pinned") == first
    x, y = browser.execute_script("return viewer.screenPos(arguments[0])", first)[:2]
    w, h = browser.execute_script("const c = document.querySelector('#panelB canvas'); return [c.clientWidth, c.clientHeight]")
    assert abs(x - w / 2) < 1 and abs(y - h / 2) < 1  # jumped: the item is in the middle of the view
    screenshot(browser, "viewer_wikipedia_overlaps")


def test_side_by_side_2d_split_colours_and_hidden_classes(browser, wiki):
    open_page(browser, wiki["page"])
    browser.find_element(By.ID, "side").click()
    assert browser.find_element(By.ID, "panelA").is_displayed()
    assert browser.find_element(By.ID, "leftEpoch").get_attribute("value") == "0"
    assert browser.find_element(By.ID, "rightLabel").text == "epoch 10"
    browser.execute_script("viewer.pin(5)")
    screenshot(browser, "viewer_wikipedia_side_by_side")
    browser.find_element(By.CSS_SELECTOR, '#dims [data-view="2d"]').click()
    browser.find_element(By.CSS_SELECTOR, "#legend .row").click()  # hide the first class
    assert browser.execute_script("return viewer.state.mode") == "2d"
    assert "off" in browser.find_element(By.CSS_SELECTOR, "#legend .row").get_attribute("class")
    hidden = wiki["classes"][0]
    drawn = browser.execute_script("return viewer.drawn()")  # the items in the last frame of the main panel
    assert drawn and not any(wiki["labels"][i] == hidden for i in drawn)
    assert len(drawn) == sum(c != hidden for c in wiki["labels"])
    shown = browser.execute_script("return [...document.querySelectorAll('#overlaps .row')].map(r => +r.dataset.index)")
    assert not any(wiki["labels"][i] == hidden for i in shown)
    screenshot(browser, "viewer_wikipedia_side_by_side_2d")
    assert not severe_logs(browser)


# -------------------------------------------------------------------------------- a CSV opened in the page

def test_a_csv_opened_in_the_page_is_projected_and_searched_there(browser, wiki):
    open_page(browser, wiki["page"])
    browser.find_element(By.ID, "file").send_keys(str(wiki["csv"]))
    wait_for(browser, "return !!viewer.data().emb && !!viewer.data().knn[viewer.state.epoch]")
    assert browser.find_element(By.ID, "title").text == "mantis_embeddings.csv"
    # the page's own PCA is Python's, up to one rotation/reflection of the whole picture
    for epoch in (0, 6, 10):
        js = np.array(browser.execute_script("return Array.from(viewer.data().proj.pca.d2[arguments[0]])", epoch)).reshape(-1, 2)
        py = project(wiki["emb"], 2)[epoch]
        u, _, vt = np.linalg.svd(js.T @ py)
        assert np.sqrt(((js @ u @ vt - py) ** 2).sum(axis=1).mean()) < 5e-3
    check_overlaps(browser, wiki, 10)  # neighbours of every item, found in the page in slices
    browser.execute_script("viewer.setEpoch(4); viewer.pin(7)")
    settle(browser)
    assert dom_neighbours(browser) == [[int(j), wiki["labels"][j]] for j in sklearn_neighbours(wiki["emb"][4])[7]]
    screenshot(browser, "viewer_csv_opened_in_page")
    assert not severe_logs(browser)


def test_dropping_a_csv_opens_it_and_a_bad_one_is_named_in_one_line(browser, wiki, tmp_path):
    open_page(browser, wiki["page"])
    embeddings, labels, is_test = drifting(40, epochs=3, dim=8)
    csv = write_mantis_csv(tmp_path / "dropped.csv", [f"T{i}" for i in range(40)], [f"c{c}" for c in labels],
                           ["test" if t else "train" for t in is_test], ["s"] * 40, embeddings).read_text()
    drop = """const f = new File([arguments[0]], arguments[1], {type: 'text/csv'}), dt = new DataTransfer();
              dt.items.add(f);
              document.body.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));"""
    browser.execute_script(drop, csv, "dropped.csv")
    wait_for(browser, "return viewer.data().source === 'dropped.csv' && !viewer.busy()")
    assert browser.execute_script("return [viewer.data().N, viewer.data().E, viewer.data().dim]") == [40, 3, 8]
    assert browser.find_element(By.ID, "epoch").get_attribute("max") == "2"

    # A broken file: the same one-line message as the Python reader's (replab.mantis), and what was open stays.
    lines = csv.splitlines()
    head, row1, row2 = lines[0], lines[1], lines[2]
    cells = lambda row: row.split(',"[')  # noqa: E731  the text fields, then one cell per epoch
    broken = {
        "row 2's last epoch has 2 numbers": [head, row1, ',"['.join(cells(row2)[:-1]) + ',"[1,2]"'],
        "a NaN": [head, row1.replace(',"[', ',"[1,NaN,', 1), row2],
        "a split of 'val'": [head, row1.replace(",test,", ",val,").replace(",train,", ",val,"), row2],
    }
    for what, text in broken.items():
        path = tmp_path / "bad.csv"
        path.write_text("\n".join(text) + "\n")
        with pytest.raises(MantisFormatError) as python:
            read_mantis_csv(path)
        browser.execute_script(drop, "\n".join(text), "bad.csv")
        wait_for(browser, "return !document.getElementById('status').hidden")
        assert browser.find_element(By.ID, "status").text == str(python.value), what
        assert browser.execute_script("return viewer.data().source") == "dropped.csv"
        browser.execute_script("document.getElementById('status').hidden = true")


# -------------------------------------------------------------------------------- pictures (the cifar10 variant)

def test_a_pinned_picture_is_the_items_own(browser, tmp_path):
    titles, labels, splits, snippets, embeddings, images = picture_like(200)
    page = write_viewer_html(tmp_path / "viewer.html", titles, labels, snippets, embeddings, splits,
                             title="cifar10", images=images)
    open_page(browser, page)
    search = browser.find_element(By.ID, "search")
    search.send_keys("#123" + Keys.ENTER)
    wait_for(browser, "return !!document.querySelector('#pinned .picture') && viewer.data().atlasImage.complete")
    browser.execute_script("viewer.pin(123)")  # drawn again now that the sprite sheet has loaded
    png = browser.execute_script("return document.querySelector('#pinned .picture').toDataURL()")
    got = np.asarray(Image.open(io.BytesIO(base64.b64decode(png.split(",", 1)[1]))).convert("RGB"))
    assert got.shape == (32, 32, 3) and np.abs(got.astype(int) - images[123]).mean() < 8
    assert len(browser.find_elements(By.CSS_SELECTOR, "#neighbours .row canvas.thumb")) == K
    screenshot(browser, "viewer_cifar10_pinned")
    browser.find_element(By.ID, "side").click()
    screenshot(browser, "viewer_cifar10_side_by_side")
    assert not severe_logs(browser)


# -------------------------------------------------------------------------------- fluid at the cifar10 size

def test_frame_time_at_5000_items_and_11_epochs_is_under_33_ms(browser, tmp_path):
    embeddings, labels, is_test = drifting(5000, dim=128, n_classes=10)
    names = [f"class {c}" for c in labels]
    page = write_viewer_html(tmp_path / "viewer.html", [f"item {i}" for i in range(5000)], names, names, embeddings,
                             ["test" if t else "train" for t in is_test])
    open_page(browser, page)
    bench = "const done = arguments[arguments.length - 1]; viewer.bench(arguments[0], 90).then(done);"
    for kind in ("rotate", "play"):
        stats = browser.execute_async_script(bench, kind)
        assert stats["items"] == 5000 and stats["epochs"] == 11 and stats["frames"] == 90
        assert stats["interval"]["mean"] < FRAME_BUDGET_MS, (kind, stats)  # > 30 frames a second
        assert stats["draw"]["p95"] < FRAME_BUDGET_MS, (kind, stats)
    browser.execute_script("viewer.pin(0)")
    screenshot(browser, "viewer_5000_items")


def test_a_umap_layout_is_offered_when_python_computed_it(browser, tmp_path, monkeypatch):
    """umap-learn is optional: stand in for it (a fixed random 3-D layout per epoch) to check the page's side."""
    import replab.viewer
    import replab.viewer_data
    monkeypatch.setattr(replab.viewer, "has_umap", lambda: True)
    monkeypatch.setattr(replab.viewer_data, "_umap", lambda x, k, previous: np.random.default_rng(len(x)).normal(size=(len(x), k)))
    titles, labels, splits, snippets, embeddings = wikipedia_like(120)
    page = write_viewer_html(tmp_path / "viewer.html", titles, labels, snippets, embeddings, splits, umap=True)
    open_page(browser, page)
    option = browser.find_element(By.CSS_SELECTOR, '#proj option[value="umap"]')
    assert option.is_enabled()
    browser.find_element(By.ID, "proj").click()
    option.click()
    assert browser.execute_script("return viewer.state.proj") == "umap"
    assert not severe_logs(browser)
    open_page(browser, write_viewer_html(tmp_path / "plain.html", titles, labels, snippets, embeddings, umap=False))
    assert not browser.find_element(By.CSS_SELECTOR, '#proj option[value="umap"]').is_enabled()
