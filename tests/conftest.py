"""Shared test fixtures (the read-only corpora beside the repo, the assignment config, one release) and the
two tiers of the suite.

    python -m pytest -q          the quick tier: every unit, the judge's checks in-process, pages rendered
                                 from stored results, and one small release end to end (a few minutes)
    python -m pytest -q --full   everything: also the tests marked `slow` (a full release of every variant,
                                 notebooks executed, the honest and hostile corpora graded in both paths)
                                 and the browser tests (files named test_*_browser.py: a real Chromium)

A test is `slow` when it needs a full release or executes notebooks; its docstring says what it runs.
"""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures"


def pytest_addoption(parser):
    parser.addoption("--full", action="store_true",
                     help="run the full tier too: slow end-to-end tests and real-browser tests (what CI runs)")


def pytest_configure(config):
    """One cache of the judge's replayed reference training for the whole run, shared by every grading
    process the tests start (and fresh for each run, so no earlier run's replay is trusted)."""
    import os
    import tempfile
    os.environ.setdefault("LAB8_REFERENCE_CACHE", tempfile.mkdtemp(prefix="lab8-replays-"))


# The full tier's platform roots (Colab's runtime, Gradescope's image): minutes of downloads and disk the first
# time on a machine, little CPU. Started in the background as soon as what they need exists, so they are built
# while the corpora grade; a test that needs one waits for its Future. Cached after (rootfs.cached).
PLATFORMS = {}


def in_background(name, build):
    """The Future of build() in a thread of its own, started once per run."""
    from concurrent.futures import ThreadPoolExecutor
    if name not in PLATFORMS:
        PLATFORMS[name] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name).submit(build)
    return PLATFORMS[name]


def platforms_buildable() -> bool:
    import os
    import shutil
    return os.geteuid() == 0 and all(shutil.which(t) for t in ("debootstrap", "bwrap"))


def pytest_collection_modifyitems(config, items):
    """Without --full, leave out what needs a full release, executes notebooks or drives a browser."""
    for item in items:
        if item.path.name.endswith("_browser.py"):
            item.add_marker(pytest.mark.browser)
    if config.getoption("--full"):
        if platforms_buildable() and any(i.path.name == "test_colab.py" for i in items):
            from tests.release import colab_runtime
            in_background("colab", lambda: colab_runtime.build(log=lambda line: None))
        return
    quick = [i for i in items if not (i.get_closest_marker("slow") or i.get_closest_marker("browser"))]
    if len(quick) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in quick])
        items[:] = quick


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    assert (FIXTURES / "wikipedia").is_dir(), f"{FIXTURES}: the shared test corpora must sit beside the repo"
    return FIXTURES


@pytest.fixture(scope="session")
def cfg():
    from assignment.config import load_config
    return load_config()


@pytest.fixture(scope="session")
def wiki_corpus(fixtures_dir):
    from replab.wikipedia import load_wikipedia_dir
    return load_wikipedia_dir(fixtures_dir / "wikipedia")


@pytest.fixture(scope="session")
def release(tmp_path_factory, fixtures_dir):
    """One verified release of every variant (wikipedia and bbc from the fixtures, cifar10 from its
    offline stand-in), built once for every slow test: (out folder, build stdout)."""
    import subprocess
    import sys
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "build.py", "--out", str(out), "--data-dir", str(fixtures_dir),
                           "--jobs", "3"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc.stdout


@pytest.fixture(scope="session")
def small_release(tmp_path_factory, request):
    """The smallest verified release (about 35 s): the wikipedia variant on its embedded offline corpus,
    built once per run for the quick tier's end-to-end test and the grading engine's tests:
    (out folder, build stdout)."""
    import subprocess
    import sys
    out = tmp_path_factory.mktemp("dist-small")
    proc = subprocess.run([sys.executable, "build.py", "--out", str(out), "--variant", "wikipedia", "--offline"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    if request.config.getoption("--full") and platforms_buildable():   # its zip's image, for tests/grading/test_image.py
        from autograder.grading import image
        in_background("gradescope-image", lambda: image.build(out / "wikipedia" / "autograder" /
                                                              "lab8_wikipedia_autograder.zip", log=lambda line: None))
    return out, proc.stdout
