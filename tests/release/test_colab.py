"""The notebook opened alone — Google Colab, a JupyterHub, a laptop: its first cell (replab.bootstrap) fetches
the release's student bundle beside it, checks the sha256 the notebook pins, unpacks it and installs the
pinned packages that Python lacks, changing none it has; each failure is one line for the student. The bundle
is served over loopback HTTP; the slow test runs the whole notebook in Colab's published runtime, rebuilt
(colab_runtime.py), installing what it lacks from PyPI as a student's Colab would."""
from __future__ import annotations

import contextlib
import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from replab import bootstrap

ROOT = Path(__file__).resolve().parents[2]
NEEDED = ["replab/__init__.py", "data/wikipedia.npz", "tests"]


# --- a loopback server ------------------------------------------------------------------------------------

@contextlib.contextmanager
def serve(files: dict[str, bytes], partial: bool = False):
    """Serve `files` (path → bytes) on 127.0.0.1; yields (base URL, list of paths requested). partial: announce
    the whole length, send half, close — a connection that breaks mid-download."""
    requested = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requested.append(self.path)
            body = files.get(self.path.lstrip("/"))
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if partial else body)
            self.close_connection = True

        def log_message(self, *args):   # quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requested
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): a server that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_bundle() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("replab/__init__.py", "")
        zf.writestr("replab/requirements.txt", "numpy==1.0\n")
        zf.writestr("data/wikipedia.npz", b"\0" * 5000)
        zf.writestr("tests/q1_hook.py", "test = {}\n")
    return buf.getvalue()


def student_line(error: BaseException) -> str:
    """What a student sees in the notebook: IPython prints _render_traceback_ in place of a traceback."""
    lines = error._render_traceback_()
    assert len(lines) == 1 and "\n" not in lines[0]
    return lines[0]


# --- the first cell's function, alone (quick) --------------------------------------------------------------

def test_fetch_unpacks_beside_the_notebook_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bundle = make_bundle()
    with serve({"wikipedia/student.zip": bundle}) as (base, requested):
        url = f"{base}/wikipedia/student.zip"
        assert bootstrap.fetch_lab_files(url, hashlib.sha256(bundle).hexdigest(), NEEDED) is True
        assert (tmp_path / "replab/requirements.txt").read_text() == "numpy==1.0\n"
        assert (tmp_path / "tests/q1_hook.py").is_file() and (tmp_path / "data/wikipedia.npz").stat().st_size == 5000
        assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "replab", "tests"]   # no temp folder left
        assert bootstrap.fetch_lab_files(url, hashlib.sha256(bundle).hexdigest(), NEEDED) is False   # a rerun
    assert requested == ["/wikipedia/student.zip"]   # fetched once


def test_files_beside_the_notebook_touch_no_network(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for p in NEEDED:
        (tmp_path / p).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / p).mkdir() if p == "tests" else (tmp_path / p).write_text("")
    url = f"http://127.0.0.1:{closed_port()}/student.zip"   # would fail if it were tried
    assert bootstrap.fetch_lab_files(url, "0" * 64, NEEDED) is False


def test_a_wrong_checksum_is_one_line_and_unpacks_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bundle = make_bundle()
    with serve({"student.zip": bundle}) as (base, _):
        with pytest.raises(RuntimeError) as e:
            bootstrap.fetch_lab_files(f"{base}/student.zip", "ab" * 32, NEEDED)
    line = student_line(e.value)
    assert line.startswith(f"Lab files: {base}/student.zip is not this notebook's bundle (sha256 "
                           f"{hashlib.sha256(bundle).hexdigest()[:12]}…, expected abababababab…). Download the notebook again")
    assert line.endswith("then run this cell again.")
    assert list(tmp_path.iterdir()) == []


def test_a_server_that_is_down_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = f"http://127.0.0.1:{closed_port()}/student.zip"
    with pytest.raises(RuntimeError) as e:
        bootstrap.fetch_lab_files(url, "0" * 64, NEEDED)
    line = student_line(e.value)
    assert line.startswith(f"Lab files: could not download {url} (") and "refused" in line
    assert "Check the internet connection" in line and list(tmp_path.iterdir()) == []


def test_a_download_that_breaks_off_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bundle = make_bundle()
    with serve({"student.zip": bundle}, partial=True) as (base, _):
        with pytest.raises(RuntimeError) as e:
            bootstrap.fetch_lab_files(f"{base}/student.zip", hashlib.sha256(bundle).hexdigest(), NEEDED)
    assert student_line(e.value).startswith(
        f"Lab files: the download broke off after {len(bundle) // 2:,} of {len(bundle):,} bytes. Check the internet")
    assert list(tmp_path.iterdir()) == []


def test_no_url_in_the_release_says_where_the_files_should_be(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError) as e:
        bootstrap.fetch_lab_files("", "0" * 64, NEEDED)
    assert "not beside this notebook, and this release names no download" in student_line(e.value)
    assert list(tmp_path.iterdir()) == []


def _fake_pip(calls, rc=0, stderr="", would_install=()):
    """subprocess.run standing in for pip: records the command; a dry run's --report names `would_install`."""
    def pip(cmd, **kw):
        calls.append(cmd)
        if "--report" in cmd:
            Path(cmd[cmd.index("--report") + 1]).write_text(json.dumps(
                {"install": [{"metadata": {"name": n, "version": v}} for n, v in would_install]}))
        return subprocess.CompletedProcess(cmd, rc, "", stderr)
    return pip


def test_install_missing_installs_only_what_is_missing(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(bootstrap.subprocess, "run", _fake_pip(calls, would_install=[("lab8-not-a-package", "1.0")]))
    monkeypatch.delenv("LAB8_GRADING", raising=False)
    assert bootstrap.install_missing(["numpy==2.0", "scikit-learn==1.6"]) == [] and calls == []   # all present
    monkeypatch.setenv("LAB8_PIP_ARGS", "--find-links /wheels --no-index")
    # pip "installs", but the module never appears: the kernel cannot import it, said in one line
    with pytest.raises(bootstrap.InstallError) as e:
        bootstrap.install_missing(["numpy==2.0", "lab8-not-a-package==1.0"])
    assert [c[3:5] for c in calls] == [["install", "--dry-run"], ["install", "--quiet"]]   # asked first, then done
    assert calls[-1] == [sys.executable, "-m", "pip", "install", "--quiet", "lab8-not-a-package==1.0",
                         "--disable-pip-version-check", "--find-links", "/wheels", "--no-index"]
    assert "Restart the kernel" in student_line(e.value)
    assert capsys.readouterr().out == "Installing what this Python lacks: lab8-not-a-package==1.0 …\n"
    monkeypatch.setenv("LAB8_GRADING", "1")   # the grader never installs
    assert bootstrap.install_missing(["lab8-not-a-package==1.0"]) == [] and len(calls) == 2


def test_a_missing_torch_comes_from_the_cpu_index_and_says_so(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(bootstrap.subprocess, "run", _fake_pip(calls))
    monkeypatch.delenv("LAB8_GRADING", raising=False)
    monkeypatch.setattr(bootstrap, "missing", lambda reqs: [r for r in reqs if r.startswith("torch")] if not calls else [])
    assert bootstrap.install_missing(["torch==2.14.1", "numpy==2.0"]) == ["torch==2.14.1"]
    assert calls[0][3:6] == ["install", "--quiet", "torch==2.14.1"] and \
        calls[0][-2:] == ["--index-url", "https://download.pytorch.org/whl/cpu"]
    assert "torch is missing: installing the CPU build from https://download.pytorch.org/whl/cpu" in capsys.readouterr().out


def test_a_pip_failure_is_one_line(monkeypatch):
    monkeypatch.delenv("LAB8_GRADING", raising=False)
    monkeypatch.setattr(bootstrap.subprocess, "run", _fake_pip(
        [], rc=1, stderr="WARNING: Retrying …\nERROR: Could not find a version that satisfies the requirement fpdf2==9\n"))
    with pytest.raises(bootstrap.InstallError) as e:
        bootstrap.install_missing(["lab8-not-a-package==1.0"])
    assert student_line(e.value) == (
        "Lab packages: pip could not install lab8-not-a-package==1.0 (ERROR: Could not find a version that satisfies "
        "the requirement fpdf2==9). Check the internet connection (or set LAB8_PIP_ARGS / PIP_FIND_LINKS for a local "
        "wheel folder), then run this cell again.")


def test_written_pdf_says_how_to_download_it_in_colab_only(monkeypatch, tmp_path):
    import importlib.util
    from replab import written
    assert written.colab_download_hint(tmp_path / "a.pdf") == ""   # not in Colab: nothing
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "google.colab" else real(name, *a))
    hint = written.colab_download_hint(tmp_path / "a.pdf")
    assert "Files panel" in hint and f"files.download({str(tmp_path / 'a.pdf')!r})" in hint


def test_config_colab_links_and_a_colab_release_without_a_bundle_url(cfg, tmp_path):
    import dataclasses
    import yaml
    from assignment.config import ConfigError, load_config
    linked = dataclasses.replace(cfg, publish_url="https://github.com/course/lab8/tree/fall26/notebooks/{variant}",
                                 student_bundle_url="https://course.example.edu/lab8/{variant}/student.zip")
    assert linked.colab_url("bbc", "lab8_bbc.ipynb") == \
        "https://colab.research.google.com/github/course/lab8/blob/fall26/notebooks/bbc/lab8_bbc.ipynb"
    assert linked.bundle_url("bbc") == "https://course.example.edu/lab8/bbc/student.zip"
    data = yaml.safe_load(cfg.path.read_text())
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**data, "publish_url": "course/lab8"}))
    with pytest.raises(ConfigError, match=r"bad.yaml: publish_url: must be a GitHub folder"):
        load_config(bad)
    colab = tmp_path / "colab.yaml"
    colab.write_text(yaml.safe_dump({**data, "colab": True, "student_bundle_url": ""}))
    proc = subprocess.run([sys.executable, "build.py", "--config", str(colab), "--out", str(tmp_path / "dist")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"error: {colab}: student_bundle_url: unset, but colab: true asks for notebooks")
    assert not (tmp_path / "dist" / "wikipedia").exists()


def test_the_release_pins_its_bundle_in_the_first_cell(small_release):
    """The small release (the session's, shared): student.zip recorded and pinned; the first code cell carries
    fetch_lab_files as the module has it, and replab/requirements.txt pins what the first cell installs."""
    from autograder.release.assign import STUDENT_PACKAGES
    from replab.corpus import sha256_file
    out, _ = small_release
    record = json.loads((out / "release.json").read_text())["variants"]["wikipedia"]["bundle"]
    assert record["sha256"] == sha256_file(out / "wikipedia/student.zip") and record["file"] == "wikipedia/student.zip"
    with zipfile.ZipFile(out / "wikipedia/student.zip") as z:
        names = z.namelist()
        pins = z.read("replab/requirements.txt").decode().split()
    assert "data/wikipedia.npz" in names and "tests/q1_hook.py" in names and "replab/bootstrap.py" in names
    assert not any(n.endswith(".ipynb") or "__pycache__" in n for n in names)
    assert [p.split("==")[0] for p in pins if "==" in p] == list(STUDENT_PACKAGES)
    import inspect
    for nb_path in (out / "wikipedia/student/lab8_wikipedia.ipynb", out / "wikipedia/solutions/lab8_wikipedia.ipynb"):
        first = next(c for c in nbformat.read(nb_path, as_version=4).cells if c.cell_type == "code")
        assert f'BUNDLE_SHA256 = "{record["sha256"]}"' in first.source
        assert inspect.getsource(bootstrap.fetch_lab_files).strip() in first.source


# --- as a student meets it: Colab's published runtime (slow) ---------------------------------------------

@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """Colab's published runtime, rebuilt (tests/release/colab_runtime.py: Python 3.13 in a Debian trixie root, the
    lab's and the kernel's packages at Colab's versions from PyPI; cached), in a hard-linked copy this module's
    runs may change; a kernelspec whose kernel runs in it; what Colab lacks of the release's pins."""
    from tests.release import colab_runtime
    if os.geteuid() != 0 or not shutil.which("debootstrap") or not shutil.which("bwrap"):
        pytest.skip("Colab's runtime is rebuilt as root with debootstrap and bubblewrap (install.sh installs both)")
    started = time.monotonic()
    from tests.conftest import PLATFORMS
    root = PLATFORMS["colab"].result() if "colab" in PLATFORMS else colab_runtime.build()   # started in the background
    base = tmp_path_factory.mktemp("colab")
    copy = colab_runtime.writable_copy(root, base / "root")
    work, runtime_dir = base / "work", base / "runtime"
    work.mkdir()
    runtime_dir.mkdir()
    colab_runtime.kernelspec(copy, work, base / "jupyter", runtime_dir)
    before = colab_runtime.versions_in(copy)
    from autograder.release.assign import student_requirements
    pins = [line for line in student_requirements().splitlines() if "==" in line]
    names = {colab_runtime.canonical(k): v for k, v in before.items()}
    lab_missing = [pin for pin in pins if names.get(colab_runtime.canonical(pin.split("==")[0])) is None]
    return {"root": copy, "jupyter": base / "jupyter", "runtime": runtime_dir, "work": work, "before": before,
            "lab_missing": lab_missing, "setup_s": round(time.monotonic() - started, 1)}


def _run(nb, folder: Path, colab, monkeypatch, timeout=900):
    import uuid
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    monkeypatch.setenv("JUPYTER_PATH", str(colab["jupyter"]))
    # the connection file where the kernel, in its own root, can read it (bound at the same path)
    km = KernelManager(kernel_name="lab8-colab", connection_file=str(colab["runtime"] / f"kernel-{uuid.uuid4()}.json"))
    client = NotebookClient(nb, km=km, timeout=timeout, kernel_name="lab8-colab",
                            resources={"metadata": {"path": str(folder)}})
    return client.execute()


def _with_url(nb_path: Path, url: str, sha256: str | None = None) -> nbformat.NotebookNode:
    """The notebook with no outputs and its first cell's bundle URL (and, to test a mismatch, sha256) replaced."""
    nb = nbformat.read(nb_path, as_version=4)
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        cell.outputs, cell.execution_count = [], None
        if "BUNDLE_URL = " in cell.source:
            cell.source = "\n".join(
                f"BUNDLE_URL = {json.dumps(url)}" if l.startswith("BUNDLE_URL = ") else
                f'BUNDLE_SHA256 = "{sha256}"' if sha256 and l.startswith("BUNDLE_SHA256 = ") else l
                for l in cell.source.splitlines())
    return nb


def _first_cell_line(nb, folder, colab, monkeypatch) -> str:
    """Run only the first code cell in the Colab-like kernel; the error lines a student sees."""
    from nbclient.exceptions import CellExecutionError
    first = next(c for c in nb.cells if c.cell_type == "code")
    only = nbformat.v4.new_notebook(cells=[first], metadata=nb.metadata)
    with pytest.raises(CellExecutionError):
        _run(only, folder, colab, monkeypatch, timeout=120)
    (error,) = [o for o in first.outputs if o.output_type == "error"]
    assert len(error.traceback) == 1, error.traceback   # one line, no traceback
    return error.traceback[0]


@pytest.mark.slow
def test_the_notebook_alone_in_colabs_runtime_runs_and_grades_full_marks(small_release, colab, tmp_path, monkeypatch):
    """Slow (Colab's runtime rebuilt, the whole notebook run in its kernel, two gradings): the release's solution
    notebook, alone in an empty folder, in Colab's published runtime (Python 3.13, Colab's torch, numpy, pandas,
    ipywidgets, wrapt...), fetches its bundle over loopback HTTP and installs, from PyPI, only what that runtime
    lacks (fpdf2), changing none of its packages; its public checks pass on Colab's versions; it runs top to bottom
    to the CSV, the viewer and the written PDF; the same file then grades 10/10, and the blank student notebook 0.
    The three failures show one line each; a rerun fetches and installs nothing."""
    out, _ = small_release
    bundle = (out / "wikipedia/student.zip").read_bytes()
    report = {}
    with serve({"wikipedia/student.zip": bundle}) as (base, requested):
        url = f"{base}/wikipedia/student.zip"
        # the failures first, in an empty folder, each as the student sees it
        empty = colab["work"] / "failures"
        empty.mkdir()
        nb = _with_url(out / "wikipedia/solutions/lab8_wikipedia.ipynb", url, sha256="ab" * 32)
        report["wrong checksum"] = _first_cell_line(nb, empty, colab, monkeypatch)
        down = f"http://127.0.0.1:{closed_port()}/wikipedia/student.zip"
        report["server down"] = _first_cell_line(_with_url(out / "wikipedia/solutions/lab8_wikipedia.ipynb", down),
                                                 empty, colab, monkeypatch)
        assert report["wrong checksum"].startswith(f"Lab files: {url} is not") and "not this notebook's bundle" in report["wrong checksum"]
        assert report["server down"].startswith(f"Lab files: could not download {down} (")
        assert list(empty.iterdir()) == []   # nothing half-unpacked
        requested.clear()
        # the whole notebook, alone in an empty folder: the solution cells filled, the bundle URL pointed here
        folder = colab["work"] / "student"
        folder.mkdir()
        nb_file = folder / "lab8_wikipedia.ipynb"
        nbformat.write(_with_url(out / "wikipedia/solutions/lab8_wikipedia.ipynb", url), nb_file)
        started = time.monotonic()
        nb = _run(nbformat.read(nb_file, as_version=4), folder, colab, monkeypatch)
        report["run_s"] = round(time.monotonic() - started, 1)
        nbformat.write(nb, nb_file)   # saved as the student leaves it, outputs and all
        first = next(c for c in nb.cells if c.cell_type == "code")
        text = "".join(o.get("text", "") for o in first.outputs)
        from datetime import datetime
        t = {k: datetime.fromisoformat(v.replace("Z", "+00:00")) for k, v in first.metadata["execution"].items()}
        report["first_cell"] = text
        report["first_cell_s"] = round((t["shell.execute_reply"] - t["iopub.execute_input"]).total_seconds(), 1)
        report["cells"] = sum(c.cell_type == "code" for c in nb.cells)
        assert f"Downloading the lab's files from {url}" in text and "Unpacked the lab's files" in text
        for pin in colab["lab_missing"]:
            assert pin in text   # installed, pinned as the release pins it
        n = len(colab["lab_missing"])
        assert f"Installed {n} package{'s' if n != 1 else ''}" in text and "no restart is needed" in text
        checks = {c.source.split('"')[1]: "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                                                 for o in c.outputs)
                  for c in nb.cells if c.cell_type == "code" and c.source.strip().startswith("grader.check(")}
        report["public_checks"] = checks
        assert len(checks) == 4 and all("passed" in t and "failed" not in t.lower() for t in checks.values()), checks
        assert requested == ["/wikipedia/student.zip"]
        for name in ("mantis_embeddings.csv", "viewer.html", "lab8_written_answers.pdf", "replab", "data", "tests"):
            assert (folder / name).exists(), name
        # a rerun of the first cell: nothing fetched, nothing installed
        again = _run(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(first.source)], metadata=nb.metadata),
                     folder, colab, monkeypatch, timeout=120)
        assert "".join(o.get("text", "") for o in again.cells[0].outputs) == "" and requested == ["/wikipedia/student.zip"]
    # a connection that breaks mid-body
    with serve({"wikipedia/student.zip": bundle}, partial=True) as (base, _):
        report["partial download"] = _first_cell_line(
            _with_url(out / "wikipedia/solutions/lab8_wikipedia.ipynb", f"{base}/wikipedia/student.zip"),
            empty, colab, monkeypatch)
    assert report["partial download"].startswith(f"Lab files: the download broke off after {len(bundle) // 2:,} of")
    assert list(empty.iterdir()) == []
    # that same notebook file grades full marks; the blank student notebook (URL pointed here too) grades 0
    blank = tmp_path / "blank" / "lab8_wikipedia.ipynb"
    blank.parent.mkdir()
    nbformat.write(_with_url(out / "wikipedia/student/lab8_wikipedia.ipynb", url), blank)
    scores = {}
    for name, path in (("solution", nb_file), ("blank", blank)):
        proc = subprocess.run([sys.executable, "build.py", "grade", str(path), "--variant", "wikipedia", "--release",
                               str(out), "--out", str(tmp_path / f"graded-{name}")],
                              cwd=ROOT, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        result = json.loads((tmp_path / f"graded-{name}" / "lab8_wikipedia" / "results.json").read_text())
        scores[name] = result["score"]
    report["scores"] = scores
    from tests.release import colab_runtime
    after = colab_runtime.versions_in(colab["root"])
    report["runtime"] = {"before": colab["before"], "after": after, "setup_s": colab["setup_s"],
                         "lab_missing": colab["lab_missing"]}
    print(json.dumps(report, indent=1, ensure_ascii=False))
    # the first cell changed nothing the runtime had: every package there before is there at the same version
    assert {k: v for k, v in after.items() if colab["before"].get(k)} == {k: v for k, v in colab["before"].items() if v}
    assert scores == {"solution": 10, "blank": 0}


def test_publish_writes_the_bundle_and_the_open_in_colab_badge(cfg, tmp_path):
    """The publish step alone, on stand-in files: student.zip beside student/, the Colab link as a badge."""
    import dataclasses
    from autograder.release import Build, step_publish
    from tests.release.test_render import written_context
    from worksheet.bank import notebook_questions
    linked = dataclasses.replace(cfg, publish_url="https://github.com/course/lab8/tree/main/{variant}")
    variant = cfg.variant("wikipedia")
    b = Build(linked, variant, tmp_path / "dist", None, False, 60, work=tmp_path / "work", dest=tmp_path / "dist/wikipedia")
    b.student_dir = tmp_path / "work/assigned/student"
    b.student_dir.mkdir(parents=True)
    (b.student_dir / "lab8_wikipedia.ipynb").write_text("{}")
    (b.work / "solutions").mkdir()
    b.zip_path, b.bundle = b.work / "lab8_wikipedia_autograder.zip", b.work / "student.zip"
    b.zip_path.write_bytes(b"zip")
    b.bundle.write_bytes(make_bundle())
    b.bank = notebook_questions(written_context(variant))
    b.record["bundle"] = {"colab_url": linked.colab_url("wikipedia", "lab8_wikipedia.ipynb")}
    step_publish(b)
    assert (b.dest / "student.zip").read_bytes() == b.bundle.read_bytes()
    assert "wikipedia/student.zip" in b.record["files"]
    assert (b.dest / "open_in_colab.md").read_text() == (
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        "(https://colab.research.google.com/github/course/lab8/blob/main/wikipedia/lab8_wikipedia.ipynb)\n")
