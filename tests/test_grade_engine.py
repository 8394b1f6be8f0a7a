"""The grading engine against a tiny real otter assignment: scores, faults, cleanup, outputs.

Most submissions are graded in one `jobs=2` batch (module fixture) and the tests then
check one result each; the endless loop runs alone with a short timeout.
"""

import csv
import json
import tempfile
import zipfile
from pathlib import Path

import nbformat
import psutil
import pytest

import tiny_assignment
from autograder import GradingError, grade_submissions, write_grades_csv, write_report
from autograder.grade import _stage_submission

pytestmark = pytest.mark.slow

BATCH_TIMEOUT = 120  # far above a normal grading: only the loop test is meant to time out
LOOP_TIMEOUT = 4
SLEEP_SECONDS = "987"  # a distinctive background `sleep` to look for afterwards


@pytest.fixture(scope="session")
def assignment(tmp_path_factory):
    return tiny_assignment.build(tmp_path_factory.mktemp("tiny"))


def notebook_with(base_nb, path, cell_source=None, after=0, replace_answer=None):
    """Write base_nb to path with one extra code cell inserted after cell index `after`,
    and optionally the q2 answer cell replaced."""
    nb = nbformat.read(str(base_nb), as_version=4)
    if replace_answer is not None:
        answer = next(c for c in nb.cells if c.cell_type == "code" and "def square" in c.source)
        answer.source = replace_answer
    if cell_source is not None:
        nb.cells.insert(after + 1, nbformat.v4.new_code_cell(cell_source))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def processes_mentioning(text):
    """Live processes whose command line contains text."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        if proc.info["status"] != psutil.STATUS_ZOMBIE and text in " ".join(proc.info["cmdline"] or []):
            found.append(proc)
    return found


def our_kernels():
    return [p for p in psutil.Process().children(recursive=True)
            if p.is_running() and "ipykernel" in " ".join(p.cmdline())]


@pytest.fixture(scope="module")
def batch(assignment, tmp_path_factory):
    """Grade every well-behaved and misbehaving submission at once, two at a time."""
    zip_path, solution, student = assignment
    subs = tmp_path_factory.mktemp("subs")
    work_tmp = tmp_path_factory.mktemp("work_tmp")
    corrupt = subs / "corrupt.ipynb"
    corrupt.write_text('{"cells": [ this is not json')
    empty_zip = subs / "empty.zip"
    zipfile.ZipFile(empty_zip, "w").close()  # a valid zip with nothing inside
    zipped = subs / "zipped.zip"
    reads_file = notebook_with(solution, subs / "reads_file.ipynb",  # after q1's answer cell
                               "del answer\nanswer = int(open('extra/answer.txt').read())", after=3)
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.write(reads_file, "my answers.ipynb")  # renamed inside the zip too
        zf.writestr("extra/answer.txt", "42")  # its other files must reach the notebook
    renamed = subs / "renamed_by_student.ipynb"
    renamed.write_bytes(solution.read_bytes())
    submissions = {
        "solution": solution,
        "student": student,  # same file name: its stem must be made unique
        "renamed": renamed,
        "corrupt": corrupt,
        "empty_zip": empty_zip,
        "zipped": zipped,
        "raises": notebook_with(solution, subs / "raises.ipynb",
                                replace_answer="def square(x):\n    raise ValueError('boom')"),
        "sys_exit": notebook_with(solution, subs / "sys_exit.ipynb", "import sys\nsys.exit(3)"),
        "os_exit": notebook_with(solution, subs / "os_exit.ipynb", "import os\nos._exit(1)"),
        "background": notebook_with(solution, subs / "background.ipynb",
                                    f"import subprocess\nsubprocess.Popen(['sleep', '{SLEEP_SECONDS}'])"),
        "fake_results": notebook_with(student, subs / "fake_results.ipynb", (
            "import json\nfake = {'score': 100, 'tests': [{'name': 'q1', 'score': 100, 'max_score': 1}]}\n"
            "for p in ['results.json', '../results/results.json']:\n"
            "    json.dump(fake, open(p, 'w'))")),
        "prints_hidden": notebook_with(solution, subs / "prints_hidden.ipynb",
                                       "print(open('tests/q1.py').read())"),
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tempfile, "tempdir", str(work_tmp))
        results = grade_submissions(list(submissions.values()), zip_path, subs / "out",
                                    jobs=2, timeout=BATCH_TIMEOUT, progress=False)
    by_case = dict(zip(submissions, results))
    return {"results": by_case, "out": subs / "out", "work_tmp": work_tmp, "zip": zip_path}


def saved(batch, case):
    """The results.json written for a case, checked to be in Gradescope's format."""
    result = batch["results"][case]
    data = json.loads((batch["out"] / result["submission"] / "results.json").read_text())
    assert set(data) >= {"score", "execution_time", "output", "tests"}
    assert data["stdout_visibility"] == "hidden"
    questions = [t for t in data["tests"] if t["name"] != "Public Tests"]
    assert [t["name"] for t in questions] == ["q1", "q2"]
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "visibility", "output"}
        assert test["status"] in ("passed", "failed")
    assert data["score"] == sum(t["score"] for t in questions)
    assert "\n" not in data["output"]
    return data


def test_solution_gets_full_marks_and_student_template_zero(batch):
    solution, student = saved(batch, "solution"), saved(batch, "student")
    assert solution["score"] == 2 and "2 of 2 questions passed" in solution["output"]
    assert all(t["status"] == "passed" for t in solution["tests"])
    assert student["score"] == 0 and "failed: q1, q2" in student["output"]
    assert batch["results"]["student"]["submission"] != batch["results"]["solution"]["submission"]


def test_renamed_notebooks_keep_full_marks(batch):
    assert saved(batch, "renamed")["score"] == 2
    assert saved(batch, "zipped")["score"] == 2


def test_unreadable_submissions_score_zero_with_a_clear_message(batch):
    corrupt, empty = saved(batch, "corrupt"), saved(batch, "empty_zip")
    assert corrupt["score"] == 0 and "corrupt.ipynb: not a readable Jupyter notebook" in corrupt["output"]
    assert empty["score"] == 0 and "empty.zip: the zip holds no .ipynb notebook" in empty["output"]
    assert batch["results"]["corrupt"]["outcome"] == "invalid submission"


def test_a_raising_answer_loses_only_its_question(batch):
    data = saved(batch, "raises")
    scores = {t["name"]: t["score"] for t in data["tests"]}
    assert data["score"] == 1 and scores["q1"] == 1 and scores["q2"] == 0
    assert "ValueError" in next(t["output"] for t in data["tests"] if t["name"] == "q2")


def test_sys_exit_is_survived_but_os_exit_kills_the_kernel(batch):
    # IPython turns sys.exit() into an error in that cell; the later cells still run.
    assert saved(batch, "sys_exit")["score"] == 2
    dead = saved(batch, "os_exit")
    assert dead["score"] == 0 and "kernel died" in dead["output"]
    assert batch["results"]["os_exit"]["outcome"] == "kernel died"


def test_background_processes_are_killed(batch):
    assert saved(batch, "background")["score"] == 2
    assert not [p for p in processes_mentioning("sleep") if p.info["cmdline"][-1:] == [SLEEP_SECONDS]]


def test_a_results_json_written_by_the_notebook_is_ignored(batch):
    data = saved(batch, "fake_results")
    assert data["score"] == 0 and data["tests"][1]["score"] == 0


def test_printed_hidden_tests_do_not_reach_the_student(batch):
    assert saved(batch, "prints_hidden")["score"] == 2
    text = (batch["out"] / batch["results"]["prints_hidden"]["submission"] / "results.json").read_text()
    assert "answer == 42" not in text  # the hidden test's source, printed by the notebook


def test_no_temp_files_or_processes_are_left_behind(batch):
    assert list(batch["work_tmp"].iterdir()) == []
    assert processes_mentioning(str(batch["work_tmp"])) == []
    assert our_kernels() == []


def test_endless_loop_is_killed_at_the_timeout_with_its_whole_tree(assignment, tmp_path, monkeypatch):
    zip_path, solution, _ = assignment
    work_tmp = tmp_path / "work_tmp"
    work_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(work_tmp))
    loop = notebook_with(solution, tmp_path / "loop.ipynb", "while True:\n    pass")
    [result] = grade_submissions([loop], zip_path, tmp_path / "out", timeout=LOOP_TIMEOUT, progress=False)
    assert result["outcome"] == "timeout" and result["score"] == 0
    assert f"Grading stopped after {LOOP_TIMEOUT} s" in result["output"]
    assert LOOP_TIMEOUT <= result["execution_time"] < LOOP_TIMEOUT + 30
    assert json.loads((tmp_path / "out" / "loop" / "results.json").read_text())["score"] == 0
    assert list(work_tmp.iterdir()) == []
    assert processes_mentioning(str(work_tmp)) == []
    assert our_kernels() == []


def test_grading_again_gives_the_same_scores(batch, tmp_path):
    first = batch["results"]["raises"]  # the partial score: the least trivial one to repeat
    [again] = grade_submissions([first["source"]], batch["zip"], tmp_path / "out", progress=False)
    assert again["score"] == first["score"] == 1
    assert [t["score"] for t in again["tests"]] == [t["score"] for t in first["tests"]]


def test_expected_name_renames_the_staged_notebook(assignment, tmp_path):
    _, solution, _ = assignment
    renamed = tmp_path / "whatever.ipynb"
    renamed.write_bytes(solution.read_bytes())
    staged_dir = tmp_path / "staged"
    staged_dir.mkdir()
    staged = _stage_submission(renamed, staged_dir, "lab8.ipynb")
    assert staged == staged_dir / "lab8.ipynb" and [p.name for p in staged_dir.iterdir()] == ["lab8.ipynb"]


def test_an_unusable_autograder_zip_is_a_one_line_error(assignment, tmp_path):
    _, solution, _ = assignment
    bad_zip = tmp_path / "autograder.zip"
    bad_zip.write_text("not a zip")
    with pytest.raises(GradingError, match=r"autograder\.zip: not a usable otter autograder zip") as err:
        grade_submissions([solution], bad_zip, tmp_path / "out", progress=False)
    assert "\n" not in str(err.value)


def test_grades_csv_and_report(batch, tmp_path):
    results = list(batch["results"].values())
    with open(write_grades_csv(results, tmp_path / "grades.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [r["submission"] for r in rows] == [r["submission"] for r in results]
    assert list(rows[0]) == ["submission", "q1", "q2", "total", "outcome"]
    by_name = {r["submission"]: r for r in rows}
    raises = batch["results"]["raises"]["submission"]
    assert (float(by_name[raises]["q1"]), float(by_name[raises]["q2"]), float(by_name[raises]["total"])) == (1, 0, 1)

    solution = batch["results"]["solution"]["submission"]
    report = write_report(tmp_path, results, curves={solution: [0.1, 0.3, 0.2, 0.8]})
    html = report.read_text()
    assert report == tmp_path / "report.html"
    for result in results:
        assert f"<td>{result['submission']}</td>" in html
    assert html.count("<polyline") == 1 and html.count("no CSV") == len(results) - 1
    assert "kernel died" in html and "invalid submission" in html
    assert "<script" not in html and "<link" not in html and "http" not in html.split("</style>")[1]
    # Failing cases of the student template and of fake_results (the same notebook) are grouped.
    assert '<td class="num">2</td><td class="msg">q2: assert square(3) == 9 → AssertionError</td>' in html


def test_a_kernel_that_never_started_is_retried_once(tmp_path, monkeypatch):
    """A start-up hiccup (the kernel died before its first reply: no cell ran) costs the student nothing;
    any other otter failure is not retried."""
    import autograder.grade as grade
    calls = []

    def fake(submission, zip_path, max_points, expected, timeout, log_path, *rest):
        calls.append(1)
        if len(calls) == 1:
            log_path.write_text(f"RuntimeError: {grade.KERNEL_NEVER_STARTED}.\n")
            return "otter error", "Otter could not grade the notebook", None
        log_path.write_text("ok\n")
        return "graded", "Score 1/1", [{"name": "q1", "score": 1.0, "max_score": 1.0, "status": "passed",
                                        "visibility": "visible", "output": ""}]

    monkeypatch.setattr(grade, "_grade_in_workspace", fake)
    result = grade.grade_one(tmp_path / "s.ipynb", tmp_path / "a.zip", tmp_path / "out", {"q1": 1.0}, None, 10)
    assert len(calls) == 2 and result["outcome"] == "graded" and result["score"] == 1.0

    calls.clear()

    def broken(submission, zip_path, max_points, expected, timeout, log_path, *rest):
        calls.append(1)
        log_path.write_text("SyntaxError somewhere\n")
        return "otter error", "Otter could not grade the notebook", None

    monkeypatch.setattr(grade, "_grade_in_workspace", broken)
    result = grade.grade_one(tmp_path / "s.ipynb", tmp_path / "a.zip", tmp_path / "out2", {"q1": 1.0}, None, 10)
    assert len(calls) == 1 and result["score"] == 0
