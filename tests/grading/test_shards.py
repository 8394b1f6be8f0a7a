"""A class graded in shares on several machines is graded exactly as in one run: `build.py grade --shard
I/N` three times, then `build.py merge`, against one `build.py grade` (three small submissions of the
session's release; the shards run at the same time, as an array job's tasks would)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from assignment.config import load_config
from autograder.contract import notebook_name, zip_name
from autograder.grading.written import release_questions
from replab.written import PLACEHOLDER, export_written_pdf, page_count

ROOT = Path(__file__).resolve().parents[2]
VARIANT = "wikipedia"


def fill(notebook: Path, dest: Path, name: str, answers: bool) -> Path:
    """The notebook with a name and ID in its export cell and, if asked, every written answer filled."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and source.startswith("STUDENT_NAME = "):
            cell["source"] = source.replace('STUDENT_NAME = ""', f'STUDENT_NAME = "{name}"', 1) \
                                   .replace('STUDENT_ID = ""', 'STUDENT_ID = "900000042"', 1)
        if answers and cell["cell_type"] == "markdown" and source == PLACEHOLDER:
            cell["source"] = f"{name}'s answer, cell {nb['cells'].index(cell)}."
    dest.write_text(json.dumps(nb), encoding="utf-8")
    return dest


def grade(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "build.py", "grade", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-3000:]
    return out


@pytest.mark.slow
def test_three_shards_merged_equal_one_run(release, tmp_path):
    dist, _ = release
    student = dist / VARIANT / "student" / notebook_name(VARIANT)
    with zipfile.ZipFile(dist / VARIANT / "autograder" / zip_name(VARIANT)) as zf:
        assert "fpdf2==" in zf.read("requirements.txt").decode()   # the notebook's last cell runs when graded
    subs = tmp_path / "subs"
    subs.mkdir()
    fill(dist / VARIANT / "solutions" / notebook_name(VARIANT), subs / "ada.ipynb", "Ada Lovelace", answers=False)
    fill(student, subs / "blank.ipynb", "", answers=False)
    filled = fill(student, subs / "grace.ipynb", "Grace Hopper", answers=True)
    common = [*sorted(subs.glob("*.ipynb")), "--variant", VARIANT, "--release", dist]

    questions = release_questions(dist / VARIANT / "autograder" / zip_name(VARIANT), load_config().variant(VARIANT))
    pdf = export_written_pdf("Grace Hopper", "900000042", [(q["id"], q["points"]) for q in questions],
                             notebook=filled, out=tmp_path / "grace.pdf")   # the release's own notebook exports
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert f"Pages:           {page_count(len(questions))}" in info

    runs = [grade(*common, "--out", tmp_path / "one", "--jobs", "3")]
    runs += [grade(*common, "--out", tmp_path / f"shard{i}", "--shard", f"{i}/3") for i in (1, 2, 3)]
    logs = [finish(p) for p in runs]
    assert all(f"shard {i}/3: 1 of 3 submissions" in logs[i] for i in (1, 2, 3))
    merged = subprocess.run([sys.executable, "build.py", "merge", *(tmp_path / f"shard{i}" for i in (3, 1, 2)),
                             "--out", tmp_path / "merged"], cwd=ROOT, capture_output=True, text=True)
    assert merged.returncode == 0 and "merged 3 submissions from 3 folder(s)" in merged.stdout, merged.stderr

    one, joined = tmp_path / "one", tmp_path / "merged"
    assert (joined / "grades.csv").read_text() == (one / "grades.csv").read_text()
    assert (joined / "written.html").read_text() == (one / "written.html").read_text()
    for stem in ("ada", "blank", "grace"):
        a, b = (json.loads((d / stem / "results.json").read_text()) for d in (one, joined))
        assert [(t["name"], t["score"]) for t in a["tests"]] == [(t["name"], t["score"]) for t in b["tests"]]
    scores = {line.split(",")[0]: line.split(",")[-2] for line in (one / "grades.csv").read_text().splitlines()[1:]}
    assert float(scores["ada"]) == 10 and float(scores["blank"]) == 0
    page = (joined / "written.html").read_text()
    assert "Grace Hopper" in page and "Grace Hopper&#39;s answer, cell" in page and "Ada Lovelace" in page
    written = json.loads((joined / "grace" / "written.json").read_text())
    assert {a["status"] for a in written["answers"].values()} == {"answered"}
    shutil.rmtree(subs)
