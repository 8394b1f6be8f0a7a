"""`python build.py grade`: a TA grades a batch of submissions on this machine (or one share of them).

Each submission runs contained and a separate judge scores it (autograder/shipped/); this room adds
what a TA reads: grades.csv, report.html and written.html beside each submission's results.json, and
shard.json, which `build.py merge` uses to join shards graded elsewhere. Grading into a folder that
already holds the same release's grading adds or replaces only the submissions given (regrade.py).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from assignment.config import load_config
from autograder.contract import GRADESCOPE_CPUS, GRADESCOPE_MEMORY_GB


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="build.py grade", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("submissions", nargs="+", help=".ipynb files or otter submission .zip files")
    p.add_argument("--variant", required=True, help="the variant the submissions were made for")
    p.add_argument("--out", default="graded")
    p.add_argument("--release", default="dist", help="the release folder holding the autograder zip")
    p.add_argument("--zip", help="grade with this autograder zip instead")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--cpus", type=float, default=GRADESCOPE_CPUS,
                   help="--gradescope: the CPUs the container gets, as set in Gradescope's autograder settings "
                        f"(default {GRADESCOPE_CPUS:g}, Gradescope's default)")
    p.add_argument("--memory", type=float, default=float(GRADESCOPE_MEMORY_GB),
                   help="--gradescope: the container's memory in GB, as set in Gradescope (default "
                        f"{GRADESCOPE_MEMORY_GB:g}, the setting the README asks for; Gradescope's own default is 0.75)")
    p.add_argument("--timeout", type=int, default=None,
                   help="seconds the student side of one submission may run (default: the release's)")
    p.add_argument("--sandbox", choices=("auto", "bwrap", "user"), default="auto",
                   help="where student code runs: bwrap (bubblewrap), user (root only: fresh uids for each run, with "
                        "seccomp and Landlock, what Gradescope's container allows), or auto: the "
                        "first of those this machine has (default)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run student code uncontained (only where neither bubblewrap nor a sandbox user exists)")
    p.add_argument("--no-landlock", action="store_true",
                   help="--gradescope: the container refuses Landlock, as a Gradescope host with an older kernel or "
                        "Docker profile does (user mode then holds files by ownership and modes alone)")
    p.add_argument("--gradescope", action="store_true",
                   help="grade through the zip's own set-up and run_autograder, as Gradescope runs it (root)")
    p.add_argument("--image", action="store_true",
                   help="--gradescope: build the image as Gradescope does — a fresh Debian bookworm root "
                        "(debootstrap), the zip at /autograder/source, its setup.sh run there as root (apt and "
                        "pip from the package registries; torch from this machine's copy where PyTorch's index "
                        "is unreachable) — cached by the zip's setup files, and run run_autograder inside it "
                        "(no path of this machine visible); without it, run_autograder uses this machine's "
                        "Python and setup.sh's installs are skipped")
    p.add_argument("--shard", metavar="I/N",
                   help="grade only the I-th of N equal, deterministic shares of the submissions (1 <= I <= N); "
                        "join the shards' --out folders with `build.py merge`")
    p.add_argument("--anonymous", action="store_true", help="written.html hides names and student IDs")
    p.add_argument("--written-scores", metavar="FILE",
                   help="written_scores.csv (saved from written.html): add the written points to grades.csv and "
                        "report.html; optional columns comment and <question>_comment go to the feedback pages")
    p.add_argument("--roster", metavar="FILE",
                   help="the class list your LMS exports (CSV: Canvas, Moodle, or name,id,email): each submission is "
                        "joined to its student; kept in the folder for regrades and `build.py export`")
    return p


def main(argv=None) -> int:
    import shutil
    import tempfile
    from autograder.contract import notebook_name, zip_name
    from autograder.grading import regrade
    from autograder.grading.batch import (canonical_order, grade_like_gradescope, grade_submissions, inside,
                                          parse_shard, shard)
    from autograder.grading.folder import utc_stamp, write_shard_record
    from autograder.grading.publish import print_roster, republish
    from autograder.grading.roster import METADATA, read_roster
    from autograder.grading.similarity import blank_given_code, extract_code, write_answer_code
    from autograder.grading.written import (extract_written, read_scores, release_questions, score_keys,
                                            write_written_json)
    from autograder.shipped.grade import GradingError
    from replab.corpus import sha256_file
    args = parser().parse_args(argv)
    if args.no_landlock and not args.gradescope:
        raise GradingError("--no-landlock: a setting of --gradescope's container (this machine's own Landlock is "
                           "what it is); add --gradescope")
    if args.image and not args.gradescope:
        raise GradingError("--image: the image --gradescope's trial runs in; add --gradescope")
    cfg = load_config()
    variant = cfg.variant(args.variant)
    zip_path = Path(args.zip) if args.zip else Path(args.release) / variant.name / "autograder" / zip_name(variant.name)
    out = Path(args.out)
    if not zip_path.is_file():
        raise GradingError(f"{zip_path}: no autograder zip; run `python build.py --variant {variant.name}` first or pass --zip")
    index, count = parse_shard(args.shard) if args.shard else (1, 1)
    ordered = canonical_order(args.submissions)
    release_sha = sha256_file(zip_path)
    # A folder graded before with this release: only the given submissions are added or replaced.
    earlier = regrade.earlier_record(out, release_sha, zip_path)
    questions = release_questions(zip_path, variant)
    regrade.check_questions(out, earlier, questions)
    mine, ordered_record, graded_record = regrade.plan(out, earlier, ordered, shard(ordered, index, count), index, count)
    paths, stems = [p for p, _ in mine], [s for _, s in mine]
    if args.written_scores:   # a mistake in the scores file stops us before the long part, not after
        here = [s for _, s in graded_record]
        others = [s for _, s in ordered_record if s not in set(here)]
        read_scores(args.written_scores, questions, score_keys(here, release_sha),
                    elsewhere=set(score_keys(others, release_sha)))
    if args.roster:   # the roster too; rows that hold no student are named, once
        skipped = []
        read_roster(args.roster, skipped)
        for line in skipped:
            print(line)
    if count > 1:
        print(f"shard {index}/{count}: {len(mine)} of {len(ordered)} submissions")
    out.mkdir(parents=True, exist_ok=True)
    stamp = utc_stamp()
    # Graded into a staging folder, then moved in: an interrupted run leaves the earlier results in place.
    staging = inside(out, Path(tempfile.mkdtemp(prefix=".grading-", dir=out)))
    try:
        if not mine:
            results = []
        elif args.gradescope:
            results = grade_like_gradescope(zip_path, paths, staging, jobs=args.jobs, timeout=args.timeout, stems=stems,
                                            cpus=args.cpus, memory=int(args.memory * 2**30),
                                            landlock=not args.no_landlock, image=args.image)
        else:
            results = grade_submissions(paths, zip_path, staging, jobs=args.jobs, timeout=args.timeout,
                                        mode="none" if args.no_sandbox else args.sandbox, stems=stems, also_private=(out,))
        for path, stem in mine:   # the written answers, read from the notebook as submitted (never run)
            write_written_json(extract_written(path, stem, questions), staging / stem)
            metadata = path.parent / METADATA   # Gradescope's, where each submission has a folder of its own
            if metadata.is_file() and sum(p.parent == path.parent for p in paths) == 1:
                shutil.copyfile(metadata, inside(staging, staging / stem / METADATA))
            write_answer_code(extract_code(path, stem), staging / stem)   # for similarity.json, read, not run
        replaced = regrade.swap_in(out, staging, stems, stamp)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    title = f"{cfg.title} — {variant.title}"
    write_shard_record(out, zip_path=zip_path, release_sha=release_sha, variant=variant.name, title=title,
                       index=index, count=count, ordered=ordered_record, graded=graded_record, questions=questions,
                       anonymous=bool(args.anonymous or (earlier or {}).get("anonymous")),
                       shard_info=earlier["shard"] if earlier else None,   # a regrade keeps the folder's share
                       # the code every student was given, so similarity leaves it out (the release's blank
                       # notebook beside the zip: <release>/<variant>/student/; None when that is not there)
                       given_code=blank_given_code(zip_path.resolve().parents[1] / "student" / notebook_name(variant.name)))
    done = republish(out, written_scores=args.written_scores, roster=args.roster, fresh=results)
    now = set(stems)
    for r in done["shown"]:
        if r["submission"] in now:
            possible = sum(t["max_score"] for t in r["tests"])
            print(f"{r['submission']:<40} {r['score']:>6g}/{possible:g}  {r['output']}")
    for stem, kept in replaced:
        print(f"replaced {stem}: the earlier result is kept in {kept}")
    print_roster(done["roster"])
    if earlier is not None:
        print(f"{out}: {len(done['shown'])} submissions in all ({len(mine) - len(replaced)} added, "
              f"{len(replaced)} replaced); grades.csv, report.html and written.html rebuilt from all of them")
    sandboxes = sorted({r.get("extra_data", {}).get("sandbox", "?") for r in results})
    print(f"student code ran in: {', '.join(sandboxes)}" + ("  (NOT contained: --no-sandbox)" if "none" in sandboxes else ""))
    print(f"results: {out}/<submission>/results.json · " + " · ".join(str(p) for p in done["files"]))
    return 0
