"""Graded folders made without grading (results.json, written.json and shard.json as `build.py grade`
writes them), for the tests of written.html, the written scores and the merge."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

QUESTIONS = [
    {"id": "w1_sparse_vs_dense", "points": 2.0, "prompt": "Why are raw TF-IDF vectors costly?",
     "answer": "One slot per term; almost all zero."},
    {"id": "w2_penultimate_layer", "points": 2.0, "prompt": "Why the penultimate layer?",
     "answer": "It is the last rich representation."},
    {"id": "w3_distance_changes", "points": 3.0, "prompt": "How do distances change?",
     "answer": "Unrelated topics move apart, related ones less."},
]
AUTO = {"q1_hook": 2.0, "q2_capture": 3.0, "q3_export": 3.0, "q4_separation": 2.0}
SHA = "ab" * 32


def results(stem: str, score: float) -> dict:
    """results.json of a submission that earned `score` of the autograded points (q1 first)."""
    tests, left = [], score
    for name, possible in AUTO.items():
        got = min(possible, left)
        left -= got
        tests.append({"name": name, "score": got, "max_score": possible,
                      "status": "passed" if got >= possible else "failed",
                      "output": "" if got >= possible else f"{name}: wrong"})
    return {"score": score, "execution_time": 1.0, "output": f"Score {score:g}/10", "tests": tests,
            "extra_data": {"outcome": "graded", "sandbox": "bwrap"}}


def written(stem: str, answers: dict, name="", student_id="") -> dict:
    return {"submission": stem, "source": f"subs/{stem}.ipynb", "notebook": f"{stem}.ipynb", "name": name,
            "student_id": student_id, "problem": "",
            "answers": {q["id"]: answers.get(q["id"], {"text": "", "status": "placeholder"}) for q in QUESTIONS}}


def make_run(folder: Path, subs: dict, all_stems: list[str], index=1, count=1, sha=SHA, anonymous=False) -> Path:
    """subs: stem → (autograded score, written.json record)."""
    from autograder.grading.folder import write_shard_record
    from autograder.grading.written import write_written_json
    folder.mkdir(parents=True, exist_ok=True)
    for stem, (score, record) in subs.items():
        (folder / stem).mkdir(parents=True, exist_ok=True)
        (folder / stem / "results.json").write_text(json.dumps(results(stem, score)))
        write_written_json(record, folder / stem)
    ordered = [(Path(f"subs/{s}.ipynb"), s) for s in all_stems]
    write_shard_record(folder, zip_path=Path("lab8_wikipedia_autograder.zip"), release_sha=sha, variant="wikipedia",
                       title="Lab 8 — Wikipedia", index=index, count=count, ordered=ordered,
                       graded=[(p, s) for p, s in ordered if s in subs], questions=QUESTIONS, anonymous=anonymous)
    return folder


@pytest.fixture
def class_of_three():
    """Three submissions: a full one, a half one, and one that left the written part alone."""
    return {
        "alice": (10.0, written("alice", {
            "w1_sparse_vs_dense": {"text": "Most entries are zero.\nAnd the width grows with the vocabulary.",
                                   "status": "answered"},
            "w2_penultimate_layer": {"text": "<script>alert('x')</script> the softmax loses detail",
                                     "status": "answered"},
            "w3_distance_changes": {"text": "Related topics stay closer.", "status": "answered"}},
            name="Alice Liddell", student_id="900000001")),
        "bob": (6.0, written("bob", {"w1_sparse_vs_dense": {"text": "Memory.", "status": "answered"},
                                     "w2_penultimate_layer": {"text": "", "status": "unanswered"}},
                             name="Bob Builder", student_id="900000002")),
        "carol": (0.0, written("carol", {}, name="", student_id="")),
    }


def notebook(path: Path, name="", student_id="") -> Path:
    """A notebook that only names its student (nothing in it is run: the grading is faked)."""
    source = f"STUDENT_NAME = {name!r}\nSTUDENT_ID = {student_id!r}\n"
    nb = {"cells": [{"cell_type": "code", "source": source, "metadata": {}, "outputs": [], "execution_count": None}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


@pytest.fixture
def fake_grading(monkeypatch, tmp_path):
    """`build.py grade` without running a notebook: the grading function writes a results.json whose score
    is scores[file name] (default 5), and the release's written questions are QUESTIONS. Returns
    (zip path, scores, calls: the file names graded by each run)."""
    import autograder.grading.batch as batch
    import autograder.grading.written as written_mod
    zip_path = tmp_path / "lab8_wikipedia_autograder.zip"
    zip_path.write_bytes(b"release one")
    scores, calls = {}, []

    def grade(paths, autograder_zip, out_dir, stems=None, **_):
        out_dir, done = Path(out_dir), []
        calls.append([Path(p).name for p in paths])
        for path, stem in zip(paths, stems):
            data = results(stem, scores.get(Path(path).name, 5.0))
            (out_dir / stem).mkdir(parents=True, exist_ok=True)
            (out_dir / stem / "results.json").write_text(json.dumps(data))
            done.append({"submission": stem, "source": str(path), "outcome": "graded", **data})
        return done

    monkeypatch.setattr(batch, "grade_submissions", grade)
    monkeypatch.setattr(written_mod, "release_questions", lambda zip_path, variant: QUESTIONS)
    return zip_path, scores, calls
