"""`python build.py merge DIR... --out DIR`: join the outputs of `build.py grade --shard I/N` runs (on
one machine or as a cluster's array job) into one grades.csv, report.html and written.html.

Every grading run writes shard.json beside its results: the autograder zip's sha256, the full list of
submissions it was given, which of them this run graded, and the written questions it showed. The merge
refuses runs of different releases or of different submission lists (their shares would not add up), and
runs that graded the same submission twice; a missing shard is reported, and the rest still merged.
Also: `python build.py merge graded --out graded --written-scores written_scores.csv` adds the written
scores to one finished run without grading again.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from autograder.grading.folder import SHARD_JSON, MergeError, load_results, read_shard_record


def check_compatible(folders, records) -> list[str]:
    """Refuse runs that cannot be joined (MergeError); return warnings for what is merely missing."""
    first, base = folders[0], records[0]
    for folder, record in zip(folders[1:], records[1:]):
        if record["release"]["sha256"] != base["release"]["sha256"]:
            raise MergeError(f"{folder}: graded with another release than {first} (autograder zip sha256 "
                             f"{record['release']['sha256'][:12]}… vs {base['release']['sha256'][:12]}…); "
                             "merge only shards graded with the same zip")
        if record["all_submissions"] != base["all_submissions"] or record["shard"]["count"] != base["shard"]["count"]:
            raise MergeError(f"{folder}: split from another list of submissions than {first} "
                             f"({len(record['all_submissions'])} files in {record['shard']['count']} shards vs "
                             f"{len(base['all_submissions'])} in {base['shard']['count']}); give every shard the same files and N")
        if record["written_questions"] != base["written_questions"]:
            raise MergeError(f"{folder}: its written questions differ from those of {first} (the question bank "
                             "changed between the runs); grade every shard with the same checkout")
    seen = {}
    for folder, record in zip(folders, records):
        for entry in record["submissions"]:
            if entry["submission"] in seen:
                raise MergeError(f"{folder}: {entry['submission']} was graded in {seen[entry['submission']]} too; "
                                 "pass each shard's folder once")
            seen[entry["submission"]] = folder
    missing = [s for s in base["all_submissions"] if s not in seen]
    if not missing:
        return []
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    have = sorted({r["shard"]["index"] for r in records if "index" in r["shard"]})
    return [f"warning: {len(missing)} of {len(base['all_submissions'])} submissions are in no folder given "
            f"(shards given: {', '.join(map(str, have)) or 'none'} of {base['shard']['count']}): {shown}"]


def _differs(a: Path, b: Path) -> bool:
    try:
        return (a / "results.json").read_bytes() != (b / "results.json").read_bytes()
    except OSError:
        return True


def merge(folders, out: Path, written_scores=None, anonymous=False, roster=None) -> dict:
    """Join the shard folders into out (see the module's doc); returns what was written."""
    from autograder.grading.batch import inside
    from autograder.grading.folder import HISTORY, utc_stamp
    from autograder.grading.publish import publish
    from autograder.grading.written import read_written_json
    from autograder.grading.roster import KEPT_ROSTER, read_roster
    from autograder.grading.written import KEPT_SCORES, read_comments, read_scores, score_keys
    folders = [Path(f) for f in folders]
    records = [read_shard_record(f) for f in folders]
    warnings = check_compatible(folders, records)
    if roster:   # a bad roster stops the merge before anything is copied; rows holding no student are named
        skipped = []
        read_roster(roster, skipped)
        for line in skipped:
            print(line)
    out = Path(out)
    if (out / SHARD_JSON).is_file() and out.resolve() not in {f.resolve() for f in folders}:
        there = read_shard_record(out)   # a grading already there: only the same release's is replaced
        if there["release"]["sha256"] != records[0]["release"]["sha256"]:
            raise MergeError(f"{out}: graded with another release (autograder zip sha256 "
                             f"{there['release']['sha256'][:12]}…, not {records[0]['release']['sha256'][:12]}…); "
                             "use a new --out")
    out.mkdir(parents=True, exist_ok=True)
    stamp = utc_stamp()
    entries, results, written = [], [], []
    questions = records[0]["written_questions"]
    for folder, record in zip(folders, records):
        same = folder.resolve() == out.resolve()
        for entry, result in zip(record["submissions"], load_results(folder, record["submissions"])):
            if not same:   # a submission's folder travels whole: results.json, log, CSV, executed notebook
                dest = inside(out, out / entry["submission"])   # checked before anything is replaced
                if dest.exists() and _differs(dest, folder / entry["submission"]):   # e.g. regraded there since
                    keep = inside(out, out / HISTORY / f"{entry['submission']}-{stamp}")
                    keep.parent.mkdir(exist_ok=True)
                    if not keep.exists():
                        dest.rename(keep)
                shutil.rmtree(dest, ignore_errors=True)
                shutil.copytree(folder / entry["submission"], dest)
            entries.append(entry)
            results.append(result)
            written.append(read_written_json(out / entry["submission"], entry["submission"], questions))
    order = sorted(range(len(entries)), key=lambda i: entries[i]["position"])
    base = records[0]
    merged = {**base, "shard": {"count": base["shard"]["count"], "merged_from": [str(f) for f in folders]},
              "submissions": [entries[i] for i in order],
              "anonymous": bool(anonymous or any(r.get("anonymous") for r in records)),
              # a shard graded without the release's blank beside its zip has none; any other's serves
              "given_code": next((r["given_code"] for r in records if r.get("given_code") is not None), None)}
    (out / SHARD_JSON).write_text(json.dumps(merged, indent=1, ensure_ascii=False), encoding="utf-8")
    carried, said = {}, {}   # written scores and comments the shards' folders kept travel with their submissions
    sha = base["release"]["sha256"]
    for folder, record in zip(folders, records):
        if folder.resolve() != out.resolve() and (folder / KEPT_SCORES).is_file():
            keys = score_keys([e["submission"] for e in record["submissions"]], sha)
            elsewhere = set(score_keys(record["all_submissions"], sha))
            carried.update(read_scores(folder / KEPT_SCORES, questions, keys, elsewhere=elsewhere))
            said.update(read_comments(folder / KEPT_SCORES, questions, keys, elsewhere))
    if roster is None and not (out / KEPT_ROSTER).is_file():   # a shard's kept roster is the class's
        roster = next((f / KEPT_ROSTER for f in folders if (f / KEPT_ROSTER).is_file()), None)
    written_out = publish(out, [results[i] for i in order], [written[i] for i in order], merged,
                          written_scores=written_scores, scores=carried or None, comments=said or None, roster=roster)
    return {**written_out, "warnings": warnings, "submissions": len(entries)}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="build.py merge", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folders", nargs="+", metavar="DIR", help="output folders of `build.py grade --shard I/N`")
    p.add_argument("--out", required=True, help="the joined folder (may be one of the DIRs)")
    p.add_argument("--written-scores", metavar="FILE", help="written_scores.csv (from written.html) to add")
    p.add_argument("--anonymous", action="store_true", help="hide names in written.html (also if any shard did)")
    p.add_argument("--roster", metavar="FILE", help="the class list (CSV from Canvas, Moodle, or name,id,email) to "
                                                   "join submissions to students; kept in --out")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    from autograder.grading.publish import print_roster
    done = merge(args.folders, Path(args.out), args.written_scores, args.anonymous, roster=args.roster)
    for line in done["warnings"]:
        print(line)
    print_roster(done["roster"])
    print(f"merged {done['submissions']} submissions from {len(args.folders)} folder(s): "
          + " · ".join(str(p) for p in done["files"]))
    return 0
