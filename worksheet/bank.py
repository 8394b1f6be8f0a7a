"""The written-question bank (worksheet/questions.yaml) and the concept sections (worksheet/sections.yaml).

One source feeds the student worksheet, its answer key and the notebook's manually graded questions.
Every problem is reported as one line naming the file and the entry, e.g.
``worksheet/questions.yaml: entry 3 (w3_distance_changes): points must be a positive number, got 0``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assignment.config import read_yaml

HERE = Path(__file__).resolve().parent
BANK_PATH = HERE / "questions.yaml"
SECTIONS_PATH = HERE / "sections.yaml"

PLACES = ("worksheet", "notebook")
FIELDS = ("id", "points", "prompt", "answer", "appears_in")
TIKZ_FIGURES = ("mlp", "clusters", "timeline")   # drawn by templates/worksheet.tex.j2
RUN_FIGURES = ("epoch_grid", "metrics")          # PNGs from the reference run, passed to build_worksheet
BLOCK_KINDS = ("items", "code", "figure", "run_figure")


class BankError(ValueError):
    """A question bank or section file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Question:
    id: str
    points: float
    prompt: str
    answer: str
    appears_in: tuple[str, ...]


def _read_list(path: Path) -> list:
    data = read_yaml(path, BankError)
    if not isinstance(data, list) or not data:
        raise BankError(f"{path}: expected a non-empty list of entries, got {type(data).__name__}")
    return data


def _question(path: Path, n: int, entry) -> Question:
    if not isinstance(entry, dict):
        raise BankError(f"{path}: entry {n}: expected a mapping with {', '.join(FIELDS)}")
    name = f"entry {n} ({entry['id']})" if isinstance(entry.get("id"), str) else f"entry {n}"

    def fail(problem: str):
        raise BankError(f"{path}: {name}: {problem}")

    missing = [f for f in FIELDS if f not in entry]
    if missing:
        fail(f"missing field {', '.join(missing)}")
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        fail(f"unknown field {', '.join(unknown)} (allowed: {', '.join(FIELDS)})")
    if not isinstance(entry["id"], str) or not entry["id"].isidentifier():
        fail(f"id must be a name of letters, digits and underscores, got {entry['id']!r}")
    points = entry["points"]
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
        fail(f"points must be a positive number, got {points!r}")
    for key in ("prompt", "answer"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            fail(f"{key} must be non-empty text")
    places = entry["appears_in"]
    if not isinstance(places, list) or not places:
        fail(f"appears_in must be a non-empty list, some of {', '.join(PLACES)}")
    bad = [p for p in places if p not in PLACES]
    if bad:
        fail(f"unknown appears_in {', '.join(map(repr, bad))} (allowed: {', '.join(PLACES)})")
    return Question(entry["id"], points, entry["prompt"].strip(), entry["answer"].strip(), tuple(places))


def load_bank(path: Path | str = BANK_PATH) -> list[Question]:
    """All questions of the bank, in file order, validated."""
    path = Path(path)
    questions, seen = [], set()
    for n, entry in enumerate(_read_list(path), start=1):
        q = _question(path, n, entry)
        if q.id in seen:
            raise BankError(f"{path}: entry {n} ({q.id}): duplicate id {q.id!r}")
        seen.add(q.id)
        questions.append(q)
    return questions


def worksheet_questions(path: Path | str = BANK_PATH) -> list[Question]:
    return [q for q in load_bank(path) if "worksheet" in q.appears_in]


def notebook_questions(path: Path | str = BANK_PATH) -> list[Question]:
    """The questions the notebook asks as manually graded cells."""
    return [q for q in load_bank(path) if "notebook" in q.appears_in]


def total_points(path: Path | str = BANK_PATH) -> float:
    return sum(q.points for q in load_bank(path))


def load_sections(path: Path | str = SECTIONS_PATH) -> list[dict]:
    """Concept sections as [{"title": str, "body": [str | {kind: value}]}], validated."""
    path = Path(path)
    sections = _read_list(path)
    for n, section in enumerate(sections, start=1):
        if not isinstance(section, dict) or not isinstance(section.get("title"), str) \
                or not isinstance(section.get("body"), list) or not section["body"]:
            raise BankError(f"{path}: section {n}: expected a title and a non-empty body list")
        name = f"section {n} ({section['title']})"
        for b, block in enumerate(section["body"], start=1):
            if isinstance(block, str):
                continue
            kind = next(iter(block), None) if isinstance(block, dict) and len(block) == 1 else None
            if kind not in BLOCK_KINDS:
                raise BankError(f"{path}: {name}: block {b}: expected text or one of {', '.join(BLOCK_KINDS)}")
            value = block[kind]
            ok = {"items": isinstance(value, list) and value and all(isinstance(i, str) for i in value),
                  "code": isinstance(value, str),
                  "figure": value in TIKZ_FIGURES,
                  "run_figure": value in RUN_FIGURES}[kind]
            if not ok:
                allowed = {"items": "a list of text", "code": "text",
                           "figure": ", ".join(TIKZ_FIGURES), "run_figure": ", ".join(RUN_FIGURES)}[kind]
                raise BankError(f"{path}: {name}: block {b}: {kind} must be {allowed}, got {value!r}")
    return sections
