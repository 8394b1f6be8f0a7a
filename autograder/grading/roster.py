"""The class list an LMS exports, and which student each submission belongs to.

    read_roster     a roster CSV (Canvas, Moodle or plain name,id,email) → [Student], checked: one located
                    line per problem
    join            each submission → (student or None, how it was matched); students with no submission
    keep_roster     the roster copied into the grading folder (roster.kept.csv), so regrades, merges and
                    `build.py export` know the class without being given it again

A submission is joined, in this order, by
    1. Gradescope's submission metadata, where the grading folder has it (<submission>/submission_metadata.json,
       users[].sid / email / name): the account that submitted, which the student cannot mistype;
    2. the student ID the notebook asks for (written.json's student_id);
    3. the name the notebook gives (order and case ignored: Canvas writes "Last, First");
    4. the file name holding a student's ID, login or the user part of their email, as a whole word.
Each step must name exactly one student: two students of the same name match nobody by name.
Names and IDs are data: they are compared, shown as text and written spreadsheet-safe, never used as paths.
"""
from __future__ import annotations

import csv
import json
import re
import shutil
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

from replab.errors import LabError

KEPT_ROSTER = "roster.kept.csv"
METADATA = "submission_metadata.json"      # Gradescope's, copied beside a submission's results.json
MAX_ROSTER_BYTES = 20_000_000

# Header spellings, compared casefolded with spaces, "_" and "-" removed. Canvas's gradebook export:
# Student, ID (Canvas's own user id), SIS User ID, SIS Login ID, Section. Moodle's: First name, Surname /
# Last name, ID number, Email address (Username where shown). Plain: name, id, email, login.
COLUMNS = {
    "name": ("student", "name", "fullname", "studentname"),
    "first": ("firstname", "givenname", "first"),
    "last": ("surname", "lastname", "familyname", "last"),
    "sis_id": ("sisuserid", "idnumber", "studentid", "studentnumber", "sid", "matriculationnumber"),
    "id": ("id",),
    "login": ("sisloginid", "login", "loginid", "username", "user"),
    "email": ("email", "emailaddress", "email address", "mail"),
    "section": ("section", "sections", "group", "groups"),
    "integration_id": ("integrationid",),   # Canvas, where the institution uses it: kept for its import
}
# What Canvas's own gradebook export puts in the Student column of rows that are not students: its points row,
# and its built-in test student.
NOT_STUDENTS = ("points possible", "student, test", "test student")


class RosterError(LabError, ValueError):
    """A roster that cannot be used; the message names the file, the line and the problem."""


@dataclass(frozen=True)
class Student:
    name: str             # as the roster writes it ("Liddell, Alice" in Canvas)
    student_id: str       # the institution's ID (Canvas: SIS User ID; Moodle: ID number; plain: id)
    login: str = ""       # Canvas SIS Login ID, Moodle username
    email: str = ""
    section: str = ""
    canvas_id: str = ""   # Canvas's own user ID (its "ID" column when "SIS User ID" is there too)
    integration_id: str = ""   # Canvas's Integration ID column, where the export has one
    first: str = ""
    last: str = ""
    line: int = 0         # where the roster has it (messages)

    @property
    def shown(self) -> str:
        return self.name or " ".join(p for p in (self.first, self.last) if p) or self.student_id or self.email


def _key(header: str) -> str:
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", header).strip().casefold())


def _columns(header: list[str]) -> dict[str, int]:
    found = {}
    keys = [_key(h) for h in header]
    for field, spellings in COLUMNS.items():
        wanted = {_key(s) for s in spellings}
        for i, k in enumerate(keys):
            if k in wanted and field not in found:
                found[field] = i
    return found


def read_roster(path, skipped: list | None = None) -> list[Student]:
    """The students of a roster CSV. A row that holds no student is skipped, and named in `skipped` (one line
    each): a blank row, Canvas's "Points Possible" row, the row its export adds under the header when an
    assignment posts grades manually (no student cells; "Manual Posting" under that assignment), Canvas's test
    student. An unreadable file, a header naming no student column, a row that names a student but gives no
    ID, login or email to match by, or an ID or email given twice raises RosterError naming the file and line."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_ROSTER_BYTES:
            raise RosterError(f"{path}: larger than 20 MB; not a class list")
        raw = path.read_bytes()
    except OSError as e:
        raise RosterError(f"{path}: cannot read the roster ({type(e).__name__}: {e.strerror or e})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:   # Excel on Windows saves "CSV" in the ANSI code page
            text = raw.decode("cp1252")
        except UnicodeDecodeError as e:
            raise RosterError(f"{path}: not UTF-8 or Windows-1252 text (byte {e.start}); save it as CSV UTF-8") from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise RosterError(f"{path}: line 1: empty; expected a header such as name,id,email")
    first = lines[0]
    # European spreadsheets write ";" between cells, and some LMS exports use tabs
    delimiter = max((",", ";", "\t"), key=first.count)
    rows = list(csv.reader(lines, delimiter=delimiter))
    header = rows[0]
    cols = _columns(header)
    if "sis_id" not in cols and "id" in cols:   # a plain "id" is the student ID; beside SIS User ID it is Canvas's
        cols["sis_id"] = cols.pop("id")
    if not ({"name", "first", "last"} & set(cols)) or not ({"sis_id", "login", "email"} & set(cols)):
        raise RosterError(f"{path}: line 1: expected a name column (Student, name, First name/Surname) and an ID, "
                          f"login or email column (SIS User ID, ID number, id, email…); found {', '.join(header)[:200]}")
    students, seen = [], {}
    skipped = [] if skipped is None else skipped
    for n, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cell = lambda field: row[cols[field]].strip() if field in cols and cols[field] < len(row) else ""  # noqa: E731
        name = cell("name")
        if name.casefold() in NOT_STUDENTS:
            skipped.append(f"{path}: line {n}: skipped, not a student ({name.strip()!r}, as Canvas's export writes it)")
            continue
        student = Student(name=name, student_id=cell("sis_id"), login=cell("login"), email=cell("email"),
                          section=cell("section"), canvas_id=cell("id"), integration_id=cell("integration_id"),
                          first=cell("first"), last=cell("last"), line=n)
        if not (student.shown.strip() or student.canvas_id or student.login):
            shown = next((c.strip() for c in row if c.strip()), "")[:40]
            skipped.append(f"{path}: line {n}: skipped, it holds no student (no name, ID, login or email"
                           + (f"; {shown!r} in another column: Canvas's manual posting row)" if shown else ")"))
            continue
        if not (student.student_id or student.login or student.email or student.canvas_id):
            raise RosterError(f"{path}: line {n} ({student.shown}): no ID, login or email to match it by")
        for kind, value in (("ID", student.student_id), ("email", student.email.casefold()),
                            ("login", student.login.casefold())):
            if value and (kind, value) in seen:
                raise RosterError(f"{path}: line {n}: {kind} {value!r} is already on line {seen[kind, value]}")
            if value:
                seen[kind, value] = n
        students.append(student)
    if not students:
        raise RosterError(f"{path}: no students after the header")
    return students


def keep_roster(src, out: Path) -> Path:
    """Copy the roster into the grading folder (read first: a bad file is refused before it is kept)."""
    read_roster(src)
    dest = Path(out) / KEPT_ROSTER
    if Path(src).resolve() != dest.resolve():
        shutil.copyfile(src, dest)
    return dest


def kept_roster(out: Path) -> list[Student] | None:
    path = Path(out) / KEPT_ROSTER
    return read_roster(path) if path.is_file() else None


# --- the join ---------------------------------------------------------------------------------------

def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", str(text or "")).strip().casefold()


def name_key(text: str) -> tuple[str, ...]:
    """A name as its sorted words: "Liddell, Alice" and "alice  LIDDELL" are the same person."""
    return tuple(sorted(w for w in re.split(r"[^\w']+", _norm(text)) if w))


def _unique(candidates):
    found = list(dict.fromkeys(candidates))
    return found[0] if len(found) == 1 else None


def _in_file_name(value: str, file_name: str) -> bool:
    """value (an ID, a login, an email's user part) is in the file name as a whole word."""
    value = _norm(value)
    if len(value) < 3:   # "7" or "al" would be found in too many names
        return False
    return re.search(rf"(?<![0-9a-z]){re.escape(value)}(?![0-9a-z])", _norm(file_name)) is not None


def read_metadata(result_dir: Path) -> list[dict]:
    """users[] of Gradescope's submission_metadata.json in a result folder ([] when there is none, or it is
    not Gradescope's shape): {"name", "email", "sid"} each."""
    try:
        data = json.loads((Path(result_dir) / METADATA).read_text(encoding="utf-8"))
        users = data.get("users", [])
        return [{k: str(u.get(k) or "") for k in ("name", "email", "sid")} for u in users if isinstance(u, dict)]
    except (OSError, ValueError, AttributeError):
        return []


@dataclass
class Match:
    submission: str
    student: Student | None
    how: str              # "gradescope", "student ID", "name", "file name" or "" (none)
    claimed_name: str = ""
    claimed_id: str = ""

    def as_dict(self) -> dict:
        return {"submission": self.submission, "how": self.how, "claimed_name": self.claimed_name,
                "claimed_id": self.claimed_id, "student": asdict(self.student) if self.student else None}


def join(records, roster: list[Student], folder: Path | None = None) -> list[Match]:
    """One Match per written.json record (submission, name, student_id, source), in their order; see the
    module's doc for the order of the rules."""
    by_id, by_email, by_login, by_name = {}, {}, {}, {}
    for s in roster:
        if s.student_id:
            by_id.setdefault(_norm(s.student_id), []).append(s)
        if s.email:
            by_email.setdefault(_norm(s.email), []).append(s)
        if s.login:
            by_login.setdefault(_norm(s.login), []).append(s)
        for spelled in {s.name, f"{s.first} {s.last}"}:
            if name_key(spelled):
                by_name.setdefault(name_key(spelled), []).append(s)
    one = lambda table, key: _unique(table.get(key, [])) if key else None  # noqa: E731
    matches = []
    for record in records:
        stem = record["submission"]
        claimed_name, claimed_id = record.get("name", ""), record.get("student_id", "")
        student, how = None, ""
        for user in read_metadata(Path(folder) / stem) if folder else []:
            student = (one(by_id, _norm(user["sid"])) or one(by_email, _norm(user["email"]))
                       or one(by_name, name_key(user["name"])))
            if student:
                how = "gradescope"
                break
        if student is None and claimed_id.strip():
            student = one(by_id, _norm(claimed_id)) or one(by_login, _norm(claimed_id))
            how = "student ID" if student else ""
        if student is None and name_key(claimed_name):
            student = one(by_name, name_key(claimed_name))
            how = "name" if student else ""
        if student is None:
            file_name = Path(record.get("source") or record.get("notebook") or stem).name
            student = _unique(s for s in roster if any(
                _in_file_name(v, file_name) for v in (s.student_id, s.login, s.email.split("@")[0])))
            how = "file name" if student else ""
        matches.append(Match(stem, student, how, claimed_name, claimed_id))
    return matches


def summary(matches: list[Match], roster: list[Student]) -> dict:
    """What report.html and the command print: the students with no submission, the submissions with no
    student, and students matched by more than one submission (a resubmission under another name?)."""
    taken = {}
    for m in matches:
        if m.student:
            taken.setdefault(m.student, []).append(m.submission)
    return {"students": len(roster), "matched": sum(m.student is not None for m in matches),
            "missing": [s for s in roster if s not in taken],
            "unmatched": [m for m in matches if m.student is None],
            "twice": [(s, subs) for s, subs in taken.items() if len(subs) > 1]}
