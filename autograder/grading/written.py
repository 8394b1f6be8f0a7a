"""The written questions on the TA side: every submission's answers read from its notebook (never run),
written.html to score them one question at a time, and the scores merged into grades.csv and report.html.

    release_questions   the bank's notebook questions worded for the release's own data: key and points
    extract_written     one submission's name, student ID and answers (out/<submission>/written.json)
    read_scores         written_scores.csv, checked: one located line per problem
    with_written        grading results with the written scores added as questions of their own
    write_written_html  written.html: per question, every answer beside the key, points entered in the page

The answers are read the way the student's own PDF export reads them (replab.written), so the page shows
what the student's PDF shows.
"""
from __future__ import annotations

import ast
import csv
import hashlib
import json
import math
import tempfile
import zipfile
from pathlib import Path

import nbformat

from replab.errors import LabError
from replab.written import Answer, read_answers

WRITTEN_JSON = "written.json"          # per submission, beside its results.json
PAGE = "written.html"
SCORES_CSV = "written_scores.csv"
KEPT_SCORES = "written_scores.kept.csv"   # in a grading folder: the scores its grades.csv holds, for regrades
MAX_NOTEBOOK_BYTES = 50_000_000        # a notebook past this is not read (its answers show as missing)
MAX_ANSWER_CHARS = 20_000              # a TA reads an answer, not a novel; the PDF holds one page anyway
IDENTITY = ("STUDENT_NAME", "STUDENT_ID")
EXTRA_COLUMNS = ("name", "student_id", "written")   # allowed in written_scores.csv, ignored
# A TA's words for the student's feedback page: "comment" (on the whole written part) and "<question>_comment"
# (beside that question's points). Read by read_comments, kept with the scores.
COMMENT = "comment"
COMMENT_SUFFIX = "_comment"
MAX_COMMENT_CHARS = 4_000


class WrittenError(LabError, ValueError):
    """A written-scores file or release that cannot be used; the message names the file and the problem."""


# --- the questions ------------------------------------------------------------------------------------

def release_questions(zip_path: Path, variant) -> list[dict]:
    """The bank's notebook questions worded as the release worded them: its data's class names are read
    from the snapshot inside the autograder zip. [{id, points, prompt, answer}] in the notebook's order."""
    from autograder.contract import STUDENT_FILES, snapshot_name
    from replab.corpus import Corpus
    from worksheet.bank import context_for, notebook_questions
    member = f"{STUDENT_FILES}/{snapshot_name(variant.name)}"
    with tempfile.TemporaryDirectory(prefix="lab8-written-") as tmp:
        try:
            with zipfile.ZipFile(zip_path) as zf:
                zf.extract(member, tmp)
        except (KeyError, zipfile.BadZipFile, OSError) as e:
            raise WrittenError(f"{zip_path}: no {member} to word the written questions from ({e})") from None
        corpus = Corpus.load(Path(tmp) / member)
    # worded as the release worded them: the same calibration entry (its pairs and measured ranges)
    context = context_for(variant, corpus.class_names, variant.thresholds(corpus.digest()))
    return [{"id": q.id, "points": float(q.points), "prompt": q.prompt, "answer": q.answer}
            for q in notebook_questions(context)]


# --- one submission's answers ---------------------------------------------------------------------------

def _notebook_json(submission: Path) -> tuple[dict, str]:
    """The submitted notebook as JSON (a zip's only .ipynb), and its name; ValueError says why not."""
    if submission.suffix.lower() == ".zip":
        with zipfile.ZipFile(submission) as zf:
            names = [n for n in zf.namelist() if n.lower().endswith(".ipynb") and "__MACOSX" not in n
                     and ".ipynb_checkpoints" not in n]
            if len(names) != 1:
                raise ValueError(f"the zip holds {len(names)} notebooks")
            if zf.getinfo(names[0]).file_size > MAX_NOTEBOOK_BYTES:
                raise ValueError("the notebook is larger than 50 MB")
            raw, shown = zf.read(names[0]), names[0]
    else:
        if submission.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise ValueError("the notebook is larger than 50 MB")
        raw, shown = submission.read_bytes(), submission.name
    return nbformat.reads(raw.decode("utf-8"), as_version=4), shown


def student_identity(nb: dict) -> dict[str, str]:
    """STUDENT_NAME and STUDENT_ID as the notebook's code assigns them (the last string literal of each),
    read by parsing single lines: no code is run."""
    found = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        for line in ("".join(source) if isinstance(source, list) else str(source)).splitlines():
            if not line.lstrip().startswith(IDENTITY):
                continue
            try:
                node = ast.parse(line.strip()).body[0]
                value = ast.literal_eval(node.value)
            except (SyntaxError, ValueError, IndexError, AttributeError, TypeError, RecursionError):
                continue
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and node.targets[0].id in IDENTITY and isinstance(value, (str, int)):
                found[node.targets[0].id] = str(value).strip()[:200]
    return {"name": found.get("STUDENT_NAME", ""), "student_id": found.get("STUDENT_ID", "")}


def _capped(answer: Answer) -> dict:
    text = answer.text
    if len(text) > MAX_ANSWER_CHARS:
        text = text[:MAX_ANSWER_CHARS] + f"\n[... {len(answer.text) - MAX_ANSWER_CHARS} more characters not shown]"
    return {"text": text, "status": answer.status}


def extract_written(submission, stem: str, questions) -> dict:
    """A submission's name, student ID and answers, read from its notebook's JSON (never run). A notebook
    that cannot be read gives every answer as missing, with the reason in "problem"."""
    submission = Path(submission)
    ids = [q["id"] for q in questions]
    record = {"submission": stem, "source": str(submission), "notebook": submission.name, "name": "",
              "student_id": "", "problem": "", "answers": {q: {"text": "", "status": "missing"} for q in ids}}
    try:
        nb, record["notebook"] = _notebook_json(submission)
    except Exception as e:   # nbformat, JSON, zip and Unicode errors alike: the page says why
        record["problem"] = f"{submission.name}: not a readable notebook ({(str(e).splitlines() or [type(e).__name__])[0][:160]})"
        return record
    record.update(student_identity(nb))
    record["answers"] = {q: _capped(a) for q, a in read_answers(nb, ids).items()}
    return record


def write_json_record(record: dict, result_dir: Path, name: str) -> Path:
    """A record read from a submission as submitted (never run), kept in its result folder."""
    path = Path(result_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def write_written_json(record: dict, result_dir: Path) -> Path:
    return write_json_record(record, result_dir, WRITTEN_JSON)


def read_written_json(result_dir: Path, stem: str, questions) -> dict:
    try:
        return json.loads((Path(result_dir) / WRITTEN_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):   # graded before written answers were collected: shown as missing
        return {"submission": stem, "source": "", "notebook": "", "name": "", "student_id": "",
                "problem": f"{Path(result_dir) / WRITTEN_JSON}: not found",
                "answers": {q["id"]: {"text": "", "status": "missing"} for q in questions}}


# --- scores -----------------------------------------------------------------------------------------

def anon_code(release_sha: str, stem: str) -> str:
    """A submission's name in anonymous mode: stable for one release, unguessable from the stem alone."""
    return "anon-" + hashlib.sha256(f"{release_sha}:{stem}".encode()).hexdigest()[:8]


def score_keys(stems, release_sha: str) -> dict[str, str]:
    """Every name a scores file may use for a submission (its stem or its anonymous code) → its stem."""
    keys = {}
    for stem in stems:
        keys[stem] = stem
        keys[anon_code(release_sha, stem)] = stem
    return keys


def read_scores(path, questions, keys: dict[str, str], elsewhere=frozenset()) -> dict[str, dict[str, float]]:
    """written_scores.csv → {stem: {question id: points}}; a blank cell is "not scored yet". keys maps the
    names the file may use to stems (score_keys); rows naming a submission in `elsewhere` (graded in
    another shard) are skipped. Any other problem raises WrittenError naming the file and line."""
    path = Path(path)
    points = {q["id"]: q["points"] for q in questions}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise WrittenError(f"{path}: cannot read the written scores ({type(e).__name__}: {e})") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or "submission" not in [h.strip() for h in rows[0]]:
        raise WrittenError(f"{path}: line 1: expected a header with a 'submission' column and one column per "
                           f"written question ({', '.join(points)})")
    header = [h.strip() for h in rows[0]]
    unknown = [h for h in header if h not in points and h != "submission" and h not in EXTRA_COLUMNS
               and h not in comment_columns(points)]
    if unknown:
        raise WrittenError(f"{path}: line 1: column {unknown[0]!r} is not a written question of this release "
                           f"(known: {', '.join(points)})")
    scores: dict[str, dict[str, float]] = {}
    lines: dict[str, int] = {}
    for n, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = dict(zip(header, (c.strip() for c in row)))
        key = cells.get("submission", "")
        if key not in keys and key[:1] == "'" and (key[1:] in keys or key[1:] in elsewhere):
            key = key[1:]   # quoted against spreadsheet formulas when saved (written.html does)
        if key not in keys:
            if key in elsewhere:
                continue
            raise WrittenError(f"{path}: line {n}: no submission {key!r} in this grading")
        stem = keys[key]
        if stem in lines:
            raise WrittenError(f"{path}: line {n}: {key!r} already scored on line {lines[stem]}")
        lines[stem] = n
        scores[stem] = {}
        for q, possible in points.items():
            raw = cells.get(q, "")
            if raw == "":
                continue
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value < 0:
                raise WrittenError(f"{path}: line {n} ({key}): {q} = {raw!r} is not a number of points from 0 "
                                   f"to {possible:g}")
            if value > possible + 1e-9:
                raise WrittenError(f"{path}: line {n} ({key}): {q} = {raw} is more than its {possible:g} points")
            scores[stem][q] = value
    return scores


def comment_columns(points) -> dict[str, str]:
    """The comment columns a scores file may have → the question they are on ("" for the whole part)."""
    return {COMMENT: "", **{f"{q}{COMMENT_SUFFIX}": q for q in points}}


def _unquoted(text: str) -> str:
    """A cell as typed: the "'" spreadsheet_safe put before a formula character is taken off again."""
    from autograder.grading.batch import FORMULA_START
    return text[1:] if text[:1] == "'" and text[1:].startswith(FORMULA_START) else text


def read_comments(path, questions, keys: dict[str, str], elsewhere=frozenset()) -> dict[str, dict[str, str]]:
    """The TA comments of a written_scores.csv read_scores accepted: {stem: {question id or "": text}}, only
    the non-blank ones, each cut at MAX_COMMENT_CHARS. Rows read_scores skips are skipped here too."""
    path = Path(path)
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    header = [h.strip() for h in rows[0]] if rows else []
    columns = comment_columns({q["id"]: q["points"] for q in questions})
    comments: dict[str, dict[str, str]] = {}
    for row in rows[1:]:
        cells = dict(zip(header, row))
        key = cells.get("submission", "").strip()
        if key not in keys and key[:1] == "'":
            key = key[1:]
        if key not in keys:
            continue   # another shard's row (read_scores has refused any unknown one already)
        given = {q: _unquoted(text.strip())[:MAX_COMMENT_CHARS] for col, q in columns.items()
                 if (text := cells.get(col, "")) and text.strip()}
        comments[keys[key]] = given
    return comments


def write_scores_csv(path, scores: dict, questions, order=(), comments=None) -> Path:
    """scores ({stem: {question id: points}}) as a written_scores.csv read_scores reads back: one row per
    submission (those in `order` first, in it), a blank cell for a question not scored yet; with comments
    ({stem: {question id or "": text}}), the comment columns too (read_comments reads them back)."""
    from autograder.grading.batch import spreadsheet_safe
    ids = [q["id"] for q in questions]
    comments = {s: c for s, c in (comments or {}).items() if c}
    every = {**{s: {} for s in comments}, **scores}
    stems = [s for s in order if s in every] + sorted(s for s in every if s not in set(order))
    extra = [COMMENT, *(f"{q}{COMMENT_SUFFIX}" for q in ids)] if comments else []
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", *ids, *extra])
        for stem in stems:
            given, said = every[stem], comments.get(stem, {})
            notes = [spreadsheet_safe(said.get(c, "")) for c in ("", *ids)] if extra else []
            writer.writerow([spreadsheet_safe(stem), *(f"{given[q]:g}" if q in given else "" for q in ids), *notes])
    return path


def with_written(results, scores: dict, questions) -> list[dict]:
    """Copies of the grading results with every written question added as a test of its own (marked
    "written": True) and the score raised by the scored ones: autograded + written = total. A question not
    scored yet is there with status "not scored" and no points, so every total is out of the same points
    (the full written points); a partly scored one is "partial", not "failed". The summary line says so."""
    from autograder.grading.html import num
    merged = []
    written_possible = sum(q["points"] for q in questions)
    for r in results:
        given = scores.get(r["submission"], {})
        tests = []
        for q in questions:
            if q["id"] not in given:
                tests.append({"name": q["id"], "score": 0.0, "max_score": q["points"], "status": "not scored",
                              "visibility": "hidden", "output": "written answer: not scored yet", "written": True})
                continue
            got = given[q["id"]]
            status = "passed" if got >= q["points"] else "partial" if got > 0 else "failed"
            tests.append({"name": q["id"], "score": got, "max_score": q["points"], "status": status,
                          "visibility": "hidden", "output": f"written answer: {got:g}/{q['points']:g} points (TA)",
                          "written": True})
        auto = sum(t["score"] for t in r["tests"])
        auto_possible = sum(t["max_score"] for t in r["tests"])
        written = sum(t["score"] for t in tests)
        missing = sum(t["status"] == "not scored" for t in tests)
        line = (f"Autograded {num(auto)}/{num(auto_possible)} + written {num(written)}/{num(written_possible)} = "
                f"{num(auto + written)}/{num(auto_possible + written_possible)}"
                + (f" ({missing} written question{'s' if missing != 1 else ''} not scored yet)." if missing else "."))
        merged.append({**r, "tests": [*r["tests"], *tests], "score": round(r["score"] + written, 4),
                       "output": f"{r['output']}\n{line}"})   # the first line stays the autograder's
    return merged


# --- the page -----------------------------------------------------------------------------------------

def _json_for_html(data) -> str:
    """JSON safe inside <script>: file names and answers are the students' own text."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def write_written_html(out_dir, questions, records, *, release_sha: str, variant: str, title: str,
                       scores=None, anonymous: bool = False) -> Path:
    """written.html: one tab per question; the key and its points beside every submission's answer; a
    points field per answer, kept in the browser (localStorage) and saved as written_scores.csv (a
    download) that `build.py grade/merge --written-scores` reads. scores (stem → {question: points})
    fill the fields at first; anonymous hides names and IDs and sorts by the anonymous code."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scores = scores or {}
    subs = []
    for record in records:
        stem = record["submission"]
        key = anon_code(release_sha, stem) if anonymous else stem
        subs.append({"key": key, "name": "" if anonymous else record.get("name", ""),
                     "student_id": "" if anonymous else record.get("student_id", ""),
                     "problem": "" if anonymous else record.get("problem", ""),
                     "answers": record["answers"], "scores": scores.get(stem, {})})
    if anonymous:   # file order would give names away (submissions are often named after students)
        subs.sort(key=lambda s: s["key"])
    initial = {s["key"]: s["scores"] for s in subs if s["scores"]}
    from autograder.grading.html import environment
    html = environment().get_template("written.html.j2").render(
        title=title, variant=variant, anonymous=anonymous, questions=questions, subs=subs,
        possible=sum(q["points"] for q in questions),
        config_json=_json_for_html({
            "storage": f"lab8-written:{variant}:{release_sha[:16]}", "anonymous": anonymous,
            "questions": [{"id": q["id"], "points": q["points"]} for q in questions],
            "submissions": [{"key": s["key"], "name": s["name"], "student_id": s["student_id"]} for s in subs],
            "initial": initial, "file": SCORES_CSV}))
    path = out_dir / PAGE
    path.write_text(html, encoding="utf-8")
    return path
