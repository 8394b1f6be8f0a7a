"""The written-question bank (worksheet/questions.yaml) and the concept sections (worksheet/sections.yaml).

One source feeds the student worksheet, its answer key and the notebook's manually graded questions of
every variant. The text speaks of the variant's own data through placeholders such as ``{items}``,
``{dim}`` or ``{pair_a}``, filled from a context made by :func:`variant_context`; where the wording
must really differ, a prompt, answer, paragraph, list item or code listing is a mapping with one text
per kind (``text:`` and ``image:``). Every problem is reported as one line naming the file and the
entry, e.g. ``worksheet/questions.yaml: entry 3 (w3_distance_changes): points must be a positive
number, got 0``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, Union

from assignment.config import read_yaml
from replab.errors import LabError

HERE = Path(__file__).resolve().parent
BANK_PATH = HERE / "questions.yaml"
SECTIONS_PATH = HERE / "sections.yaml"

PLACES = ("worksheet", "notebook")
FIELDS = ("id", "points", "prompt", "answer", "appears_in")
TIKZ_FIGURES = ("mlp", "clusters", "timeline")   # drawn by templates/worksheet.tex.j2
RUN_FIGURES = ("epoch_grid", "metrics")          # PNGs from the reference run, passed to build_worksheet
BLOCK_KINDS = ("items", "code", "figure", "run_figure")
KINDS = ("text", "image")                        # keys of a per-kind alternative, as in assignment/config.yaml

# What the bank may say about a variant; variant_context fills every one of them.
PLACEHOLDERS = {
    "variant": "the variant's title, e.g. BBC News",
    "item": "article / image", "items": "articles / images",
    "inputs": "TF-IDF vectors / pixels",
    "dim": "width of the hooked layer, e.g. 64",
    "model": "MLP / CNN",
    "hook_where": "before its ReLU / after its ReLU",
    "steps": "ten full-batch steps / ten epochs of mini-batch steps",
    "label": "topic / class", "labels": "topics / classes",
    "classes": "the class names, e.g. business, entertainment, politics, sport and tech",
    "n_classes": "their number in words, e.g. five",
    "chance": "accuracy of guessing, 1 / number of classes, e.g. 0.20",
    "pair_a": "first of two related classes", "pair_b": "second of two related classes",
    "pair_shared": "a clause: what the related pair's inputs have in common",
    "far_a": "first of two unrelated classes", "far_b": "second of two unrelated classes",
    "far_shared": "a clause: how little unrelated classes' inputs have in common",
    "epoch_motion": "a sentence: what one epoch between snapshots is (one full-batch step, or many mini-batch steps)",
    "epoch_step": "what one epoch is, in a few words: one full-batch Adam step / a pass over the training items in mini-batches",
    "n_inputs": "the text model's TF-IDF width (1000) / the pixels of an image (3072)",
    "width1": "the text model's first hidden width (256) / the CNN's flattened feature maps (800)",
    "facts_epoch0": "a sentence: the untrained layer's k-NN accuracy against chance, from this data's calibration",
    "facts_silhouette0": "a clause: the silhouette at epoch 0 (this data's measured range, or no number)",
    "facts_training": "a sentence: where training takes the silhouette (this data's measured range, or no number)",
}
# Also in every context, but not for the bank's text: "forced", "yes" when this data was calibrated with
# --force (the reference run does not separate it; the answer key says so), else "no"; "class_count", the
# number of classes in digits (the template draws that many groups); "full_batch", "yes" when an epoch is one
# full-batch step.
_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_]\w*)\}")

# Text as written in the bank: one string, or one string per kind (read-only once loaded).
Text = Union[str, Mapping[str, str]]


class BankError(LabError, ValueError):
    """A question bank or section file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Question:
    id: str
    points: float
    prompt: Text     # plain str once filled by questions_for / notebook_questions / worksheet_questions
    answer: Text
    appears_in: tuple[str, ...]


# --- the words of one variant ---------------------------------------------------------------------

_WORDS = {
    "text": {"item": "article", "items": "articles", "inputs": "TF-IDF vectors", "model": "MLP",
             "hook_where": "before its ReLU", "steps": "ten full-batch steps", "label": "topic", "labels": "topics",
             "pair_shared": "their TF-IDF vectors share many terms",
             "far_shared": "their inputs share almost no vocabulary"},
    "image": {"item": "image", "items": "images", "inputs": "pixels", "model": "CNN",
              "hook_where": "after its ReLU", "steps": "ten epochs of mini-batch steps",
              "label": "class", "labels": "classes",
              "pair_shared": "their pixels share colours and rough shapes",
              "far_shared": "their pixels have little in common beyond overall brightness and colour"},
}

# Example pairs, most telling first; the first pair whose two classes are both in the data is used.
# Related pairs come with what their inputs share (a clause, replacing the kind's generic one).
RELATED_PAIRS = (
    ("Machine learning", "Pure mathematics",
     "their TF-IDF vectors share many terms (function, theorem, probability, model)"),
    ("Quantum physics", "Pure mathematics",
     "their TF-IDF vectors share many terms (equation, space, operator, theory)"),
    ("business", "politics", "their TF-IDF vectors share many terms (economy, tax, government, minister)"),
    ("business", "tech", "their TF-IDF vectors share many terms (firm, market, sales, users)"),
    ("cat", "dog", "both show four-legged furry animals in similar poses and settings"),
    ("automobile", "truck", "both show wheeled vehicles on roads, with the same windows, tyres and grey backgrounds"),
    ("deer", "horse", "both show four-legged brown animals on green or brown ground"),
    ("digit 3", "digit 8", "both are drawn with the same two right-hand curves, which 8 closes on the left"),
    ("digit 4", "digit 9", "both have a vertical stroke on the right with a loop or hook on top"),
)
UNRELATED_PAIRS = (
    ("Basketball", "Molecular biology"), ("Basketball", "Renaissance art"),
    ("sport", "tech"), ("sport", "politics"),
    ("frog", "truck"), ("airplane", "frog"),
    ("digit 0", "digit 1"),
)
_NUMBERS = dict(enumerate("zero one two three four five six seven eight nine ten eleven twelve".split()))


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _span(r: Mapping, digits: int = 2) -> str:
    low, high = f"{r['min']:.{digits}f}", f"{r['max']:.{digits}f}"
    return low if low == high else f"{low} to {high}"


# The shipped text variants' numbers, measured on the real Wikipedia and BBC corpora before calibrate recorded
# measurements: used only for data whose classes are exactly those topics or sections (and no `measured:`).
SHIPPED_FACTS = {
    "text": {
        "facts_epoch0": "Measured on real Wikipedia and BBC articles, the held-out 5-nearest-neighbour accuracy in "
                        "the untrained {dim}-d layer is already 0.67 to 0.73, against a chance level of 0.17 to 0.20.",
        "facts_silhouette0": "the silhouette is near 0 (0.01 to 0.04)",
        "facts_training": "Training then raises the silhouette steadily, to 0.43 to 0.53 by epoch 10 (the neighbour "
                          "accuracy saturates after about two epochs).",
    },
}
SHIPPED_FACT_CLASSES = (
    frozenset(["Basketball", "Machine learning", "Molecular biology", "Pure mathematics", "Quantum physics",
               "Renaissance art"]),
    frozenset(["business", "entertainment", "politics", "sport", "tech"]),
)


def _facts(kind: str, n: int, names: list[str], calibration, dim: str) -> dict[str, str]:
    """The w4 answer's sentences about the numbers: this data's calibration `measured:` ranges over the seeds
    where present; else the shipped text variants' published numbers for their own classes; else this data's
    last-epoch silhouette from its calibration entry; else no number at all but the chance level."""
    chance = f"{1 / n:.2f}"
    measured = getattr(calibration, "measured", None) or {}
    if measured:
        seeds, k = getattr(calibration, "seeds", 0), measured.get("knn_k", 5)
        return {
            "facts_epoch0": f"In the reference runs on this data ({seeds} seeds), the held-out {k}-nearest-neighbour "
                            f"accuracy in the untrained {dim}-d layer is already {_span(measured['knn_accuracy_epoch0'])}, "
                            f"against a chance level of {chance}.",
            "facts_silhouette0": f"the held-out silhouette is {_span(measured['silhouette_epoch0'])}",
            "facts_training": f"Training then raises the silhouette to {_span(measured['silhouette_last'])} by the last "
                              f"epoch, and the neighbour accuracy to {_span(measured['knn_accuracy_last'])}.",
        }
    if kind in SHIPPED_FACTS and frozenset(names) in SHIPPED_FACT_CLASSES:
        return {k: v.replace("{dim}", dim) for k, v in SHIPPED_FACTS[kind].items()}
    facts = {"facts_epoch0": f"Compare the held-out 5-nearest-neighbour accuracy of your run's untrained {dim}-d layer "
                             f"with the chance level of {chance}: it is typically already well above it.",
             "facts_silhouette0": "the silhouette starts low",
             "facts_training": "Training then raises the silhouette, fastest in the first epochs, while the "
                               "neighbour accuracy has less room to grow."}
    last = getattr(calibration, "silhouette_last", None)
    if last:   # an entry from before `measured:`: [mean, std, min] of this data's last-epoch silhouette
        facts["facts_training"] = (f"Training then raises the held-out silhouette, to about {last[0]:.2f} by the last "
                                   f"epoch in the reference runs on this data ({calibration.seeds} seeds), while the "
                                   f"neighbour accuracy has less room to grow.")
    return facts


def _class_pair(value, names: list[str], where: str) -> tuple[str, str]:
    pair = tuple(value)
    missing = [c for c in pair if c not in names]
    if len(pair) != 2 or pair[0] == pair[1] or missing:
        raise BankError(f"{where}: {missing[0] if missing else pair!r} is not a class of this data "
                        f"(classes: {', '.join(names)})")
    return pair


def variant_context(kind: str, dim: int, class_names: list[str], title: str, *, calibration=None,
                    pairs: Mapping | None = None, where: str = "pairs", n_inputs: int | None = None,
                    width1: int | None = None, full_batch: bool | None = None) -> dict[str, str]:
    """The words that fill the bank's placeholders for one variant and the classes of the data it uses.

    ``class_names`` are the classes of the corpus actually loaded (an offline stand-in has its own), so
    example pairs always name classes the student can see. ``calibration`` is this data's calibration entry
    (assignment.config.Thresholds, or None): its `measured:` ranges word the answer key's numbers, its `pairs`
    (the reference run's nearest and farthest classes) the example pairs, its `forced` flag a note in the
    key. Pairs come, first found: ``pairs`` (the variant block's own, named ``where`` in errors), the
    calibration's, RELATED_PAIRS / UNRELATED_PAIRS (the shipped variants' classes), else deterministically the
    first two classes and the first and last class. ``n_inputs`` and ``width1``: the text model's TF-IDF width
    and first hidden width (default 1000 and 256); ``full_batch``: whether an epoch is one full-batch step
    (default: text kinds are, image kinds are not).
    """
    if kind not in KINDS:
        raise BankError(f"variant_context: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0:
        raise BankError(f"variant_context: dim must be a positive integer, got {dim!r}")
    names = list(class_names)
    if len(names) < 2 or len(set(names)) != len(names) or not all(isinstance(n, str) and n for n in names):
        raise BankError(f"variant_context: class_names must be two or more distinct names, got {names!r}")
    present = set(names)
    words = _WORDS[kind]
    context = {"kind": kind, **words}
    full_batch = kind == "text" if full_batch is None else bool(full_batch)
    if full_batch:
        context.update(steps="ten full-batch steps", epoch_step="one full-batch Adam step",
                       epoch_motion=("In the text variants an epoch" if kind == "text" else "Here an epoch")
                       + " is one full-batch Adam step, so the film has exactly ten steps of motion.")
    else:
        context.update(steps="ten epochs of mini-batch steps",
                       epoch_step=f"a pass over the training {words['items']} in mini-batches",
                       epoch_motion=f"Here an epoch is one pass over the training {words['items']} in mini-batches, "
                                    f"many Adam steps, so each frame of the film skips many small steps of motion.")
    own = dict(pairs or {})
    measured_pairs = dict(getattr(calibration, "pairs", None) or {})
    # What the reference run shows about a pair, in place of the kind's generic clause.
    run_clause = {
        "related": f"their {words['inputs']} have the most in common of any two {words['labels']} here (the "
                   f"reference run leaves their centroids closest)",
        "unrelated": f"their {words['inputs']} have the least in common of any two {words['labels']} here (the "
                     f"reference run leaves their centroids farthest apart)",
    }
    chosen = {}
    for which in ("related", "unrelated"):
        if which in own:
            chosen[which] = (*_class_pair(own[which], names, f"{where}.{which}"), words[
                "pair_shared" if which == "related" else "far_shared"])
        elif which in measured_pairs:
            chosen[which] = (*_class_pair(measured_pairs[which], names, f"calibration pairs.{which}"), run_clause[which])
    if "related" not in chosen:
        shipped = next((p for p in RELATED_PAIRS if p[0] in present and p[1] in present), None)
        chosen["related"] = shipped or (names[0], names[1], words["pair_shared"])
    if "unrelated" not in chosen:
        shipped = next((p for p in UNRELATED_PAIRS if p[0] in present and p[1] in present), None)
        chosen["unrelated"] = (*shipped, words["far_shared"]) if shipped else (names[0], names[-1], words["far_shared"])
    context.update(pair_a=chosen["related"][0], pair_b=chosen["related"][1], pair_shared=chosen["related"][2],
                   far_a=chosen["unrelated"][0], far_b=chosen["unrelated"][1], far_shared=chosen["unrelated"][2])
    n = len(names)
    context.update(variant=title, dim=str(dim), classes=_join(names), n_classes=_NUMBERS.get(n, str(n)),
                   chance=f"{1 / n:.2f}",
                   n_inputs=str(n_inputs or 1000) if kind == "text" else "3072",
                   width1=str(width1 or 256) if kind == "text" else "800",
                   forced="yes" if getattr(calibration, "forced", False) else "no", class_count=str(n),
                   full_batch="yes" if full_batch else "no",
                   **_facts(kind, n, names, calibration, str(dim)))
    return context


def context_for(variant, class_names: list[str], calibration=None) -> dict[str, str]:
    """variant_context for a config variant (assignment.config.Variant) and its data's calibration entry."""
    return variant_context(variant.kind, variant.embedding_dim, class_names, variant.title, calibration=calibration,
                           pairs=variant.pairs, where=f"variants.{variant.name}.pairs",
                           n_inputs=variant.max_features if variant.kind == "text" else None,
                           width1=variant.hidden[0] if variant.kind == "text" else None,
                           full_batch=variant.batch_size == 0)


def _pick(text: Text, kind: str) -> str:
    return text if isinstance(text, str) else text[kind]


def fill(text: Text, context: Mapping[str, str]) -> str:
    """The text for the context's kind with every placeholder replaced by the context's words."""
    return _PLACEHOLDER_RE.sub(lambda m: context[m.group(1)], _pick(text, context["kind"]))


def _check_context(context) -> None:
    missing = [k for k in ("kind", *PLACEHOLDERS) if not isinstance(context, Mapping) or k not in context]
    if missing:
        raise BankError(f"worksheet context: missing {', '.join(missing)} (make it with variant_context)")
    if context["kind"] not in KINDS:
        raise BankError(f"worksheet context: kind must be one of {', '.join(KINDS)}, got {context['kind']!r}")


# --- validation -----------------------------------------------------------------------------------

def _text_problem(value) -> str | None:
    """Why value is not usable bank text (non-empty, or a mapping of non-empty text per kind), else None."""
    if isinstance(value, dict):
        if set(value) != set(KINDS):
            return (f"must be text or a mapping with exactly the keys {', '.join(KINDS)}, "
                    f"got keys {', '.join(map(str, value))}")
        bad = [k for k in KINDS if not isinstance(value[k], str) or not value[k].strip()]
        if bad:
            return f"{bad[0]} must be non-empty text"
        texts = list(value.values())
    elif isinstance(value, str) and value.strip():
        texts = [value]
    else:
        return "must be non-empty text"
    unknown = sorted({name for t in texts for name in _PLACEHOLDER_RE.findall(t)} - set(PLACEHOLDERS))
    if unknown:
        return f"unknown placeholder {', '.join('{' + u + '}' for u in unknown)} (known: {', '.join(PLACEHOLDERS)})"
    return None


def _frozen_text(value) -> Text:
    if isinstance(value, str):
        return value.strip()
    return MappingProxyType({k: value[k].strip() for k in KINDS})


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
        problem = _text_problem(entry[key])
        if problem:
            fail(f"{key} {problem}")
    places = entry["appears_in"]
    if not isinstance(places, list) or not places:
        fail(f"appears_in must be a non-empty list, some of {', '.join(PLACES)}")
    bad = [p for p in places if p not in PLACES]
    if bad:
        fail(f"unknown appears_in {', '.join(map(repr, bad))} (allowed: {', '.join(PLACES)})")
    return Question(entry["id"], points, _frozen_text(entry["prompt"]), _frozen_text(entry["answer"]), tuple(places))


# --- the bank -------------------------------------------------------------------------------------

def load_bank(path: Path | str = BANK_PATH) -> list[Question]:
    """All questions of the bank, in file order, validated, with placeholders not yet filled."""
    path = Path(path)
    questions, seen = [], set()
    for n, entry in enumerate(_read_list(path), start=1):
        q = _question(path, n, entry)
        if q.id in seen:
            raise BankError(f"{path}: entry {n} ({q.id}): duplicate id {q.id!r}")
        seen.add(q.id)
        questions.append(q)
    return questions


def questions_for(context: Mapping[str, str], place: str | None = None,
                  path: Path | str = BANK_PATH) -> list[Question]:
    """The questions (of one place, or all) worded for one variant: prompt and answer are plain text."""
    _check_context(context)
    return [replace(q, prompt=fill(q.prompt, context), answer=fill(q.answer, context))
            for q in load_bank(path) if place is None or place in q.appears_in]


def worksheet_questions(context: Mapping[str, str], path: Path | str = BANK_PATH) -> list[Question]:
    return questions_for(context, "worksheet", path)


def notebook_questions(context: Mapping[str, str], path: Path | str = BANK_PATH) -> list[Question]:
    """The questions the notebook asks as manually graded cells, worded for its variant."""
    return questions_for(context, "notebook", path)


def total_points(path: Path | str = BANK_PATH) -> float:
    return sum(q.points for q in load_bank(path))


# --- the sections ---------------------------------------------------------------------------------

def load_sections(path: Path | str = SECTIONS_PATH) -> list[dict]:
    """Concept sections as [{"title": str, "body": [text | {kind: value}]}], validated, not yet filled.

    Paragraphs, list items and code listings may be per-kind mappings (text: ..., image: ...).
    """
    path = Path(path)
    sections = _read_list(path)
    for n, section in enumerate(sections, start=1):
        if not isinstance(section, dict) or not isinstance(section.get("title"), str) \
                or not isinstance(section.get("body"), list) or not section["body"]:
            raise BankError(f"{path}: section {n}: expected a title and a non-empty body list")
        name = f"section {n} ({section['title']})"
        problem = _text_problem(section["title"])
        if problem:
            raise BankError(f"{path}: {name}: title {problem}")
        for b, block in enumerate(section["body"], start=1):
            if isinstance(block, str) or (isinstance(block, dict) and set(block) == set(KINDS)):
                problem = _text_problem(block)
                if problem:
                    raise BankError(f"{path}: {name}: block {b}: {problem}")
                continue
            kind = next(iter(block), None) if isinstance(block, dict) and len(block) == 1 else None
            if kind not in BLOCK_KINDS:
                raise BankError(f"{path}: {name}: block {b}: expected text, a {'/'.join(KINDS)} mapping "
                                f"or one of {', '.join(BLOCK_KINDS)}")
            value = block[kind]
            if kind == "items":
                problem = "must be a non-empty list of text" if not isinstance(value, list) or not value else \
                    next((f"item {i} {p}" for i, p in enumerate(map(_text_problem, value), start=1) if p), None)
            elif kind == "code":
                problem = _text_problem(value)
            else:
                allowed = TIKZ_FIGURES if kind == "figure" else RUN_FIGURES
                problem = None if value in allowed else f"must be one of {', '.join(allowed)}, got {value!r}"
            if problem:
                raise BankError(f"{path}: {name}: block {b}: {kind} {problem}")
    return sections


def sections_for(context: Mapping[str, str], path: Path | str = SECTIONS_PATH) -> list[dict]:
    """The sections worded for one variant: every paragraph, item and listing is plain text."""
    _check_context(context)

    def block(b):
        if isinstance(b, str) or set(b) == set(KINDS):
            return fill(b, context)
        kind, value = next(iter(b.items()))
        if kind == "items":
            return {"items": [fill(i, context) for i in value]}
        return {"code": fill(value, context)} if kind == "code" else dict(b)

    return [{"title": fill(s["title"], context), "body": [block(b) for b in s["body"]]}
            for s in load_sections(path)]
