"""`python build.py` (release): every variant of the config into dist/ — the student notebook and its
files, the Gradescope autograder zip, the executed solution with its CSV and pictures, the worksheet
PDFs and release.json. Every release verifies itself; a failure stops it with a non-zero exit.

One variant's release is an ordered list of named steps (STEPS), each timed. The ordering rules:

    data      first: every later step reads the frozen snapshot it writes; it refuses data whose
              separation thresholds were never calibrated (build.py calibrate), before any long work
    render    after data: the written questions and the intro are worded from the data's classes
    assign    after render: otter assign splits the master; the zip packs the student files it made, and
              so does the student bundle (student.zip), whose sha256 is then pinned in the notebooks
    execute   after assign: runs the solution notebook beside exactly the files students get
    verify    after execute and assign: grades the executed solution (full marks, with 30 % of
              Gradescope's 10 minutes to spare) and the blank student notebook (0) with the zip through
              the Gradescope trial (root: the container Gradescope gives, half a CPU), scans the student
              folder for leaks, and checks the solution's separation against the calibrated thresholds
    mutate    after data and assign (its grading spec): the known mistakes (mistakes.py), each applied to the
              reference solution and judged by the release's checks on this data; one no check catches, or
              an honest variant that loses points, fails the release (--force records it instead). verify
              starts it beside its own gradings (which mostly wait on the trial's half a CPU); this step
              waits for it and records it
    publish   last, and only when every step before it passed: copies from .work/ into dist/<variant>/
              and writes the written-answers assignment's Gradescope outline beside it

Work happens in <out>/.work/<variant>/. When a step fails, .work is kept and the message names files
that exist there; it is removed only after a release in which every step of every variant passed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from assignment.config import load_config
from replab.corpus import DataError, sha256_file
from replab.errors import LabError

ROOT = Path(__file__).resolve().parents[2]


class ReleaseError(LabError):
    """A release step that cannot go on; the message names the file or config key."""


@dataclass
class Build:
    """What one variant's steps hand on to the next."""
    cfg: object
    variant: object
    out: Path
    data_dir: Path | None
    live: bool
    timeout: int
    work: Path = None
    dest: Path = None
    corpus: object = None
    snapshot: Path = None
    thresholds: object = None
    bank: list = None
    master: Path = None
    student_dir: Path = None
    spec: object = None
    zip_path: Path = None
    bundle: Path = None
    executed: Path = None
    force: bool = False
    mutation: object = None     # the mutation proof, running beside verify (a Future)
    record: dict = field(default_factory=dict)


def calibrate_command(b: Build) -> str:
    """The calibrate command for this variant with the data options this release was given, so that the
    instructor can paste it and calibrate exactly the data the release refused."""
    import shlex

    from assignment.config import CONFIG_PATH
    words = ["python", "build.py", "calibrate", "--variant", b.variant.name]
    if Path(b.cfg.path).resolve() != CONFIG_PATH.resolve():
        words += ["--config", str(b.cfg.path)]
    if b.data_dir is not None:
        words += ["--data-dir", str(b.data_dir)]
    if not b.live:
        words += ["--offline"]
    return shlex.join(words)


def step_data(b: Build) -> None:
    from assignment.sources import load_variant_corpus
    name = b.variant.name
    corpus = load_variant_corpus(b.cfg, b.variant, data_dir=b.data_dir, cache_dir=b.out / ".cache", live=b.live)
    print(f"[{name}] data: {corpus.source} — {len(corpus)} items, {len(corpus.class_names)} classes", flush=True)
    digest = corpus.digest()
    b.thresholds = b.variant.thresholds(digest)
    if b.thresholds is None:
        raise ReleaseError(f"{b.cfg.path}: variants.{name}.calibration: no separation thresholds for this data "
                           f"(sha256 {digest[:12]}…, {corpus.source}); run `{calibrate_command(b)}` first")
    from autograder.contract import snapshot_name
    b.corpus, b.snapshot = corpus, b.work / snapshot_name(name)
    sha = corpus.save(b.snapshot)
    b.record["data"] = {"source": corpus.source, "sha256": digest, "snapshot_sha256": sha, "items": len(corpus),
                        "classes": corpus.counts()}
    # what calibrate measured on this data, and whether the instructor released it though it did not separate
    b.record["calibration"] = {"forced": b.thresholds.forced, "measured": b.thresholds.measured}


def step_render(b: Build) -> None:
    from autograder.release import assign
    from worksheet.bank import context_for, notebook_questions
    v, corpus = b.variant, b.corpus
    # the written questions speak of this variant's own data: its classes, and the pairs its calibration chose
    b.bank = notebook_questions(context_for(v, corpus.class_names, b.thresholds))
    data_info = {"offline": corpus.meta.get("origin") == "offline", "classes": corpus.class_names,
                 "source": corpus.source, "hard_to_separate": b.thresholds.forced}
    b.master = assign.prepare_master(b.cfg, v, b.snapshot, b.work / "master", b.bank, data_info)


def step_assign(b: Build) -> None:
    from autograder.contract import GradingSpec, zip_name
    from autograder.release import assign
    b.student_dir = assign.run_otter_assign(b.master, b.work / "assigned")
    b.spec = GradingSpec.from_config(b.cfg, b.variant)
    b.zip_path = assign.build_autograder_zip(b.spec, b.student_dir, b.work / zip_name(b.variant.name))
    # the student bundle (for a notebook opened alone) and its sha256, pinned in the student and solution notebooks
    b.bundle = assign.build_student_bundle(b.student_dir, b.work / "student.zip")
    sha = sha256_file(b.bundle)
    assign.pin_bundle([b.student_dir / b.master.name, b.work / "assigned" / "autograder" / b.master.name], sha)
    name = b.variant.name
    b.record["bundle"] = {"file": f"{name}/student.zip", "sha256": sha, "url": b.cfg.bundle_url(name),
                          "colab_url": b.cfg.colab_url(name, b.master.name)}


def step_execute(b: Build) -> None:
    from autograder.release import verify
    solution_nb = b.work / "assigned" / "autograder" / b.master.name
    support = [b.student_dir / "replab", b.student_dir / "data", b.student_dir / "tests"]
    b.executed = verify.execute_notebook(solution_nb, support, b.work / "solutions", timeout=b.timeout)


def _verify_mode() -> str:
    from autograder.shipped.sandbox import SandboxError, choose_mode
    try:
        return choose_mode()
    except SandboxError:   # our own two notebooks are trusted code: run as they are
        return "none"


GRADESCOPE_LIMIT = 600    # Gradescope's autograder timeout (the README's setting: 10 minutes)
SPARE = 0.30              # the share of it the solution's trial must leave unused


def grade_for_release(b: Build, solution: Path, blank: Path) -> tuple[dict, dict, dict]:
    """The solution graded where students are: through the zip's own set-up and run_autograder in the
    container Gradescope gives (container.py: half a CPU, the README's 3 GB, Docker's capabilities, no user
    namespaces; the grader picks its sandbox itself). That needs root; without it, the solution is graded on
    this machine's own sandbox and the record says why. The blank notebook (it must score 0: a question of
    the checks, not of the container) is graded on this machine's sandbox meanwhile.
    Returns (solution's results, blank's, the trial's record)."""
    from autograder.grading.batch import grade_like_gradescope, grade_submissions

    def local(notebook):
        return grade_submissions([notebook], b.zip_path, b.work / "grading" / notebook.stem, jobs=1,
                                 timeout=b.timeout, mode=_verify_mode(), progress=False)[0]
    with ThreadPoolExecutor(max_workers=2) as pool:
        blanks = pool.submit(local, blank)
        if os.geteuid() == 0:
            graded = grade_like_gradescope(b.zip_path, [solution], b.work / "grading" / "trial", progress=False)[0]
            trial = {"path": "gradescope trial", "container": graded["extra_data"]["trial"]["container"],
                     "memory_peak_bytes": graded["extra_data"]["trial"]["memory_peak_bytes"]}
        else:
            graded = local(solution)
            trial = {"path": "local", "container": "none: the Gradescope trial runs the zip as root, as Gradescope "
                     "does; run the release as root to have it"}
        trial["solution_seconds"] = graded["execution_time"]
        return graded, blanks.result(), trial


def step_verify(b: Build) -> None:
    from autograder.contract import snapshot_name
    from autograder.grading.curves import heldout_silhouettes
    from autograder.release import verify
    name, spec = b.variant.name, b.spec
    b.mutation = ThreadPoolExecutor(max_workers=1).submit(_prove, b)   # beside the gradings: step_mutate waits
    solution, blank, trial = grade_for_release(b, b.executed, b.student_dir / b.master.name)
    judge_src = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "autograder" / "shipped" / "judge").glob("*.py"))]
    forbidden = {"lab8_checks": "the hidden checks module", "autograder.shipped.judge": "the judge's code"}
    replab_src = [p.read_text(encoding="utf-8") for p in sorted((b.student_dir / "replab").rglob("*.py"))]
    secret = verify.secret_lines(b.master, judge_src + [q.answer for q in b.bank], replab_src)
    leaks = verify.leak_scan(b.student_dir, secret, forbidden,
                             allowed_files={b.master.name, snapshot_name(name), "replab/*", "tests/*"})
    curve = heldout_silhouettes(b.executed.parent / b.cfg.csv_name, epochs=b.cfg.epochs + 1, dim=spec.dim)
    t = b.thresholds
    b.record.update({
        "solution": {"score": solution["score"], "possible": spec.possible, "output": solution["output"],
                     "sandbox": solution["extra_data"]["sandbox"],
                     "containment": solution["extra_data"].get("containment")},
        "trial": trial,
        "blank": {"score": blank["score"], "possible": spec.possible,
                  "per_question": {t["name"]: t["score"] for t in blank["tests"]}},
        "leaks": leaks,
        "separation": {"silhouette_first": round(curve[0], 3), "silhouette_last": round(curve[-1], 3),
                       "silhouette_min": t.silhouette_min, "silhouette_gain_min": t.silhouette_gain_min},
    })
    problems = []
    if abs(solution["score"] - spec.possible) > 1e-6:
        problems.append(f"solution scores {solution['score']:g}/{spec.possible:g} ({solution['output']}) [{b.executed}]")
    if trial["path"] == "gradescope trial" and trial["solution_seconds"] > (1 - SPARE) * GRADESCOPE_LIMIT:
        problems.append(f"the solution took {trial['solution_seconds']:g} s of Gradescope's {GRADESCOPE_LIMIT} s in the "
                        f"trial ({trial['container']}): less than {SPARE:.0%} to spare; make the variant cheaper or "
                        f"have the README name the CPUs it needs [{b.zip_path}]")
    if any(test["score"] > 0 for test in blank["tests"]):
        problems.append(f"blank student notebook scores {blank['score']:g} [{b.student_dir / b.master.name}]")
    problems += [f"leak: {b.student_dir}/{leak}" for leak in leaks]
    if not (curve[-1] >= t.silhouette_min and curve[-1] - curve[0] >= t.silhouette_gain_min):
        problems.append(f"the solution's held-out silhouette goes {curve[0]:.3f} → {curve[-1]:.3f}; calibrated: at "
                        f"least {t.silhouette_min:g}, gaining {t.silhouette_gain_min:g} [{b.executed.parent / b.cfg.csv_name}]")
    if problems:
        raise ReleaseError("; ".join(problems))


def _prove(b: Build) -> dict:
    from autograder.release import mistakes
    from autograder.shipped.judge.reference import cached_lab_reference
    return mistakes.prove(b.spec, cached_lab_reference(b.spec, b.snapshot))


def step_mutate(b: Build) -> None:
    """Mutation analysis on this variant's own data: every known mistake must cost its question, through the
    check meant for it, and every honest variant must keep full marks (autograder/release/mistakes.py)."""
    from autograder.release import mistakes
    record = (b.mutation or ThreadPoolExecutor(max_workers=1).submit(_prove, b)).result()
    found = mistakes.problems(record)
    b.record["mutation"] = {"score": record["score"], "seconds": record["seconds"], "forced": bool(found and b.force),
                            "uncaught": record["uncaught"], "honest_lost": record["honest_lost"],
                            "mistakes": {n: {k: r[k] for k in ("question", "lost", "caught_by", "caught")}
                                         for n, r in record["mistakes"].items()},
                            "honest": {n: r["full"] for n, r in record["honest"].items()}}
    print(f"[{b.variant.name}] mutation: {record['score']} known mistakes caught, "
          f"{len(record['honest']) - len(record['honest_lost'])}/{len(record['honest'])} honest variants at full marks",
          flush=True)
    if found and not b.force:
        raise ReleaseError("; ".join(found) + " (the checks cannot tell these apart on this data; `--force` releases "
                           "it anyway and records them)")


def step_publish(b: Build) -> None:
    from autograder.contract import zip_name
    shutil.rmtree(b.dest, ignore_errors=True)
    shutil.copytree(b.student_dir, b.dest / "student")
    shutil.copytree(b.work / "solutions", b.dest / "solutions")
    (b.dest / "autograder").mkdir()
    shutil.copy(b.zip_path, b.dest / "autograder" / zip_name(b.variant.name))
    shutil.copy(b.bundle, b.dest / "student.zip")
    colab = b.record["bundle"]["colab_url"]
    if colab:   # for the course page: the badge Colab itself documents
        (b.dest / "open_in_colab.md").write_text(
            f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})\n", encoding="utf-8")
    # the written answers' Gradescope assignment: its outline matches every student's exported PDF
    from worksheet.outline import write_gradescope_outline
    write_gradescope_outline(b.dest / "written", b.bank, title=f"{b.cfg.title} — {b.variant.title}")
    b.record["files"] = {p.relative_to(b.out).as_posix(): sha256_file(p) for p in sorted(b.dest.rglob("*")) if p.is_file()}


# The release of one variant, in order (the rules are in the module's docstring).
STEPS = [
    ("data", step_data),
    ("render", step_render),
    ("assign", step_assign),
    ("execute", step_execute),
    ("verify", step_verify),
    ("mutate", step_mutate),
    ("publish", step_publish),
]


def release_variant(b: Build) -> dict:
    """Run STEPS in order, timing each; the first failure stops the variant and is recorded with the
    step's name. Returns the variant's record for release.json ("problems" empty when it passed)."""
    name = b.variant.name
    b.work, b.dest = b.out / ".work" / name, b.out / name
    shutil.rmtree(b.work, ignore_errors=True)
    b.work.mkdir(parents=True)
    seconds, problems = {}, []
    for step, run in STEPS:
        print(f"[{name}] {step} …", flush=True)
        started = time.monotonic()
        try:
            run(b)
        except Exception as e:   # one variant's failure is reported; the other variants still build
            if not isinstance(e, LabError):
                import traceback
                traceback.print_exc()
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            problems.append(f"{step}: {first}" if isinstance(e, LabError) else f"{step}: {type(e).__name__}: {first}")
            break
        finally:
            seconds[step] = round(time.monotonic() - started, 1)
    b.record.update({"seconds": seconds, "problems": problems})
    if problems:
        b.record["work"] = str(b.work)   # kept: the messages point into it
    print(f"[{name}] {'done' if not problems else 'FAILED at ' + list(seconds)[-1]} in {sum(seconds.values()):.0f} s",
          flush=True)
    return b.record


def build_worksheet_step(cfg, out: Path) -> dict:
    """One worksheet and answer key per released variant, in <out>/worksheet/<variant>/, worded for the data
    that variant shipped (class names read back from its snapshot, so an offline stand-in gets its own
    classes) and showing that variant's reference-run figures. A failure is reported, not raised."""
    from autograder.contract import snapshot_name
    from replab.corpus import Corpus
    from worksheet.bank import RUN_FIGURES, context_for
    from worksheet.build import build_worksheet, sketch_points
    t = time.monotonic()
    root = out / "worksheet"
    # Earlier releases put one worksheet for all variants straight into worksheet/; drop it so no stale
    # copy sits beside the per-variant folders.
    for stale in (root.glob("*") if root.is_dir() else ()):
        if stale.is_file():
            stale.unlink()
    pdfs, per_variant, skipped, problems = [], {}, "no variant was released", []
    for name, variant in cfg.variants.items():
        snapshot = out / name / "student" / snapshot_name(name)
        if not snapshot.is_file():
            continue  # not released (this run or an earlier one into the same --out)
        try:
            corpus = Corpus.load(snapshot)
            # worded from this data's own calibration (its measurements, pairs, --force), none if never calibrated
            context = context_for(variant, corpus.class_names, variant.thresholds(corpus.digest()))
            runs = out / name / "solutions"
            figures = {k: runs / f"{k}.png" for k in RUN_FIGURES if (runs / f"{k}.png").is_file()}
            shutil.rmtree(root / name, ignore_errors=True)
            # the clusters figure from the reference run's own points, where this release has its CSV
            csv = runs / cfg.csv_name
            run_points = sketch_points(csv, corpus.class_names) if csv.is_file() else None
            result = build_worksheet(root / name, context, figures=figures or None, title=cfg.title, term=cfg.term,
                                     run_points=run_points)
        except LabError as e:
            problems.append(f"worksheet {name}: {e}")
            continue
        skipped = result["skipped"]
        if skipped:  # no TeX: the same for every variant
            break
        rel = [Path(p).relative_to(out).as_posix() for p in result["pdfs"]]
        pdfs += rel
        per_variant[name] = {"pdfs": rel, "figures": sorted(figures), "context": context,
                             "sketch": "reference run" if run_points else "class count"}
    return {"pdfs": pdfs, "skipped": skipped, "variants": per_variant, "problems": problems,
            "seconds": round(time.monotonic() - t, 1)}


def _versions() -> dict:
    import numpy, otter, sklearn, torch, torchvision
    return {"python": platform.python_version(), "torch": torch.__version__, "torchvision": torchvision.__version__,
            "numpy": numpy.__version__, "scikit-learn": sklearn.__version__, "otter-grader": otter.__version__}


def write_release_json(out: Path, records: dict, *, worksheet: dict, versions: dict, seconds: float,
                       config: str) -> dict:
    """<out>/release.json: every variant's latest verified record, this run's and the earlier runs' into the
    same out alike (a release of one variant keeps the others'). A variant that failed this time keeps its
    earlier verified record — dist/<variant>/ still holds that release, since only a passing run publishes
    — with this failure beside it under "failed"; with none (or a failure while publishing), its record is
    the failure. Returns what was written."""
    path = Path(out) / "release.json"
    variants = {}
    if path.is_file():
        try:
            variants = dict(json.loads(path.read_text(encoding="utf-8"))["variants"])
        except (OSError, ValueError, KeyError, TypeError) as e:   # kept aside, not overwritten: it may be all there is
            aside = path.with_name(f"release.json.unreadable-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
            path.rename(aside)
            print(f"warning: {path}: unreadable ({type(e).__name__}); kept as {aside.name}, started afresh",
                  file=sys.stderr)
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for name, record in records.items():
        record = {**record, "released_at": at, "versions": versions}
        earlier = variants.get(name)
        published = "publish" in record.get("seconds", {})   # publishing started: dist/<variant>/ changed
        if record["problems"] and isinstance(earlier, dict) and not earlier.get("problems") and not published:
            variants[name] = {**{k: v for k, v in earlier.items() if k != "failed"},
                              "failed": {"at": at, "problems": record["problems"], "seconds": record["seconds"],
                                         "work": record.get("work")}}
        else:
            variants[name] = record
    manifest = {"variants": variants, "worksheet": worksheet, "versions": versions, "seconds": seconds,
                "config": config}
    path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return manifest


def release(args) -> int:
    started = time.monotonic()
    cfg = load_config(args.config) if getattr(args, "config", None) else load_config()
    names = args.variant or list(cfg.variants)
    if cfg.colab and not cfg.student_bundle_url:   # a notebook opened alone in Colab could not get its files
        raise ReleaseError(f"{cfg.path}: student_bundle_url: unset, but colab: true asks for notebooks that open "
                           "alone; set it to where dist/<variant>/student.zip will be published ({variant} in it)")
    for n in names:
        cfg.variant(n)  # unknown names fail here, before any work
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(args.data_dir) if args.data_dir else None
    if data_dir is not None and not data_dir.is_dir():
        raise DataError(f"{data_dir}: --data-dir is not a folder")

    def one(n):
        return n, release_variant(Build(cfg, cfg.variant(n), out, data_dir, not args.offline, args.timeout,
                                        force=getattr(args, "force", False)))

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        records = dict(pool.map(one, names))

    worksheet = build_worksheet_step(cfg, out)
    failed = [f"{n}: {p}" for n, r in records.items() for p in r["problems"]] + worksheet["problems"]
    if not failed:
        shutil.rmtree(out / ".work", ignore_errors=True)
    total = round(time.monotonic() - started, 1)
    write_release_json(out, records, worksheet=worksheet, versions=_versions(), seconds=total, config=str(cfg.path))

    print(f"\n{'variant':<12} {'solution':>9} {'blank':>7} {'leaks':>5} {'mistakes':>9} {'seconds':>8}  data")
    for n, r in records.items():
        if not r["problems"]:
            caught = r["mutation"]["score"] + ("!" if r["mutation"]["forced"] else "")
            print(f"{n:<12} {r['solution']['score']:>4g}/{r['solution']['possible']:<4g} {r['blank']['score']:>7g} "
                  f"{len(r['leaks']):>5} {caught:>9} {sum(r['seconds'].values()):>8.1f}  {r['data']['source'][:60]}")
        else:
            print(f"{n:<12} {'failed at ' + list(r['seconds'])[-1]:>20}")
    for n, r in records.items():
        link = r.get("bundle", {}).get("colab_url")
        if link and not r["problems"]:
            print(f"{n:<12} Open in Colab: {link}")
    ws = "PDFs: " + ", ".join(worksheet["pdfs"]) if worksheet["pdfs"] else f"PDFs skipped — {worksheet['skipped']}"
    print(f"worksheet    {ws}\nrelease      {out / 'release.json'} ({total:.0f} s)")
    for line in failed:
        print(f"FAILED {line}", file=sys.stderr)
    if failed:
        print(f"work files kept in {out / '.work'}", file=sys.stderr)
    return 1 if failed else 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="build.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variant", action="append", help="build only this variant (repeatable)")
    p.add_argument("--data-dir", help="read corpora from this folder: <dir>/<variant>/ in its source's layout")
    p.add_argument("--out", default="dist")
    p.add_argument("--jobs", type=int, default=1, help="variants built at once")
    p.add_argument("--offline", action="store_true", help="never try the network sources")
    p.add_argument("--timeout", type=int, default=900, help="seconds one notebook may run")
    p.add_argument("--config", help="the assignment config (default: assignment/config.yaml)")
    p.add_argument("--force", action="store_true",
                   help="release even when a known mistake is caught by no check on this data (recorded in release.json)")
    return p


def main(argv=None) -> int:
    return release(parser().parse_args(argv))
