"""A graded folder's layout, which `build.py grade`, `merge`, regrades and `export` all read and write:

    <out>/<submission>/     results.json, grading.log, the kept CSV, executed.ipynb, written.json, answer_code.json
    <out>/shard.json        the run's record: the release's zip and sha256, every submission given (in order), those
                            graded here, the written questions, the blank notebook's code (SHARD_JSON)
    <out>/history/          result folders a regrade or a merge replaced, as <submission>-<UTC time> (HISTORY)

Only names is_safe_stem accepts ever become paths here: a record naming anything else is refused.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from replab.errors import LabError

HISTORY = "history"
SHARD_JSON = "shard.json"


class MergeError(LabError, ValueError):
    """A graded folder (or folders) that cannot be read or joined; the message names the folder and the problem."""


def write_shard_record(out: Path, *, zip_path: Path, release_sha: str, variant: str, title: str, index: int,
                       count: int, ordered, graded, questions, anonymous: bool, shard_info=None, given_code=None) -> Path:
    """out/shard.json: what the merge needs to join this run with the others (see merge.py's doc).
    shard_info: the "shard" entry to keep (a regrade into a shard's or a merged folder). given_code: the
    blank notebook's normalised cells (similarity.given_code), kept so a merge can leave them out too."""
    position = {stem: i for i, (_, stem) in enumerate(ordered)}
    record = {
        "release": {"zip": Path(zip_path).name, "sha256": release_sha},
        "variant": variant, "title": title,
        "shard": dict(shard_info) if shard_info else {"index": index, "count": count},
        "all_submissions": [stem for _, stem in ordered],
        "submissions": [{"submission": stem, "source": str(path), "position": position[stem]} for path, stem in graded],
        "anonymous": anonymous,
        "written_questions": list(questions),
        "given_code": given_code,
    }
    path = Path(out) / SHARD_JSON
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def read_shard_record(folder: Path) -> dict:
    path = Path(folder) / SHARD_JSON
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        for keys in (("release", "sha256"), ("shard", "count"), ("submissions",), ("all_submissions",),
                     ("written_questions",), ("variant",)):
            value = record
            for key in keys:
                value = value[key]   # KeyError / TypeError: the record is incomplete
    except FileNotFoundError:
        raise MergeError(f"{folder}: no {SHARD_JSON}; not the output folder of `build.py grade`") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise MergeError(f"{path}: not a usable shard record ({type(e).__name__}: {e})") from None
    # Its names become paths (folders read, copied, replaced): only names safe_stem makes are used.
    from autograder.grading.batch import is_safe_stem
    names = [*record["all_submissions"], *(e.get("submission") if isinstance(e, dict) else e
                                           for e in record["submissions"])]
    for name in names:
        if not is_safe_stem(name):
            raise MergeError(f"{path}: submission name {name!r} is not a safe folder name (written by an older "
                             "version, or edited); grade these submissions again into a new --out")
    return record


def load_results(folder: Path, entries) -> list[dict]:
    """The results of a run's submissions as grade_submissions returns them, read back from results.json."""
    results = []
    for entry in entries:
        path = Path(folder) / entry["submission"] / "results.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise MergeError(f"{path}: missing or unreadable ({type(e).__name__}); grade this shard again") from None
        results.append({"submission": entry["submission"], "source": entry["source"],
                        "outcome": data.get("extra_data", {}).get("outcome", "graded"), **data})
    return results


def utc_stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
