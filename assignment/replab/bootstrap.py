"""The notebook's first cell: bring the lab's files and packages to wherever the notebook was opened.

A student may open the notebook alone — in Google Colab, on a JupyterHub, from a download on a laptop.
`fetch_lab_files` is the function the first cell carries (the release copies its source into the
cell, so the notebook needs nothing beside it to run it): when the lab's files (replab/, the data
snapshot, the public tests) are not beside the notebook, it downloads the release's student bundle,
checks the sha256 the notebook pins, and unpacks it beside the notebook — into a temporary folder first,
then moved into place, so an interrupted unpack leaves nothing half-written. With the files present (a
laptop with the release folder, the autograder) it does nothing and touches no network.

`install_missing` then installs, in one pip call, the pinned packages the lab uses that this Python
lacks (in Colab: otter-grader, fpdf2, orjson), pinned to the versions the release was verified with
(replab/requirements.txt, written by the release). Nothing is installed when all are present, and
never while grading. pip reads its usual settings from the environment — e.g. ``PIP_NO_INDEX=1
PIP_FIND_LINKS=/path/to/wheels`` installs from a local wheel folder, offline — and ``LAB8_PIP_ARGS``
adds arguments of its own (e.g. ``--index-url https://mirror.example.edu/simple``).

Only the standard library is used: this runs before any of the lab's packages may be importable.
Every failure is one line saying what happened and what to do (no traceback: IPython prints an
exception's ``_render_traceback_`` instead of the traceback).
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

REQUIREMENTS = Path(__file__).with_name("requirements.txt")
# pip's name → the module the lab imports, where they differ
IMPORT_NAMES = {"otter-grader": "otter", "fpdf2": "fpdf", "scikit-learn": "sklearn", "pyyaml": "yaml"}


def fetch_lab_files(url, sha256, needed):
    """Download and unpack the lab's files beside this notebook, unless they are here already."""
    import hashlib, http.client, io, os, shutil, tempfile, urllib.request, zipfile
    if all(os.path.exists(p) for p in needed):
        return False   # a release folder or the autograder: nothing to fetch, no network
    def fail(what, todo="Check the internet connection (in Colab: Runtime → Reconnect)"):
        e = RuntimeError(f"Lab files: {what}. {todo}, then run this cell again.")
        e._render_traceback_ = lambda: [str(e)]   # IPython prints this one line instead of a traceback
        raise e
    if not url:
        fail("they are not beside this notebook, and this release names no download",
             "Open the notebook inside the lab's folder (unzip what your course gave you)")
    print(f"Downloading the lab's files from {url} …", flush=True)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    except http.client.IncompleteRead as e:   # the server closed before sending all it announced
        fail(f"the download broke off after {len(e.partial):,} of {len(e.partial) + (e.expected or 0):,} bytes")
    except OSError as e:   # no network, a refused connection, a timeout, an HTTP error
        fail(f"could not download {url} ({getattr(e, 'reason', None) or e})")
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        fail(f"{url} is not this notebook's bundle (sha256 {got[:12]}…, expected {sha256[:12]}…)",
             "Download the notebook again from the course page (or ask your instructor)")
    unpacked = tempfile.mkdtemp(prefix=".lab-files-", dir=".")   # same folder: the moves below are renames
    try:
        zipfile.ZipFile(io.BytesIO(data)).extractall(unpacked)
        for name in os.listdir(unpacked):
            if not os.path.exists(name):   # what the student already has beside the notebook stays
                os.replace(os.path.join(unpacked, name), name)
    finally:
        shutil.rmtree(unpacked, ignore_errors=True)
    print(f"Unpacked the lab's files ({len(data) // 1024:,} KB) into {os.getcwd()}.")
    return True


def read_requirements(path=REQUIREMENTS) -> list[str]:
    """The pinned requirements, one a line ('#' comments and blank lines skipped)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines() if Path(path).is_file() else []
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def import_name(requirement: str) -> str:
    name = requirement.split("==")[0].split("[")[0].strip().lower()
    return IMPORT_NAMES.get(name, name.replace("-", "_"))


def missing(requirements) -> list[str]:
    """The requirements whose module this Python cannot import."""
    importlib.invalidate_caches()
    return [r for r in requirements if importlib.util.find_spec(import_name(r)) is None]


class InstallError(RuntimeError):
    """pip could not install the lab's packages; one line, no traceback in a notebook."""

    def _render_traceback_(self):
        return [str(self)]


def install_missing(requirements=None) -> list[str]:
    """Install, with one pip call and one progress line, the pinned packages this Python lacks; returns
    what was installed (nothing when all are present, and nothing while grading: the grader has them)."""
    if os.environ.get("LAB8_GRADING") == "1":   # the grader has every package; its student side is offline
        return []
    todo = missing(read_requirements() if requirements is None else requirements)
    if not todo:
        return []
    print(f"Installing what this Python lacks: {', '.join(todo)} …", flush=True)
    started = time.monotonic()
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *todo,
           *shlex.split(os.environ.get("LAB8_PIP_ARGS", ""))]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        errors = [line for line in (proc.stderr + proc.stdout).splitlines() if line.startswith("ERROR")]
        last = (errors or (proc.stderr.strip() or "pip failed").splitlines())[-1].strip()
        raise InstallError(f"Lab packages: pip could not install {', '.join(todo)} ({last}). Check the internet "
                           "connection (or set LAB8_PIP_ARGS / PIP_FIND_LINKS for a local wheel folder), then "
                           "run this cell again.")
    still = missing(todo)
    if still:   # installed somewhere this kernel does not look (e.g. a user site that is off)
        raise InstallError(f"Lab packages: installed {', '.join(still)} but this kernel cannot import them. "
                           "Restart the kernel (Runtime → Restart session in Colab), then run this cell again.")
    print(f"Installed {len(todo)} package{'s' if len(todo) != 1 else ''} in {time.monotonic() - started:.0f} s.")
    return todo
