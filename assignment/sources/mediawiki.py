"""``type: mediawiki``: the intro extracts of pages found by searching each topic on a MediaWiki API.

data-dir layout: ``<data_dir>/<variant>/<Topic_folder>/<title>.txt`` (what replab.wikipedia writes and
reads: ``Title: <page title>``, a blank line, the extract), one folder per configured topic.
Real source: the API (network), fetched into ``<cache_dir>/<variant>/`` in that same layout.
"""
from __future__ import annotations

from pathlib import Path

from .common import CONNECT_RETRIES, TIMEOUT, Absent, Block

KIND = "text"
# Same as replab.wikipedia.API_URL; not imported from there, since that module pulls in requests and the
# config validates its blocks on every load (tests/sources check that the two agree).
API_URL = "https://en.wikipedia.org/w/api.php"
KEYS = {"api_url", "topics", "per_topic"}


def validate(b: Block) -> dict:
    topics = b.data.get("topics")
    if topics is None:
        b.fail("topics", "missing (a list of at least 2 search terms, one per class)")
    if (not isinstance(topics, list) or len(topics) < 2
            or not all(isinstance(t, str) and any(c.isalnum() for c in t) for t in topics)):
        b.fail("topics", f"must be a list of at least 2 non-empty topics (search terms), got {topics!r}")
    folded = [t.strip().casefold() for t in topics]
    repeated = sorted({t for t, f in zip(topics, folded) if folded.count(f) > 1})
    if repeated:
        b.fail("topics", f"must be distinct, {', '.join(map(repr, repeated))} appears more than once")
    return {"api_url": b.url("api_url", API_URL), "topics": list(topics),
            "per_topic": b.integer("per_topic", 150, minimum=1, meaning=" (pages per topic)")}


def real_source(source: dict) -> str:
    return "live"


def from_data_dir(name: str, source: dict, folder: Path, seed: int):
    from replab.wikipedia import load_wikipedia_dir, topic_folder

    missing = [t for t in source["topics"] if not (folder / topic_folder(t)).is_dir()]
    if missing:
        raise Absent(f"no {folder}/<Topic> folder for {', '.join(missing)}")
    return load_wikipedia_dir(folder, topics=source["topics"], per_topic=source["per_topic"], name=name)


def from_source(name: str, source: dict, cache_dir: Path, seed: int):
    from replab.http import make_session
    from replab.wikipedia import fetch_wikipedia

    return fetch_wikipedia(source["topics"], per_topic=source["per_topic"], api_url=source["api_url"],
                           out_dir=cache_dir / name, session=make_session(connect_retries=CONNECT_RETRIES),
                           timeout=TIMEOUT, name=name)
