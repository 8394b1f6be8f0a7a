"""Regrading in place: `build.py grade` into a folder that already holds a grading of the same release
adds or replaces only the submissions given, keeps what it replaces under history/, keeps the written
scores, and rebuilds grades.csv, report.html and written.html from every result in the folder. No
notebook is run (tests/grading/conftest.py's fake_grading writes the results)."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grading import main as grade_main
from autograder.grading.merge import main as merge_main
from autograder.shipped.grade import GradingError

from .conftest import notebook

ROOT = Path(__file__).resolve().parents[2]
W1, W2, W3 = "w1_sparse_vs_dense", "w2_penultimate_layer", "w3_distance_changes"


def lines(path: Path) -> dict[str, str]:
    """grades.csv's rows as written, by submission (the header under "")."""
    text = path.read_text(encoding="utf-8").splitlines()
    return {"": text[0], **{line.split(",", 1)[0]: line for line in text[1:]}}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def graded_class(tmp_path, fake_grading):
    """Four submissions graded into graded/, with written scores given to the first grading."""
    zip_path, scores, calls = fake_grading
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, score in (("ada", 10.0), ("bob", 6.0), ("cy", 3.0), ("dee", 0.0)):
        notebook(subs / f"{name}.ipynb", name.title(), "1")
        scores[f"{name}.ipynb"] = score
    (tmp_path / "scores.csv").write_text(f"submission,{W1},{W2},{W3}\nada,2,2,3\nbob,1,,\ncy,0,0.5,\n")
    out = tmp_path / "graded"
    base = ["--variant", "wikipedia", "--zip", str(zip_path), "--out", str(out)]
    assert grade_main([*sorted(map(str, subs.glob("*.ipynb"))), *base, "--written-scores", str(tmp_path / "scores.csv")]) == 0
    return {"out": out, "subs": subs, "base": base, "scores": scores, "calls": calls, "zip": zip_path}


def test_regrading_one_of_four_replaces_only_it(tmp_path, graded_class, capsys):
    out, scores, calls = graded_class["out"], graded_class["scores"], graded_class["calls"]
    before = lines(out / "grades.csv")
    assert list(before) == ["", "ada", "bob", "cy", "dee"] and before["ada"].startswith("ada,Ada,1,2.0,3.0,3.0,2.0,2.0,2.0,3.0,")
    old_bob = (out / "bob" / "results.json").read_bytes()
    capsys.readouterr()

    fixed = tmp_path / "fixed"
    fixed.mkdir()
    notebook(fixed / "bob.ipynb", "Bob (resubmitted)", "1")
    scores["bob.ipynb"] = 9.0
    assert grade_main([str(fixed / "bob.ipynb"), *graded_class["base"]]) == 0          # no scores file this time
    said = capsys.readouterr().out
    assert calls[-1] == ["bob.ipynb"]                                                  # only bob was graded
    history = sorted((out / "history").iterdir())
    assert [p.name.split("-")[0] for p in history] == ["bob"] and (history[0] / "results.json").read_bytes() == old_bob
    assert f"replaced bob: the earlier result is kept in {history[0]}" in said
    assert "4 submissions in all (0 added, 1 replaced)" in said

    after = lines(out / "grades.csv")
    assert [after[k] for k in ("", "ada", "cy", "dee")] == [before[k] for k in ("", "ada", "cy", "dee")]   # byte-identical
    assert after["bob"] != before["bob"]
    rows = {r["submission"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert rows["ada"]["written"] == "7.0"
    assert (rows["bob"]["autograded"], rows["bob"][W1], rows["bob"]["written"], rows["bob"]["total"]) == ("9.0", "1.0", "1.0", "10.0")
    record = json.loads((out / "shard.json").read_text())
    assert [e["submission"] for e in record["submissions"]] == ["ada", "bob", "cy", "dee"]
    assert record["submissions"][1]["source"] == str(fixed / "bob.ipynb")
    report = (out / "report.html").read_text()
    assert "4 submissions" in report
    page = (out / "written.html").read_text()
    assert '"ada": {"w1_sparse_vs_dense": 2.0' in page and "Bob (resubmitted)" in page

    notebook(graded_class["subs"] / "eve.ipynb", "Eve", "1")                           # a late submission: added
    assert grade_main([str(graded_class["subs"] / "eve.ipynb"), *graded_class["base"]]) == 0
    assert list(lines(out / "grades.csv")) == ["", "ada", "bob", "cy", "dee", "eve"]
    assert lines(out / "grades.csv")["ada"] == before["ada"] and "5 submissions in all (1 added, 0 replaced)" in capsys.readouterr().out
    assert merge_main([str(out), "--out", str(out)]) == 0                              # written scores kept here too
    assert lines(out / "grades.csv")["ada"] == before["ada"]


def test_another_release_is_refused_in_one_line(tmp_path, graded_class):
    out = graded_class["out"]
    kept = snapshot(out)
    other = tmp_path / "other" / graded_class["zip"].name
    other.parent.mkdir()
    other.write_bytes(b"release two")
    args = [str(graded_class["subs"] / "bob.ipynb"), "--variant", "wikipedia", "--zip", str(other), "--out", str(out)]
    with pytest.raises(GradingError, match=rf"^{out}: graded with another release \(lab8_wikipedia_autograder.zip "
                                           r"sha256 [0-9a-f]{12}…, not lab8_wikipedia_autograder.zip sha256 "
                                           r"[0-9a-f]{12}…\); use a new --out$"):
        grade_main(args)
    proc = subprocess.run([sys.executable, "build.py", "grade", *args], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {out}: graded with another release (")
    assert proc.stderr.count("\n") == 1
    assert snapshot(out) == kept                                                       # nothing touched


def test_an_interrupted_regrade_leaves_the_earlier_results(graded_class, monkeypatch):
    import autograder.grading.batch as batch
    out = graded_class["out"]
    kept = snapshot(out)

    def interrupted(paths, autograder_zip, out_dir, stems=None, **_):
        (Path(out_dir) / stems[0]).mkdir()
        (Path(out_dir) / stems[0] / "results.json").write_text("{half")
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "grade_submissions", interrupted)
    with pytest.raises(KeyboardInterrupt):
        grade_main([str(graded_class["subs"] / "bob.ipynb"), *graded_class["base"]])
    assert snapshot(out) == kept and not [p for p in out.iterdir() if p.name.startswith(".")]   # no staging left


def test_a_shard_folder_takes_only_its_own_submissions(tmp_path, fake_grading):
    zip_path, _, _ = fake_grading
    subs = [notebook(tmp_path / f"{n}.ipynb") for n in ("a", "b", "c", "d")]
    out = tmp_path / "shard1"
    base = ["--variant", "wikipedia", "--zip", str(zip_path), "--out", str(out)]
    assert grade_main([*map(str, subs), *base, "--shard", "1/2"]) == 0                 # a and c
    assert grade_main([str(subs[2]), *base]) == 0                                     # c again: its own
    with pytest.raises(GradingError, match=r"shard1: b is not one of this shard's submissions"):
        grade_main([str(subs[1]), *base])
    with pytest.raises(GradingError, match=r"shard1: holds shard 1/2, not shard 2/2; use a new --out"):
        grade_main([*map(str, subs), *base, "--shard", "2/2"])
    record = json.loads((out / "shard.json").read_text())
    assert record["shard"] == {"index": 1, "count": 2} and record["all_submissions"] == ["a", "b", "c", "d"]


def test_merging_again_keeps_a_result_regraded_since(tmp_path, class_of_three):
    from autograder.grading.merge import MergeError, merge

    from .conftest import make_run
    stems = ["alice", "bob", "carol"]
    shards = [make_run(tmp_path / "s1", {s: class_of_three[s] for s in ("alice", "carol")}, stems, 1, 2),
              make_run(tmp_path / "s2", {"bob": class_of_three["bob"]}, stems, 2, 2)]
    out = tmp_path / "all"
    merge(shards, out)
    regraded = (out / "bob" / "results.json").read_text().replace('"score": 6.0', '"score": 8.0', 1)
    (out / "bob" / "results.json").write_text(regraded)                       # as a regrade in all/ leaves it
    merge(shards, out)                                                          # the shards' older bob comes back…
    kept = list((out / "history").iterdir())
    assert [p.name.split("-")[0] for p in kept] == ["bob"]                      # …and the regraded one is kept
    assert (kept[0] / "results.json").read_text() == regraded
    other = make_run(tmp_path / "other", {"alice": class_of_three["alice"]}, ["alice"], sha="cd" * 32)
    with pytest.raises(MergeError, match=r"all: graded with another release \(autograder zip sha256 abababababab…, "
                                         r"not cdcdcdcdcdcd…\); use a new --out"):
        merge([other], out)
