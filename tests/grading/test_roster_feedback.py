"""The roster join, the gradebook exports and the feedback pages, from stored results (nothing is graded:
tests/grading/conftest.py makes the graded folder).

A Canvas roster of 6 students and 5 submissions: one joined by the student ID its notebook gives, one by its
name, one by its file name, one by Gradescope's submission metadata, and one that is nobody on the roster;
two students have none. Two students' names are hostile (a spreadsheet formula, a script tag): data
everywhere."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from autograder.grading.export import main as export_main
from autograder.grading.merge import main as merge_main
from autograder.grading.roster import RosterError, join, read_roster

from .conftest import make_run, written

HOSTILE_FORMULA = '=HYPERLINK("http://evil.example","x")'
HOSTILE_SCRIPT = "<script>alert(1)</script>"
CANVAS_ROSTER = [
    ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"],
    ["    Points Possible", "", "", "", "", ],                       # Canvas's export has it; not a student
    ["Liddell, Alice", "101", "900000001", "aliddell", "Lab A"],
    ["Builder, Bob", "102", "900000002", "bbuilder", "Lab A"],
    [HOSTILE_FORMULA, "103", "900000003", "ccarroll", "Lab B"],
    ["Dodo, Dee", "104", "900000004", "ddodo", "Lab B"],
    [HOSTILE_SCRIPT, "105", "900000005", "escript", "Lab B"],
    ["Frog, Fay", "106", "900000006", "ffrog", "Lab A"],
]
STEMS = ["alice", "bob_lab8", "lab8_ccarroll", "submission_777", "zed"]
EXPECTED_JOIN = {"alice": ("Liddell, Alice", "student ID"), "bob_lab8": ("Builder, Bob", "name"),
                 "lab8_ccarroll": (HOSTILE_FORMULA, "file name"), "submission_777": ("Dodo, Dee", "gradescope"),
                 "zed": (None, "")}
SCORES = ("submission,w1_sparse_vs_dense,w2_penultimate_layer,w3_distance_changes,comment,w2_penultimate_layer_comment\n"
          "alice,2,1.5,3,Well argued overall.,Say why the softmax loses detail.\n"
          "bob_lab8,1,0,2,,\n"
          "lab8_ccarroll,2,,,=cmd|' /C calc'!A0,\n")
CURVES = {"alice": [0.02 + 0.05 * e for e in range(11)], "bob_lab8": [0.01 + 0.02 * e for e in range(11)],
          "lab8_ccarroll": [0.03 + 0.04 * e for e in range(11)], "submission_777": [0.0 + 0.01 * e for e in range(11)]}


def write_csv(path: Path, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def table(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


@pytest.fixture
def graded(tmp_path, monkeypatch, capsys):
    """The class graded into one folder, its roster and written scores (with comments) merged in as a TA
    would: `build.py merge graded --out graded --roster … --written-scores …`. Curves are stored ones."""
    import autograder.grading.curves as curves
    monkeypatch.setattr(curves, "separation_curves", lambda results, out, cfg, variant: dict(CURVES))
    subs = {
        "alice": (10.0, written("alice", {}, name="Alice L.", student_id="900000001")),       # the ID wins
        "bob_lab8": (6.0, written("bob_lab8", {}, name="bob  BUILDER", student_id="")),
        "lab8_ccarroll": (7.5, written("lab8_ccarroll", {}, name="", student_id="")),
        "submission_777": (3.0, written("submission_777", {}, name="D.", student_id="")),
        "zed": (5.0, written("zed", {}, name="Zed Unknown", student_id="999")),
    }
    run = make_run(tmp_path / "graded", subs, STEMS)
    (run / "submission_777" / "submission_metadata.json").write_text(json.dumps(
        {"id": 777, "users": [{"email": "ddodo@uni.example", "name": "Dee Dodo", "sid": "900000004"}]}))
    roster = write_csv(tmp_path / "canvas_roster.csv", CANVAS_ROSTER)
    scores = tmp_path / "written_scores.csv"
    scores.write_text(SCORES)
    assert merge_main([str(run), "--out", str(run), "--roster", str(roster), "--written-scores", str(scores)]) == 0
    return {"run": run, "roster": roster, "printed": capsys.readouterr().out, "tmp": tmp_path}


def test_each_submission_is_joined_to_its_student(graded):
    records = [json.loads((graded["run"] / s / "written.json").read_text()) for s in STEMS]
    matches = join(records, read_roster(graded["roster"]), graded["run"])
    assert {m.submission: (m.student.name if m.student else None, m.how) for m in matches} == EXPECTED_JOIN
    printed = graded["printed"]
    assert "roster: 4 submissions joined to 6 students" in printed
    assert f"no submission: {HOSTILE_SCRIPT} (900000005)" in printed and "no submission: Frog, Fay (900000006)" in printed
    assert "no student for submission zed (notebook says Zed Unknown, ID 999)" in printed


def test_grades_csv_names_the_students(graded):
    rows = table(graded["run"] / "grades.csv")
    assert rows[0] == ["submission", "student_name", "student_id", "q1_hook", "q2_capture", "q3_export",
                       "q4_separation", "w1_sparse_vs_dense", "w2_penultimate_layer", "w3_distance_changes",
                       "autograded", "written", "total", "outcome"]
    who = {r[0]: (r[1], r[2]) for r in rows[1:]}
    assert who == {"alice": ("Liddell, Alice", "900000001"), "bob_lab8": ("Builder, Bob", "900000002"),
                   "lab8_ccarroll": ("'" + HOSTILE_FORMULA, "900000003"),        # a formula stays text
                   "submission_777": ("Dodo, Dee", "900000004"), "zed": ("", "")}


def test_report_lists_who_is_missing_and_links_feedback(graded):
    page = (graded["run"] / "report.html").read_text(encoding="utf-8")
    missing = re.search(r'<table id="missing">(.*?)</table>', page, re.S).group(1)
    assert re.findall(r'<td class="rname">([^<]*)</td><td>(\d+)</td>', missing) == [
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "900000005"), ("Frog, Fay", "900000006")]
    unmatched = re.search(r'<table id="unmatched">(.*?)</table>', page, re.S).group(1)
    assert re.findall(r'href="#row-(\d+)">(\w+)</a>', unmatched) == [("5", "zed")]
    assert "Zed Unknown · 999" in unmatched
    assert "<script>alert" not in page
    links = re.findall(r'<a href="(feedback/[^"]+)" title="this submission.s feedback page">(\w+)</a>', page)
    assert links == [(f"feedback/{s}.html", s) for s in STEMS]
    assert all((graded["run"] / href).is_file() for href, _ in links)
    assert "Liddell, Alice · 900000001 <span class=\"muted\">(student ID)</span>" in page


# ---------------------------------------------------------------- the gradebooks' own import rules
def canvas_import(path: Path, course: dict) -> dict:
    """Canvas's gradebook import (Grades → Import), by its documented rules, over a course {canvas user id: name}
    whose assignments are named by id: the identity columns (Student, ID, SIS User ID, SIS Login ID, Section;
    Integration ID where the course has it) must be there; the "Points Possible" row is read as points, not a
    student; a column "Name (N)" fills the existing assignment N, any other grade column creates a new
    assignment; a student is found by ID (Canvas's), else SIS User ID or SIS Login ID; a blank grade cell is
    an edit to check in the preview. Returns {"grades": {user: {assignment: value}}, "new_assignments": [...],
    "blank_cells": n, "unknown_students": [...], "points": {...}}."""
    rows = table(path)
    header = rows[0]
    for required in ("Student", "ID", "SIS User ID", "SIS Login ID", "Section"):
        assert required in header, f"Canvas needs the column {required!r}"
    identity = {"Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section"}
    grade_cols = [(i, h) for i, h in enumerate(header) if h not in identity]
    existing = {i: re.fullmatch(r".*\((\d+)\)", h) for i, h in grade_cols}
    found = {"grades": {}, "new_assignments": [h for i, h in grade_cols if not existing[i]], "blank_cells": 0,
             "unknown_students": [], "points": {}}
    by_sis = {v["sis"]: k for k, v in course.items()}
    for row in rows[1:]:
        if row[0].strip() == "Points Possible":
            found["points"] = {existing[i].group(1): row[i] for i, _ in grade_cols if existing[i]}
            continue
        user = row[header.index("ID")] or by_sis.get(row[header.index("SIS User ID")])
        if user not in course:
            found["unknown_students"].append(row[0])
            continue
        for i, _ in grade_cols:
            if row[i] == "":
                found["blank_cells"] += 1
            elif existing[i]:
                found["grades"].setdefault(user, {})[existing[i].group(1)] = float(row[i])
    return found


def moodle_import(path: Path, users_by_email: dict, item: str) -> dict:
    """Moodle's grade import from CSV, by its documented rules: "Identify user by" maps the Email address column to
    the user field email; the chosen column maps to the grade item; a blank cell imports as "no grade" (it clears a
    grade already there), so a file must have none. Returns {"grades": {user: value}, "blank_cells": n,
    "unknown": [...]}."""
    rows = table(path)
    header = rows[0]
    email, column = header.index("Email address"), header.index(item)
    found = {"grades": {}, "blank_cells": 0, "unknown": []}
    for row in rows[1:]:
        if row[email] not in users_by_email:
            found["unknown"].append(row[email])
        elif row[column] == "":
            found["blank_cells"] += 1
        else:
            found["grades"][users_by_email[row[email]]] = float(row[column])
    return found


COURSE = {"101": {"sis": "900000001"}, "102": {"sis": "900000002"}, "103": {"sis": "900000003"},
          "104": {"sis": "900000004"}, "105": {"sis": "900000005"}, "106": {"sis": "900000006"}}


def test_canvas_import_file_fills_the_one_assignment_named(graded, capsys):
    """By default one grade column, the total, into the existing assignment the TA names: Canvas creates nothing
    new, and a student whose grade is not complete (written part not scored) is left out, not blanked."""
    out = graded["tmp"] / "canvas.csv"
    assert export_main([str(graded["run"]), "--to", "canvas", "--out", str(out), "--canvas-id", "12345"]) == 0
    rows = table(out)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section", "Lab 8 (12345)"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "", "17"]
    found = canvas_import(out, COURSE)
    assert found["new_assignments"] == [] and found["blank_cells"] == 0 and found["unknown_students"] == []
    assert found["grades"] == {"101": {"12345": 16.5}, "102": {"12345": 9.0}} and found["points"] == {"12345": "17"}
    printed = capsys.readouterr().out
    assert "2 students (each one's latest submission) for canvas" in printed
    assert "left out: zed: no student on the roster" in printed and f"left out: {HOSTILE_SCRIPT}: no submission" in printed
    assert "left out: Dodo, Dee: submission_777: not every written question is scored yet" in printed
    sidecar = json.loads((graded["tmp"] / "canvas.csv.json").read_text())
    assert sidecar["pick"] == "latest" and [r["submission"] for r in sidecar["rows"]] == ["alice", "bob_lab8"]


def test_canvas_parts_go_to_their_own_assignments_only_when_asked(graded, capsys):
    out = graded["tmp"] / "parts.csv"
    assert export_main([str(graded["run"]), "--to", "canvas", "--out", str(out), "--canvas-parts", "201,202"]) == 0
    assert table(out)[0][-2:] == ["Lab 8 autograded (201)", "Lab 8 written (202)"]
    found = canvas_import(out, COURSE)
    assert found["new_assignments"] == [] and found["grades"]["101"] == {"201": 10.0, "202": 6.5}
    for args, words in ((["--canvas-id", "1", "--canvas-parts", "2,3"], "give one"), ([], "--canvas-id N"),
                        (["--canvas-parts", "7"], "two Canvas assignment ids")):
        with pytest.raises(RosterError, match=words):
            export_main([str(graded["run"]), "--to", "canvas", "--out", str(out), *args])


def test_moodle_import_file_has_no_blank_grade(graded, tmp_path, capsys):
    roster = write_csv(tmp_path / "moodle.csv", [
        ["First name", "Surname", "ID number", "Institution", "Department", "Email address"],
        ["Alice", "Liddell", "900000001", "", "", "alice@uni.example"],
        ["Bob", "Builder", "900000002", "", "", "bob@uni.example"],
        ["Carol", "Carroll", "900000003", "", "", "ccarroll@uni.example"],
        ["Dee", "Dodo", "900000004", "", "", "ddodo@uni.example"],
    ])
    out = tmp_path / "moodle_grades.csv"
    assert export_main([str(graded["run"]), "--to", "moodle", "--out", str(out), "--roster", str(roster)]) == 0
    rows = table(out)
    assert rows[0] == ["First name", "Last name", "ID number", "Email address", "Lab 8 total"]
    users = {"alice@uni.example": "alice", "bob@uni.example": "bob", "ccarroll@uni.example": "carol",
             "ddodo@uni.example": "dee"}
    found = moodle_import(out, users, "Lab 8 total")
    assert found == {"grades": {"alice": 16.5, "bob": 9.0}, "blank_cells": 0, "unknown": []}
    printed = capsys.readouterr().out
    assert "left out: Carroll" in printed or "left out: Carol Carroll" in printed


def test_the_submission_that_counts_is_the_tas_choice(tmp_path, capsys):
    """Two submissions by one student: --pick latest (the default, Gradescope's rule: Gradescope's submission
    time where it has one) takes the later, lower one; --pick highest the other; the sidecar says which and why."""
    subs = {"first": (9.0, written("first", {}, name="Alice Liddell", student_id="900000001")),
            "second": (4.0, written("second", {}, name="Alice Liddell", student_id="900000001"))}
    run = make_run(tmp_path / "graded", subs, ["first", "second"])
    for stem, when in (("first", "2026-11-01T10:00:00+00:00"), ("second", "2026-11-02T09:00:00-05:00")):
        (run / stem / "submission_metadata.json").write_text(json.dumps({"created_at": when, "users": []}))
    roster = write_csv(tmp_path / "roster.csv", [["name", "id", "email"], ["Alice Liddell", "900000001", "a@x.example"]])
    scores = tmp_path / "scores.csv"
    scores.write_text("submission,w1_sparse_vs_dense,w2_penultimate_layer,w3_distance_changes\nfirst,2,2,3\nsecond,0,0,0\n")
    assert merge_main([str(run), "--out", str(run), "--roster", str(roster), "--written-scores", str(scores)]) == 0
    for pick, total, chosen in (("latest", "4", "second"), ("highest", "16", "first")):
        out = tmp_path / f"{pick}.csv"
        args = [str(run), "--to", "moodle", "--out", str(out)] + (["--pick", pick] if pick != "latest" else [])
        assert export_main(args) == 0
        assert table(out)[1][-1] == total
        row = json.loads((tmp_path / f"{pick}.csv.json").read_text())["rows"][0]
        assert row["submission"] == chosen and ("Gradescope's submission time" in row["why"] or pick == "highest")


def test_a_real_canvas_export_is_a_roster(tmp_path):
    """Canvas's gradebook export as it comes: Integration ID, sections, the manual posting row under the header,
    the points row and the test student. The rows that hold no student are skipped and named, one line each."""
    path = write_csv(tmp_path / "canvas_export.csv", [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section", "Lab 7 (998)", "Lab 8 (12345)",
         "Current Points", "Final Points"],
        ["", "", "", "", "", "", "", "Manual Posting", "", ""],
        ["    Points Possible", "", "", "", "", "", "10", "26", "(read only)", "(read only)"],
        ["Liddell, Alice", "101", "900000001", "aliddell", "int-1", "Lab A, Lab B", "9", "", "9", "9"],
        ["Student, Test", "199", "", "", "", "Lab A", "", "", "", ""],
        ["Builder, Bob", "102", "900000002", "bbuilder", "", "Lab A", "7", "", "7", "7"],
    ])
    skipped = []
    students = read_roster(path, skipped)
    assert [(s.name, s.canvas_id, s.student_id, s.integration_id, s.section) for s in students] == [
        ("Liddell, Alice", "101", "900000001", "int-1", "Lab A, Lab B"), ("Builder, Bob", "102", "900000002", "", "Lab A")]
    assert [line.split(": ", 2)[1] for line in skipped] == ["line 2", "line 3", "line 5"]
    assert "manual posting row" in skipped[0] and all(line.startswith(str(path)) for line in skipped)


def test_plain_csv_export_has_every_submission(graded):
    out = graded["tmp"] / "plain.csv"
    assert export_main([str(graded["run"]), "--to", "csv", "--out", str(out)]) == 0
    rows = table(out)
    assert rows[0] == ["submission", "student_name", "student_id", "email", "matched_by", "autograded", "written",
                       "total", "outcome"]
    assert [(r[0], r[4]) for r in rows[1:]] == [(s, EXPECTED_JOIN[s][1]) for s in STEMS]
    assert rows[-1][1] == "Zed Unknown" and rows[-1][2] == ""          # unmatched: the notebook's claim, no ID


def test_feedback_pages(graded):
    folder = graded["run"] / "feedback"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{s}.html" for s in STEMS)
    alice = (folder / "alice.html").read_text(encoding="utf-8")
    assert "Feedback: <span class=\"name\">Liddell, Alice</span>" in alice and "roster (matched by student ID)" in alice
    assert "16.5 <small>/ 17 points</small>" in alice and "autograded 10/10 + written 6.5/7" in alice
    assert "Say why the softmax loses detail." in alice and "Well argued overall." in alice
    assert "script-src 'none'" in alice and "<script" not in alice
    assert '<polyline points="' in alice and "class median (last epoch 0.32)" in alice   # median of 0.52, 0.43, 0.21, 0.1
    bob = (folder / "bob_lab8.html").read_text(encoding="utf-8")
    assert "q3_export: wrong" in bob and "q4_separation: wrong" in bob and "1 / 3</td>" in bob
    carol = (folder / "lab8_ccarroll.html").read_text(encoding="utf-8")
    assert "&lt;script" not in carol and "=HYPERLINK(&#34;http://evil.example&#34;,&#34;x&#34;)" in carol
    assert "=cmd|&#39; /C calc&#39;!A0" in carol                            # the comment as typed, as text
    assert carol.count('badge pending">not scored yet') == 2
    zed = (folder / "zed.html").read_text(encoding="utf-8")
    assert "Zed Unknown" in zed and "as the notebook gives them (not on the roster)" in zed
    assert "you: no readable CSV" in zed and "class median" in zed        # zed left no CSV: the class alone
    for page in folder.iterdir():
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text and "<img" not in text and "Content-Security-Policy" in text


def test_comments_survive_a_later_merge(graded):
    # the folder keeps the comments with the scores: publishing again without the scores file keeps them
    assert merge_main([str(graded["run"]), "--out", str(graded["run"])]) == 0
    alice = (graded["run"] / "feedback" / "alice.html").read_text(encoding="utf-8")
    assert "Say why the softmax loses detail." in alice
    assert "roster (matched by student ID)" in alice                      # and the roster


@pytest.mark.parametrize("rows, message", [
    ([["who", "what"], ["a", "b"]], r"roster\.csv: line 1: expected a name column"),
    ([["name", "id"], ["Ann", "1"], ["Ben", "1"]], r"roster\.csv: line 3: ID '1' is already on line 2"),
    ([["name", "email", "section"], ["Ann", "", "Lab A"]], r"roster\.csv: line 2 \(Ann\): no ID, login or email"),
])
def test_a_bad_roster_is_one_located_line(tmp_path, rows, message):
    path = write_csv(tmp_path / "roster.csv", rows)
    with pytest.raises(RosterError, match=message):
        read_roster(path)


def test_a_bad_roster_stops_build_py(tmp_path, class_of_three, capsys):
    import build
    run = make_run(tmp_path / "graded", class_of_three, ["alice", "bob", "carol"])
    bad = tmp_path / "roster.csv"
    bad.write_bytes(b"\xff\xfe\x00n\x00a")   # UTF-16 from a spreadsheet: neither UTF-8 nor Windows-1252 text
    assert build.main(["merge", str(run), "--out", str(run), "--roster", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {bad}: ") and len(err.splitlines()) == 1
    assert build.main(["export", str(run), "--to", "canvas", "--out", str(tmp_path / "c.csv")]) == 2
    assert "export --to canvas: no roster; pass --roster FILE" in capsys.readouterr().err


@pytest.mark.browser
def test_feedback_page_in_a_browser(graded):
    """Alice's page in headless Chromium: nothing blocked or failing, the curve drawn; a screenshot for a
    person to look at (tests/artifacts/feedback_page.png), and Carol's: failed checks, a formula for a name."""
    from tests.browser import chromium, screenshot
    with chromium(900, 900) as driver:
        driver.get((graded["run"] / "feedback" / "alice.html").as_uri())
        driver.set_window_size(900, driver.execute_script("return document.body.scrollHeight") + 140)
        assert driver.execute_script("return document.querySelectorAll('#curve polyline').length") == 2
        box = driver.execute_script("const b = document.querySelector('#curve svg').getBoundingClientRect();"
                                    "return [b.width, b.height];")
        assert box[0] > 300 and box[1] > 100
        screenshot(driver, "feedback_page")
        assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        driver.get((graded["run"] / "feedback" / "lab8_ccarroll.html").as_uri())   # failed checks, a hostile name
        assert driver.find_element("css selector", "h1 .name").text == HOSTILE_FORMULA
        driver.set_window_size(900, driver.execute_script("return document.body.scrollHeight") + 140)
        screenshot(driver, "feedback_page_failures")
        driver.get((graded["run"] / "report.html").as_uri())                      # the report's roster block
        missing = driver.find_elements("css selector", "#missing td.rname")
        assert [e.text for e in missing][::2] == [HOSTILE_SCRIPT, "Frog, Fay"]
        driver.execute_script("document.getElementById('roster').scrollIntoView()")
        screenshot(driver, "report_roster")
        driver.find_element("css selector", "#rows a[href='feedback/alice.html']").click()   # a row's link: its page
        assert driver.current_url.endswith("/feedback/alice.html") and "Liddell, Alice" in driver.title


def test_grade_with_a_roster_reads_gradescope_metadata(tmp_path, fake_grading, capsys):
    """`build.py grade --roster`: a submission in a folder of its own with Gradescope's metadata (as in
    Gradescope's export) is joined by it, even when the notebook names someone else."""
    from autograder.grading import main as grade_main

    from .conftest import notebook
    zip_path, scores, _ = fake_grading
    subs = tmp_path / "subs"
    (subs / "submission_1").mkdir(parents=True)
    (subs / "submission_2").mkdir()
    notebook(subs / "submission_1" / "lab8.ipynb", "Alice Liddell", "")   # by name alone: Alice
    (subs / "submission_1" / "submission_metadata.json").write_text(json.dumps(
        {"users": [{"name": "Fay Frog", "email": "ffrog@uni.example", "sid": "900000006"}]}))
    notebook(subs / "submission_2" / "lab8.ipynb", "", "900000002")
    roster = write_csv(tmp_path / "roster.csv", CANVAS_ROSTER)
    out = tmp_path / "graded"
    assert grade_main([str(subs / "submission_1" / "lab8.ipynb"), str(subs / "submission_2" / "lab8.ipynb"),
                       "--variant", "wikipedia", "--zip", str(zip_path), "--out", str(out),
                       "--roster", str(roster)]) == 0
    assert (out / "lab8" / "submission_metadata.json").is_file() and not (out / "lab8-2" / "submission_metadata.json").exists()
    rows = table(out / "grades.csv")
    assert [r[:3] for r in rows[1:]] == [["lab8", "Frog, Fay", "900000006"], ["lab8-2", "Builder, Bob", "900000002"]]
    assert "roster: 2 submissions joined to 6 students" in capsys.readouterr().out
    assert (out / "roster.kept.csv").read_bytes() == roster.read_bytes()


def test_no_submission_is_named_like_the_feedback_folder():
    from autograder.grading.batch import safe_stem
    assert safe_stem("feedback.ipynb") == "_feedback" and safe_stem("Roster.kept.csv.ipynb") == "_Roster.kept.csv"
