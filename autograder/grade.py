"""Grade student notebooks with an otter-grader 7 autograder zip, without ever breaking.

Each submission is graded by otter's runner (what `otter run` does) in its own subprocess,
inside a fresh temporary workspace, and always ends up as `out_dir/<stem>/results.json` in
Gradescope's format — also when the notebook is corrupt, loops forever, kills its kernel, tries
to fake its own results or rewrites the hidden tests. Everything the grading started is killed
afterwards and the workspace is removed.
"""

import csv
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import nbformat
import psutil
from tqdm import tqdm

# Every process a grading starts inherits this variable (with a fresh value per grading),
# so leftovers can be found even after they left our process tree or session.
TOKEN_VAR = "REPLAB_GRADING_TOKEN"
PUBLIC_TESTS = "Public Tests"
OTTER_CALL = re.compile(r"""otter\.Notebook\(\s*(?:nb_path\s*=\s*)?["']([^"']+\.ipynb)["']""")
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
KERNEL_NEVER_STARTED = "Kernel died before replying to kernel_info"  # jupyter_client's words
MAX_KEPT_BYTES = 200 * 2**20  # a kept file (the student's CSV) larger than this is left behind
# otter prints each case of a test under "q2_capture - 3 result:"; a failing one ends with the
# exception, e.g. "AssertionError: the first snapshot should be taken before any training step".
CASE_HEADER = re.compile(r"^\s*\S+ - \d+ result:\s*$", re.M)
EXCEPTION_LINE = re.compile(r"^\s*((?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt)\b(?::.*)?)$")

# `otter run` as otter.run.main and run_autograder.main do it (same folder layout, same runner
# calls), with two differences. The grading folder is ours: otter's own is deleted with the files
# the notebook wrote (its CSV). And the results go to grade.py through a pipe that only this
# process holds (kernels start with their inherited descriptors closed), never through a file: a
# process the notebook left running could rewrite any results.json, of this grading or another.
# Arguments: autograder zip, staged submission, grading folder, the pipe's file descriptor.
OTTER_RUNNER = """\
import json, os, shutil, sys, types, zipfile
# PDFs are off in our zips, so otter's exporters (nbconvert: ~0.4 s of imports per grading) are
# never called; a stand-in module keeps them from loading. Only export_notebook is imported by name.
sys.modules["otter.export"] = types.SimpleNamespace(export_notebook=None, __name__="otter.export")
from otter.run.run_autograder.runners import create_runner
from otter.utils import chdir
autograder_zip, submission, ag_dir, results_fd = sys.argv[1:]
for sub in ("source", "submission", "results"):
    os.makedirs(os.path.join(ag_dir, sub))
with open(os.path.join(ag_dir, "submission_metadata.json"), "w") as f:
    json.dump({}, f)
with zipfile.ZipFile(autograder_zip) as zf:
    zf.extractall(os.path.join(ag_dir, "source"))
if submission.endswith(".zip"):
    with zipfile.ZipFile(submission) as zf:
        zf.extractall(os.path.join(ag_dir, "submission"))
else:
    shutil.copy(submission, os.path.join(ag_dir, "submission"))
with open(os.path.join(ag_dir, "source", "otter_config.json")) as f:
    runner = create_runner(json.load(f), autograder_dir=ag_dir, logo=False)
runner.ag_config.otter_run = True
with chdir(ag_dir):
    runner.prepare_files()
    scores = runner.run()
with os.fdopen(int(results_fd), "w") as f:
    json.dump(scores.to_gradescope_dict(runner.ag_config), f)
sys.stdout.flush()
sys.stderr.flush()
# otter's log-receiving thread polls once a second before it notices the stop; with the results
# sent there is nothing left to wait for
os._exit(0)
"""
MAX_RESULTS_BYTES = 64 * 2**20  # otter's results of one notebook; more is not read


class GradingError(ValueError):
    """The autograder zip itself cannot be used (a problem of the course, not of a student)."""


# ---------------------------------------------------------------- the autograder zip


def read_autograder(autograder_zip):
    """Return (expected notebook name or None, {question: max points}) from an otter zip."""
    zip_path = Path(autograder_zip)
    if not zip_path.is_file():
        raise GradingError(f"{zip_path}: autograder zip not found")
    try:
        with zipfile.ZipFile(zip_path) as zf:
            names = zf.namelist()
            config = json.loads(zf.read("otter_config.json")) if "otter_config.json" in names else {}
            with tempfile.TemporaryDirectory(prefix="replab-ag-") as tmp:
                zf.extractall(tmp, [n for n in names if n.startswith("tests/")])
                max_points = _question_points(Path(tmp) / "tests")
    except Exception as e:  # bad zip, bad JSON, a test file otter cannot parse...
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise GradingError(f"{zip_path}: not a usable otter autograder zip ({reason})") from None
    if not max_points:
        raise GradingError(f"{zip_path}: no tests/*.py inside; is this an otter autograder zip?")
    return config.get("notebook"), max_points


def shipped_digests(autograder_zip):
    """{path in the notebook's folder: (size, sha256)} of every file the zip puts beside the
    notebook (tests/ and otter's files/: the hidden checks, their expected values, replab, data)."""
    digests = {}
    with zipfile.ZipFile(autograder_zip) as zf:
        for info in zf.infolist():
            if info.is_dir() or not info.filename.startswith(("tests/", "files/")):
                continue
            data = zf.read(info)
            digests[info.filename.removeprefix("files/")] = (len(data), hashlib.sha256(data).hexdigest())
    return digests


def _changed_files(notebook_dir, shipped):
    """The shipped files that are missing or differ after grading: the notebook rewrote the
    hidden checks or tests (or a zip submission brought its own replab/data). Only regular files
    of the shipped size are read, so a link to /dev/zero or a huge file costs nothing."""
    changed = []
    for path, (size, digest) in sorted(shipped.items()):
        try:
            info = os.lstat(notebook_dir / path)
            if (stat.S_ISREG(info.st_mode) and info.st_size == size
                    and hashlib.sha256((notebook_dir / path).read_bytes()).hexdigest() == digest):
                continue
        except OSError:
            pass
        changed.append(path)
    return changed


def _question_points(tests_dir):
    """Max points per question, parsed by otter itself so every test format is understood."""
    with warnings.catch_warnings():  # otter's imports raise traitlets deprecation noise
        warnings.simplefilter("ignore", DeprecationWarning)
        from otter.nbmeta_config import NBMetadataConfig
        from otter.test_files import create_test_file

    points = {}
    for path in sorted(tests_dir.glob("*.py")):
        test_file = create_test_file(str(path), NBMetadataConfig())
        points[test_file.name] = float(test_file.possible)
    return points


# ---------------------------------------------------------------- preparing one submission


class InvalidSubmission(Exception):
    """A submission that cannot be graded at all; the message is shown to the student."""


def _read_notebook(path, shown_name):
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as e:  # nbformat raises many kinds (JSON, Unicode, missing keys...)
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        raise InvalidSubmission(f"{shown_name}: not a readable Jupyter notebook ({reason})") from None


def _notebook_name_in(nb):
    """The file name the notebook's otter init cell opens, e.g. otter.Notebook("lab8.ipynb")."""
    for cell in nb.cells:
        if cell.cell_type == "code" and (match := OTTER_CALL.search(cell.source)):
            return Path(match.group(1)).name
    return None


def _stage_submission(submission, submission_dir, expected_name):
    """Copy the notebook (and a zip's other files) into submission_dir, the notebook named as
    otter expects; return what to give `otter run` (that notebook, or a clean zip of them)."""
    submission = Path(submission)
    if not submission.is_file():
        raise InvalidSubmission(f"{submission.name}: file not found")
    if submission.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(submission) as zf:
                members = [n for n in zf.namelist() if not n.endswith("/") and "__MACOSX" not in n]
                notebooks = [n for n in members if n.lower().endswith(".ipynb")]
                if not notebooks:
                    raise InvalidSubmission(f"{submission.name}: the zip holds no .ipynb notebook")
                if len(notebooks) > 1:
                    raise InvalidSubmission(
                        f"{submission.name}: the zip holds {len(notebooks)} notebooks "
                        f"({', '.join(notebooks[:3])}); submit exactly one"
                    )
                zf.extractall(submission_dir, members)
        except zipfile.BadZipFile:
            raise InvalidSubmission(f"{submission.name}: not a valid zip file") from None
        notebook = submission_dir / notebooks[0]
        shown_name = f"{submission.name}:{notebooks[0]}"
    elif submission.suffix.lower() == ".ipynb":
        notebook = submission_dir / submission.name
        shutil.copyfile(submission, notebook)
        shown_name = submission.name
    else:
        raise InvalidSubmission(f"{submission.name}: expected a .ipynb notebook or an otter .zip")

    nb = _read_notebook(notebook, shown_name)
    # Renamed files break otter's init cell `otter.Notebook("<name>.ipynb")`: restore the name.
    name = expected_name or _notebook_name_in(nb) or notebook.name
    staged = submission_dir / name
    if staged != notebook:
        staged.unlink(missing_ok=True)
        notebook.rename(staged)
    if submission.suffix.lower() == ".zip":  # hand otter the zip's other files too
        return Path(shutil.make_archive(str(submission_dir.parent / "submission"), "zip", submission_dir))
    return staged


# ---------------------------------------------------------------- running otter in a cage


def _our_leftovers(token, root_pid, workspace):
    """Processes of one grading: the tree under root_pid, plus anything carrying its token
    or naming its workspace (kernels start their own sessions and outlive their parents)."""
    found = {}
    try:
        for proc in psutil.Process(root_pid).children(recursive=True):
            found[proc.pid] = proc
    except psutil.Error:
        pass
    for proc in psutil.process_iter(["environ", "cmdline"]):
        try:
            environ = proc.info["environ"] or {}
            cmdline = " ".join(proc.info["cmdline"] or [])
        except psutil.Error:
            continue
        if proc.pid != os.getpid() and (environ.get(TOKEN_VAR) == token or workspace in cmdline):
            found[proc.pid] = proc
    return [p for p in found.values() if _alive(p)]


def _alive(proc):
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _kill_everything(popen, token, workspace):
    """SIGKILL otter, its process group, the kernels and whatever they spawned."""
    for _ in range(5):  # repeat: a dying process may have forked a moment ago
        leftovers = _our_leftovers(token, popen.pid, workspace)  # before otter dies: its tree
        if popen.poll() is None:  # not reaped yet, so its group id is surely still ours
            try:
                os.killpg(popen.pid, signal.SIGKILL)
            except OSError:
                pass
            popen.kill()
        for proc in leftovers:
            try:
                proc.kill()
            except psutil.Error:
                pass
        popen.wait()
        psutil.wait_procs(leftovers, timeout=5)
        if not leftovers:
            break


def _read_all(fd, chunks):
    """Read a pipe to its end (every writer gone), keeping at most MAX_RESULTS_BYTES."""
    size = 0
    while block := os.read(fd, 1 << 16):
        if size < MAX_RESULTS_BYTES:
            chunks.append(block)
            size += len(block)


def _run_otter(notebook, autograder_zip, workspace, timeout, log_path, stop, threads=None):
    """Run otter in workspace/autograder; return (state, returncode, results text), state being
    "done", "timeout" or "cancelled". The notebook runs in workspace/autograder/submission, with
    at most `threads` threads for its numerical libraries when given."""
    token = uuid.uuid4().hex
    env = dict(os.environ)
    env[TOKEN_VAR] = token
    # Keep otter's and the kernel's temp files, connection files and IPython profile inside
    # the workspace: they go with it, and nothing leaks between submissions.
    for var, sub in [("TMPDIR", "tmp"), ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")]:
        (workspace / sub).mkdir()
        env[var] = str(workspace / sub)
    if threads:  # parallel gradings each get their share of the cores instead of all of them
        for var in THREAD_VARS:
            env.setdefault(var, str(threads))
    read_end, write_end = os.pipe()
    chunks = []
    reader = threading.Thread(target=_read_all, args=(read_end, chunks), daemon=True)
    command = [sys.executable, "-c", OTTER_RUNNER, str(autograder_zip), str(notebook),
               str(workspace / "autograder"), str(write_end)]
    deadline = time.monotonic() + timeout
    try:
        with open(log_path, "w") as log:
            try:
                popen = subprocess.Popen(command, cwd=workspace, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True, pass_fds=(write_end,))
            finally:
                os.close(write_end)  # the runner holds the only write end now
            reader.start()
            try:
                # Short waits so a cancelled run (Ctrl-C in the main thread) stops promptly.
                while popen.poll() is None and time.monotonic() < deadline and not stop.is_set():
                    try:
                        popen.wait(timeout=min(0.5, max(0.01, deadline - time.monotonic())))
                    except subprocess.TimeoutExpired:
                        pass
                if popen.returncode is not None:
                    state, returncode = "done", popen.returncode
                else:
                    state, returncode = ("cancelled" if stop.is_set() else "timeout"), None
            finally:
                _kill_everything(popen, token, str(workspace))
        reader.join(timeout=10)  # every writer is dead: the pipe is at its end
    finally:
        if not reader.is_alive():
            os.close(read_end)
    return state, returncode, b"".join(chunks).decode("utf-8", errors="replace")


# ---------------------------------------------------------------- results in Gradescope's format


def _zero_tests(max_points, message):
    return [
        {"name": name, "score": 0.0, "max_score": points, "status": "failed",
         "visibility": "visible", "output": message}
        for name, points in max_points.items()
    ]


def _failure_lines(name, output):
    """'q2_capture: <message>' for each failing case of an otter test output: the exception its
    check raised (our checks' AssertionErrors say what is wrong), without the traceback."""
    lines = []
    for block in CASE_HEADER.split(output)[1:]:
        if "Test case failed" not in block:
            continue
        rows = [r.strip() for r in block.splitlines() if r.strip()]
        errors = [m.group(1) for r in rows if (m := EXCEPTION_LINE.match(r))]
        message = (errors or rows or ["failed"])[-1].removeprefix("AssertionError: ")
        line = f"{name}: {message}"
        if line not in lines:
            lines.append(line)
    return lines


def _with_failures_first(name, output):
    """The output with one line per failed check on top, otter's full output below."""
    lines = _failure_lines(name, output)
    return "\n".join(lines) + "\n\n" + output if lines else output


def _convert_otter_results(otter_results, max_points):
    """Otter's results.json → Gradescope tests with status; questions otter left out score 0."""
    tests, seen = [], set()
    for test in otter_results.get("tests", []):
        name = test.get("name", "?")
        if name == PUBLIC_TESTS:
            tests.append({"name": name, "score": 0.0, "max_score": 0.0,
                          "status": test.get("status", "failed"),
                          "visibility": test.get("visibility", "visible"),
                          "output": test.get("output", "")})
            continue
        score = float(test.get("score") or 0.0)
        max_score = float(test.get("max_score", max_points.get(name, 0.0)) or 0.0)
        passed = score >= max_score
        output = test.get("output", "")
        tests.append({"name": name, "score": score, "max_score": max_score,
                      "status": "passed" if passed else "failed",
                      "visibility": test.get("visibility", "visible"),
                      "output": output if passed else _with_failures_first(name, output)})
        seen.add(name)
    missing = {n: p for n, p in max_points.items() if n not in seen}
    return tests + _zero_tests(missing, "Not graded: otter reported no result for this question.")


def _summary(tests):
    questions = [t for t in tests if t["name"] != PUBLIC_TESTS]
    score = sum(t["score"] for t in questions)
    possible = sum(t["max_score"] for t in questions)
    failed = [t["name"] for t in questions if t["status"] != "passed"]
    line = f"Score {score:g}/{possible:g}: {len(questions) - len(failed)} of {len(questions)} questions passed"
    return line + (f"; failed: {', '.join(failed)}." if failed else ".")


def _last_error_line(log_path):
    lines = [l.strip() for l in Path(log_path).read_text(errors="replace").splitlines() if l.strip()]
    return lines[-1][:200] if lines else "no output"


def _keep(names, notebook_dir, result_dir):
    """Copy the files called `names` that the notebook left in notebook_dir into result_dir
    (e.g. its CSV, for the report's curves). Only regular files, never through a symlink, at
    most MAX_KEPT_BYTES each; a file of that name from an earlier grading is removed first."""
    for name in {Path(n).name for n in names} - {"results.json", "grading.log", ""}:
        kept = result_dir / name
        kept.unlink(missing_ok=True)
        source = notebook_dir / name
        try:
            info = os.lstat(source)
        except OSError:  # not written (or its folder was never made)
            continue
        if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_KEPT_BYTES:
            shutil.copyfile(source, kept)  # the grading's processes are all dead: nothing can swap it now


def _grade_in_workspace(submission, autograder_zip, max_points, expected_name, timeout,
                        log_path, stop, keep_files=(), shipped=None, threads=None):
    """Stage and grade one submission; return (outcome, message, tests or None). The files
    named in keep_files are copied from the notebook's folder next to log_path; shipped
    (from shipped_digests) are the autograder's files that must be unchanged afterwards."""
    workspace = Path(tempfile.mkdtemp(prefix="replab-grade-"))
    try:
        try:
            (workspace / "submission").mkdir()
            notebook = _stage_submission(submission, workspace / "submission", expected_name)
        except InvalidSubmission as e:
            log_path.write_text(f"{e}\n")
            return "invalid submission", f"{e}. Nothing was graded; score 0.", None
        state, returncode, otter_json = _run_otter(notebook, autograder_zip, workspace, timeout,
                                                   log_path, stop, threads)
        if state == "timeout":
            return "timeout", (f"Grading stopped after {timeout:g} s: the notebook did not finish "
                               "(an endless loop, or far too much work?). Score 0."), None
        if state == "cancelled":
            return "cancelled", "Grading was cancelled before it finished. Score 0.", None
        # The hidden tests run inside the student's kernel: a notebook that rewrote them (or the
        # checks they load) graded itself. Caught here, after every process of the run is dead.
        changed = _changed_files(workspace / "autograder" / "submission", shipped or {})
        if returncode == 0 and changed:
            return "tampered", (f"The notebook changed the autograder's own files ({', '.join(changed[:3])}"
                                f"{', …' if len(changed) > 3 else ''}), so its results cannot be trusted. "
                                "Score 0; a TA will review it."), None
        if returncode == 0 and otter_json:
            try:
                otter_results = json.loads(otter_json)
            except ValueError:  # something else wrote into the pipe: believe none of it
                return "otter error", "Otter's results could not be read. Score 0; a TA will review it.", None
            tests = _convert_otter_results(otter_results, max_points)
            return "graded", _summary(tests), tests
        if "DeadKernelError" in log_path.read_text(errors="replace"):
            return "kernel died", ("The notebook's Python kernel died during grading (os._exit(), "
                                   "a crash or running out of memory?), so nothing could be scored. "
                                   "Score 0."), None
        return "otter error", f"Otter could not grade the notebook: {_last_error_line(log_path)}. Score 0.", None
    finally:
        try:
            _keep(keep_files, workspace / "autograder" / "submission", log_path.parent)
        finally:
            shutil.rmtree(workspace, ignore_errors=True)


def grade_one(submission, autograder_zip, result_dir, max_points, expected_name, timeout,
              stop=None, keep_files=(), shipped=None, threads=None):
    """Grade one submission into result_dir/results.json (always written); return the results.
    Files the notebook wrote that are named in keep_files are copied into result_dir too;
    shipped = shipped_digests(autograder_zip) makes a run that altered them score 0."""
    started = time.monotonic()
    result_dir.mkdir(parents=True, exist_ok=True)
    log_path = result_dir / "grading.log"
    try:
        for attempt in range(2):
            outcome, message, tests = _grade_in_workspace(
                submission, autograder_zip, max_points, expected_name, timeout, log_path,
                stop or threading.Event(), keep_files, shipped, threads)
            # A kernel that dies before its first reply ran none of the notebook (a start-up hiccup
            # under load, seen rarely): one fresh try, so the student is not charged for it.
            if not (outcome == "otter error" and KERNEL_NEVER_STARTED in log_path.read_text(errors="replace")):
                break
    except Exception as e:  # the grader must never break: a bug of ours still gives a result
        outcome, tests = "grader error", None
        message = f"The grader itself failed on this submission ({type(e).__name__}: {e}); score 0 for now."
        message = " ".join(message.split())
    if tests is None:
        tests = _zero_tests(max_points, message)
    results = {
        "score": sum(t["score"] for t in tests),
        "execution_time": round(time.monotonic() - started, 1),
        "output": message,
        "stdout_visibility": "hidden",  # the notebook's prints may show hidden tests
        "tests": tests,
    }
    (result_dir / "results.json").write_text(json.dumps(results, indent=2))
    return {"submission": result_dir.name, "source": str(submission), "outcome": outcome, **results}


def _unique_stems(submissions):
    stems, used = [], set()
    for path in submissions:
        stem, n = Path(path).stem, 2
        candidate = stem
        while candidate in used:
            candidate, n = f"{stem}-{n}", n + 1
        used.add(candidate)
        stems.append(candidate)
    return stems


def grade_submissions(submissions, autograder_zip, out_dir, jobs=1, timeout=600,
                      expected_name=None, progress=True, keep_files=()):
    """Grade every submission (.ipynb or otter .zip) with an otter autograder zip.

    Writes out_dir/<stem>/results.json (Gradescope format) and grading.log for each, and
    returns their results as dicts (Gradescope keys plus "submission", "source", "outcome"),
    in the order given. keep_files: names of files the notebook writes beside itself (e.g.
    its CSV) to copy into out_dir/<stem>/ as well, when it wrote them.
    """
    autograder_zip = Path(autograder_zip).resolve()
    config_name, max_points = read_autograder(autograder_zip)
    shipped = shipped_digests(autograder_zip)
    # Several gradings at once: split the cores between them, or their torch/BLAS threads fight.
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None
    expected_name = config_name or expected_name
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    submissions = [Path(s) for s in submissions]
    stems = _unique_stems(submissions)

    results = [None] * len(submissions)
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {
            pool.submit(grade_one, sub, autograder_zip, out_dir / stem, max_points,
                        expected_name, timeout, stop, tuple(keep_files), shipped, threads): i
            for i, (sub, stem) in enumerate(zip(submissions, stems))
        }
        try:
            for future in tqdm(as_completed(futures), total=len(futures), desc="grading",
                               unit="nb", disable=not progress):
                results[futures[future]] = future.result()
        except BaseException:  # Ctrl-C: stop the running gradings (killing their processes)
            stop.set()
            for future in futures:
                future.cancel()
            raise
    return results


def write_grades_csv(results, path):
    """One row per submission: its score on each question (Public Tests excluded) and total."""
    questions = []
    for result in results:
        for test in result["tests"]:
            if test["name"] != PUBLIC_TESTS and test["name"] not in questions:
                questions.append(test["name"])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", *questions, "total", "outcome"])
        for result in results:
            scores = {t["name"]: t["score"] for t in result["tests"]}
            writer.writerow([result["submission"], *(scores.get(q, "") for q in questions),
                             result["score"], result["outcome"]])
    return path
