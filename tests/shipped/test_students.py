"""Students graded end to end, in every grading path: `build.py grade` (local: bubblewrap), `build.py grade
--sandbox user` (what a root container allows: two users, seccomp, Landlock) and `build.py grade
--gradescope` (the zip's own set-up and run_autograder, as root, in the faithful container). Honest students of every variant,
each in their own style written from the notebook's words alone (tests/shipped/students/honest.py), must get
full marks; hostile and wrong work (tests/shipped/students/hostile.py) must get no more than it deserves."""
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import psutil
import pytest

from tests.shipped.students.constructs import construct_notebooks
from tests.shipped.students.honest import honest_notebooks, kind_of
from tests.shipped.students.hostile import check_expectation, hostile_notebooks

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
VARIANTS = ("wikipedia", "bbc", "cifar10")
PATHS = ("local", "user", "gradescope")
# The Gradescope path runs the same grade_one behind the zip's run_autograder: one honest style of
# every variant go through it, and the first case of every hostile class; the user path (the sandbox the
# Gradescope path picks, forced, at this machine's speed) the second case of every class. The whole
# corpus in user mode is graded by hand with write_hostile's commands (CI keeps under 45 min).
GRADESCOPE_STYLES = 1
PATH_OPTIONS = {"local": [], "user": ["--sandbox", "user"], "gradescope": ["--gradescope"]}


def public_checks(executed: Path) -> dict[str, bool]:
    """{question: passed} from the grader.check(...) outputs of a notebook the grader executed."""
    nb = nbformat.read(str(executed), as_version=4)
    found = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.strip().startswith("grader.check("):
            text = " ".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in cell.outputs)
            found[cell.source.split('"')[1]] = "passed" in text and "failed" not in text.lower()
    return found


def _side_by_side(jobs):
    """{key: result} of gradings, each a (key, function, args) job whose key ends with its path, in two lanes
    at once: the local ones in one, the trial's then user mode's in the other. Each of the trial's containers has
    half a CPU (two at a time: each has its own /tmp and uids), so the trial runs beside the local gradings (which
    take the rest of the machine) rather than after them; user mode's runs on this machine's /tmp go one at a time.
    Cells are limited by CPU time, not wall time: a machine this busy must cost no honest notebook a point (the
    corpora check that too)."""
    late = [job for job in jobs if job[0][0] == "nproc"]   # the process-limit cases: after the trial, to even the lanes
    lanes = ([job for job in jobs if job[0][-1] == "local" and job not in late],
             [job for path in ("gradescope", "user") for job in jobs if job[0][-1] == path] + late)
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = [pool.submit(lambda lane: {key: f(*a) for key, f, a in lane}, lane) for lane in lanes]
        return {key: result for future in done for key, result in future.result().items()}


def _grade(release, variant, notebooks, out, path, extra=()):
    cmd = [sys.executable, "build.py", "grade", *map(str, notebooks), "--variant", variant, "--release", str(release),
           "--out", str(out), "--jobs", "2", *extra, *PATH_OPTIONS[path]]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {Path(n).stem: json.loads((out / Path(n).stem / "results.json").read_text()) for n in notebooks}


@pytest.fixture(scope="module")
def honest(release, tmp_path_factory):
    out, _ = release
    jobs, written = [], {}
    for variant in VARIANTS:
        folder = tmp_path_factory.mktemp(f"honest-{variant}")
        student = nbformat.read(out / variant / "student" / f"lab8_{variant}.ipynb", as_version=4)
        notebooks = written[variant] = []
        for k, (style, nb) in enumerate(honest_notebooks(student, kind_of(variant)).items()):
            # every style in both kinds: in cifar10 (the image kind) and in one of the text variants, alternately
            if variant == "cifar10" or VARIANTS[k % 2] == variant:
                notebooks.append(folder / f"{style}.ipynb")
                nbformat.write(nb, notebooks[-1])
        for path in ("local", "gradescope"):   # the Gradescope path is user mode, in the container
            chosen = notebooks if path == "local" else notebooks[:GRADESCOPE_STYLES]
            jobs.append(((variant, path), _grade, (out, variant, chosen, folder / f"graded-{path}", path)))
    graded = _side_by_side(jobs)
    for variant, notebooks in written.items():
        graded[variant, "public"] = {n.stem: public_checks(n.parent / "graded-local" / n.stem / "executed.ipynb")
                                     for n in notebooks}
        graded[variant, "similarity"] = json.loads((notebooks[0].parent / "graded-local" / "similarity.json").read_text())
    return graded


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("path", ("local", "gradescope"))
def test_every_honest_style_gets_full_marks(honest, variant, path):
    results = honest[variant, path]
    assert len(results) >= (6 if path == "local" else GRADESCOPE_STYLES)
    lost = {style: [t["output"] for t in r["tests"] if t["status"] != "passed"]
            for style, r in results.items() if r["score"] != 10}
    assert not lost


@pytest.mark.parametrize("variant", VARIANTS)
def test_honest_students_sharing_the_right_csv_are_no_similarity_signal(honest, variant):
    """Every style is correct with the lab's one SEED, so their CSVs may be the same bytes: that is the right
    answer, not a copy, and similarity.json lists no CSV pair for it."""
    assert [p for p in honest[variant, "similarity"]["pairs"] if p["kind"] == "csv"] == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_public_tests_pass_for_every_honest_style(honest, variant):
    """What students see when they run grader.check: prints and style never fail it."""
    public = honest[variant, "public"]
    assert all(len(checks) == 4 for checks in public.values())
    assert {style: checks for style, checks in public.items() if not all(checks.values())} == {}


# The constructs (students/constructs.py): every notebook graded locally in one of the two kinds (they alternate, so
# every construct, each in two notebooks or more, meets both), every fourth in user mode and the first two of each
# kind through the trial. The whole table — every notebook, both kinds, all three paths — is graded by hand with
# the same build.py commands (CI keeps under 45 min).
CONSTRUCT_VARIANTS = ("wikipedia", "cifar10")


@pytest.fixture(scope="module")
def constructs(release, tmp_path_factory):
    out, _ = release
    jobs = []
    for v, variant in enumerate(CONSTRUCT_VARIANTS):
        folder = tmp_path_factory.mktemp(f"constructs-{variant}")
        student = nbformat.read(out / variant / "student" / f"lab8_{variant}.ipynb", as_version=4)
        notebooks = []
        for k, (name, nb) in enumerate(construct_notebooks(student, kind_of(variant)).items()):
            if k % 2 == v:
                notebooks.append(folder / f"{name}.ipynb")
                nbformat.write(nb, notebooks[-1])
        for path, chosen in (("local", notebooks), ("user", notebooks[::4]), ("gradescope", notebooks[:2])):
            jobs.append(((variant, path), _grade, (out, variant, chosen, folder / f"graded-{path}", path)))
    return _side_by_side(jobs)


@pytest.mark.parametrize("variant", CONSTRUCT_VARIANTS)
@pytest.mark.parametrize("path", PATHS)
def test_every_construct_gets_full_marks(constructs, variant, path):
    """Cell magics, names bound by assignment, `try` imports, helper modules, redefinitions...: the probes see what
    the run left, so no correct notebook loses a point for how it is written, and no message is false."""
    results = constructs[variant, path]
    assert results
    lost = {name: [t["output"] for t in r["tests"] if t["status"] != "passed"]
            for name, r in results.items() if r["score"] != 10 or r["extra_data"]["outcome"] != "graded"}
    assert not lost


@pytest.fixture(scope="module")
def hostile(release, tmp_path_factory):
    out, _ = release
    variant = "wikipedia"
    folder = tmp_path_factory.mktemp("hostile")
    solution = nbformat.read(out / variant / "solutions" / f"lab8_{variant}.ipynb", as_version=4)
    blank = nbformat.read(out / variant / "student" / f"lab8_{variant}.ipynb", as_version=4)
    cases = hostile_notebooks(solution, blank, kind_of(variant))
    batches, per_class = {}, {}
    for name, (nb, expectation) in cases.items():
        path = folder / f"{name}.ipynb"
        nbformat.write(nb, path)
        cls = expectation.get("class")
        per_class[cls] = per_class.get(cls, 0) + 1
        for where in PATHS:
            # the trial takes the first case of each class, the user path the next one (more cases seen)
            if where == "local" or per_class[cls] == {"gradescope": 1, "user": 2}[where]:
                batches.setdefault((where, expectation.get("batch", "main")), []).append(path)
    jobs = []
    for (where, batch), notebooks in batches.items():
        # endless loops and stalls: a short run, so each cell's limit (a third of it) and the cells' time come
        # soon, with time left to run the notebook again without a cell that would not stop
        extra = ("--timeout", "200") if batch == "slow" else ()
        jobs.append(((batch, where), _grade, (out, variant, notebooks, folder / f"graded-{where}-{batch}", where, extra)))
    done = _side_by_side(jobs)
    # what outlived the gradings (every path's, once all are over: a survivor of one would be seen by all)
    survivors = [" ".join(p.info["cmdline"] or []) for p in psutil.process_iter(["cmdline"])]
    graded = {path: ({name: r for (_, where), results in done.items() if where == path for name, r in results.items()},
                     survivors) for path in PATHS}
    return {name: expectation for name, (_, expectation) in cases.items()}, graded


def test_the_hostile_corpus_covers_every_class(hostile):
    expectations, _ = hostile
    assert len(expectations) >= 30
    assert {e.get("class") for e in expectations.values()} >= {1, 2, 3, 4, 5, 6}


@pytest.mark.parametrize("path", PATHS)
def test_hostile_and_wrong_work_earn_no_more_than_deserved(hostile, path):
    expectations, graded = hostile
    results, survivors = graded[path]
    assert {expectations[name].get("class") for name in results} >= {1, 2, 3, 4, 5, 6}  # every class, this path
    wrong = {name: problems for name, expectation in expectations.items() if name in results
             and (problems := check_expectation(expectation, results[name], survivors=survivors))}
    assert not wrong
