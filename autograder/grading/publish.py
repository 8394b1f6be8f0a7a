"""What a TA reads, made from a graded folder's results: grades.csv, report.html, written.html, feedback/ and
similarity.json (publish), rebuilt from every result the folder holds after a grading or a regrade (republish);
the roster join's loose ends for the terminal (print_roster). `build.py grade` and `merge` both end here.
"""
from __future__ import annotations

from pathlib import Path

from assignment.config import load_config


def publish(out: Path, results, written_records, record: dict, written_scores=None, scores=None,
            comments=None, roster=None) -> dict:
    """grades.csv, report.html, written.html and feedback/ for results in their canonical order; record is the
    run's shard.json. Written scores: those the folder kept (written_scores.kept.csv), overlaid by `scores`
    ({stem: {question: points}}) and then by the rows of the written_scores file given; with any, autograded +
    written = total in grades.csv and report.html, and the folder keeps them for the next regrade or merge.
    TA comments travel the same way. roster: a class list to keep in the folder (else the one kept there, if
    any): each submission is joined to its student (roster.py)."""
    from autograder.grading.batch import write_grades_csv
    from autograder.grading.curves import separation_curves
    from autograder.grading.feedback import write_feedback
    from autograder.grading.report import write_report
    from autograder.grading.roster import join, keep_roster, kept_roster, summary
    from autograder.grading.written import (KEPT_SCORES, read_comments, read_scores, score_keys, with_written,
                                            write_scores_csv, write_written_html)
    cfg = load_config()
    variant = cfg.variant(record["variant"])
    questions, sha = record["written_questions"], record["release"]["sha256"]
    stems = [r["submission"] for r in results]
    keys = score_keys(stems, sha)
    elsewhere = set(score_keys([s for s in record["all_submissions"] if s not in set(stems)], sha))
    kept = out / KEPT_SCORES
    if kept.is_file():
        scores = {**read_scores(kept, questions, keys, elsewhere=elsewhere), **(scores or {})}
        comments = {**read_comments(kept, questions, keys, elsewhere), **(comments or {})}
    if written_scores:   # a row of the file replaces that submission's scores and comments; the others are kept
        scores = {**(scores or {}), **read_scores(written_scores, questions, keys, elsewhere=elsewhere)}
        comments = {**(comments or {}), **read_comments(written_scores, questions, keys, elsewhere)}
    if scores is not None:
        write_scores_csv(kept, scores, questions, order=stems, comments=comments)
    if roster:
        keep_roster(roster, out)
    students = kept_roster(out)
    matches = join(written_records, students, out) if students else None
    if matches is not None:
        who = {m.submission: (m.student.shown, m.student.student_id) if m.student else ("", "") for m in matches}
    else:   # no roster: what each notebook says about its student
        who = {w["submission"]: (w.get("name", ""), w.get("student_id", "")) for w in written_records}
    grades = write_grades_csv(results, out / "grades.csv", questions, scores, students=who)
    shown = with_written(results, scores, questions) if scores is not None else results
    curves = separation_curves(results, out, cfg, variant)
    joined = summary(matches, students) if matches is not None else None
    feedback = write_feedback(out, shown, written_records, curves=curves, comments=comments or {}, matches=matches,
                              title=record["title"])
    from autograder.grading.similarity import find_pairs, write_similarity
    similar = find_pairs(out, stems, written_records, questions, record.get("given_code"), cfg.csv_name)
    pairs_file = write_similarity(out, similar)
    report = write_report(out, shown, curves=curves, roster=joined, matches=matches, feedback=feedback,
                          similarity=similar)
    page = write_written_html(out, questions, written_records, release_sha=sha, variant=variant.name,
                              title=record["title"], scores=scores, anonymous=record["anonymous"])
    return {"files": [grades, report, page, out / "feedback", pairs_file], "scores": scores, "shown": shown,
            "roster": joined}


def print_roster(joined) -> None:
    """The join's loose ends, for the TA at the terminal (report.html lists them too)."""
    if not joined:
        return
    print(f"roster: {joined['matched']} submissions joined to {joined['students']} students")
    for s in joined["missing"]:
        print(f"  no submission: {s.shown} ({s.student_id or s.email or s.login})")
    for m in joined["unmatched"]:
        print(f"  no student for submission {m.submission} (notebook says {m.claimed_name or '-'}, "
              f"ID {m.claimed_id or '-'})")
    for s, subs in joined["twice"]:
        print(f"  {s.shown} has {len(subs)} submissions: {', '.join(subs)}")


def republish(out: Path, written_scores=None, roster=None, fresh=()) -> dict:
    """publish() from every result the folder holds (its shard.json's submissions): `fresh`, this run's results,
    as they are in memory; the others (graded here before) read back from their results.json."""
    from autograder.grading.folder import load_results, read_shard_record
    from autograder.grading.written import read_written_json
    record = read_shard_record(out)
    entries = sorted(record["submissions"], key=lambda e: e["position"])
    fresh = {r["submission"]: r for r in fresh}
    read = iter(load_results(out, [e for e in entries if e["submission"] not in fresh]))
    results = [fresh[e["submission"]] if e["submission"] in fresh else next(read) for e in entries]
    written = [read_written_json(out / e["submission"], e["submission"], record["written_questions"]) for e in entries]
    return publish(out, results, written, record, written_scores=written_scores, roster=roster)
