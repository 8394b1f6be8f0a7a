"""dist/release.json keeps every variant's latest verified record: releasing one variant into a dist/ that
holds others keeps theirs, and a failed variant records its failure beside its earlier verified record.
No release is built: write_release_json is given records shaped as release_variant returns them."""
from __future__ import annotations

import json

from autograder.release import write_release_json

STEPS = ["data", "render", "assign", "execute", "verify", "mutate", "publish"]
VERSIONS = {"python": "3.11", "torch": "2.x"}


def verified(name: str, score=10) -> dict:
    return {"data": {"source": f"{name} fixtures", "sha256": name * 4}, "solution": {"score": score, "possible": 10},
            "blank": {"score": 0}, "leaks": [], "files": {f"{name}/student/lab8_{name}.ipynb": "0" * 64},
            "seconds": {s: 1.0 for s in STEPS}, "problems": []}


def failed(step: str) -> dict:
    done = STEPS[:STEPS.index(step) + 1]
    return {"seconds": {s: 1.0 for s in done}, "problems": [f"{step}: it broke"], "work": "dist/.work/x"}


def write(out, records):
    return write_release_json(out, records, worksheet={"pdfs": []}, versions=VERSIONS, seconds=9.0, config="c.yaml")


def read(out) -> dict:
    return json.loads((out / "release.json").read_text())["variants"]


def test_one_variant_released_keeps_the_others(tmp_path):
    write(tmp_path, {"wikipedia": verified("wikipedia"), "bbc": verified("bbc"), "cifar10": verified("cifar10")})
    first = read(tmp_path)
    write(tmp_path, {"bbc": verified("bbc", score=10)})
    after = read(tmp_path)
    assert list(after) == ["wikipedia", "bbc", "cifar10"]
    assert after["wikipedia"] == first["wikipedia"] and after["cifar10"] == first["cifar10"]
    assert after["bbc"]["released_at"] >= first["bbc"]["released_at"] and after["bbc"]["versions"] == VERSIONS


def test_a_failure_is_recorded_beside_the_verified_record(tmp_path):
    write(tmp_path, {"wikipedia": verified("wikipedia"), "bbc": verified("bbc")})
    good, bbc = read(tmp_path)["wikipedia"], read(tmp_path)["bbc"]
    write(tmp_path, {"wikipedia": failed("verify"), "cifar10": failed("data")})
    variants = read(tmp_path)
    wiki = variants["wikipedia"]
    assert {k: v for k, v in wiki.items() if k != "failed"} == good          # dist/wikipedia/ is still that release
    assert wiki["failed"]["problems"] == ["verify: it broke"] and wiki["failed"]["work"] == "dist/.work/x"
    assert variants["cifar10"]["problems"] == ["data: it broke"]               # never verified: the failure itself
    assert variants["bbc"] == bbc
    write(tmp_path, {"wikipedia": verified("wikipedia", score=10)})           # verified again: the failure goes
    assert "failed" not in read(tmp_path)["wikipedia"]


def test_a_failure_while_publishing_replaces_the_record(tmp_path):
    """Publishing had begun replacing dist/<variant>/: the earlier record no longer describes it."""
    write(tmp_path, {"wikipedia": verified("wikipedia")})
    write(tmp_path, {"wikipedia": failed("publish")})
    assert read(tmp_path)["wikipedia"]["problems"] == ["publish: it broke"]


def test_an_unreadable_release_json_is_kept_aside(tmp_path, capsys):
    (tmp_path / "release.json").write_text("{not json")
    write(tmp_path, {"bbc": verified("bbc")})
    aside = list(tmp_path.glob("release.json.unreadable-*"))
    assert len(aside) == 1 and aside[0].read_text() == "{not json" and list(read(tmp_path)) == ["bbc"]
    assert "unreadable (JSONDecodeError); kept as release.json.unreadable-" in capsys.readouterr().err
