"""`python build.py export --to canvas|moodle|csv --out FILE [GRADED] [--roster FILE]`: a graded folder's
grades as a file a gradebook imports, and beside it FILE.json saying what went in and why.

canvas  Canvas's gradebook import (Grades → Import): the identity columns of its own gradebook export (Student,
        ID, SIS User ID, SIS Login ID, Integration ID where the roster has it, Section), the "Points Possible"
        row, then the grade. By default one column, the total, named "<name> (N)" with the id of the existing
        assignment the TA names (--canvas-id N: the number in that assignment's column header of Canvas's export),
        so the import fills that assignment and creates none. `--canvas-parts A,W` writes the autograded and
        written parts instead, into the two existing assignments with those ids (never both a total and its
        parts: the lab would count twice in the course total).
moodle  Moodle's grade import from CSV (Grades → Import → CSV file): First name, Last name, ID number and Email
        address, then the total; on import, map "Identify user by" from Email address (or ID number) to the user
        field of that name, and the total's column to the lab's grade item.
csv     one row per submission: submission, student, how it was matched, autograded, written, total, outcome.

A gradebook row is one student on the roster with a complete grade: the written part scored in full (every
written question) as well as the autograded one. A cell a gradebook would read as "clear this grade" is never
written: a student with no submission, or whose chosen submission is not completely graded, is left out of the
file and listed on the terminal, and so is a submission that matches no student. Which submission counts where a
student has several is the TA's choice, `--pick latest` (the default, Gradescope's rule: the active submission is
the last one) or `--pick highest`, recorded in FILE.json with the submission chosen for each student. Every text
cell is spreadsheet-safe (batch.py).
"""
from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

from autograder.grading.batch import spreadsheet_safe
from autograder.grading.html import num
from autograder.grading.roster import RosterError, Student, join, kept_roster, read_roster

CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section"]
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
    p.add_argument("--canvas-id", metavar="N", help="canvas: the total fills the existing assignment with this id")
    p.add_argument("--canvas-parts", metavar="A,W",
                   help="canvas: the autograded and written parts fill the two existing assignments with these ids "
                        "(instead of the total)")
    p.add_argument("--pick", choices=("latest", "highest"), default="latest",
                   help="a student's submission that counts: the latest (default, as Gradescope) or the highest total")
    return p


def class_grades(folder: Path, roster_path=None) -> dict:
    """The folder's grading as rows, one per submission: {submission, student (or None), how, autograded,
    written (None: not every question scored), total (None likewise), possible…, outcome}, and the roster."""
    from autograder.grading.folder import load_results, read_shard_record
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
                     "outcome": r["outcome"], "claimed": (match.claimed_name if match else ""),
                     "source": r.get("source", "")})
    if not questions:   # nothing written in this lab: the total is the autograded score
        for row in rows:
            row["written"], row["total"] = None, row["autograded"]
    return {"rows": rows, "students": students, "title": record.get("title", ""), "has_written": bool(questions)}


def submitted_at(folder: Path, row: dict) -> tuple[str, str]:
    """When a submission was made, and how that is known: Gradescope's submission metadata (created_at), else
    the submitted file's modification time, else when it was graded (its results.json)."""
    import datetime
    import json
    result = Path(folder) / row["submission"]
    try:
        created = json.loads((result / "submission_metadata.json").read_text(encoding="utf-8")).get("created_at")
        if created:
            return str(datetime.datetime.fromisoformat(str(created)).astimezone(datetime.timezone.utc).isoformat()), \
                "Gradescope's submission time"
    except (OSError, ValueError, AttributeError, TypeError):
        pass
    for path, how in ((Path(row.get("source") or ""), "the submitted file's time"), (result / "results.json", "grading time")):
        try:
            if str(path) and path.is_file():
                return datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.timezone.utc).isoformat(), how
        except OSError:
            continue
    return "", "unknown"


def chosen_per_student(rows, students: list[Student], pick: str, folder: Path) -> list[tuple[Student, dict, str]]:
    """Roster order; each student's submission that counts — the latest (Gradescope's rule) or the one with the
    highest total — and why it was chosen."""
    mine = {}
    for row in rows:
        if row["student"] is not None:
            mine.setdefault(row["student"], []).append(row)
    chosen = []
    for s in students:
        if s not in mine:
            continue
        if pick == "highest":
            row = max(mine[s], key=lambda r: (r["total"] if r["total"] is not None else -1, r["autograded"]))
            why = f"the highest total of {len(mine[s])}" if len(mine[s]) > 1 else "the only submission"
        else:
            timed = [(submitted_at(folder, r), r) for r in mine[s]]
            (when, how), row = max(timed, key=lambda t: (t[0][0], t[1]["submission"]))
            why = (f"the latest of {len(mine[s])} by {how} ({when})" if len(mine[s]) > 1 else "the only submission")
        chosen.append((s, row, why))
    return chosen


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


class ExportError(RosterError):
    """An export that cannot be written as asked; the message says what to pass."""


def write_export(kind: str, grades: dict, out: Path, name: str, canvas_id=None, canvas_parts=None,
                 pick: str = "latest", folder: Path | None = None) -> dict:
    """The file and its sidecar (FILE.json); returns {path, exported, header, left_out: [(who, why)]}."""
    rows = grades["rows"]
    auto_possible = max((r["auto_possible"] for r in rows), default=0.0)
    written_possible = rows[0]["written_possible"] if rows else 0.0
    table, left_out, chosen_record = [], [], []
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
        parts = None
        if kind == "canvas":
            if canvas_parts:
                parts = [p.strip() for p in str(canvas_parts).split(",")]
                if len(parts) != 2 or not all(p.isdigit() for p in parts):
                    raise ExportError(f"--canvas-parts {canvas_parts!r}: expected two Canvas assignment ids, A,W "
                                      "(the autograded part's, then the written part's)")
                if canvas_id:
                    raise ExportError("--canvas-id and --canvas-parts: give one (the total, or its two parts: both "
                                      "would count the lab twice in Canvas's course total)")
            elif not (canvas_id and str(canvas_id).isdigit()):
                raise ExportError("export --to canvas: name the Canvas assignment the total fills: --canvas-id N (the "
                                  "number in its column header of Canvas's gradebook export, e.g. 'Lab 8 (12345)'), "
                                  "or --canvas-parts A,W for its two parts")
        for s, r, why in chosen_per_student(rows, grades["students"], pick, folder or Path(".")):
            complete = r["total"] is not None and r["written"] is not None or not grades["has_written"]
            if not complete:
                left_out.append((s.shown, f"{r['submission']}: not every written question is scored yet"))
                continue
            chosen_record.append({"student": s.shown, "student_id": s.student_id, "submission": r["submission"],
                                  "why": why, "autograded": r["autograded"], "written": r["written"],
                                  "total": r["total"]})
            if kind == "canvas":
                grades_cells = [_n(r["autograded"]), _n(r["written"])] if parts else [_n(r["total"])]
                table.append([s.name or s.shown, s.canvas_id, s.student_id, s.login, s.integration_id, s.section,
                              *grades_cells])
            else:
                table.append([*_split_name(s), s.student_id, s.email, _n(r["total"])])
        if kind == "canvas":
            columns = ([f"{name} autograded ({parts[0]})", f"{name} written ({parts[1]})"] if parts
                       else [f"{name} ({canvas_id})"])
            possible = [num(auto_possible), num(written_possible)] if parts else [num(auto_possible + written_possible)]
            header = [*CANVAS_IDENTITY, *columns]
            table.insert(0, [CANVAS_POINTS_ROW, "", "", "", "", "", *possible])
        else:
            header = [*MOODLE_IDENTITY, f"{name} total"]
        exported = len(chosen_record)
        have = {r["student"] for r in rows if r["student"] is not None}
        left_out += [(s.shown, "no submission") for s in grades["students"] if s not in have]
        left_out += [(r["submission"], "no student on the roster") for r in rows if r["student"] is None]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in table:
            writer.writerow([spreadsheet_safe(cell) for cell in row])
    import json
    sidecar = out.with_name(out.name + ".json")
    sidecar.write_text(json.dumps({"to": kind, "pick": pick if kind != "csv" else None, "columns": header,
                                   "rows": chosen_record, "left_out": [{"who": w, "why": y} for w, y in left_out]},
                                  indent=1, ensure_ascii=False), encoding="utf-8")
    return {"path": out, "exported": exported, "header": header, "left_out": left_out, "sidecar": sidecar}


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    grades = class_grades(Path(args.folder), args.roster)
    name = args.name or default_name(grades["title"])
    done = write_export(args.to, grades, Path(args.out), name, args.canvas_id, args.canvas_parts, args.pick,
                        Path(args.folder))
    what = "rows" if args.to == "csv" else f"students (each one's {args.pick} submission)"
    print(f"{done['path']}: {done['exported']} {what} for {args.to}; what went in and why: {done['sidecar']}")
    for who, why in done["left_out"]:
        print(f"  left out: {who}: {why}")
    return 0
