"""The released wikipedia autograder against broken and hostile submissions of the real lab.

One module fixture builds the release, writes every submission below (each an edit of the executed
solution notebook) and grades them all with `build.py grade --jobs 2`; the endless loop is graded
alone with a short timeout. Each test then checks one submission's results.json: Gradescope's keys,
the exact score of each question where the break is targeted, and a message naming the problem.
"""
import copy
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import psutil
import pytest

from autograder.curves import heldout_silhouettes, separation_curves
from replab.mantis import write_mantis_csv

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
NB_NAME = "lab8_wikipedia.ipynb"
CSV_NAME = "mantis_embeddings.csv"
POINTS = {"q1_hook": 2, "q2_capture": 3, "q3_export": 2, "q4_separation": 3}
FULL = sum(POINTS.values())
# Share of each hidden check (tests.py splits a question's points evenly over its checks).
Q1, Q3 = 2 / 3, 2 / 3   # three checks each
Q2, Q4 = 1.0, 1.5       # three and two checks
SLEEP_SECONDS = "977"   # a distinctive background `sleep` to look for afterwards
LOOP_TIMEOUT = 20

# --------------------------------------------------------------------------- editing the solution


def replace(nb, old, new):
    """Replace `old` in the one code cell that holds it (exactly once), so a template change that
    moves the text fails here rather than silently building an unbroken submission."""
    cells = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
    assert len(cells) == 1 and cells[0].source.count(old) == 1, f"{old!r}: not found once in the solution"
    cells[0].source = cells[0].source.replace(old, new)
    return nb


def append_to(nb, anchor, code):
    """Append code at the end of the one code cell that holds `anchor`."""
    cells = [c for c in nb.cells if c.cell_type == "code" and anchor in c.source]
    assert len(cells) == 1, f"{anchor!r}: not in exactly one code cell of the solution"
    cells[0].source += "\n" + code
    return nb


def insert_cell(nb, after_anchor, code, kind="code"):
    i = next(i for i, c in enumerate(nb.cells) if after_anchor in c.source)
    new = nbformat.v4.new_code_cell(code) if kind == "code" else nbformat.v4.new_markdown_cell(code)
    nb.cells.insert(i + 1, new)
    return nb


HOOK = "self.embeddings = h.detach().cpu().numpy()"
EPOCH0 = "snapshots = [snapshot(model, x)]  # epoch 0: before any update"
CALL_LR = "epochs=EPOCHS, lr=0.002"
EXPORT_CALL = "csv_path = export_mantis(CSV_NAME, corpus, is_test, snapshots)"
EXPORT_PRINT = 'print(csv_path, "—", len(table.titles), "rows,", table.embeddings.shape[2], "dimensions per epoch")'
WRITE_CALL = "return write_mantis_csv(path, corpus.titles, corpus.labels, splits, snippets, snapshots)"
IMPORTS = "import otter\n"
MODEL_CELL = "class TextMLP(nn.Module):"

# Rewrites of the exported CSV (appended to the export cell).
REWRITE_CELLS = """
import pandas as pd
_df = pd.read_csv(CSV_NAME, dtype=str, keep_default_na=False)
_t = read_mantis_csv(CSV_NAME)
for _k, _c in enumerate(_df.columns[4:]):
    _df[_c] = [{cell} for _row in _t.embeddings[_k].astype(np.float64)]
_df.to_csv(CSV_NAME, index=False)
"""
EDIT_FIRST_ROW = """
_lines = open(CSV_NAME, encoding="utf-8").read().split("\\n")
_lines[1] = _lines[1][:_lines[1].rindex(",")] + {end}
open(CSV_NAME, "w", encoding="utf-8").write("\\n".join(_lines))
"""
REORDER_COLUMNS = """
import pandas as pd
_df = pd.read_csv(CSV_NAME, dtype=str, keep_default_na=False)
_df{selection}.to_csv(CSV_NAME, index=False)
"""
# A broken base for the cheats: lr=0 (q2 loses 1, q4 loses 1.5), so any credit they add shows.
NO_TRAINING = {"q1_hook": 2, "q2_capture": 2 * Q2, "q3_export": 2, "q4_separation": Q4}
FAKE_RESULTS = ('{"score": 10, "output": "all good", "tests": ['
                + ", ".join(f'{{"name": "{q}", "score": {p}, "max_score": {p}, "output": "ok"}}' for q, p in POINTS.items())
                + "]}")
WRITE_FAKES = f"""
import glob, os, tempfile
_fake = '{FAKE_RESULTS}'
_targets = ["results.json", "../results/results.json", "../../results.json"]
for _root in {{tempfile.gettempdir(), "/tmp", os.path.abspath("../../..")}}:
    for _pattern in ("*", "replab-otter-out-*", "*/autograder/results", "*/autograder/submission"):
        _targets += [os.path.join(_d, "results.json") for _d in glob.glob(os.path.join(_root, _pattern))]
for _p in _targets:
    try:
        open(_p, "w").write(_fake)
    except OSError:
        pass
"""


def _daemon():
    """A detached process that keeps rewriting every results.json it can find with full marks."""
    body = WRITE_FAKES.replace("\n", "\n    ")
    loop = f"import time\nfor _ in range(30000):\n    {body}\n    time.sleep(0.01)\n"
    return ("import subprocess, sys\n"
            f"subprocess.Popen([sys.executable, '-c', {loop!r}], start_new_session=True,\n"
            "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)")


FAKE_CHECKS = "def run(name, ns):\n    pass\n"
REWRITE_TESTS = """import glob
for _p in glob.glob("tests/q*.py"):
    _src = open(_p).read().replace("_c.run(", "(lambda *a: None)(")
    open(_p, "w").write(_src)
"""


def build_cases(solution: Path):
    """{name: (notebook or raw bytes, expected per-question scores or None, words in the messages)}."""
    base = nbformat.read(str(solution), as_version=4)

    def nb(*edits):
        new = copy.deepcopy(base)
        for edit in edits:
            edit(new)
        return new

    def no_training(new):
        replace(new, CALL_LR, "epochs=EPOCHS, lr=0.0")

    def rows(end):
        return lambda n: append_to(n, EXPORT_PRINT, EDIT_FIRST_ROW.format(end=end))

    scores = lambda q1=2, q2=3, q3=2, q4=3: {"q1_hook": q1, "q2_capture": q2, "q3_export": q3, "q4_separation": q4}
    no_csv = scores(q3=0, q4=Q4)
    cases = {
        # --- q1: the hook
        "hook_wrong_dim": (nb(lambda n: replace(n, HOOK, "self.embeddings = torch.relu(self.fc1(x)).detach().cpu().numpy()")),
                           scores(q1=Q1, q2=2 * Q2, q3=0, q4=Q4), ["q1_hook: for a batch of 1, model.embeddings has shape (1, 256), expected (1, 64)"]),
        "hook_after_relu": (nb(lambda n: replace(n, HOOK, "self.embeddings = torch.relu(h).detach().cpu().numpy()")),
                            scores(q1=2 * Q1, q2=2 * Q2), ["differs from the output of the layer the hook should read",
                                                           "epoch 0 is not the untrained model"]),
        "hook_always_copies": (nb(lambda n: replace(n, f"        if self.capture:\n            {HOOK}", f"        {HOOK}")),
                               scores(q1=2 * Q1), ["with capture off, forward should leave model.embeddings alone"]),
        "hook_no_detach": (nb(lambda n: replace(n, HOOK, "self.embeddings = h.cpu().numpy()")),
                           scores(q1=2 * Q1), ["forward failed with capture on while autograd was recording"]),
        "hook_stores_tensor": (nb(lambda n: replace(n, HOOK, "self.embeddings = h.detach()")),
                               scores(q1=Q1), ["model.embeddings should be a NumPy array, got Tensor"]),
        "hook_float64": (nb(lambda n: replace(n, HOOK, "self.embeddings = h.detach().cpu().numpy().astype(np.float64)")),
                         scores(q1=2 * Q1), ["model.embeddings should be float32, got float64"]),
        # --- q2: snapshots
        "no_epoch0": (nb(lambda n: replace(n, EPOCH0, "snapshots = []")),
                      scores(q2=Q2, q3=0, q4=Q4), ["3 epochs should give 4 snapshots", "expected (11, 397, 64)",
                                                  "expected embedding_epoch_0 … embedding_epoch_10 after snippet, found 10"]),
        "twelve_snapshots": (nb(lambda n: replace(n, CALL_LR, "epochs=EPOCHS + 1, lr=0.002")),
                             scores(q2=2 * Q2, q3=0, q4=Q4), ["`snapshots` has shape (12, 397, 64), expected (11, 397, 64)"]),
        "epoch0_after_training": (nb(lambda n: replace(n, EPOCH0, "snapshots = []"),
                                     lambda n: replace(n, "    return np.stack(snapshots)", "    return np.stack([snapshots[-1]] + snapshots)")),
                                  scores(q2=Q2, q4=Q4), ["the first snapshot should be taken before any training step",
                                                         "epochs 0 and 10 are identical snapshots"]),
        "identical_epochs": (nb(lambda n: replace(n, "snapshots.append(snapshot(model, x))", "snapshots.append(snapshots[0])")),
                             scores(q2=Q2, q4=Q4), ["snapshots 0 and 1 are identical", "epochs 0 and 1 are identical snapshots"]),
        "snapshot_in_train_mode": (nb(lambda n: replace(n, "    model.eval()\n", "")),
                                   scores(q2=Q2), ["snapshot rows differ from the model's eval-mode output",
                                                   "the first snapshot should be taken before any training step"]),
        "snapshot_rows_shuffled": (nb(lambda n: replace(n, "return np.concatenate(parts)",
                                                        "return np.concatenate(parts)[np.random.default_rng(0).permutation(len(x))]")),
                                   scores(q2=0, q4=Q4), ["snapshot rows differ", "epoch 0 is not the untrained model",
                                                         "held-out silhouette went from"]),
        "never_trains": (nb(no_training), NO_TRAINING, ["epochs 0 and 1 are identical snapshots", "held-out silhouette went from"]),
        "barely_trains": (nb(lambda n: replace(n, CALL_LR, "epochs=EPOCHS, lr=1e-6")),
                          scores(q4=Q4), ["held-out silhouette went from"]),
        # --- q3: the CSV
        "csv_columns_shuffled": (nb(lambda n: append_to(n, EXPORT_PRINT, REORDER_COLUMNS.format(
            selection='[["categoric", "title"] + list(_df.columns[2:])]'))), no_csv,
            ["q3_export: mantis_embeddings.csv: columns: expected title, categoric, split, snippet first, found categoric, title"]),
        "csv_missing_column": (nb(lambda n: append_to(n, EXPORT_PRINT, REORDER_COLUMNS.format(
            selection='.drop(columns=["snippet"])'))), no_csv, ["missing column 'snippet'"]),
        "csv_wrong_name": (nb(lambda n: replace(n, EXPORT_CALL, EXPORT_CALL.replace("(CSV_NAME,", '("embeddings.csv",'))),
                           no_csv, ["no file mantis_embeddings.csv next to the notebook"]),
        "csv_not_written": (nb(lambda n: replace(n, EXPORT_CALL, "csv_path = CSV_NAME  # forgot to export")),
                            no_csv, ["no file mantis_embeddings.csv next to the notebook"]),
        "csv_nan": (nb(rows("',NaN]\"'")), no_csv, ["row 1, column embedding_epoch_10: value 64 is NaN"]),
        "csv_ragged": (nb(rows("']\"'")), no_csv, ["row 1, column embedding_epoch_10: expected 64 numbers, got 63"]),
        "csv_labels_shuffled": (nb(lambda n: replace(n, WRITE_CALL, WRITE_CALL.replace(
            "corpus.labels,", "np.random.default_rng(0).permutation(corpus.labels),"))),
            scores(q3=2 * Q3), ["the categoric column does not hold each item's class"]),
        "csv_split_inverted": (nb(lambda n: replace(n, 'splits = np.where(is_test, "test", "train")',
                                                    'splits = np.where(is_test, "train", "test")')),
                               scores(q3=2 * Q3), ["the split column does not match the held-out split"]),
        # --- q4: separation
        "ratio_inverted": (nb(lambda n: replace(n, "return float(between / within)", "return float(within / between)")),
                           scores(q4=Q4), ["separation_ratio gives a different value than the definition in q4"]),
        # --- hostile
        "corrupt_json": (b'{"cells": [ this is not json', None, ["not a readable Jupyter notebook"]),
        "raises_in_first_cell": (nb(lambda n: replace(n, IMPORTS, 'raise RuntimeError("first cell fails")\n' + IMPORTS)),
                                 scores(0, 0, 0, 0), ["the notebook defines no class TextMLP"]),
        "sys_exit_before_export": (nb(lambda n: replace(n, EXPORT_CALL, "import sys\nsys.exit()\n" + EXPORT_CALL)),
                                   no_csv, ["no file mantis_embeddings.csv"]),
        "os_exit": (nb(lambda n: insert_cell(n, MODEL_CELL, "import os\nos._exit(1)")), None, ["kernel died"]),
        "background_sleep": (nb(lambda n: insert_cell(n, MODEL_CELL, f"import subprocess\nsubprocess.Popen(['sleep', '{SLEEP_SECONDS}'])")),
                             scores(), []),
        "fake_results_json": (nb(no_training, lambda n: append_to(n, "display(Image(", WRITE_FAKES)), NO_TRAINING, []),
        "fake_results_daemon": (nb(no_training, lambda n: append_to(n, "display(Image(", _daemon())), NO_TRAINING, []),
        "prints_hidden_tests": (nb(lambda n: insert_cell(n, MODEL_CELL, "import glob\nfor _p in sorted(glob.glob('tests/*.py')) + "
                                                                     "['lab8_checks.py', 'lab8_expected.json']:\n    print(open(_p).read())")),
                                scores(), []),
        "monkeypatched_libraries": (nb(no_training, lambda n: replace(n, IMPORTS, (
            "import itertools, numpy, sklearn.metrics\n"
            "numpy.allclose = numpy.array_equal = lambda *a, **k: False\n"
            "_calls = itertools.count()\n"
            "sklearn.metrics.silhouette_score = lambda *a, **k: 0.9 * (next(_calls) % 2)\n") + IMPORTS)),
            scores(0, 0, 0, 0), ["the notebook replaced numpy.allclose, numpy.array_equal, sklearn.metrics.silhouette_score"]),
        "fake_checks_in_sys_modules": (nb(no_training, lambda n: replace(n, IMPORTS, (
            "import sys, types\n_fake = types.ModuleType('lab8_checks')\n_fake.run = lambda name, ns: None\n"
            "sys.modules['lab8_checks'] = sys.modules['_lab8_checks'] = _fake\n") + IMPORTS)),
            NO_TRAINING, []),
        # Rewriting the hidden checks or tests on disk: caught after the run, the whole grade is 0.
        "fake_checks_file": (nb(no_training, lambda n: replace(n, IMPORTS, f"open('lab8_checks.py', 'w').write({FAKE_CHECKS!r})\n" + IMPORTS)),
                             scores(0, 0, 0, 0), ["changed the autograder's own files (lab8_checks.py)"]),
        "rewrites_hidden_tests": (nb(no_training, lambda n: replace(n, IMPORTS, REWRITE_TESTS + IMPORTS)),
                                  scores(0, 0, 0, 0), ["changed the autograder's own files (tests/q1_hook.py, tests/q2_capture.py, tests/q3_export.py, …)"]),
        # --- benign variations keep full marks
        "Renamed Copy (2)": (nb(), scores(), []),
        "csv_floats_9g": (nb(lambda n: append_to(n, EXPORT_PRINT, REWRITE_CELLS.format(
            cell='"[" + ",".join("%.9g" % _v for _v in _row) + "]"'))), scores(), []),
        "csv_python_float64_lists": (nb(lambda n: append_to(n, EXPORT_PRINT, REWRITE_CELLS.format(cell="str(_row.tolist())"))),
                                     scores(), []),
        "csv_crlf": (nb(lambda n: append_to(n, EXPORT_PRINT, '_b = open(CSV_NAME, "rb").read()\n'
                                                              'open(CSV_NAME, "wb").write(_b.replace(b"\\n", b"\\r\\n"))')),
                     scores(), []),
        "extra_markdown_cell": (nb(lambda n: insert_cell(n, MODEL_CELL, "My notes: the hook reads fc2.", kind="markdown")),
                                scores(), []),
    }
    cases["again_snapshot_in_train_mode"] = cases["snapshot_in_train_mode"]  # graded twice: the same scores
    return cases


# --------------------------------------------------------------------------- building and grading


def grade_cli(submissions, release, out, *extra):
    proc = subprocess.run([sys.executable, "build.py", "grade", *map(str, submissions), "--variant", "wikipedia",
                           "--release", str(release), "--out", str(out), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    release = tmp_path_factory.mktemp("release")
    proc = subprocess.run([sys.executable, "build.py", "--variant", "wikipedia", "--data-dir", str(FIXTURES),
                           "--out", str(release)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    solution = release / "wikipedia" / "solutions" / NB_NAME

    subs = tmp_path_factory.mktemp("subs")
    cases = build_cases(solution)
    paths = {}
    for name, (content, _, _) in cases.items():
        path = subs / f"{name}.ipynb"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            nbformat.write(content, str(path))
        paths[name] = path
    out = tmp_path_factory.mktemp("graded")
    grade_cli(paths.values(), release, out, "--jobs", "2", "--timeout", "300")

    loop = nbformat.read(str(solution), as_version=4)
    insert_cell(loop, MODEL_CELL, "while True:\n    pass")
    nbformat.write(loop, str(subs / "endless_loop.ipynb"))
    loop_out = tmp_path_factory.mktemp("graded_loop")
    grade_cli([subs / "endless_loop.ipynb"], release, loop_out, "--timeout", str(LOOP_TIMEOUT))
    return {"cases": cases, "out": out, "loop_out": loop_out, "release": release}


def results_of(out: Path, name: str) -> dict:
    """results.json of one submission, checked to be in Gradescope's format."""
    data = json.loads((out / name / "results.json").read_text())
    assert {"score", "execution_time", "output", "tests"} <= set(data)
    assert data["stdout_visibility"] == "hidden"
    questions = [t for t in data["tests"] if t["name"] != "Public Tests"]
    assert [t["name"] for t in questions] == list(POINTS)
    for test in data["tests"]:
        assert {"name", "score", "max_score", "status", "visibility", "output"} <= set(test)
    for test in questions:
        assert test["status"] == ("passed" if test["score"] >= test["max_score"] else "failed")
    assert data["score"] == pytest.approx(sum(t["score"] for t in questions))
    assert "\n" not in data["output"]
    return data


def per_question(data):
    return {t["name"]: t["score"] for t in data["tests"] if t["name"] != "Public Tests"}


def all_text(data):
    return data["output"] + "\n" + "\n".join(t["output"] for t in data["tests"])


def test_there_are_at_least_30_broken_or_hostile_cases(graded):
    broken = [n for n, (_, want, _) in graded["cases"].items() if want is None or sum(want.values()) < FULL]
    assert len(broken) + 1 >= 31  # + the endless loop


@pytest.mark.parametrize("name", [
    "hook_wrong_dim", "hook_after_relu", "hook_always_copies", "hook_no_detach", "hook_stores_tensor", "hook_float64",
    "no_epoch0", "twelve_snapshots", "epoch0_after_training", "identical_epochs", "snapshot_in_train_mode",
    "snapshot_rows_shuffled", "never_trains", "barely_trains",
    "csv_columns_shuffled", "csv_missing_column", "csv_wrong_name", "csv_not_written", "csv_nan", "csv_ragged",
    "csv_labels_shuffled", "csv_split_inverted", "ratio_inverted", "raises_in_first_cell", "sys_exit_before_export",
    "fake_results_json", "fake_results_daemon", "monkeypatched_libraries", "fake_checks_in_sys_modules",
    "fake_checks_file", "rewrites_hidden_tests",
])
def test_broken_submission_gets_its_exact_partial_score_and_a_clear_message(graded, name):
    _, want, words = graded["cases"][name]
    data = results_of(graded["out"], name)
    assert per_question(data) == pytest.approx(want, abs=1e-3)
    assert data["score"] == pytest.approx(sum(want.values()), abs=1e-3) and data["score"] < FULL
    text = all_text(data)
    for w in words:
        assert w in text
    if data["output"].startswith("Score"):  # graded: each failed question says why on its first line
        for test in data["tests"]:
            if test["name"] != "Public Tests" and test["status"] == "failed":
                assert test["output"].startswith(test["name"] + ": ")


def test_unreadable_or_killed_submissions_score_zero_with_the_reason(graded):
    corrupt, dead = results_of(graded["out"], "corrupt_json"), results_of(graded["out"], "os_exit")
    assert corrupt["score"] == 0 and "corrupt_json.ipynb: not a readable Jupyter notebook" in corrupt["output"]
    assert dead["score"] == 0 and "kernel died" in dead["output"]


def test_endless_loop_is_stopped_at_the_timeout(graded):
    data = results_of(graded["loop_out"], "endless_loop")
    assert data["score"] == 0 and f"Grading stopped after {LOOP_TIMEOUT} s" in data["output"]
    assert data["execution_time"] < LOOP_TIMEOUT + 30


def test_background_processes_are_killed_and_do_not_cost_marks(graded):
    assert results_of(graded["out"], "background_sleep")["score"] == FULL
    for proc in psutil.process_iter(["cmdline"]):
        assert (proc.info["cmdline"] or [])[-1:] != [SLEEP_SECONDS]
        assert "replab-otter-out" not in " ".join(proc.info["cmdline"] or [])  # the fake-results daemon


def test_printed_hidden_tests_do_not_reach_the_results(graded):
    data = results_of(graded["out"], "prints_hidden_tests")
    assert data["score"] == FULL
    text = json.dumps(data)
    assert "silhouette_min" not in text and "def hook_matches_layer" not in text and "spec_from_file_location" not in text


@pytest.mark.parametrize("name", ["Renamed Copy (2)", "csv_floats_9g", "csv_python_float64_lists", "csv_crlf",
                                  "extra_markdown_cell"])
def test_benign_variations_keep_full_marks(graded, name):
    data = results_of(graded["out"], name)
    assert data["score"] == FULL, data["output"]
    assert all(t["status"] == "passed" for t in data["tests"])


def test_grading_the_same_submission_twice_gives_the_same_scores(graded):
    first = results_of(graded["out"], "snapshot_in_train_mode")
    again = results_of(graded["out"], "again_snapshot_in_train_mode")
    assert per_question(first) == per_question(again) and first["score"] < FULL


def test_the_exported_csv_survives_grading_and_gives_a_separation_curve(graded, cfg):
    out, cases = graded["out"], graded["cases"]
    assert (out / "Renamed Copy (2)" / CSV_NAME).is_file() and not (out / "csv_not_written" / CSV_NAME).exists()
    curves = separation_curves([{"submission": n} for n in cases], out, cfg, cfg.variant("wikipedia"))
    readable = {n for n, (_, want, _) in cases.items() if want and want["q3_export"] > 0}
    cheats = {"fake_checks_file", "rewrites_hidden_tests", "monkeypatched_libraries"}  # fine CSVs, grade 0
    assert set(curves) == readable | cheats
    good, flat = curves["Renamed Copy (2)"], curves["never_trains"]
    assert len(good) == len(flat) == cfg.epochs + 1
    assert good[-1] >= 0.15 and good[-1] - good[0] >= 0.1  # the thresholds classes_separate applies
    assert max(flat) - min(flat) < 1e-6  # lr=0: every epoch is the same picture
    html = (out / "report.html").read_text()
    assert html.count("<polyline") == len(curves)
    with open(out / "grades.csv") as f:
        assert len(f.read().splitlines()) == 1 + len(cases)


def test_curves_skip_missing_and_unreadable_csvs(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.array(["a", "b"] * 20)
    splits = np.array(["test", "train"] * 10 + ["train", "test"] * 10)
    centres = np.where(labels == "a", 5.0, -5.0)[:, None]
    epochs = [rng.normal(size=(40, 3)), rng.normal(size=(40, 3)) * 0.1 + centres]  # random, then two tight clusters
    for name in ("good", "bad", "none"):
        (tmp_path / name).mkdir()
    write_mantis_csv(tmp_path / "good" / CSV_NAME, [f"t{i}" for i in range(40)], labels, splits, ["s"] * 40, epochs)
    (tmp_path / "bad" / CSV_NAME).write_text("title,categoric\nx,y\n")
    curves = separation_curves([{"submission": n} for n in ("good", "bad", "none")], tmp_path,
                               SimpleNamespace(csv_name=CSV_NAME, epochs=1), SimpleNamespace(embedding_dim=3))
    assert list(curves) == ["good"]
    first, last = curves["good"]
    assert abs(first) < 0.2 and last > 0.9
    assert heldout_silhouettes(tmp_path / "good" / CSV_NAME) == curves["good"]
