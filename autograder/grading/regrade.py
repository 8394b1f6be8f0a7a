"""Grading into a folder that already holds a grading: add or replace only the submissions given.

A TA regrades one notebook (a fixed kernel, a late submission) with the same command into the same
--out. What the folder already holds stays: the other submissions' results, the written answers and the
written scores. The folder's shard.json says which release graded it; another release is refused (its
scores would not compare). A replaced result folder is moved, whole, to <out>/history/<stem>-<UTC time>/,
and the new results are graded into a staging folder first, so an interrupted regrade leaves the earlier
results where they were.

    earlier_record  the folder's shard.json, checked against this run's release (None: a new folder)
    plan            which result folder each given submission goes to, and the folder's record after it
    swap_in         the graded folders moved in, the replaced ones to history/
"""
from __future__ import annotations

from pathlib import Path

from autograder.grading.batch import inside
from autograder.grading.folder import HISTORY, SHARD_JSON, read_shard_record

def _error(message: str):
    from autograder.shipped.grade import GradingError
    return GradingError(message)


def earlier_record(out: Path, release_sha: str, zip_path: Path) -> dict | None:
    """The record of the grading already in out, if any; another release's grading is refused in one line
    (its results and this run's would not be comparable), before anything else is read."""
    if not (Path(out) / SHARD_JSON).is_file():
        return None
    record = read_shard_record(out)
    if record["release"]["sha256"] != release_sha:
        raise _error(f"{out}: graded with another release ({record['release'].get('zip', 'a zip')} sha256 "
                     f"{record['release']['sha256'][:12]}…, not {Path(zip_path).name} sha256 {release_sha[:12]}…); "
                     "use a new --out")
    return record


def check_questions(out: Path, earlier: dict | None, questions) -> None:
    if earlier is not None and earlier["written_questions"] != list(questions):
        raise _error(f"{out}: graded with other written questions (the question bank changed since); use a new --out")


def plan(out: Path, earlier: dict | None, ordered, mine, index: int, count: int):
    """→ (mine, ordered_record, graded_record): mine as [(path, result folder name)] — a submission graded
    here before from the same file keeps its folder, any other keeps its own name — and the lists
    write_shard_record takes for the folder after this run. A shard's folder takes only its own
    submissions (else the merge could not join it)."""
    if earlier is None:
        return mine, ordered, mine
    entries = {e["submission"]: e for e in earlier["submissions"]}
    by_source = {}
    for e in earlier["submissions"]:
        by_source[e["source"]] = e["submission"]
        by_source.setdefault(str(Path(e["source"]).resolve()), e["submission"])
    folded = {s.casefold() for s in entries}
    again = []
    for path, stem in mine:
        known = by_source.get(str(path)) or by_source.get(str(Path(path).resolve()))
        if known is None and stem not in entries and stem.casefold() in folded:
            n = 2   # "alice" beside an earlier "Alice": one folder on a case-insensitive disk
            while f"{stem}-{n}".casefold() in folded:
                n += 1
            known = f"{stem}-{n}"
        again.append((path, known or stem))
    mine = again
    stems = [stem for _, stem in mine]
    if len(set(stems)) != len(stems):
        twice = next(s for s in stems if stems.count(s) > 1)
        raise _error(f"{out}: two of the files given would replace the result {twice}; give one of them")
    old = earlier["shard"]
    if old["count"] > 1 or count > 1:   # a shard's folder: its list and share are fixed by the class
        if count > 1 and (old.get("index"), old["count"]) != (index, count):
            where = f"shard {old['index']}/{old['count']}" if "index" in old else f"{old['count']} merged shards"
            raise _error(f"{out}: holds {where}, not shard {index}/{count}; use a new --out")
        stranger = [s for s in stems if s not in entries]
        if stranger:
            raise _error(f"{out}: {stranger[0]} is not one of this shard's submissions; regrade it where its shard "
                         "was graded, or grade into a new --out")
        all_stems = list(earlier["all_submissions"])
    else:   # one run's folder: the class is what it held plus what is added, in the canonical order
        sources = {s: e["source"] for s, e in entries.items()}
        sources.update({stem: str(path) for path, stem in mine})
        all_stems = sorted(sources, key=lambda s: (Path(sources[s]).name, sources[s], s))
    graded = {s: Path(e["source"]) for s, e in entries.items()}
    graded.update({stem: Path(path) for path, stem in mine})
    ordered_record = [(graded.get(s), s) for s in all_stems]
    return mine, ordered_record, [(graded[s], s) for s in all_stems if s in graded]


def swap_in(out: Path, staging: Path, stems, stamp: str) -> list[tuple[str, Path]]:
    """Move each graded folder from staging into out; a folder it replaces goes to
    out/history/<stem>-<stamp>/ first. Returns [(stem, where the replaced folder now is)]."""
    replaced = []
    for stem in stems:
        dest = inside(out, Path(out) / stem)   # checked before anything is moved
        if dest.exists() or dest.is_symlink():
            keep, n = inside(out, Path(out) / HISTORY / f"{stem}-{stamp}"), 2
            while keep.exists():
                keep, n = inside(out, Path(out) / HISTORY / f"{stem}-{stamp}-{n}"), n + 1
            keep.parent.mkdir(exist_ok=True)
            dest.rename(keep)
            replaced.append((stem, keep))
        (Path(staging) / stem).rename(dest)
    return replaced
