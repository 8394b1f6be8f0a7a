"""Mutation analysis (autograder/release/mistakes.py): the catalogue of known mistakes covers every scored check,
every release proves its checks catch them on its own data, and a blunted check fails that proof by name."""
import json
from types import SimpleNamespace

import pytest

from autograder.release import mistakes
from autograder.shipped.judge import checks
from autograder.shipped.judge.checks import CHECKS


def test_the_catalogue_covers_every_scored_check_and_question():
    names = [m.name for m in mistakes.CATALOGUE]
    assert len(names) >= 25 and len(set(names)) == len(names)
    meant = {m.check for m in mistakes.CATALOGUE}
    every_check = {c.__name__ for cs in CHECKS.values() for c in cs}
    assert every_check <= meant, f"checks no mistake is meant for: {sorted(every_check - meant)}"
    for question in CHECKS:
        assert sum(m.question == question for m in mistakes.CATALOGUE) >= 5, question
    assert all(m.loses > 0 for m in mistakes.CATALOGUE) and len(mistakes.HONEST) >= 5


def test_the_release_proves_its_checks_catch_every_known_mistake(small_release):
    """The small release's record: every mistake caught by the check meant for it, every honest variant at full
    marks, and the summary says so."""
    out, stdout = small_release
    record = json.loads((out / "release.json").read_text())["variants"]["wikipedia"]
    mutation = record["mutation"]
    total = len(mistakes.CATALOGUE)
    assert mutation["score"] == f"{total}/{total}" and mutation["uncaught"] == [] and not mutation["forced"]
    assert all(mutation["honest"].values()) and len(mutation["honest"]) == len(mistakes.HONEST)
    for name, r in mutation["mistakes"].items():
        m = next(m for m in mistakes.CATALOGUE if m.name == name)
        assert m.check in r["caught_by"] and r["lost"][m.question] >= m.loses - 1e-3, (name, r)
    assert "mutate" in record["seconds"]
    assert f"{total}/{total}" in stdout.split("variant ", 1)[1]   # the summary table's column


@pytest.fixture(scope="module")
def small_lab(small_release):
    from autograder.shipped.grade import open_release
    from autograder.shipped.judge.reference import cached_lab_reference
    import tempfile
    from pathlib import Path
    out, _ = small_release
    release = open_release(out / "wikipedia" / "autograder" / "lab8_wikipedia_autograder.zip", Path(tempfile.mkdtemp()))
    return release.spec, cached_lab_reference(release.spec, release.data)


def test_a_blunted_check_fails_the_proof_naming_what_it_no_longer_catches(small_lab, monkeypatch):
    """Every tolerance of the checks loosened a thousandfold (a scratch copy's threshold, as an instructor might
    change it): the mistakes only a tight comparison tells apart are no longer caught by the check meant for
    them, and the proof says which, and which check should have."""
    spec, lab = small_lab
    chosen = [m for m in mistakes.CATALOGUE if m.name in ("csv_precision_lost", "ratio_squared_distances",
                                                          "hook_other_side_of_relu")]
    sharp = mistakes.prove(spec, lab, mistakes=chosen, honest={})
    assert mistakes.problems(sharp) == []
    loose = checks.close
    monkeypatch.setattr(checks, "close", lambda got, want, rel=checks.REL_TOL: loose(got, want, rel * 1000))
    blunt = mistakes.prove(spec, lab, mistakes=chosen, honest={})
    lines = mistakes.problems(blunt)
    assert "csv_precision_lost" in blunt["uncaught"] and any(
        line.startswith("mistake csv_precision_lost") and "export_writes_what_it_is_given should catch it" in line
        for line in lines), lines


def test_an_uncaught_mistake_fails_the_release_unless_forced(monkeypatch):
    from autograder.release import ReleaseError, step_mutate
    record = {"score": "31/32", "seconds": 1.0, "uncaught": ["csv_precision_lost"], "honest_lost": [],
              "reference_full": True, "reference": {}, "honest": {},
              "mistakes": {"csv_precision_lost": {"question": "q3_export", "what": "embeddings rounded", "lost": {},
                                                  "caught_by": [], "caught": False, "should_cost": 0.66,
                                                  "should_be_caught_by": "export_writes_what_it_is_given"}}}

    class Done:
        def result(self):
            return record
    build = SimpleNamespace(variant=SimpleNamespace(name="v"), mutation=Done(), force=False, record={})
    with pytest.raises(ReleaseError, match="mistake csv_precision_lost .* export_writes_what_it_is_given should catch it"):
        step_mutate(build)
    build.force = True
    step_mutate(build)
    assert build.record["mutation"]["forced"] and build.record["mutation"]["uncaught"] == ["csv_precision_lost"]
