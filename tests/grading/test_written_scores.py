"""Written scores merged into grades.csv and report.html, shares of a class, and the merge's refusals
(no grading here: the graded folders are made by tests/grading/conftest.py)."""
from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grading.batch import canonical_order, parse_shard, shard
from autograder.grading.merge import MergeError, merge
from autograder.grading.written import WrittenError, anon_code, read_scores, score_keys
from autograder.shipped.grade import GradingError

from .conftest import QUESTIONS, SHA, make_run

ROOT = Path(__file__).resolve().parents[2]
STEMS = ["alice", "bob", "carol"]


def rows(path: Path) -> dict[str, dict]:
    with open(path, newline="") as f:
        return {r["submission"]: r for r in csv.DictReader(f)}


def scores_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "written_scores.csv"
    path.write_text(text)
    return path


def test_shards_split_a_class_the_same_way_everywhere():
    files = [f"subs/s{i:03d}.ipynb" for i in range(10)] + ["late/s003.ipynb"]   # two files named alike
    ordered = canonical_order(files)
    assert ordered == canonical_order(random.Random(1).sample(files, len(files)))   # any argument order
    assert [s for _, s in ordered if s.startswith("s003")] == ["s003", "s003-2"]
    shares = [shard(ordered, i, 3) for i in (1, 2, 3)]
    assert sorted(x for share in shares for x in share) == sorted(ordered)           # each exactly once
    assert [len(s) for s in shares] == [4, 4, 3]
    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "3", "a/b", "1/0"):
        with pytest.raises(GradingError, match=r"--shard .*: expected I/N"):
            parse_shard(bad)


def test_written_scores_merge_into_grades_and_report(tmp_path, class_of_three):
    run = make_run(tmp_path / "graded", class_of_three, STEMS)
    scores = scores_file(tmp_path, "submission,name,w1_sparse_vs_dense,w2_penultimate_layer,w3_distance_changes\n"
                                   "alice,Alice,2,1.5,3\n"
                                   f"{anon_code(SHA, 'bob')},,1,0,\n")   # anonymous codes work too; blank: not scored
    merge([run], run, written_scores=scores)
    grades = rows(run / "grades.csv")
    assert list(grades["alice"])[:1] == ["submission"] and "w3_distance_changes" in grades["alice"]
    assert grades["alice"]["autograded"] == "10.0" and grades["alice"]["written"] == "6.5"
    assert grades["alice"]["total"] == "16.5" and grades["alice"]["w2_penultimate_layer"] == "1.5"
    assert (grades["bob"]["written"], grades["bob"]["total"], grades["bob"]["w3_distance_changes"]) == ("1.0", "7.0", "")
    assert (grades["carol"]["written"], grades["carol"]["total"]) == ("0.0", "0.0")
    report = (run / "report.html").read_text()
    assert "16.5 / 17" in report and "7 / 17" in report               # bob: 6 + 1 of 10 + 7: every written point
    assert "autograded 6/10 + written 1/7 = 7/17" in report and "1 written question not scored yet" in report
    assert "w3_distance_changes" in report                          # a pass-rate row per written question
    assert "written answer: 1.5/2" not in report                    # a TA's partial credit is no "failure"…
    assert '<span class="chip partial" title="partly scored by a TA">w2_penultimate_layer 1.5/2</span>' in report
    page = (run / "written.html").read_text()
    assert '"alice": {"w1_sparse_vs_dense": 2.0, "w2_penultimate_layer": 1.5' in page   # the page starts from them


@pytest.mark.parametrize("text, message", [
    ("name,w1_sparse_vs_dense\nalice,2\n", "line 1: expected a header with a 'submission' column"),
    ("submission,w9_unknown\nalice,1\n", "line 1: column 'w9_unknown' is not a written question"),
    ("submission,w1_sparse_vs_dense\nalice,2.5\n", "line 2 (alice): w1_sparse_vs_dense = 2.5 is more than its 2 points"),
    ("submission,w1_sparse_vs_dense\nalice,-1\n", "line 2 (alice): w1_sparse_vs_dense = '-1' is not a number"),
    ("submission,w1_sparse_vs_dense\nalice,two\n", "line 2 (alice): w1_sparse_vs_dense = 'two' is not a number"),
    ("submission,w1_sparse_vs_dense\n\nmallory,1\n", "line 3: no submission 'mallory' in this grading"),
    ("submission,w1_sparse_vs_dense\nbob,1\nbob,2\n", "line 3: 'bob' already scored on line 2"),
])
def test_a_bad_scores_file_is_one_located_line(tmp_path, text, message):
    path = scores_file(tmp_path, text)
    with pytest.raises(WrittenError) as info:
        read_scores(path, QUESTIONS, score_keys(STEMS, SHA))
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value)
    assert "\n" not in str(info.value)


def test_rows_of_other_shards_are_skipped(tmp_path):
    path = scores_file(tmp_path, "submission,w1_sparse_vs_dense\nalice,2\ncarol,1\n")
    assert read_scores(path, QUESTIONS, score_keys(["alice"], SHA), elsewhere=set(score_keys(["carol"], SHA))) \
        == {"alice": {"w1_sparse_vs_dense": 2.0}}


def test_merge_joins_shards_in_class_order(tmp_path, class_of_three):
    one = make_run(tmp_path / "one", class_of_three, STEMS)
    merge([one], one)
    shards = [make_run(tmp_path / f"s{i}", {s: class_of_three[s] for _, s in shard([(None, s) for s in STEMS], i, 2)},
                       STEMS, index=i, count=2) for i in (2, 1)]
    merged = merge(shards, tmp_path / "merged")
    assert merged["warnings"] == [] and merged["submissions"] == 3
    for name in ("grades.csv", "written.html"):
        assert (tmp_path / "merged" / name).read_text() == (one / name).read_text()
    record = json.loads((tmp_path / "merged" / "shard.json").read_text())
    assert [e["submission"] for e in record["submissions"]] == STEMS
    assert (tmp_path / "merged" / "bob" / "results.json").is_file()


def test_merge_refuses_other_releases_and_double_grading(tmp_path, class_of_three):
    a = make_run(tmp_path / "a", {"alice": class_of_three["alice"]}, STEMS, index=1, count=2)
    b = make_run(tmp_path / "b", {"bob": class_of_three["bob"]}, STEMS, index=2, count=2, sha="cd" * 32)
    with pytest.raises(MergeError, match=r"b: graded with another release than .*a \(autograder zip sha256 cdcdcdcdcdcd… "
                                         r"vs abababababab…\)"):
        merge([a, b], tmp_path / "m")
    proc = subprocess.run([sys.executable, "build.py", "merge", str(a), str(b), "--out", str(tmp_path / "m")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "another release" in proc.stderr
    assert not (tmp_path / "m" / "grades.csv").exists()
    with pytest.raises(MergeError, match="alice was graded in .* too"):
        merge([a, a], tmp_path / "m")
    c = make_run(tmp_path / "c", {"carol": class_of_three["carol"]}, STEMS + ["dave"], index=2, count=2)
    with pytest.raises(MergeError, match="split from another list of submissions"):
        merge([a, c], tmp_path / "m")
    assert merge([a], tmp_path / "m")["warnings"][0].startswith("warning: 2 of 3 submissions are in no folder given "
                                                                "(shards given: 1 of 2)")
    with pytest.raises(MergeError, match=r"nowhere: no shard.json; not the output folder of `build.py grade`"):
        merge([tmp_path / "nowhere"], tmp_path / "m")
