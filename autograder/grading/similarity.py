"""Similarity signals for TAs: pairs of submissions worth a second look, never a penalty.

When a grading folder is published (`build.py grade` or `merge`), three kinds of pair are looked for and
written to <out>/similarity.json, and shown in report.html's own section:

    code     the code cells of an autograded question have the same Python syntax tree once every name is
             replaced by a placeholder in order of first appearance and docstrings are dropped (comments and
             formatting are not in the tree) — renaming variables or reformatting does not hide a copy.
             The code every student is given (the untouched release notebook's cells) is left out first.
    csv      the exported CSVs (<out>/<stem>/<csv name>) are byte-identical (sha256) and not the lab's right
             CSV: with one SEED every correct notebook writes the same bytes, so sharing the right answer says
             nothing; sharing a wrong one (the same mistake, the same drift) does. Right means the judge's CSV
             checks passed for it (RIGHT_CSV_CHECKS, in results.json's extra_data.checks); the pair says which
             failed, or that the grading recorded no verdict (listed then, as before).
    written  two written answers (written.json), or an answer and the bank's key, are the same words nearly
             word for word (difflib ratio >= WRITTEN_RATIO on lowercase words, answers of WRITTEN_MIN_WORDS+).

A class of hundreds is checked in seconds: code and CSVs are hashed and only equal hashes make pairs (no
pairwise work at all); written answers are compared only with answers of a length that could reach the
ratio, after difflib's cheap upper bounds.

The code a submission had is read from its notebook as submitted (never run) when it is graded, into
<out>/<stem>/answer_code.json, so a merge or a regrade finds it with the result it belongs to; the blank
notebook's normalised cells go into shard.json (given_code) for the same reason.
"""
from __future__ import annotations

import ast
import difflib
import hashlib
import json
import re
from collections import defaultdict
from itertools import combinations
from pathlib import Path

SIMILARITY_JSON = "similarity.json"
ANSWER_CODE_JSON = "answer_code.json"     # per submission: its code cells by autograded question
WRITTEN_RATIO = 0.9
WRITTEN_MIN_WORDS = 15     # shorter answers ("Memory.", a list of two topics) match by chance
# the judge's checks that together say a CSV is the lab's right one: its rows and columns, its embeddings the
# notebook's snapshots, and those snapshots the lab's training
RIGHT_CSV_CHECKS = ("csv_file_is_complete", "csv_holds_the_snapshots", "snapshots_are_the_training")
CODE_MIN_NODES = 12        # a question's own code smaller than this (a one-line return) is too common to flag
MAX_CELL_CHARS = 20_000    # a cell past this is kept cut: a TA reads code, not a data dump pasted in a cell
_CHECK = re.compile(r"""grader\.check\(\s*["']([A-Za-z0-9_]+)["']\s*\)""")
_WORD = re.compile(r"\w+")


# --- reading code from a notebook (never run) ------------------------------------------------------------

def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def question_cells(nb: dict) -> dict[str, list[str]]:
    """{question: [code cell sources]}: each code cell belongs to the autograded question whose
    `grader.check("…")` cell comes next (the notebook's layout: prompt, answer cells, check). Cells after
    the last check belong to no autograded question."""
    cells, pending = {}, []
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = _source(cell)
        check = _CHECK.search(source)
        if check and source.strip() == check.group(0):
            cells.setdefault(check.group(1), []).extend(pending)
            pending = []
        else:
            pending.append(source[:MAX_CELL_CHARS])
    return cells


def extract_code(submission, stem: str) -> dict:
    """A submission's code cells by question, read from its notebook's JSON like its written answers."""
    from autograder.grading.written import _notebook_json
    record = {"submission": stem, "questions": {}, "problem": ""}
    try:
        nb, _ = _notebook_json(Path(submission))
    except Exception as e:   # unreadable: no code to compare; the grading itself says what is wrong
        record["problem"] = f"not a readable notebook ({type(e).__name__})"
        return record
    record["questions"] = question_cells(nb)
    return record


def write_answer_code(record: dict, result_dir: Path) -> Path:
    from autograder.grading.written import write_json_record
    return write_json_record(record, result_dir, ANSWER_CODE_JSON)


# --- normalised code -------------------------------------------------------------------------------------

class _Canonical(ast.NodeTransformer):
    """Every name a student chooses (variables, arguments, functions, classes, import aliases) becomes
    v0, v1… in order of first appearance. Attribute names stay: `x.mean()` and `x.sum()` are different code."""

    def __init__(self):
        self.names: dict[str, str] = {}

    def _name(self, name):
        if name is None:
            return None
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node):
        node.id = self._name(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self._name(node.arg)
        node.annotation = None
        return self.generic_visit(node)

    def _body(self, node):
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:] or [ast.Pass()]    # a docstring says nothing about the code
        node.body = body
        return node

    def visit_FunctionDef(self, node):
        node.name = self._name(node.name)
        node.returns = None
        return self.generic_visit(self._body(node))

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        node.name = self._name(node.name)
        return self.generic_visit(self._body(node))

    def visit_alias(self, node):
        if node.asname:
            node.asname = self._name(node.asname)
        return node

    def visit_Global(self, node):
        node.names = [self._name(n) for n in node.names]
        return node

    visit_Nonlocal = visit_Global

    def visit_ExceptHandler(self, node):
        node.name = self._name(node.name)
        return self.generic_visit(node)


def _parse(source: str):
    # Notebook magics and shell lines (`%time`, `!pip`) are not Python: left out, the rest still compares.
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def normalised(source: str, canon: _Canonical | None = None) -> str | None:
    """The cell's syntax tree with names as placeholders and no docstrings, as text; None where it does
    not parse (such cells are skipped). Pass one `canon` for the cells of one question, so a name keeps
    its placeholder from cell to cell."""
    tree = _parse(source)
    if tree is None:
        return None
    try:
        return ast.dump((canon or _Canonical()).visit(tree), annotate_fields=False)
    except RecursionError:
        return None


def given_code(nb: dict) -> list[str]:
    """sha256 of every code cell of the blank notebook, normalised on its own: the code every student is
    given (a cell still equal to one of these is not the student's work)."""
    hashes = []
    for cell in nb.get("cells", []):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            form = normalised(_source(cell))
            if form is not None:
                hashes.append(_sha(form))
    return sorted(set(hashes))


def blank_given_code(blank: Path) -> list[str] | None:
    """given_code of the release's blank notebook, or None when there is none to read."""
    try:
        return given_code(json.loads(Path(blank).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def _sha(text) -> str:
    return hashlib.sha256(text.encode("utf-8") if isinstance(text, str) else text).hexdigest()


def _own_cells(cells, given: set[str]) -> list[str]:
    """The question's cells that are the student's own: they parse and are not a cell of the blank."""
    return [c for c in cells if (form := normalised(c)) is not None and _sha(form) not in given]


def _code_key(cells) -> tuple[str, int] | None:
    """(hash, size in AST nodes) of a question's own cells normalised together, or None if too small."""
    canon = _Canonical()
    forms = [normalised(c, canon) for c in cells]
    nodes = sum(len(list(ast.walk(t))) for c in cells if (t := _parse(c)) is not None)
    if not forms or nodes < CODE_MIN_NODES:
        return None
    return _sha("\n".join(forms)), nodes


# --- side by side ----------------------------------------------------------------------------------------

def _code_line_keys(text: str) -> list[str] | None:
    """Each line of code as its tokens with comments dropped and names as placeholders (numbered in order
    of first appearance, as in the syntax tree), so renamed lines still line up; None if it won't tokenize."""
    import io
    import keyword
    import tokenize
    lines = text.splitlines()
    keys = [[] for _ in lines]
    names: dict[str, str] = {}
    previous = ""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in skip:
                continue
            word = tok.string
            if tok.type == tokenize.NAME and not keyword.iskeyword(word) and previous != ".":
                word = names.setdefault(word, f"v{len(names)}")
            if 0 < tok.start[0] <= len(keys):
                keys[tok.start[0] - 1].append(word)
            previous = tok.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    return [" ".join(k) for k in keys]


def side_by_side(a: str, b: str, code: bool = False, limit: int = 120) -> dict:
    """Both texts as lines, each marked `same` when it is part of what they share (difflib on lines:
    code compared as tokens with names as placeholders, prose and CSV trimmed and lowercased) — what the
    section shows, two columns. Blank lines and comment-only lines are never marked."""
    la, lb = a.splitlines()[:limit], b.splitlines()[:limit]
    plain = lambda lines: [x.strip().lower() for x in lines]   # noqa: E731
    ka = (_code_line_keys(a) if code else None) or plain(a.splitlines())
    kb = (_code_line_keys(b) if code else None) or plain(b.splitlines())
    ka, kb = ka[:limit], kb[:limit]
    matcher = difflib.SequenceMatcher(None, ka, kb, autojunk=False)
    same_a, same_b = set(), set()
    for block in matcher.get_matching_blocks():
        same_a.update(i for i in range(block.a, block.a + block.size) if ka[i])
        same_b.update(j for j in range(block.b, block.b + block.size) if kb[j])
    return {"a": [{"text": t, "same": i in same_a} for i, t in enumerate(la)],
            "b": [{"text": t, "same": i in same_b} for i, t in enumerate(lb)]}


def _wrap(text: str, width: int = 64) -> str:
    """Prose as short lines (a column of the section holds about 70 characters), so two answers line up."""
    import textwrap
    return "\n".join(textwrap.fill(p, width) for p in text.splitlines() if p.strip())


# --- the three kinds -------------------------------------------------------------------------------------

def code_pairs(codes: dict[str, dict], given) -> list[dict]:
    """codes: stem → answer_code.json record. Pairs with the same normalised code for a question."""
    given = set(given or ())
    buckets = defaultdict(list)
    own = {}
    for stem, record in codes.items():
        for question, cells in (record.get("questions") or {}).items():
            mine = _own_cells(cells, given)
            key = _code_key(mine)
            if key:
                own[stem, question] = "\n\n".join(mine)
                buckets[question, key[0]].append((stem, key[1]))
    pairs = []
    for (question, _), members in buckets.items():
        for (a, nodes), (b, _) in combinations(members, 2):
            pairs.append({"kind": "code", "question": question, "a": a, "b": b, "group": len(members),
                          "detail": f"same syntax tree after renaming ({nodes} nodes)",
                          "lines": side_by_side(own[a, question], own[b, question], code=True)})
    return pairs


def csv_verdict(folder: Path, stem: str) -> dict | None:
    """{check: None (passed) or its message} of RIGHT_CSV_CHECKS from the submission's results.json, or None
    when the grading recorded no verdict for them."""
    try:
        checks = json.loads((Path(folder) / stem / "results.json").read_text(encoding="utf-8"))["extra_data"]["checks"]
        return {name: checks[name] for name in RIGHT_CSV_CHECKS}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def csv_pairs(folder: Path, stems, csv_name: str) -> list[dict]:
    buckets = defaultdict(list)
    for stem in stems:
        path = Path(folder) / stem / csv_name
        if path.is_file():
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            buckets[digest.hexdigest()].append(stem)
    pairs = []
    for digest, members in buckets.items():
        if len(members) < 2:
            continue
        verdicts = {stem: csv_verdict(folder, stem) for stem in members}
        wrong = [(stem, name, message) for stem, v in verdicts.items() if v
                 for name, message in v.items() if message is not None]
        if not wrong and all(verdicts.values()):
            continue   # the lab's right CSV, the same for every correct notebook: expected, not a signal
        why = (f", and not the lab's right CSV ({wrong[0][1]}: {wrong[0][2]})" if wrong else
               "; the grading recorded no verdict on whether it is the lab's right CSV")
        with open(Path(folder) / members[0] / csv_name, encoding="utf-8", errors="replace") as f:
            head = "".join(line[:160] + ("…\n" if len(line) > 160 else "") for line, _ in zip(f, range(3)))
        for a, b in combinations(members, 2):
            pairs.append({"kind": "csv", "question": csv_name, "a": a, "b": b, "group": len(members),
                          "detail": f"byte-identical (sha256 {digest[:12]}…){why}", "lines": side_by_side(head, head)})
    return pairs


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def written_pairs(records, questions) -> list[dict]:
    """Answers of one question that are the same words nearly word for word, between two submissions or
    between a submission and the key (b = "answer key"). Compared only where lengths allow the ratio:
    2·matches/(m+n) >= r needs min/max >= r/(2-r)."""
    pairs = []
    span = WRITTEN_RATIO / (2 - WRITTEN_RATIO)
    for q in questions:
        answers = []   # (words, stem, text)
        for record in records:
            answer = (record.get("answers") or {}).get(q["id"]) or {}
            if answer.get("status") == "answered":
                words = _words(answer.get("text", ""))
                if len(words) >= WRITTEN_MIN_WORDS:
                    answers.append((words, record["submission"], answer["text"]))
        key_words = _words(q.get("answer") or "")
        entries = answers + ([(key_words, None, q["answer"])] if len(key_words) >= WRITTEN_MIN_WORDS else [])
        entries.sort(key=lambda e: len(e[0]))
        for i, (wa, a, ta) in enumerate(entries):
            matcher = difflib.SequenceMatcher(None, autojunk=False)
            matcher.set_seq2(wa)   # seq2 is the one difflib indexes: once per answer
            for wb, b, tb in entries[i + 1:]:
                if len(wa) < span * len(wb):
                    break   # sorted by length: every later answer is longer still
                if a is None and b is None:
                    continue
                matcher.set_seq1(wb)
                if matcher.real_quick_ratio() < WRITTEN_RATIO or matcher.quick_ratio() < WRITTEN_RATIO:
                    continue
                ratio = matcher.ratio()
                if ratio < WRITTEN_RATIO:
                    continue
                first, second = ((b, tb), (a, ta)) if a is None else ((a, ta), (b, tb))   # the key shown second
                key = second[0] is None
                pairs.append({"kind": "written", "question": q["id"], "a": first[0],
                              "b": "answer key" if key else second[0], "key": key, "group": 2,
                              "detail": f"{100 * ratio:.0f}% the same words" + (" as the key" if key else ""),
                              "lines": side_by_side(_wrap(first[1]), _wrap(second[1]))})
    return pairs


def find_pairs(folder: Path, stems, written_records, questions, given, csv_name: str) -> dict:
    """Every pair of the three kinds for the submissions `stems` of a grading folder, as similarity.json."""
    folder = Path(folder)
    codes = {}
    for stem in stems:
        try:
            codes[stem] = json.loads((folder / stem / ANSWER_CODE_JSON).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass   # graded before code was collected, or fake: nothing to compare for it
    pairs = code_pairs(codes, given) + csv_pairs(folder, stems, csv_name) + written_pairs(written_records, questions)
    order = {s: i for i, s in enumerate(stems)}
    kinds = {"code": 0, "csv": 1, "written": 2}
    pairs.sort(key=lambda p: (kinds[p["kind"]], p["question"], order.get(p["a"], 0), order.get(p["b"], len(order))))
    return {"note": "signals for a TA to look at, never a penalty", "submissions": len(stems),
            "with_code": len(codes), "given_code_known": given is not None,
            "thresholds": {"written_ratio": WRITTEN_RATIO, "written_min_words": WRITTEN_MIN_WORDS,
                           "code_min_nodes": CODE_MIN_NODES},
            "pairs": pairs}


def write_similarity(folder: Path, data: dict) -> Path:
    path = Path(folder) / SIMILARITY_JSON
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    return path
