"""The leak scan catches otter-grader 7.0.0 copying an unmarked solution cell into the student notebook."""
import json
from pathlib import Path

import nbformat

from autograder.release import assign, verify
from autograder.shipped.judge.checks import CHECKS


def _leaky_master(tmp_path, cfg, wiki_corpus):
    """The real wikipedia master with one extra solution cell that has no in-cell markers: our
    renderer refuses such a template, so it is spliced in after rendering, as a careless edit would."""
    snapshot = tmp_path / "wikipedia.npz"
    wiki_corpus.save(snapshot)
    data = {"offline": False, "classes": wiki_corpus.class_names, "source": "test"}
    master = assign.prepare_master(cfg, cfg.variant("wikipedia"), snapshot, tmp_path / "master", [], data)
    nb = nbformat.read(master, as_version=4)
    begin = next(i for i, c in enumerate(nb.cells) if c.cell_type == "raw" and c.source.startswith("# BEGIN SOLUTION"))
    nb.cells.insert(begin + 1, nbformat.v4.new_code_cell("secret_answer = sorted(corpus.labels)[::-1]  # leaked"))
    nbformat.write(nb, master)
    return master


def test_unmarked_solution_cell_leaks_through_otter_and_the_scan_catches_it(tmp_path, cfg, wiki_corpus):
    master = _leaky_master(tmp_path, cfg, wiki_corpus)
    student_dir = assign.run_otter_assign(master, tmp_path / "out")
    student_text = (student_dir / master.name).read_text()
    assert "secret_answer = sorted(corpus.labels)" in student_text  # otter's fault, reproduced
    secret = verify.secret_lines(master)
    findings = verify.leak_scan(student_dir, secret, {}, allowed_files={master.name, "data/*", "replab/*", "tests/*"})
    assert any("secret_answer" in f and master.name in f for f in findings)
    # the marked solutions themselves did not leak
    assert not any("self.embeddings = h.detach()" in f for f in findings)


def test_scan_flags_unexpected_files_and_hidden_strings(tmp_path):
    (tmp_path / "replab").mkdir()
    (tmp_path / "replab" / "ok.py").write_text("x = 1\n")
    (tmp_path / "lab8_expected.json").write_text(json.dumps({"silhouette_min": 0.2}))
    (tmp_path / "notes.py").write_text("import _lab8_checks\n")
    findings = verify.leak_scan(tmp_path, set(), {"_lab8_checks": "hidden test source"},
                                allowed_files={"replab/*", "notes.py"})
    assert findings == ["lab8_expected.json: file not meant for students",
                        "notes.py: contains hidden test source ('_lab8_checks')"]


def test_secret_lines_skip_what_students_are_given(tmp_path, cfg, wiki_corpus):
    master = _leaky_master(tmp_path, cfg, wiki_corpus)
    secret = verify.secret_lines(master, secret_texts=["def helper_only_graders_see(x):\nimport numpy as np"],
                                 public_texts=["import numpy as np"])
    assert "self.embeddings = h.detach().cpu().numpy()" in secret
    assert "def helper_only_graders_see(x):" in secret and "import numpy as np" not in secret
    assert not any(line.startswith("def separation_by_epoch") for line in secret)  # given code, not an answer
    assert set(CHECKS)  # the registry the judge scores from is not empty
