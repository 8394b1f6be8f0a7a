"""The notebook's first cell: bring the lab's files and packages to wherever the notebook was opened.

A student may open the notebook alone — in Google Colab, on a JupyterHub, from a download on a laptop.
`fetch_lab_files` is the function the first cell carries (the release copies its source into the
cell, so the notebook needs nothing beside it to run it): when the lab's files (replab/, the data
snapshot, the public tests) are not beside the notebook, it downloads the release's student bundle,
checks the sha256 the notebook pins, and unpacks it beside the notebook — into a temporary folder first,
then moved into place, so an interrupted unpack leaves nothing half-written. With the files present (a
laptop with the release folder, the autograder) it does nothing and touches no network.

`install_missing` then installs the pinned packages the lab uses that this Python lacks (in Colab: fpdf2
and orjson), at the versions the release was verified with (replab/requirements.txt, written by the release),
and changes nothing a student already has: pip is first asked what it would do (a dry run); a package this
Python has already would keep its version — it is pinned as it is for the real install — and when that cannot
be, the cell says so in one line, and nothing is installed. A package of this Python's that pip must add or
change is named in one line, with whether the runtime needs a restart (only when it had that package loaded).
A missing torch comes from PyTorch's CPU index, with a line saying so (never the multi-GB CUDA build by
accident). Nothing is installed when all are present, and never while grading. pip reads its usual settings
from the environment — e.g. ``PIP_NO_INDEX=1 PIP_FIND_LINKS=/path/to/wheels`` installs from a local wheel
folder, offline — and ``LAB8_PIP_ARGS`` adds arguments of its own (e.g. ``--index-url https://mirror.example.edu/simple``).

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
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"   # torch's CPU wheels (PyPI's default is the CUDA build)


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


def _pip(args, extra=()) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args, "--disable-pip-version-check", *extra,
                           *shlex.split(os.environ.get("LAB8_PIP_ARGS", ""))], capture_output=True, text=True)


def _failed(proc, what) -> InstallError:
    errors = [line for line in (proc.stderr + proc.stdout).splitlines() if line.startswith("ERROR")]
    last = (errors or (proc.stderr.strip() or "pip failed").splitlines())[-1].strip()
    return InstallError(f"Lab packages: pip could not install {what} ({last}). Check the internet connection (or set "
                        "LAB8_PIP_ARGS / PIP_FIND_LINKS for a local wheel folder), then run this cell again.")


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def installed_versions() -> dict:
    """{distribution: version} of this Python, canonical names."""
    from importlib import metadata
    return {_canonical(d.metadata["Name"] or ""): d.version for d in metadata.distributions() if d.metadata["Name"]}


def loaded(name: str) -> bool:
    """Whether this Python has imported the distribution's modules (then changing it needs a restart)."""
    from importlib import metadata
    try:
        top = (metadata.distribution(name).read_text("top_level.txt") or "").split()
    except metadata.PackageNotFoundError:
        return False
    return any(m in sys.modules for m in top or [name.replace("-", "_")])


def plan(todo) -> tuple[list, dict]:
    """pip's dry run for `todo`: (what it would install as [(name, version)], {name: (have, would)} for packages
    this Python has at another version)."""
    import json
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        proc = _pip(["install", "--dry-run", "--quiet", "--report", report, *todo])
        if proc.returncode != 0:
            raise _failed(proc, ", ".join(todo))
        with open(report, encoding="utf-8") as f:
            items = json.load(f).get("install", [])
    have = installed_versions()
    wanted = [(_canonical(i["metadata"]["name"]), i["metadata"]["version"]) for i in items]
    changes = {n: (have[n], v) for n, v in wanted if n in have and have[n] != v}
    return wanted, changes


def install_missing(requirements=None) -> list[str]:
    """Install the pinned packages this Python lacks, changing none it has; returns what was installed (nothing
    when all are present, and nothing while grading: the grader has them)."""
    if os.environ.get("LAB8_GRADING") == "1":   # the grader has every package; its student side is offline
        return []
    todo = missing(read_requirements() if requirements is None else requirements)
    if not todo:
        return []
    started = time.monotonic()
    torch = [r for r in todo if r.split("==")[0].strip().lower() in ("torch", "torchvision")]
    rest = [r for r in todo if r not in torch]
    if torch:   # the CPU build, from PyTorch's own index: PyPI's default wheel carries GBs of CUDA libraries
        print(f"torch is missing: installing the CPU build from {TORCH_CPU_INDEX} (about 200 MB) …", flush=True)
        proc = _pip(["install", "--quiet", *torch], ["--index-url", TORCH_CPU_INDEX])
        if proc.returncode != 0:
            raise _failed(proc, ", ".join(torch))
    if rest:
        print(f"Installing what this Python lacks: {', '.join(rest)} …", flush=True)
        _, changes = plan(rest)
        keep = []
        if changes:   # keep what this Python has: pinned as it is for the real install
            import tempfile
            keep = [f"{n}=={have}" for n, (have, _) in changes.items()]
            with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
                f.write("\n".join(keep) + "\n")
            constraints = f.name
            proc = _pip(["install", "--dry-run", "--quiet", *rest], ["-c", constraints])
            if proc.returncode != 0:   # they must change: only what this runtime has not loaded, and said so
                busy = {n: c for n, c in changes.items() if loaded(n)}
                if busy:
                    os.unlink(constraints)
                    names = ", ".join(f"{n} {a} → {b}" for n, (a, b) in busy.items())
                    raise InstallError(f"Lab packages: installing {', '.join(rest)} would change packages this "
                                       f"runtime has loaded ({names}); nothing was installed. To accept that, run "
                                       f"`pip install {' '.join(rest)}`, restart the runtime, then run this cell again.")
                print("Changing what this runtime has not loaded (no restart needed): "
                      + ", ".join(f"{n} {a} → {b}" for n, (a, b) in changes.items()), flush=True)
                keep = []
        proc = _pip(["install", "--quiet", *rest], ["-c", constraints] if keep else [])
        if changes:
            os.unlink(constraints)
        if proc.returncode != 0:
            raise _failed(proc, ", ".join(rest))
        if keep:
            print(f"Kept this Python's own {', '.join(keep)} (the lab's packages work with them).")
    still = missing(todo)
    if still:   # installed somewhere this kernel does not look (e.g. a user site that is off)
        raise InstallError(f"Lab packages: installed {', '.join(still)} but this kernel cannot import them. "
                           "Restart the kernel (Runtime → Restart session in Colab), then run this cell again.")
    print(f"Installed {len(todo)} package{'s' if len(todo) != 1 else ''} in {time.monotonic() - started:.0f} s; no "
          "restart is needed.")
    return todo
