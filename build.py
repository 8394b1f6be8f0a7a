#!/usr/bin/env python3
"""Lab 8 course tooling — the one command.

    python build.py [--variant NAME]... [--data-dir PATH] [--out DIR] [--jobs N]
        Release every variant into dist/: student notebook + support files, Gradescope autograder
        zip, executed solution with its CSV and pictures, the worksheet PDFs, and release.json.
        Every build verifies itself; a failure stops the release with a non-zero exit.
    python build.py grade SUBMISSION... --variant NAME [--out DIR] [--jobs N] [--timeout S] [--gradescope]
        Grade notebooks (or zips holding one) with the released autograder: each runs contained, a
        separate judge scores it; results.json per submission, grades.csv and report.html for TAs.
        --gradescope runs the zip's own run_autograder as Gradescope does (as root).
    python build.py validate FILE.csv [--variant NAME]
        The public checks on a Mantis CSV export, with clear messages.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(ROOT / "assignment")]

from assignment.config import VARIANT_NAMES, ConfigError, load_config  # noqa: E402
from autograder.sandbox import SandboxError  # noqa: E402
from replab.corpus import DataError, sha256_file  # noqa: E402


# ------------------------------------------------------------------------------------- release
def _verify_mode() -> str:
    from autograder.sandbox import SandboxError, choose_mode
    try:
        return choose_mode()
    except SandboxError:
        return "none"


def release_variant(cfg, variant, out: Path, data_dir: Path | None, live: bool, timeout: int) -> dict:
    from autograder import assign, verify
    from autograder.contract import GradingSpec, snapshot_name, zip_name
    from autograder.grade import grade_submissions
    from replab.sources import load_corpus
    from worksheet.bank import notebook_questions

    seconds, name = {}, variant.name
    dest, work = out / name, out / ".work" / name
    for d in (dest, work):
        shutil.rmtree(d, ignore_errors=True)
    work.mkdir(parents=True)

    t = time.monotonic()
    corpus = load_corpus(variant, data_dir=data_dir, cache_dir=out / ".cache", seed=cfg.seed, live=live)
    print(f"[{name}] data: {corpus.source} — {len(corpus)} items, {len(corpus.class_names)} classes", flush=True)
    snapshot = work / f"{name}.npz"
    sha = corpus.save(snapshot)
    seconds["data"] = time.monotonic() - t

    step = lambda label: print(f"[{name}] {label} …", flush=True)  # progress, one line per step
    t = time.monotonic()
    step("render master notebook")
    from worksheet.bank import variant_context  # the written questions speak of this variant's own data
    bank = notebook_questions(variant_context(variant.kind, variant.embedding_dim, corpus.class_names, variant.title))
    data_info = {"offline": corpus.source.startswith("offline default"), "classes": corpus.class_names,
                 "source": corpus.source}
    master = assign.prepare_master(cfg, variant, snapshot, work / "master", bank, data_info)
    seconds["render"] = time.monotonic() - t

    t = time.monotonic()
    step("otter assign, autograder zip")
    student_dir = assign.run_otter_assign(master, work / "assigned")
    spec = GradingSpec.from_config(cfg, variant)
    zip_path = assign.build_autograder_zip(spec, student_dir, work / zip_name(name))
    seconds["assign"] = time.monotonic() - t

    t = time.monotonic()
    step("execute the solution")
    solution_nb = work / "assigned" / "autograder" / master.name
    executed = verify.execute_notebook(solution_nb, [student_dir / "replab", student_dir / "data", student_dir / "tests"],
                                       dest / "solutions", timeout=timeout)
    seconds["execute"] = time.monotonic() - t

    t = time.monotonic()
    step("verify: grade solution and blank notebook, scan for leaks")
    # Our own two notebooks: contained when a sandbox is at hand, else run as they are (trusted code).
    graded = grade_submissions([executed, student_dir / master.name], zip_path, work / "grading", jobs=2,
                               timeout=timeout, mode=_verify_mode(), progress=False)
    solution, blank = graded
    possible = spec.possible
    judge_src = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "autograder" / "judge").glob("*.py"))]
    forbidden = {"lab8_checks": "the hidden checks module", "autograder.judge": "the judge's code"}
    replab_src = [p.read_text(encoding="utf-8") for p in sorted((student_dir / "replab").rglob("*.py"))]
    secret = verify.secret_lines(master, judge_src + [q.answer for q in bank], replab_src)
    leaks = verify.leak_scan(student_dir, secret,
                             forbidden, allowed_files={master.name, snapshot_name(name), "replab/*", "tests/*"})
    seconds["verify"] = time.monotonic() - t

    shutil.copytree(student_dir, dest / "student")
    (dest / "autograder").mkdir()
    shutil.copy(zip_path, dest / "autograder" / zip_name(name))
    files = {p.relative_to(out).as_posix(): sha256_file(p) for p in sorted(dest.rglob("*")) if p.is_file()}
    record = {
        "solution": {"score": solution["score"], "possible": possible, "output": solution["output"],
                     "sandbox": solution["extra_data"]["sandbox"]},
        "blank": {"score": blank["score"], "possible": possible,
                  "per_question": {t["name"]: t["score"] for t in blank["tests"]}},
        "leaks": leaks,
        "data": {"source": corpus.source, "sha256": sha, "items": len(corpus), "classes": corpus.counts()},
        "files": files,
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
    }
    problems = []
    if abs(solution["score"] - possible) > 1e-6:
        problems.append(f"solution scores {solution['score']:g}/{possible:g} ({solution['output']}) "
                        f"[{dest / 'solutions' / master.name}]")
    if any(t["score"] > 0 for t in blank["tests"]):
        problems.append(f"blank student notebook scores {blank['score']:g} [{dest / 'student' / master.name}]")
    problems += [f"leak: {dest / 'student'}/{leak}" for leak in leaks]
    record["problems"] = problems
    print(f"[{name}] {'done' if not problems else 'FAILED'} in {sum(seconds.values()):.0f} s", flush=True)
    return record


def build_worksheet_step(cfg, out: Path) -> dict:
    """One worksheet and answer key per released variant, in <out>/worksheet/<variant>/, worded for the data
    that variant shipped (class names read back from its snapshot, so an offline stand-in gets its own
    classes) and showing that variant's reference-run figures."""
    from autograder.contract import snapshot_name
    from replab.corpus import Corpus
    from worksheet.bank import RUN_FIGURES, variant_context
    from worksheet.build import build_worksheet
    t = time.monotonic()
    root = out / "worksheet"
    # Earlier releases put one worksheet for all variants straight into worksheet/; drop it so no stale
    # copy sits beside the per-variant folders.
    for stale in (root.glob("*") if root.is_dir() else ()):
        if stale.is_file():
            stale.unlink()
    pdfs, per_variant, skipped = [], {}, "no variant was released"
    for name, variant in cfg.variants.items():
        snapshot = out / name / "student" / snapshot_name(name)
        if not snapshot.is_file():
            continue  # not released (this run or an earlier one into the same --out)
        context = variant_context(variant.kind, variant.embedding_dim, Corpus.load(snapshot).class_names, variant.title)
        runs = out / name / "solutions"
        figures = {k: runs / f"{k}.png" for k in RUN_FIGURES if (runs / f"{k}.png").is_file()}
        shutil.rmtree(root / name, ignore_errors=True)
        result = build_worksheet(root / name, context, figures=figures or None, title=cfg.title, term=cfg.term)
        skipped = result["skipped"]
        if skipped:  # no TeX: the same for every variant
            break
        rel = [Path(p).relative_to(out).as_posix() for p in result["pdfs"]]
        pdfs += rel
        per_variant[name] = {"pdfs": rel, "figures": sorted(figures), "context": context}
    return {"pdfs": pdfs, "skipped": skipped, "variants": per_variant, "seconds": round(time.monotonic() - t, 1)}


def _versions() -> dict:
    import numpy, otter, sklearn, torch, torchvision
    return {"python": platform.python_version(), "torch": torch.__version__, "torchvision": torchvision.__version__,
            "numpy": numpy.__version__, "scikit-learn": sklearn.__version__, "otter-grader": otter.__version__}


def release(args) -> int:
    started = time.monotonic()
    cfg = load_config()
    names = args.variant or [n for n in VARIANT_NAMES if n in cfg.variants]
    for n in names:
        cfg.variant(n)  # unknown names fail here, before any work
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(args.data_dir) if args.data_dir else None
    if data_dir is not None and not data_dir.is_dir():
        raise DataError(f"{data_dir}: --data-dir is not a folder")

    def one(n):
        try:
            return n, release_variant(cfg, cfg.variant(n), out, data_dir, not args.offline, args.timeout)
        except Exception as e:  # one variant's failure is reported, the others still build
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            return n, {"problems": [f"{type(e).__name__}: {first}"]}

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        records = dict(pool.map(one, names))

    worksheet = build_worksheet_step(cfg, out)
    shutil.rmtree(out / ".work", ignore_errors=True)
    total = round(time.monotonic() - started, 1)
    manifest = {"variants": records, "worksheet": worksheet, "versions": _versions(), "seconds": total,
                "config": str(cfg.path.relative_to(ROOT))}
    (out / "release.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")

    print(f"\n{'variant':<10} {'solution':>9} {'blank':>7} {'leaks':>5} {'seconds':>8}  data")
    for n, r in records.items():
        if "solution" in r:
            print(f"{n:<10} {r['solution']['score']:>4g}/{r['solution']['possible']:<4g} {r['blank']['score']:>7g} "
                  f"{len(r['leaks']):>5} {sum(r['seconds'].values()):>8.1f}  {r['data']['source'][:60]}")
        else:
            print(f"{n:<10} {'failed':>9}")
    ws = "PDFs: " + ", ".join(worksheet["pdfs"]) if worksheet["pdfs"] else f"PDFs skipped — {worksheet['skipped']}"
    print(f"worksheet  {ws}\nrelease    {out / 'release.json'} ({total:.0f} s)")
    failed = [f"{n}: {p}" for n, r in records.items() for p in r["problems"]]
    for line in failed:
        print(f"FAILED {line}", file=sys.stderr)
    return 1 if failed else 0


# ------------------------------------------------------------------------------------- grade
def grade(args) -> int:
    from autograder.contract import zip_name
    from autograder.curves import separation_curves
    from autograder.grade import grade_submissions, write_grades_csv
    from autograder.report import write_report
    cfg = load_config()
    variant = cfg.variant(args.variant)
    zip_path = Path(args.zip) if args.zip else Path(args.release) / variant.name / "autograder" / zip_name(variant.name)
    out = Path(args.out)
    if not zip_path.is_file():
        raise FileNotFoundError(f"{zip_path}: no autograder zip; run `python build.py --variant {variant.name}` first or pass --zip")
    if args.gradescope:
        from autograder.gradescope import grade_like_gradescope
        results = grade_like_gradescope(zip_path, args.submissions, out, jobs=args.jobs, timeout=args.timeout)
    else:
        results = grade_submissions(args.submissions, zip_path, out, jobs=args.jobs, timeout=args.timeout,
                                    mode="none" if args.no_sandbox else "auto")
    write_grades_csv(results, out / "grades.csv")
    report = write_report(out, results, curves=separation_curves(results, out, cfg, variant))
    possible = sum(cfg.points.values())
    for r in results:
        print(f"{r['submission']:<40} {r['score']:>6g}/{possible:g}  {r['output']}")
    sandboxes = sorted({r.get("extra_data", {}).get("sandbox", "?") for r in results})
    print(f"student code ran in: {', '.join(sandboxes)}" + ("  (NOT contained: --no-sandbox)" if "none" in sandboxes else ""))
    print(f"results: {out}/<submission>/results.json · {out / 'grades.csv'} · {report}")
    return 0


# ------------------------------------------------------------------------------------- validate
def validate(args) -> int:
    from replab.mantis import read_mantis_csv
    cfg = load_config()
    dim = cfg.variant(args.variant).embedding_dim if args.variant else None
    table = read_mantis_csv(args.csv, epochs=cfg.epochs + 1, dim=dim)
    _, n, d = table.embeddings.shape
    print(f"{args.csv}: OK — {n} rows, epochs 0–{cfg.epochs}, {d} dimensions, "
          f"{len(set(table.categories))} categories, splits {sorted(set(table.splits))}")
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv and argv[0] in ("grade", "validate", "release") else "release"
    if argv and argv[0] == command:
        argv = argv[1:]
    p = argparse.ArgumentParser(prog=f"build.py {command}" if command != "release" else "build.py",
                                description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    if command == "release":
        p.add_argument("--variant", action="append", choices=VARIANT_NAMES, help="build only this variant (repeatable)")
        p.add_argument("--data-dir", help="read corpora from this folder (layout of ../shared/fixtures)")
        p.add_argument("--out", default="dist")
        p.add_argument("--jobs", type=int, default=1, help="variants built at once")
        p.add_argument("--offline", action="store_true", help="never try the live sources")
        p.add_argument("--timeout", type=int, default=900, help="seconds one notebook may run")
        run = release
    elif command == "grade":
        p.add_argument("submissions", nargs="+", help=".ipynb files or otter submission .zip files")
        p.add_argument("--variant", required=True, choices=VARIANT_NAMES)
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
        run = grade
    else:
        p.add_argument("csv")
        p.add_argument("--variant", choices=VARIANT_NAMES, help="also check the embedding dimension")
        run = validate
    args = p.parse_args(argv)
    try:
        return run(args)
    except (ConfigError, DataError, ValueError, FileNotFoundError, SandboxError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
