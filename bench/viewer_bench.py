"""Frame times of the offline viewer at the cifar10 size (5,000 items × 11 epochs × 128 numbers), in
headless Chromium, and the size of the HTML file.

    python bench/viewer_bench.py [--items 5000] [--frames 150] [--csv]

For each of: rotating the 3-D view, playing the epochs, and both again with two epochs side by side, the
page's own bench (``viewer.bench``) records the interval between animation frames (what a person sees) and
the time our drawing code takes in each frame. The budget (also asserted by
tests/replab/test_viewer_browser.py): a mean interval under 33 ms (over 30 frames a second) and 95 % of
frames drawn in under 33 ms. ``--csv`` also
times opening the same data as a Mantis CSV in the page (parse + PCA in JavaScript) and finding every
item's neighbours at one epoch there.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
from pathlib import Path

from replab.mantis import write_mantis_csv
from replab.viewer import write_viewer_html

ROOT = Path(__file__).resolve().parents[1]
BUDGET_MS = 33.0


def _load(name: str, path: Path):
    """A helper module of the tests, by file (the tests folder is not an installed package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(driver, kind: str, frames: int, side: bool = False) -> dict:
    """viewer.bench(kind, frames) in the open page, optionally with two epochs side by side."""
    driver.execute_script("document.getElementById('side').checked = arguments[0];"
                          "document.getElementById('side').dispatchEvent(new Event('change'));", side)
    time.sleep(0.3)
    return driver.execute_async_script("const done = arguments[arguments.length - 1];"
                                       "viewer.bench(arguments[0], arguments[1]).then(done);", kind, frames)


def open_page(driver, path: Path, timeout: float = 60) -> None:
    driver.set_script_timeout(timeout)
    driver.get(path.as_uri())
    driver.execute_async_script("const done = arguments[arguments.length - 1];"
                                "(function wait() { window.viewer ? done() : setTimeout(wait, 50); })();")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=5000)
    p.add_argument("--frames", type=int, default=150)
    p.add_argument("--scale", type=float, default=1.0, help="device pixel ratio (2: a high-density laptop screen)")
    p.add_argument("--csv", action="store_true", help="also time opening the data as a CSV in the page")
    p.add_argument("--json", help="write the numbers here as well")
    args = p.parse_args(argv)
    browser = _load("browser", ROOT / "tests" / "browser.py")
    synthetic = _load("synthetic", ROOT / "tests" / "replab" / "synthetic.py")

    titles, labels, splits, snippets, embeddings, images = synthetic.picture_like(args.items)
    results = {"items": args.items, "epochs": int(embeddings.shape[0]), "dim": int(embeddings.shape[2])}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        started = time.perf_counter()
        page = write_viewer_html(tmp / "viewer.html", titles, labels, snippets, embeddings, splits,
                                 title="viewer bench", images=images)
        results["write_s"] = round(time.perf_counter() - started, 2)
        plain = write_viewer_html(tmp / "plain.html", titles, labels, snippets, embeddings, splits, title="viewer bench")
        results["html_mb"] = round(page.stat().st_size / 1e6, 2)
        results["html_mb_without_pictures"] = round(plain.stat().st_size / 1e6, 2)
        print(f"{args.items} items × {results['epochs']} epochs × {results['dim']} dims: viewer.html "
              f"{results['html_mb']} MB with pictures, {results['html_mb_without_pictures']} MB without "
              f"(written in {results['write_s']} s)")
        with browser.chromium(scale=args.scale) as driver:
            open_page(driver, page)
            print(f"window 1400×900 CSS px at device pixel ratio {args.scale:g}")
            print(f"{'frames while':<28}{'interval mean':>14}{'p95':>8}{'max':>8}{'draw mean':>11}{'p95':>8}   (ms)")
            for kind, side in (("rotate", False), ("play", False), ("rotate", True), ("play", True)):
                stats = measure(driver, kind, args.frames, side)
                name = f"{kind}{' (side by side)' if side else ''}"
                results[name] = stats
                i, d = stats["interval"], stats["draw"]
                # The budget: more than 30 frames a second on average, and our drawing never the reason for
                # a slow frame (95 % of frames drawn in under 33 ms). Intervals come in whole display
                # refreshes (16.7 ms), so one late frame reads as 33.3 ms.
                verdict = "ok" if i["mean"] < BUDGET_MS and d["p95"] < BUDGET_MS else f"OVER {BUDGET_MS:g} ms"
                print(f"{name:<28}{i['mean']:>14.1f}{i['p95']:>8.1f}{i['max']:>8.1f}{d['mean']:>11.1f}{d['p95']:>8.1f}   {verdict}")
            if args.csv:
                csv_path = write_mantis_csv(tmp / "run.csv", titles, labels, splits, snippets, embeddings)
                started = time.perf_counter()
                driver.find_element("id", "file").send_keys(str(csv_path))
                driver.execute_async_script("const done = arguments[arguments.length - 1];"
                                            "(function wait() { viewer.data().emb ? done() : setTimeout(wait, 50); })();")
                results["csv_open_s"] = round(time.perf_counter() - started, 2)
                driver.execute_async_script("const done = arguments[arguments.length - 1];"
                                            "(function wait() { viewer.data().knn[viewer.state.epoch] ? done() : setTimeout(wait, 100); })();")
                results["csv_neighbours_s"] = round(time.perf_counter() - started - results["csv_open_s"], 2)
                print(f"CSV of {csv_path.stat().st_size / 1e6:.0f} MB opened in the page (parse + PCA of every epoch): "
                      f"{results['csv_open_s']} s; every item's neighbours at one epoch: {results['csv_neighbours_s']} s more")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
