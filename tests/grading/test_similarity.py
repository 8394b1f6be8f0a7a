"""Similarity signals (autograder/grading/similarity.py): a constructed class graded with `build.py grade`
(faked: no notebook runs) and merged from shards, where the pairs planted — renamed and reformatted code,
a byte-identical CSV, a written answer copied from a classmate and one from the key — are found, and the
look-alikes that are not copies (the given code left untouched, short answers, a different algorithm) are
not; and a class of 200 in seconds. The section in report.html: test_similarity_browser.py."""
from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from autograder.grading import main as grade_main
from autograder.grading.merge import merge
from autograder.grading.similarity import (ANSWER_CODE_JSON, SIMILARITY_JSON, find_pairs, given_code, normalised,
                                           question_cells)
from tests.grading.conftest import SHA

KEY = ("Most entries of a TF-IDF vector are zero because each article uses only a small part of the vocabulary, "
       "and the vector grows with the vocabulary, so distances between such vectors are dominated by noise.")
QUESTIONS = [
    {"id": "w1_sparse_vs_dense", "points": 2.0, "prompt": "Why are raw TF-IDF vectors costly?", "answer": KEY},
    {"id": "w3_distance_changes", "points": 3.0, "prompt": "How do distances change?", "answer": "Apart."},
]
GIVEN_Q4 = 'def separation_ratio(embeddings, labels):\n    """Between over within."""\n    ...\n'
ALICE_Q4 = '''def separation_ratio(embeddings, labels):
    """Mean distance between class centroids over the mean distance to the own centroid."""
    classes = np.unique(labels)
    centroids = np.stack([embeddings[labels == c].mean(axis=0) for c in classes])
    between = np.mean([np.linalg.norm(a - b) for i, a in enumerate(centroids) for b in centroids[i + 1:]])
    within = np.mean([np.linalg.norm(embeddings[labels == c] - centroids[k], axis=1).mean()
                      for k, c in enumerate(classes)])
    return float(between / within)
'''
# Alice's answer with every name changed, comments added, other quotes and layout, no docstring.
BOB_Q4 = '''def separation_ratio(E, y):
    # my own work!! <img src=x onerror=alert(1)>
    ks = np.unique(y)
    cents = np.stack([E[y == k].mean(axis = 0) for k in ks])
    b = np.mean([np.linalg.norm(p - q)
                 for j, p in enumerate(cents) for q in cents[j + 1:]])
    w = np.mean([np.linalg.norm(E[y == k] - cents[m], axis=1).mean() for m, k in enumerate(ks)])
    return float(b / w)
'''
CAROL_Q4 = '''def separation_ratio(embeddings, labels):
    from scipy.spatial.distance import pdist, cdist
    classes = sorted(set(labels.tolist()))
    cents = np.array([embeddings[labels == c].mean(0) for c in classes])
    spread = np.concatenate([cdist(embeddings[labels == c], cents[i:i + 1]).ravel() for i, c in enumerate(classes)])
    return float(pdist(cents).mean() / spread.mean())
'''
COPIED = ("The vectors are mostly zeros since one article only uses a few of the thousand terms, and their "
          "length grows with the vocabulary, which makes every distance noisy and expensive to compute.")


def notebook(path: Path, q4: str, answers: dict, name: str = "") -> Path:
    """A notebook laid out like the release's: set-up, q4's answer cell and check, written prompt + answer."""
    cells = [{"cell_type": "code", "source": "SEED = 0\nimport numpy as np\n", "metadata": {}},
             {"cell_type": "code", "source": q4, "metadata": {"tags": ["otter_answer_cell"]}},
             {"cell_type": "code", "source": 'grader.check("q4_separation")', "metadata": {"editable": False}}]
    for q in QUESTIONS:
        cells.append({"cell_type": "markdown", "source": f"**{q['id']}** (2 pts). {q['prompt']}",
                      "metadata": {"editable": False}})
        cells.append({"cell_type": "markdown", "source": answers.get(q["id"], "_Type your answer here, replacing this text._"),
                      "metadata": {"tags": ["otter_answer_cell"]}})
    cells.append({"cell_type": "code", "source": f"STUDENT_NAME = {name!r}\nSTUDENT_ID = ''\n", "metadata": {}})
    for n, cell in enumerate(cells):
        cell["id"] = f"c{n}"
        cell.update({"outputs": [], "execution_count": None} if cell["cell_type"] == "code" else {})
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    return path


CLASS = {   # file name → (q4 code, written answers, CSV bytes or None)
    "alice.ipynb": (ALICE_Q4, {"w1_sparse_vs_dense": COPIED}, b"title,categoric\nA,x\n"),
    "bob.ipynb": (BOB_Q4, {"w1_sparse_vs_dense": COPIED.replace("thousand", "1000") + "\n\nThat is all."},
                  b"title,categoric\nA,y\n"),
    "carol.ipynb": (CAROL_Q4, {"w1_sparse_vs_dense": "Memory. " + KEY.replace("small part", "tiny part"),
                               "w3_distance_changes": "Apart."}, b"title,categoric\nA,x\n"),
    "dave.ipynb": (GIVEN_Q4, {"w3_distance_changes": "Apart."}, None),     # the blank, untouched
    "erin.ipynb": (GIVEN_Q4 + "\n", {}, None),                              # the blank too (a blank line added)
    "frank.ipynb": ("def separation_ratio(e, l):\n    return 1.0\n", {}, None),   # too small to mean anything
    "gus.ipynb": ("def separation_ratio(a, b):\n    return 1.0\n", {}, None),
}


@pytest.fixture
def graded_class(fake_grading, monkeypatch, tmp_path):
    """The class graded by `build.py grade` (faked) into one folder; the blank notebook beside the zip as in
    a release (dist/<variant>/student/). Returns (folder, grade(out, *more arguments))."""
    import autograder.grading.batch as batch
    import autograder.grading.written as written_mod
    zip_path, _, _ = fake_grading
    monkeypatch.setattr(written_mod, "release_questions", lambda zip_path, variant: QUESTIONS)
    dist = tmp_path / "dist"
    (dist / "wikipedia" / "autograder").mkdir(parents=True)
    (dist / "wikipedia" / "autograder" / zip_path.name).write_bytes(zip_path.read_bytes())
    (dist / "wikipedia" / "student").mkdir()
    notebook(dist / "wikipedia" / "student" / "lab8_wikipedia.ipynb", GIVEN_Q4, {})
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, (code, answers, _) in CLASS.items():
        notebook(subs / name, code, answers, name=name[:-6].title())
    fake = batch.grade_submissions

    def with_csv(paths, autograder_zip, out_dir, stems=None, **kw):   # the CSV each notebook left behind
        done = fake(paths, autograder_zip, out_dir, stems=stems, **kw)
        for path, stem in zip(paths, stems):
            if CLASS[Path(path).name][2] is not None:
                (Path(out_dir) / stem / "mantis_embeddings.csv").write_bytes(CLASS[Path(path).name][2])
        return done

    monkeypatch.setattr(batch, "grade_submissions", with_csv)
    common = [*map(str, sorted(subs.glob("*.ipynb"))), "--variant", "wikipedia", "--release", str(dist)]
    grade = lambda out, *more: grade_main([*common, "--out", str(out), *more])   # noqa: E731
    assert grade(tmp_path / "one") == 0
    return tmp_path / "one", grade


def found(folder: Path) -> set[tuple]:
    return {(p["kind"], p["question"], p["a"], p["b"])
            for p in json.loads((folder / SIMILARITY_JSON).read_text(encoding="utf-8"))["pairs"]}


def test_planted_pairs_are_found_and_look_alikes_are_not(graded_class):
    one, grade = graded_class
    for i in (1, 2):
        assert grade(one.parent / f"shard{i}", "--shard", f"{i}/2") == 0
    merged = one.parent / "merged"
    merge([one.parent / "shard2", one.parent / "shard1"], merged)
    assert found(one) == {
        ("code", "q4_separation", "alice", "bob"),             # renamed, commented, reformatted
        ("csv", "mantis_embeddings.csv", "alice", "carol"),    # byte-identical export
        ("written", "w1_sparse_vs_dense", "alice", "bob"),     # copied, one word changed, a line added
        ("written", "w1_sparse_vs_dense", "carol", "answer key"),   # the key with a word changed
    }   # not: dave/erin (the given cell), frank/gus (too small), the short "Apart." answers, carol's code
    assert (one / SIMILARITY_JSON).read_text() == (merged / SIMILARITY_JSON).read_text()   # shards join alike
    shard = json.loads((merged / "shard.json").read_text())
    assert shard["given_code"] and json.loads((merged / "alice" / ANSWER_CODE_JSON).read_text())["questions"]


def test_code_is_normalised_not_merely_compared(tmp_path):
    """What the code pairs rest on: names, comments, docstrings and layout do not count; a changed
    operation does; a cell that does not parse is skipped; cells group by the check that follows."""
    assert normalised(ALICE_Q4) == normalised(BOB_Q4.split("#")[0] + BOB_Q4.split(">", 1)[1])
    assert normalised(ALICE_Q4) != normalised(ALICE_Q4.replace("a - b", "a + b"))
    assert normalised("def f(:\n") is None and normalised("%time x = 1\ny = x") == normalised("y = x")
    nb = json.loads(notebook(tmp_path / "nb.ipynb", BOB_Q4, {}).read_text())
    assert question_cells(nb) == {"q4_separation": ["SEED = 0\nimport numpy as np\n", BOB_Q4]}
    assert len(given_code(nb)) == 4   # every code cell of a blank: set-up, answer, check, name


def test_a_class_of_200_in_seconds(tmp_path):
    """200 submissions × 4 questions of code, a CSV each and 3 written answers of 40–80 words: a few planted
    pairs among many near-misses (one word apart is not 'nearly word for word' at this length)."""
    rng = random.Random(8)
    vocab = [f"w{i}" for i in range(400)]
    questions = [{"id": f"w{i}", "points": 2.0, "prompt": "", "answer": " ".join(rng.choices(vocab, k=60))}
                 for i in range(3)]
    stems = [f"s{k:03d}" for k in range(200)]
    records = []
    for k, stem in enumerate(stems):
        (tmp_path / stem).mkdir()
        code = {f"q{i}": [f"def f{i}(x):\n    y = x * {k} + {i}\n    z = [y ** j for j in range({k % 7 + 2})]\n"
                          f"    return sum(z) / len(z) - {rng.random()}\n"] for i in range(4)}
        (tmp_path / stem / ANSWER_CODE_JSON).write_text(json.dumps({"submission": stem, "questions": code}))
        (tmp_path / stem / "mantis_embeddings.csv").write_text(f"title\n{rng.random()}\n" * 500)
        answers = {q["id"]: {"text": " ".join(rng.choices(vocab, k=rng.randint(40, 80))), "status": "answered"}
                   for q in questions}
        records.append({"submission": stem, "answers": answers})
    # planted: s010's q2 code renamed into s150; s020's CSV in s021; s030's w1 answer in s199 with a word changed
    (tmp_path / "s150" / ANSWER_CODE_JSON).write_text(
        (tmp_path / "s010" / ANSWER_CODE_JSON).read_text().replace("(x)", "(inp)").replace("x *", "inp *"))
    (tmp_path / "s021" / "mantis_embeddings.csv").write_bytes((tmp_path / "s020" / "mantis_embeddings.csv").read_bytes())
    words = records[30]["answers"]["w1"]["text"].split()
    records[199]["answers"]["w1"] = {"text": " ".join(words[:-1] + ["different"]), "status": "answered"}
    start = time.perf_counter()
    data = find_pairs(tmp_path, stems, records, questions, given=[], csv_name="mantis_embeddings.csv")
    seconds = time.perf_counter() - start
    got = {(p["kind"], p["question"], p["a"], p["b"]) for p in data["pairs"]}
    assert got == {("code", f"q{i}", "s010", "s150") for i in range(4)} | {
        ("csv", "mantis_embeddings.csv", "s020", "s021"), ("written", "w1", "s030", "s199")}
    print(f"similarity of 200 submissions: {seconds:.2f} s")
    assert seconds < 15, seconds   # seconds, not minutes, even on a loaded CI machine


def _graded(folder, stem, csv_text, checks):
    (folder / stem).mkdir()
    (folder / stem / "mantis_embeddings.csv").write_text(csv_text)
    if checks is not ...:
        (folder / stem / "results.json").write_text(json.dumps({"extra_data": {"checks": checks}}))


def test_identical_right_csvs_are_expected_and_an_identical_wrong_one_is_listed_with_why(tmp_path):
    """One SEED: every correct notebook writes the same CSV, so a class of honest students shares it and no pair
    is listed; two submissions sharing a CSV the judge found wrong are listed, the pair saying which check failed;
    a grading that recorded no verdict is listed as before, saying so."""
    from autograder.grading.similarity import RIGHT_CSV_CHECKS
    right = {name: None for name in RIGHT_CSV_CHECKS}
    wrong = {**right, "csv_holds_the_snapshots": "mantis_embeddings.csv: embedding_epoch_k does not hold snapshots[k]"}
    for k in range(31):
        _graded(tmp_path, f"honest{k:02d}", "title,categoric\nthe right bytes\n", right)
    _graded(tmp_path, "mistake_a", "title,categoric\nepoch 0 in every column\n", wrong)
    _graded(tmp_path, "mistake_b", "title,categoric\nepoch 0 in every column\n", wrong)
    _graded(tmp_path, "old_a", "title,categoric\nno verdict\n", ...)
    _graded(tmp_path, "old_b", "title,categoric\nno verdict\n", ...)
    stems = sorted(p.name for p in tmp_path.iterdir())
    pairs = find_pairs(tmp_path, stems, [], [], given=[], csv_name="mantis_embeddings.csv")["pairs"]
    assert {(p["a"], p["b"]) for p in pairs} == {("mistake_a", "mistake_b"), ("old_a", "old_b")}
    why = {p["a"]: p["detail"] for p in pairs}
    assert "not the lab's right CSV (csv_holds_the_snapshots: mantis_embeddings.csv: embedding_epoch_k" in why["mistake_a"]
    assert "recorded no verdict" in why["old_a"]
