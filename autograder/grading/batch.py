"""A TA's batch: many submissions graded with a release's autograder zip, on this machine.

canonical_order     the submissions in one order every machine agrees on, with their result folder names
shard               the I-th of N deterministic shares of them (a cluster's array job runs one share each)
grade_submissions   each submission through grade_one (autograder/shipped/grade.py), in parallel
grade_like_gradescope   each submission through the zip's own setup and run_autograder, as root, as
                    Gradescope runs it (a trial of the zip before it is uploaded)
write_grades_csv    one row per submission (with the written questions once they are scored)
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unicodedata
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from autograder.contract import GRADESCOPE_CPUS, GRADESCOPE_MEMORY_GB

# The grading engine (torch, the judge) is imported where grading happens, not here: `build.py merge`
# and the shard arithmetic use this module without paying seconds of imports for it.


MAX_STEM = 80              # characters of a result folder's name (a suffix like "-2" included)
MAX_STEM_BYTES = 200       # and UTF-8 bytes: file systems allow 255, and history/ adds a timestamp
# Characters that are path syntax somewhere (POSIX, Windows, SMB shares a class folder may live on).
_PATH_SYNTAX = set('/\\:*?"<>|')
# A name never starts with these: dots hide a folder or walk up (".", "..", "..."), a dash reads as an
# option to shell tools, and = + - @ ' start a formula in a spreadsheet (grades.csv's first column).
_BAD_START = ".-=+@' "
_DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}  # Windows
# What a grading folder holds beside the result folders: a submission must not be named like them.
OWN_NAMES = {"history", "grades.csv", "report.html", "written.html", "shard.json", "written_scores.kept.csv",
             "feedback", "roster.kept.csv", "similarity.json"}


def _visible(ch: str) -> str:
    """ch, or "_" for what would be path syntax or invisible: control and format characters (newlines,
    tabs, the right-to-left and zero-width marks that make a name read as another), separators."""
    if ch in _PATH_SYNTAX or unicodedata.category(ch)[0] in "CZ" and ch != " ":
        return "_"
    return ch


def _cut(text: str, chars: int) -> str:
    text = text[:chars]
    while len(text.encode("utf-8")) > MAX_STEM_BYTES:
        text = text[:-1]
    return text


def safe_stem(name: str) -> str:
    """A submission's file name → a result folder name that is one plain path component wherever it is
    used: NFKC-normalised (full-width "．．" is ".."), path syntax and invisible characters as "_", no
    leading dot, dash, space or formula character, at most MAX_STEM characters; "submission" when nothing
    is left. The same name gives the same stem on every machine (shards agree)."""
    stem = Path(str(name)).name
    stem = stem[: -len(Path(stem).suffix)] if Path(stem).suffix else stem   # "...ipynb" → "..", like Path.stem
    stem = "".join(_visible(ch) for ch in unicodedata.normalize("NFKC", stem))
    stem = _cut(stem.lstrip(_BAD_START), MAX_STEM).rstrip(". ")   # Windows drops trailing dots and spaces
    if stem.split(".")[0].casefold() in _DEVICES or stem.casefold() in OWN_NAMES:
        stem = _cut("_" + stem, MAX_STEM)
    return stem or "submission"


def is_safe_stem(stem) -> bool:
    """Whether stem is a name safe_stem could have made (a result folder name read back from a file)."""
    return isinstance(stem, str) and bool(stem) and safe_stem(stem + ".ipynb") == stem


def unique_stems(submissions) -> list[str]:
    """safe_stem of each submission, made unique by "-2", "-3"… in the order given. Names that differ only
    in case count as the same: a class folder on a case-insensitive disk (macOS, Windows) would merge them."""
    stems, used = [], set()
    for path in submissions:
        stem, n = safe_stem(Path(path).name), 2
        candidate = stem
        while candidate.casefold() in used:
            suffix = f"-{n}"
            candidate, n = _cut(stem, MAX_STEM - len(suffix)) + suffix, n + 1
        used.add(candidate.casefold())
        stems.append(candidate)
    return stems


def inside(out_dir, target) -> Path:
    """target resolved, if it lies strictly inside out_dir (resolved); else GradingError. Called before
    anything is written, moved or deleted there, whatever name made the path."""
    base, resolved = Path(out_dir).resolve(), Path(target).resolve()
    if resolved == base or base not in resolved.parents:
        from autograder.shipped.grade import GradingError
        raise GradingError(f"{target}: not inside {out_dir}; refusing to write there")
    return resolved


def canonical_order(submissions) -> list[tuple[Path, str]]:
    """[(submission, result folder name)] sorted by file name, then path: the same list on every machine
    given the same files in any order (a shell glob, a Slurm or Kubernetes job's arguments), so each shard
    and a single run name every result folder alike."""
    ordered = sorted((Path(s) for s in submissions), key=lambda p: (p.name, str(p)))
    return list(zip(ordered, unique_stems(ordered)))


def parse_shard(text: str) -> tuple[int, int]:
    """"I/N" with 1 <= I <= N → (I, N); anything else raises GradingError."""
    try:
        index, count = (int(part) for part in str(text).split("/"))
    except ValueError:
        index = count = 0
    if not 1 <= index <= count:
        from autograder.shipped.grade import GradingError
        raise GradingError(f"--shard {text}: expected I/N with 1 <= I <= N, e.g. 2/8 (Slurm: "
                           "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=1-N)")
    return index, count


def shard(ordered, index: int, count: int) -> list:
    """The index-th (1-based) of count shares of the canonical order: every count-th submission from
    position index - 1, so the shares differ in size by one at most and together hold each exactly once."""
    return list(ordered)[index - 1::count]


def grade_submissions(submissions, autograder_zip, out_dir, jobs=1, timeout=None, mode="auto", progress=True,
                      stems=None, also_private=()):
    """Grade every submission (.ipynb or .zip) with the release's autograder zip, contained.

    Writes out_dir/<stem>/results.json (Gradescope format), grading.log, and the CSV and executed
    notebook each left; returns the results as dicts (Gradescope keys plus submission, source,
    outcome), in the order given. mode: "auto", "bwrap", "user" or "none" (see sandbox.py). stems: the
    result folder names (default: the file names, made unique). also_private: more folders closed to the
    sandbox user while it runs (the grading folder, when out_dir is a staging folder inside it).
    """
    from autograder.shipped import sandbox
    from autograder.shipped.grade import grade_one, open_release
    from autograder.shipped.judge.reference import cached_lab_reference
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    mode = sandbox.choose_mode(mode)
    if mode == "user":
        jobs = 1   # runs that share this machine's /tmp go one at a time (sandbox/user.py: hold)
        zip_home = Path(autograder_zip).resolve().parent
        release_dir = zip_home.parent if zip_home.name == "autograder" else zip_home   # with its solutions/
        for line in sandbox.close_to_others([release_dir, *{Path(s).resolve().parent for s in submissions}]):
            print(line)
    with tempfile.TemporaryDirectory(prefix="lab8-release-") as tmp:
        os.chmod(tmp, 0o700)
        release = open_release(autograder_zip, Path(tmp))
        threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None
        cached_lab_reference(release.spec, release.data, threads)  # once, before the runs share the cores
        submissions = [Path(s) for s in submissions]
        stems = list(stems) if stems is not None else unique_stems(submissions)
        for stem in stems:
            inside(out_dir, out_dir / stem)
        results = [None] * len(submissions)
        stop = threading.Event()
        private = (tmp, out_dir, *also_private) if mode == "user" else ()
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(grade_one, sub, release, out_dir / stem, mode, timeout, stop, threads, private,
                                   jobs): i
                       for i, (sub, stem) in enumerate(zip(submissions, stems))}
            try:
                for future in tqdm(as_completed(futures), total=len(futures), desc="grading", unit="nb",
                                   disable=not progress):
                    results[futures[future]] = future.result()
            except BaseException:  # Ctrl-C: stop the running gradings (killing their processes)
                stop.set()
                for future in futures:
                    future.cancel()
                raise
    return results


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A CSV cell a spreadsheet shows as typed: text starting with = + - @ tab or CR gets a leading single
    quote (OWASP, CSV injection), so "=HYPERLINK(…)" in a name is not run as a formula. Numbers pass
    as numbers: a negative score is data, not an attack."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_grades_csv(results, path, written_questions=(), written=None, students=None):
    """One row per submission: its score on each question and the total. With written scores
    ({submission: {question id: points}}), also one column per written question (blank: not scored yet)
    and autograded + written = total. With students ({submission: (name, student ID)}: the roster's, or
    what the notebook says), student_name and student_id after the submission."""
    questions = []
    for result in results:
        for test in result["tests"]:
            if test["name"] not in questions:
                questions.append(test["name"])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = [q["id"] for q in written_questions] if written is not None else []
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        who = ["student_name", "student_id"] if students is not None else []
        header = ["submission", *who, *questions, *ids, *(["autograded", "written"] if ids else []), "total", "outcome"]
        writer.writerow([spreadsheet_safe(h) for h in header])
        for result in results:
            scores = {t["name"]: t["score"] for t in result["tests"]}
            given = (written or {}).get(result["submission"], {})
            extra = [given.get(q, "") for q in ids]
            written_points = round(float(sum(given.values())), 4)
            if ids:
                extra += [result["score"], written_points]
            total = round(result["score"] + (written_points if ids else 0.0), 4)
            person = list(students.get(result["submission"], ("", ""))) if students is not None else []
            row = [result["submission"], *person, *(scores.get(q, "") for q in questions), *extra, total,
                   result["outcome"]]
            writer.writerow([spreadsheet_safe(v) for v in row])
    return path


def _one_like_gradescope(zip_path: Path, sub: Path, stem: str, tmp: Path, out_dir: Path, timeout=None,
                         cpus: float = GRADESCOPE_CPUS, memory: int = GRADESCOPE_MEMORY_GB * 2**30,
                         landlock: bool = True, image=None) -> dict:
    from autograder.grading.container import Container
    from autograder.shipped.grade import InvalidSubmission, checked_zip_members
    dest = inside(out_dir, out_dir / stem)   # before anything runs: the result replaces only this folder
    root = tmp / stem / "autograder"
    for sub_dir in ("source", "submission", "results"):
        (root / sub_dir).mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
    for name in ("run_autograder", "setup.sh"):
        os.chmod(root / "source" / name, 0o755)
    if sub.suffix.lower() == ".zip":   # Gradescope unpacks an uploaded zip into submission/
        try:
            with zipfile.ZipFile(sub) as zf:
                zf.extractall(root / "submission", checked_zip_members(zf, sub.name, sub.stat().st_size))
        except (zipfile.BadZipFile, InvalidSubmission):
            # unpacked by nobody: the grader finds the zip itself and says in one line what is wrong with it
            shutil.copyfile(sub, root / "submission" / "submission.zip")
    elif sub.is_file():
        shutil.copyfile(sub, root / "submission" / sub.name)
    env = {**os.environ, "LAB8_AUTOGRADER_ROOT": str(root), "LAB8_PYTHON": sys.executable,
           "LAB8_TIMEOUT": str(timeout or "")}
    env.pop("LAB8_SANDBOX", None)   # as on Gradescope: the grader chooses its sandbox by what works
    container = Container(cpus=cpus, memory=memory, landlock=landlock)
    try:
        if image is None:
            keep = [str(root)] + [env[k] for k in ("LAB8_REFERENCE_CACHE",) if env.get(k, "").startswith("/tmp/")]
            subprocess.run(container.command(["bash", str(root / "source" / "run_autograder")], keep), env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:   # the image trial: run_autograder inside an overlay of the built image (image.py)
            from autograder.grading.image import run_in_image
            run_in_image(image[0], zip_path, root / "submission", tmp / stem / "overlay", root / "results",
                         container, timeout)
        memory = container.memory_counters()
        trial = {"container": container.describe(), "memory_peak_bytes": memory["peak"],
                 "oom_kills": memory["oom_kills"]}
        if image is not None:
            from autograder.grading.image import describe
            trial["image"] = describe(image[1])
    finally:
        container.close()
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(root / "results", dest)
    shutil.rmtree(root.parent, ignore_errors=True)
    data = json.loads((dest / "results.json").read_text())
    data.setdefault("extra_data", {})["trial"] = trial
    data.setdefault("extra_data", {}).setdefault("outcome", "graded")
    (dest / "results.json").write_text(json.dumps(data, indent=2))
    outcome = data.get("extra_data", {}).get("outcome", "graded")
    return {"submission": stem, "source": str(sub), "outcome": outcome, **data}


def grade_like_gradescope(zip_path: Path, submissions, out_dir: Path, jobs: int = 1, timeout=None,
                          progress=True, stems=None, cpus: float = GRADESCOPE_CPUS,
                          memory: int = GRADESCOPE_MEMORY_GB * 2**30, landlock: bool = True,
                          image: bool = False) -> list[dict]:
    """Each submission through the zip's own set-up and its real run_autograder, as root, in an
    /autograder tree laid out for it (path-mapped), inside the container Gradescope gives (container.py:
    `cpus` CPUs, `memory` bytes, Docker's capabilities, no user namespaces; `landlock=False`: a host that
    refuses Landlock); results like `build.py grade` writes them, with what the container was and the run's
    memory peak in extra_data.trial. image: in Gradescope's image rebuilt from a bare root (image.py: its
    base and Python in extra_data.trial.image) instead of on this machine's Python."""
    from autograder.shipped.grade import GradingError
    if os.geteuid() != 0:
        raise GradingError("--gradescope runs the zip as Gradescope does, as root: run it as root")
    try:
        zipfile.ZipFile(zip_path).close()
    except (zipfile.BadZipFile, OSError) as e:
        raise GradingError(f"{zip_path}: not a usable autograder zip ({e})") from None
    out_dir = Path(out_dir)
    submissions = [Path(s) for s in submissions]
    stems = list(stems) if stems is not None else unique_stems(submissions)
    for stem in stems:
        inside(out_dir, out_dir / stem)
    built = None
    if image:   # setup.sh, all of it, in a fresh root (cached); each run in its own pid namespace and /tmp
        from autograder.grading.image import build
        built = build(Path(zip_path))   # an ImageError (a GradingError) says the zip, the step and the log
    with tempfile.TemporaryDirectory(prefix="lab8-gradescope-") as tmp:
        # root's only (mkdtemp's 700): each container is given its own run's folder (Container.command's keep), and
        # nothing under it, not even a submission's name, is for another run's student side to see (inotify)
        if built is None:
            with zipfile.ZipFile(zip_path) as zf:   # setup.sh's last step (its package installs are this machine's)
                zf.extractall(Path(tmp) / "setup")
            subprocess.run([sys.executable, "-m", "autograder.shipped.gradescope", "setup"], cwd=Path(tmp) / "setup",
                           check=True)
            os.chmod(Path(tmp) / "setup", 0o700)   # the unpacked zip (solutions/ too): root's only, as Gradescope's image is
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(_one_like_gradescope, Path(zip_path), sub, stem, Path(tmp), out_dir, timeout,
                                   cpus, memory, landlock, built)
                       for sub, stem in zip(submissions, stems)]
            return [f.result() for f in tqdm(futures, desc="grading (gradescope)", unit="nb", disable=not progress)]
