"""The image trial (`build.py grade --gradescope --image`, autograder/grading/image.py): Gradescope's autograder
image rebuilt from a bare Debian root by the zip's own setup.sh, cached, and run_autograder run inside it."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_an_unreachable_index_drops_its_local_labels_and_says_so():
    from autograder.grading.image import offline_requirements
    text = "--extra-index-url https://download.pytorch.org/whl/cpu\ntorch==2.14.1+cpu\nnumpy==2.4.6\n"
    kept, changes = offline_requirements(text, reachable=lambda url: True)
    assert kept == text and changes == []
    offline, changes = offline_requirements(text, reachable=lambda url: False)
    assert offline == "torch==2.14.1\nnumpy==2.4.6\n"
    assert changes[0].startswith("dropped `--extra-index-url https://download.pytorch.org/whl/cpu`")
    assert changes[1].startswith("torch==2.14.1+cpu → torch==2.14.1")


def test_image_needs_gradescope_and_says_so_in_one_line():
    proc = subprocess.run([sys.executable, "build.py", "grade", "x.ipynb", "--variant", "wikipedia", "--image"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0 and "--image" in proc.stderr and "add --gradescope" in proc.stderr
    assert proc.stderr.strip().count("\n") == 0, proc.stderr


def _cannot_build() -> str | None:
    if os.geteuid() != 0:
        return "the image trial runs as root (debootstrap, mounts)"
    for tool in ("debootstrap", "bwrap"):
        if shutil.which(tool) is None:
            return f"no {tool} here"
    try:
        socket.create_connection(("deb.debian.org", 80), timeout=5).close()
    except OSError:
        return "Debian's mirror is unreachable"
    return None


@pytest.mark.slow
def test_the_image_trial_grades_the_solution_full_marks_and_the_blank_zero(small_release, tmp_path):
    """Slow (a few minutes the first time on a machine: debootstrap and setup.sh, cached under
    $LAB8_PLATFORM_CACHE; then two run_autograder runs at half a CPU, side by side): the small release's solution
    and blank notebooks graded in one `build.py grade --gradescope --image` call, inside the image its setup.sh
    built from a bare Debian bookworm root; the results name the image's base and Python, and the grader chose
    its user mode by itself (bubblewrap refused in the container). A second trial of the zip reuses the image."""
    reason = _cannot_build()
    if reason:
        pytest.skip(reason)
    out, _ = small_release
    zip_path = out / "wikipedia" / "autograder" / "lab8_wikipedia_autograder.zip"
    from tests.conftest import PLATFORMS
    if "gradescope-image" in PLATFORMS:   # started in the background once the release was built (conftest.py)
        PLATFORMS["gradescope-image"].result()
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copyfile(out / "wikipedia" / "solutions" / "lab8_wikipedia.ipynb", subs / "solution.ipynb")
    shutil.copyfile(out / "wikipedia" / "student" / "lab8_wikipedia.ipynb", subs / "blank.ipynb")
    proc = subprocess.run([sys.executable, "build.py", "grade", str(subs / "solution.ipynb"), str(subs / "blank.ipynb"),
                           "--variant", "wikipedia", "--zip", str(zip_path), "--gradescope", "--image", "--jobs", "2",
                           "--out", str(tmp_path / "graded")], cwd=ROOT, capture_output=True, text=True, timeout=3000)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "image: " in proc.stdout and "student code ran in: user" in proc.stdout, proc.stdout
    got = {stem: json.loads((tmp_path / "graded" / stem / "results.json").read_text()) for stem in ("solution", "blank")}
    assert got["solution"]["score"] == 10 and got["solution"]["extra_data"]["outcome"] == "graded", got["solution"]
    assert got["blank"]["score"] == 0, got["blank"]["output"]
    for result in got.values():
        image = result["extra_data"]["trial"]["image"]
        assert "bookworm" in image["base"] and image["python"].startswith("3.11."), image
        assert "user namespaces refused" in result["extra_data"]["trial"]["container"]
        assert result["extra_data"]["sandbox"] == "user"
    from autograder.grading.image import build
    started, said = time.monotonic(), []
    build(zip_path, log=said.append)
    assert len(said) == 1 and said[0].startswith("image: cached "), said   # no debootstrap, no setup.sh
    assert time.monotonic() - started < 30
