"""`python build.py export --to canvas|moodle|csv --out FILE [GRADED] [--roster FILE]`: a graded folder's
grades as a file a gradebook imports.

canvas  Canvas's gradebook import (Grades → Import): the columns of its own gradebook export, Student, ID,
        SIS User ID, SIS Login ID, Section, then one column per grade. A column named like an existing
        assignment with its Canvas id, "Lab 8 (12345)", fills that assignment (--canvas-id); any other name
        makes a new assignment. The second row, "Points Possible", is the one Canvas's export writes.
moodle  Moodle's grade import from CSV (Grades → Import → CSV file): First name, Last name, ID number and Email
        address, then one column per grade item; on import, map "Identify user by" from Email address (or
        ID number) to the user field of that name, and each grade column to a grade item (or a new one).
csv     one row per submission: submission, student, how it was matched, autograded, written, total, outcome.

The gradebook files hold one row per student on the roster with a submission (the highest total if
there are several); a student with none, or a submission with no student, is printed and left out, so
nothing is set for them. The written part and the total are left blank until every written question of
that submission is scored, so no partial sum reaches a gradebook as if it were the grade (whether a blank
clears a grade already there is the gradebook's rule: check its import preview). Every text cell is
spreadsheet-safe (batch.py).
"""
from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

from autograder.grading.batch import spreadsheet_safe
from autograder.grading.html import num
from autograder.grading.roster import RosterError, Student, join, kept_roster, read_roster

CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_ROW = "    Points Possible"   # as Canvas's own export writes it (indented)
MOODLE_IDENTITY = ["First name", "Last name", "ID number", "Email address"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="build.py export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", nargs="?", default="graded", help="the graded folder (default: graded)")
    p.add_argument("--to", required=True, choices=("canvas", "moodle", "csv"))
    p.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    p.add_argument("--roster", metavar="FILE", help="the class list (else the one the folder kept when graded)")
    p.add_argument("--name", help="the grade columns' name (default: the assignment's title, e.g. 'Lab 8')")
    p.add_argument("--canvas-id", metavar="N", help="canvas: the total goes to the existing assignment with this id")
    return p


def class_grades(folder: Path, roster_path=None) -> dict:
    """The folder's grading as rows, one per submission: {submission, student (or None), how, autograded,
    written (None: not every question scored), total (None likewise), possible…, outcome}, and the roster."""
    from autograder.grading.merge import load_results, read_shard_record
    from autograder.grading.written import KEPT_SCORES, read_scores, read_written_json, score_keys
    folder = Path(folder)
    record = read_shard_record(folder)
    questions = record["written_questions"]
    entries = sorted(record["submissions"], key=lambda e: e["position"])
    results = load_results(folder, entries)
    written = [read_written_json(folder / e["submission"], e["submission"], questions) for e in entries]
    stems = [e["submission"] for e in entries]
    sha = record["release"]["sha256"]
    scores = {}
    if (folder / KEPT_SCORES).is_file():
        scores = read_scores(folder / KEPT_SCORES, questions, score_keys(stems, sha),
                             elsewhere=set(score_keys(record["all_submissions"], sha)))
    students = read_roster(roster_path) if roster_path else kept_roster(folder)
    matches = {m.submission: m for m in join(written, students, folder)} if students else {}
    written_possible = sum(q["points"] for q in questions)
    rows = []
    for r in results:
        stem = r["submission"]
        given = scores.get(stem, {})
        complete = all(q["id"] in given for q in questions)
        points = round(sum(given.values()), 4) if complete else None
        match = matches.get(stem)
        rows.append({"submission": stem, "student": match.student if match else None,
                     "how": match.how if match else "", "autograded": r["score"],
                     "auto_possible": sum(t["max_score"] for t in r["tests"]), "written": points,
                     "written_possible": written_possible,
                     "total": round(r["score"] + points, 4) if points is not None else None,
                     "outcome": r["outcome"], "claimed": (match.claimed_name if match else "")})
    if not questions:   # nothing written in this lab: the total is the autograded score
        for row in rows:
            row["written"], row["total"] = None, row["autograded"]
    return {"rows": rows, "students": students, "title": record.get("title", ""), "has_written": bool(questions)}


def _best_per_student(rows, students: list[Student]) -> list[tuple[Student, dict]]:
    """Roster order; each student's submission with the highest total (autograded when totals are blank)."""
    best = {}
    for row in rows:
        s = row["student"]
        if s is None:
            continue
        key = (row["total"] if row["total"] is not None else -1, row["autograded"])
        if s not in best or key > best[s][0]:
            best[s] = (key, row)
    return [(s, best[s][1]) for s in students if s in best]


def _split_name(s: Student) -> tuple[str, str]:
    if s.first or s.last:
        return s.first, s.last
    if "," in s.name:   # Canvas: "Last, First"
        last, first = (p.strip() for p in s.name.split(",", 1))
        return first, last
    first, _, last = s.name.strip().rpartition(" ")
    return (first, last) if first else (last, "")


def _n(value):
    return "" if value is None else num(value, 4)


def default_name(title: str) -> str:
    """'Lab 8 — Wikipedia' → 'Lab 8': the course's assignment, not the variant."""
    return re.split(r"\s+[—–-]\s+", title or "")[0].strip() or "Lab 8"


def write_export(kind: str, grades: dict, out: Path, name: str, canvas_id=None) -> dict:
    rows = grades["rows"]
    auto_possible = max((r["auto_possible"] for r in rows), default=0.0)
    written_possible = rows[0]["written_possible"] if rows else 0.0
    columns = [f"{name} autograded", f"{name} written", f"{name} ({canvas_id})" if canvas_id else f"{name} total"]
    possible = [num(auto_possible), num(written_possible), num(auto_possible + written_possible)]
    table = []
    if kind == "csv":
        header = ["submission", "student_name", "student_id", "email", "matched_by", "autograded", "written", "total",
                  "outcome"]
        for r in rows:
            s = r["student"]
            table.append([r["submission"], s.shown if s else r["claimed"], s.student_id if s else "",
                          s.email if s else "", r["how"], _n(r["autograded"]), _n(r["written"]), _n(r["total"]),
                          r["outcome"]])
        exported = len(rows)
    else:
        if not grades["students"]:
            raise RosterError(f"export --to {kind}: no roster; pass --roster FILE (the class list your LMS exports) "
                              "or grade with --roster")
        best = _best_per_student(rows, grades["students"])
        if kind == "canvas":
            header = [*CANVAS_IDENTITY, *columns]
            table.append([CANVAS_POINTS_ROW, "", "", "", "", *possible])
            for s, r in best:
                table.append([s.name or s.shown, s.canvas_id, s.student_id, s.login, s.section,
                              _n(r["autograded"]), _n(r["written"]), _n(r["total"])])
        else:
            header = [*MOODLE_IDENTITY, *columns]
            for s, r in best:
                table.append([*_split_name(s), s.student_id, s.email, _n(r["autograded"]), _n(r["written"]),
                              _n(r["total"])])
        exported = len(best)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in table:
            writer.writerow([spreadsheet_safe(cell) for cell in row])
    return {"path": out, "exported": exported, "header": header}


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    grades = class_grades(Path(args.folder), args.roster)
    name = args.name or default_name(grades["title"])
    done = write_export(args.to, grades, Path(args.out), name, args.canvas_id)
    rows = grades["rows"]
    unmatched = [r["submission"] for r in rows if r["student"] is None]
    blank = [r["submission"] for r in rows if r["total"] is None]
    print(f"{done['path']}: {done['exported']} {'rows' if args.to == 'csv' else 'students'} for {args.to}")
    if grades["students"] and args.to != "csv":
        have = {r["student"] for r in rows if r["student"]}
        missing = [s.shown for s in grades["students"] if s not in have]
        if missing:
            print(f"  left out, no submission: {', '.join(missing)}")
        if unmatched:
            print(f"  left out, no student on the roster: {', '.join(unmatched)}")
    if blank:
        print(f"  written and total left blank (not every written question scored): {', '.join(blank)}")
    return 0
