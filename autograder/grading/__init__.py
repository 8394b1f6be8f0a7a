"""`python build.py grade`: a TA grades a batch of submissions on this machine (or one share of them).

Each submission runs contained and a separate judge scores it (autograder/shipped/); this room adds
what a TA reads: grades.csv, report.html and written.html beside each submission's results.json, and
shard.json, which `build.py merge` uses to join shards graded elsewhere.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from assignment.config import load_config


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="build.py grade", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("submissions", nargs="+", help=".ipynb files or otter submission .zip files")
    p.add_argument("--variant", required=True, help="the variant the submissions were made for")
    p.add_argument("--out", default="graded")
    p.add_argument("--release", default="dist", help="the release folder holding the autograder zip")
    p.add_argument("--zip", help="grade with this autograder zip instead")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--timeout", type=int, default=None,
                   help="seconds the student side of one submission may run (default: the release's)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run student code uncontained (only where neither bubblewrap nor a sandbox user exists)")
    p.add_argument("--gradescope", action="store_true",
                   help="grade through the zip's own set-up and run_autograder, as Gradescope runs it (root)")
    p.add_argument("--shard", metavar="I/N",
                   help="grade only the I-th of N equal, deterministic shares of the submissions (1 <= I <= N); "
                        "join the shards' --out folders with `build.py merge`")
    p.add_argument("--anonymous", action="store_true", help="written.html hides names and student IDs")
    p.add_argument("--written-scores", metavar="FILE",
                   help="written_scores.csv (saved from written.html): add the written points to grades.csv and "
                        "report.html")
    return p


def publish(out: Path, results, written_records, record: dict, written_scores=None) -> dict:
    """grades.csv, report.html and written.html for results in their canonical order; record is the run's
    shard.json. With written_scores (a file), autograded + written = total in grades.csv and report.html."""
    from autograder.grading.batch import write_grades_csv
    from autograder.grading.curves import separation_curves
    from autograder.grading.report import write_report
    from autograder.grading.written import read_scores, score_keys, with_written, write_written_html
    cfg = load_config()
    variant = cfg.variant(record["variant"])
    questions, sha = record["written_questions"], record["release"]["sha256"]
    scores = None
    if written_scores:
        stems = [r["submission"] for r in results]
        others = [s for s in record["all_submissions"] if s not in set(stems)]
        scores = read_scores(written_scores, questions, score_keys(stems, sha), elsewhere=set(score_keys(others, sha)))
    grades = write_grades_csv(results, out / "grades.csv", questions, scores)
    shown = with_written(results, scores, questions) if scores is not None else results
    report = write_report(out, shown, curves=separation_curves(results, out, cfg, variant))
    page = write_written_html(out, questions, written_records, release_sha=sha, variant=variant.name,
                              title=record["title"], scores=scores, anonymous=record["anonymous"])
    return {"files": [grades, report, page], "scores": scores, "shown": shown}


def main(argv=None) -> int:
    from autograder.contract import zip_name
    from autograder.grading.batch import (canonical_order, grade_like_gradescope, grade_submissions, parse_shard,
                                          shard)
    from autograder.grading.merge import read_shard_record, write_shard_record
    from autograder.grading.written import (extract_written, read_scores, release_questions, score_keys,
                                            write_written_json)
    from autograder.shipped.grade import GradingError
    from replab.corpus import sha256_file
    args = parser().parse_args(argv)
    cfg = load_config()
    variant = cfg.variant(args.variant)
    zip_path = Path(args.zip) if args.zip else Path(args.release) / variant.name / "autograder" / zip_name(variant.name)
    out = Path(args.out)
    if not zip_path.is_file():
        raise GradingError(f"{zip_path}: no autograder zip; run `python build.py --variant {variant.name}` first or pass --zip")
    index, count = parse_shard(args.shard) if args.shard else (1, 1)
    ordered = canonical_order(args.submissions)
    mine = shard(ordered, index, count)
    paths, stems = [p for p, _ in mine], [s for _, s in mine]
    release_sha = sha256_file(zip_path)
    questions = release_questions(zip_path, variant)
    if args.written_scores:   # a mistake in the scores file stops us before the long part, not after
        others = [s for _, s in ordered if s not in set(stems)]
        read_scores(args.written_scores, questions, score_keys(stems, release_sha),
                    elsewhere=set(score_keys(others, release_sha)))
    if count > 1:
        print(f"shard {index}/{count}: {len(mine)} of {len(ordered)} submissions")
    out.mkdir(parents=True, exist_ok=True)
    if not mine:
        results = []
    elif args.gradescope:
        results = grade_like_gradescope(zip_path, paths, out, jobs=args.jobs, timeout=args.timeout, stems=stems)
    else:
        results = grade_submissions(paths, zip_path, out, jobs=args.jobs, timeout=args.timeout,
                                    mode="none" if args.no_sandbox else "auto", stems=stems)
    records = []
    for path, stem in mine:   # the written answers, read from the notebook as submitted (never run)
        records.append(extract_written(path, stem, questions))
        write_written_json(records[-1], out / stem)
    title = f"{cfg.title} — {variant.title}"
    write_shard_record(out, zip_path=zip_path, release_sha=release_sha, variant=variant.name, title=title,
                       index=index, count=count, ordered=ordered, graded=mine, questions=questions,
                       anonymous=args.anonymous)
    done = publish(out, results, records, read_shard_record(out), written_scores=args.written_scores)
    for r in done["shown"]:
        possible = sum(t["max_score"] for t in r["tests"])
        print(f"{r['submission']:<40} {r['score']:>6g}/{possible:g}  {r['output']}")
    sandboxes = sorted({r.get("extra_data", {}).get("sandbox", "?") for r in results})
    print(f"student code ran in: {', '.join(sandboxes)}" + ("  (NOT contained: --no-sandbox)" if "none" in sandboxes else ""))
    print(f"results: {out}/<submission>/results.json · " + " · ".join(str(p) for p in done["files"]))
    return 0
