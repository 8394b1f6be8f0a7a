"""Grade submissions: the student side runs contained, the judge decides. Both grading paths (a TA's
batch, autograder/grading/batch.py, and the Gradescope zip's run_autograder) call grade_one.

For one submission:
  1. stage      a fresh workspace; its scratch folder gets the notebook (under the name the release
                gives it) and the student files (replab/, data/, tests/), nothing else
  2. probes     the judge draws inputs for the student's functions and keeps the answers; the inputs go to
                the driver's stdin, never into scratch
  3. run        sandbox.run_contained runs driver.py: the notebook, then the probes on what its run left
                (a kernel that dies before its first cell is retried once: an infrastructure hiccup); the
                driver's report arrives on a pipe of its own and is kept outside scratch (judge.evidence.Report)
  4. judge      after every student process is dead: read plain data back, run the checks, build the
                score from the config's question list, clamped (a check the grader could not make for a
                reason not the notebook's — judge.checks.GraderLimit — means one more try, then a TA)
  5. keep       the CSV and the executed notebook are copied out for the TA; the workspace is removed
Whatever happens, result_dir/results.json is written in Gradescope's format.
"""
from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import time
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.shipped import sandbox
from autograder.contract import GRADESCOPE_MEMORY_GB, GRADING_FILE, STUDENT_FILES, ContractError, GradingSpec
from autograder.shipped.judge.checks import Context, verdict
from autograder.shipped.judge.evidence import Evidence, Report, Unusable
from autograder.shipped.judge.probes import PROBES, make_probes
from autograder.shipped.judge.reference import cached_lab_reference
from autograder.shipped.sandbox.protocol import NO_KERNEL, REFUSED, RUN_FILE, RUN_KEYS
from replab.errors import LabError

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
# A submitted zip is unpacked only within these bounds (a small zip can hold gigabytes: a zip bomb).
ZIP_LIMITS = {"bytes": 100 * 2**20, "entries": 2000, "unpacked": 500 * 2**20, "ratio": 200}
MAX_KEPT_BYTES = 200 * 2**20  # a kept file (the student's CSV) larger than this is left behind


class GradingError(LabError, ValueError):
    """The release itself cannot be used for grading (a problem of the course, not of a student)."""


class InvalidSubmission(Exception):
    """A submission that cannot be graded at all; the message is shown to the student."""


@dataclass
class Release:
    """What grading needs from a release: the grading record and the files students get."""
    spec: GradingSpec
    student_files: Path       # replab/, data/, tests/ as the student folder has them
    zip_path: Path | None = None

    @property
    def data(self) -> Path:
        return self.student_files / self.spec.data


def open_release(zip_path: Path, into: Path) -> Release:
    """Unpack an autograder zip's grading record and student files (one line naming the zip if unusable)."""
    zip_path = Path(zip_path)
    if not zip_path.is_file():
        raise GradingError(f"{zip_path}: autograder zip not found")
    try:
        with zipfile.ZipFile(zip_path) as zf:
            members = [n for n in zf.namelist() if n == GRADING_FILE or n.startswith(STUDENT_FILES + "/")]
            zf.extractall(into, members)
        spec = GradingSpec.read(Path(into) / GRADING_FILE)
    except (zipfile.BadZipFile, ContractError, OSError) as e:
        raise GradingError(f"{zip_path}: not a usable autograder zip of this project ({e})") from None
    release = Release(spec, Path(into) / STUDENT_FILES, zip_path)
    if not release.data.is_file():
        raise GradingError(f"{zip_path}: no {release.spec.data} inside")
    return release


# ---------------------------------------------------------------- 1. stage


def _read_notebook(path: Path, shown: str):
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as e:  # nbformat raises many kinds (JSON, Unicode, missing keys...)
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        raise InvalidSubmission(f"{shown}: not a readable Jupyter notebook ({reason})") from None


def checked_zip_members(zf: zipfile.ZipFile, shown: str, size: int) -> list[str]:
    """The members of a submitted zip worth unpacking, after the whole zip is checked against ZIP_LIMITS
    from its directory alone (nothing is unpacked before): its size, entry count, unpacked size and
    compression ratio, and no link, absolute path or `..` anywhere. Raises InvalidSubmission (one line)."""
    import stat as stat_mod
    infos = zf.infolist()
    unpacked = sum(i.file_size for i in infos)
    problem = None
    if size > ZIP_LIMITS["bytes"]:
        problem = f"is {size / 2**20:.0f} MB; at most {ZIP_LIMITS['bytes'] // 2**20} MB is accepted"
    elif len(infos) > ZIP_LIMITS["entries"]:
        problem = f"holds {len(infos)} files; at most {ZIP_LIMITS['entries']} are accepted"
    elif unpacked > ZIP_LIMITS["unpacked"]:
        problem = f"would unpack to {unpacked / 2**20:.0f} MB; at most {ZIP_LIMITS['unpacked'] // 2**20} MB is accepted"
    elif any(i.file_size > ZIP_LIMITS["ratio"] * max(i.compress_size, 1) and i.file_size > 2**20 for i in infos):
        problem = f"holds a file compressed more than {ZIP_LIMITS['ratio']} to 1 (a zip bomb?)"
    else:
        for info in infos:
            name = info.filename
            if stat_mod.S_ISLNK(info.external_attr >> 16):
                problem = "holds a symbolic link; submit plain files only"
            elif name.startswith(("/", "\\")) or ".." in Path(name.replace("\\", "/")).parts or ":" in name.split("/")[0]:
                problem = "holds a file whose path leaves the zip's folder"
            if problem:
                break
    if problem:
        raise InvalidSubmission(f"{shown}: the zip {problem}")
    return [n for n in zf.namelist() if not n.endswith("/") and "__MACOSX" not in n
            and ".ipynb_checkpoints" not in n and not n.startswith("_grading")]


def stage(submission: Path, scratch: Path, release: Release) -> Path:
    """Copy the notebook (and a zip's other files) into scratch under the release's notebook name,
    then the student files over them: a submission cannot bring its own replab or data."""
    submission = Path(submission)
    scratch.mkdir(parents=True)
    if not submission.is_file():
        raise InvalidSubmission(f"{submission.name}: file not found")
    suffix = submission.suffix.lower()
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(submission) as zf:
                members = checked_zip_members(zf, submission.name, submission.stat().st_size)
                notebooks = [n for n in members if n.lower().endswith(".ipynb")]
                if len(notebooks) != 1:
                    raise InvalidSubmission(f"{submission.name}: the zip holds {len(notebooks)} notebooks; "
                                            "submit exactly one")
                zf.extractall(scratch, members)
        except zipfile.BadZipFile:
            raise InvalidSubmission(f"{submission.name}: not a valid zip file") from None
        notebook, shown = scratch / notebooks[0], f"{submission.name}:{notebooks[0]}"
    elif suffix == ".ipynb":
        notebook, shown = scratch / submission.name, submission.name
        shutil.copyfile(submission, notebook)
    else:
        raise InvalidSubmission(f"{submission.name}: expected a .ipynb notebook or a .zip holding one")
    _read_notebook(notebook, shown)
    staged = scratch / release.spec.notebook
    if notebook != staged:
        staged.unlink(missing_ok=True)
        notebook.rename(staged)
    for item in release.student_files.iterdir():
        target = scratch / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        (shutil.copytree if item.is_dir() else shutil.copyfile)(item, target)
    return staged


# ---------------------------------------------------------------- 2–4. probes, run, judge


def _run_student_side(scratch: Path, release: Release, mode: str, timeout: float, log_path: Path,
                      stop, threads, private, seed, report: Report, share=1) -> tuple[str, object]:
    lab = cached_lab_reference(release.spec, release.data, threads)
    expected, inputs = make_probes(release.spec, lab, seed)
    spec = release.spec
    limits = spec.limits(timeout)
    (scratch / "_grading").mkdir(exist_ok=True)
    # One cell may use a third of the run's time in CPU seconds (a busy machine or half a CPU stretches the wall
    # time of honest work, not its CPU time), and may sit idle (stuck) as long; the cells together have the run's
    # wall time, and every probe its own time after them. The notebook states these (GradingSpec.limits).
    run = dict(zip(RUN_KEYS, (spec.notebook, spec.csv_name, limits["cell_cpu"], limits["cell_cpu"], limits["run"],
                              limits["probe"], list(PROBES))))
    scratch.joinpath(*RUN_FILE).write_text(json.dumps(run))
    env = {var: str(threads) for var in THREAD_VARS} if threads else {}
    state, returncode = sandbox.run_contained(mode, scratch, sandbox.driver_argv(scratch), env,
                                              limits["run"] + limits["probes"] + BACKSTOP, log_path, stop=stop,
                                              private=private, memory=sandbox.memory_limit(share), driver=True,
                                              feed=inputs.encode(), report=report)
    return state, returncode, expected


BACKSTOP = 30   # seconds past the cells' and the probes' time before the whole student side is killed


def _keep(evidence: Evidence, name: str, dest: Path) -> None:
    dest.unlink(missing_ok=True)
    try:
        data = evidence.file(name, MAX_KEPT_BYTES)
    except Unusable:
        return
    if data is not None:
        dest.write_bytes(data)


def _zero_tests(spec: GradingSpec, message: str) -> list[dict]:
    return [{"name": q, "score": 0.0, "max_score": p, "status": "failed", "visibility": "visible",
             "output": message} for q, p in spec.questions.items()]


def _summary(tests) -> str:
    score = sum(t["score"] for t in tests)
    possible = sum(t["max_score"] for t in tests)
    failed = [t["name"] for t in tests if t["status"] != "passed"]
    line = f"Score {round(score, 2):g}/{possible:g}: {len(tests) - len(failed)} of {len(tests)} questions passed"
    return line + (f"; failed: {', '.join(failed)}." if failed else ".")


def grade_one(submission, release: Release, result_dir: Path, mode: str, timeout: float | None = None,
              stop=None, threads=None, private=(), share=1) -> dict:
    """Grade one submission into result_dir/results.json (always written); return the results."""
    started = time.monotonic()
    spec = release.spec
    timeout = timeout or spec.timeout
    result_dir = Path(result_dir)
    result_dir.mkdir(parents=True, exist_ok=True)
    log_path = result_dir / "grading.log"
    log_path.write_text("")
    seed = secrets.randbits(32)
    outcome, notes, tests, seconds, checks = "graded", [], None, {}, {}
    try:
        for attempt in range(2):
            workspace = Path(tempfile.mkdtemp(prefix="lab8-grade-"))
            try:
                try:
                    notebook = stage(submission, workspace / "scratch", release)
                except InvalidSubmission as e:
                    outcome, tests = "invalid submission", _zero_tests(spec, f"{e}. Nothing was graded; score 0.")
                    break
                scratch = workspace / "scratch"
                report = Report(workspace / "report")
                memory_before = sandbox.memory_counters()
                began = time.monotonic()
                state, returncode, expected = _run_student_side(scratch, release, mode, timeout, log_path, stop,
                                                                threads, private, seed, report, share)
                seconds["student side"] = round(time.monotonic() - began, 1)
                memory = sandbox.memory_counters()
                if memory["oom_kills"] > memory_before["oom_kills"]:
                    # the out-of-memory killer ended a process of this run: the machine's limit, seen from
                    # outside the notebook (its own os.kill leaves no such count). Once more, then a TA looks.
                    peak = f"{memory['peak'] / 2**20:.0f} MB" if memory["peak"] else "unknown"
                    limit = f"{memory['limit'] / 2**20:.0f} MB" if memory["limit"] else "this machine's"
                    with open(log_path, "a") as log:
                        log.write(f"\n[grader] out of memory: the kernel was killed at the {limit} limit "
                                  f"(peak {peak}){'; trying once more' if attempt == 0 else ''}\n")
                    if attempt == 0:
                        continue
                    outcome = "infrastructure"
                    notes.append(f"Memory: {limit} was not enough (peak {peak}); raise the autograder's memory "
                                 f"(Gradescope: {GRADESCOPE_MEMORY_GB} GB or more).")
                    tests = _zero_tests(spec, f"The grader ran out of memory on this notebook (limit {limit}, peak "
                                              f"{peak}), twice. Not the notebook's fault: a TA will regrade it.")
                    break
                evidence = Evidence(report.folder)
                status = evidence.json("status")
                for step, spent in ((status or {}).get("seconds") or {}).items():   # the driver's: kernel, cells, probes
                    if isinstance(spent, (int, float)) and step in ("kernel", "cells", "probes"):
                        seconds[f"student side: {step}"] = round(float(spent), 1)
                if state == "cancelled":
                    outcome, tests = "cancelled", _zero_tests(spec, "Grading was cancelled before it finished.")
                    break
                # Before any student code ran, a containment layer could not be applied (contain.py), or the
                # kernel never started (twice) or the driver failed: not the student's doing. One more time
                # from scratch, then a TA looks. (Only the exit status and the driver's report say so: files
                # under scratch are the student's to write.)
                unstarted = None
                if state == "done" and returncode == REFUSED:
                    unstarted = ("a containment layer could not be applied",
                                 "The grader could not contain this notebook's run on this machine (see grading.log).")
                elif state == "done" and (returncode == NO_KERNEL or (status is None and returncode == 1)):
                    unstarted = ("the student side did not start",
                                 "The grader could not start Python for this notebook (twice).")
                if unstarted:
                    if attempt == 0:
                        with open(log_path, "a") as log:
                            log.write(f"\n[grader] {unstarted[0]}; trying once more\n")
                        continue
                    outcome = "infrastructure"
                    tests = _zero_tests(spec, f"{unstarted[1]} Not the notebook's fault: a TA will regrade it.")
                    break
                if state == "timeout":
                    outcome = "timeout"
                    notes.append(f"The notebook did not finish within {timeout:g} s; what it had done by then "
                                 "was graded.")
                if state == "memory":
                    notes.append(f"The notebook's processes together held more than "
                                 f"{sandbox.memory_limit(share) / 2**30:.1f} GB of memory (shared memory included), "
                                 "so its run was stopped there; what it had done by then was graded.")
                if state == "disk":
                    notes.append(f"The notebook wrote more than {sandbox.MAX_DISK_BYTES / 2**30:g} GB (or "
                                 f"{sandbox.MAX_DISK_FILES:,} files) in its folder and /tmp, so its run was stopped "
                                 "there; what it had done by then was graded.")
                ctx = Context(spec=spec, lab=cached_lab_reference(spec, release.data, threads), expected=expected,
                              evidence=evidence, notebook=notebook, status=status or {})
                began = time.monotonic()
                with open(log_path, "a") as log:
                    log.write(f"\n[grader] sandbox {mode}, probe seed {seed}, student side {state}; probes: "
                              f"{json.dumps((status or {}).get('probes', {}))}\n")
                    tests = verdict(ctx, log)
                    checks = dict(ctx.outcomes)   # check → None (passed) or its message: what a TA's tools read
                    if ctx.limits:
                        log.write("[grader] " + " | ".join(ctx.limits) + ("; trying once more\n" if attempt == 0 else "\n"))
                seconds["judge"] = round(time.monotonic() - began, 1)
                _keep(evidence, "notebook.csv", result_dir / spec.csv_name)
                _keep(evidence, "executed.ipynb", result_dir / "executed.ipynb")
                if ctx.limits:
                    if attempt == 0:
                        continue
                    outcome = "infrastructure"
                    notes.append("The grader could not make every check (see the questions' messages); a TA will "
                                 "regrade this submission.")
                break
            finally:
                shutil.rmtree(workspace, ignore_errors=True)
    except Exception as e:  # the grader must never break: a bug of ours still gives a result
        outcome = "grader error"
        with open(log_path, "a") as log:
            log.write(traceback.format_exc())
        tests = _zero_tests(spec, f"The grader itself failed on this submission ({type(e).__name__}); "
                                  "score 0 for now, a TA will regrade it.")
    if mode == "none":
        notes.append("Graded without a sandbox (--no-sandbox).")
    results = {
        "score": round(sum(t["score"] for t in tests), 4),
        "execution_time": round(time.monotonic() - started, 1),
        "output": " ".join([_summary(tests), *notes]),
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"outcome": outcome, "sandbox": mode, "probe_seed": seed, "seconds": seconds, "checks": checks,
                       "containment": sandbox.describe(mode, sandbox.layers() if mode != "none" else [])},
    }
    (result_dir / "results.json").write_text(json.dumps(results, indent=2))
    return {"submission": result_dir.name, "source": str(submission), "outcome": outcome, **results}


# ---------------------------------------------------------------- a batch
