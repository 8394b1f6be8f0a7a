"""Wikipedia intro extracts by topic: fetched live from the MediaWiki API, or read back from a folder.

The folder layout (written by :func:`fetch_wikipedia`, read by :func:`load_wikipedia_dir`, and also a
loadable snapshot)::

    <dir>/<Topic_with_underscores>/<safe title>.txt    "Title: <page title>\\n\\n<intro extract>\\n"
    <dir>/<Topic_with_underscores>/_index.json         that topic's search result, so a re-run can resume
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import requests
from tqdm.auto import tqdm

from .corpus import Corpus, DataError
from .http import describe_error, make_session

API_URL = "https://en.wikipedia.org/w/api.php"
SEARCH_LIMIT = 500          # srlimit ceiling for ordinary clients; more results need sroffset continuation
EXTRACTS_PER_REQUEST = 20   # TextExtracts returns at most 20 intro extracts per request, whatever is asked
API_TRIES = 4               # tries per request when the body is malformed JSON or a maxlag error
MAX_LAG_WAIT = 30.0         # seconds; cap on a maxlag Retry-After
COMMON_PARAMS = {"format": "json", "formatversion": "2", "maxlag": "5"}  # maxlag: back off when replicas lag
INDEX_NAME = "_index.json"


def safe_name(title: str) -> str:
    """A file name stem from a page title: letters, digits, spaces and underscores kept, the rest dropped
    (as the original lab saved its articles: ``Schrödinger's cat`` -> ``Schrödingers cat``)."""
    return "".join(c for c in title if c.isalnum() or c in " _").strip()


def topic_folder(topic: str) -> str:
    """The folder name for a topic: its safe name with spaces as underscores (``Machine_learning``)."""
    return safe_name(topic).replace(" ", "_")


# -- the live API ---------------------------------------------------------------------------------------

class _Api:
    """GETs against one MediaWiki api.php: transport retries come from the session; this layer adds
    retries for what arrives with HTTP 200 but cannot be used (maxlag errors, malformed JSON)."""

    def __init__(self, session: requests.Session, url: str, timeout):
        self.session, self.url, self.timeout = session, url, timeout

    def get(self, params: dict, what: str) -> dict:
        problem = ""
        for _ in range(API_TRIES):
            try:
                response = self.session.get(self.url, params={**params, **COMMON_PARAMS}, timeout=self.timeout)
                response.raise_for_status()
            except requests.RequestException as e:
                raise DataError(f"{self.url}: {what} failed ({describe_error(e)})") from None
            try:
                data = response.json()
            except ValueError:
                problem = f"malformed JSON in the answer ({len(response.content)} bytes)"
                continue
            if not isinstance(data, dict):
                problem = "the answer is not a JSON object"
                continue
            error = data.get("error")
            if isinstance(error, dict) and error.get("code") == "maxlag":
                problem = f"server lagged ({error.get('info', 'maxlag')})"
                time.sleep(_retry_after(response.headers.get("Retry-After")))
                continue
            if error:
                info = error.get("info", error) if isinstance(error, dict) else error
                raise DataError(f"{self.url}: {what}: API error {info}")
            return data
        raise DataError(f"{self.url}: {what} failed after {API_TRIES} tries: {problem}")


def _retry_after(header: str | None) -> float:
    try:
        return min(max(float(header), 0.0), MAX_LAG_WAIT)
    except (TypeError, ValueError):
        return 5.0


def _search(api: _Api, topic: str, per_topic: int) -> list[dict]:
    """Up to ``per_topic`` article hits for a topic, best first: [{pageid, title}]."""
    params = {"action": "query", "list": "search", "srsearch": topic, "srnamespace": "0", "srprop": ""}
    hits: list[dict] = []
    cont: dict = {}
    while len(hits) < per_topic:
        data = api.get({**params, "srlimit": str(min(per_topic - len(hits), SEARCH_LIMIT)), **cont},
                       what=f"search for {topic!r}")
        batch = data.get("query", {}).get("search")
        if not isinstance(batch, list):
            raise DataError(f"{api.url}: search for {topic!r}: answer has no query.search list")
        hits += [{"pageid": int(h["pageid"]), "title": str(h["title"])} for h in batch]
        cont = data.get("continue") or {}
        if not batch or "sroffset" not in cont:
            break
    return hits[:per_topic]


def _extracts(api: _Api, pageids: list[int]):
    """Yield (pageid, extract) for every id; "" for pages without one. Follows ``continue`` until all arrive."""
    params = {"action": "query", "prop": "extracts", "exintro": "1", "explaintext": "1",
              "exlimit": str(EXTRACTS_PER_REQUEST), "pageids": "|".join(map(str, pageids))}
    what = f"extracts for {len(pageids)} page(s) from id {pageids[0]}"
    pending = set(pageids)
    cont: dict = {}
    for _ in range(len(pageids) + 1):  # each continuation must deliver something, so this bounds the loop
        data = api.get({**params, **cont}, what=what)
        pages = [p for p in data.get("query", {}).get("pages", []) if isinstance(p, dict) and "pageid" in p]
        arrived = [(int(p["pageid"]), p.get("extract") or "") for p in pages
                   if int(p["pageid"]) in pending and ("extract" in p or p.get("missing") or p.get("invalid"))]
        for pageid, extract in arrived:
            pending.discard(pageid)
            yield pageid, extract
        cont = data.get("continue") or {}
        if not cont or not pending:
            break
        if not arrived:
            raise DataError(f"{api.url}: {what}: continuation brought nothing")
    for pageid in sorted(pending):  # the API answered without an extract for these
        yield pageid, ""


# -- the on-disk layout ---------------------------------------------------------------------------------

def _write_atomic(path: Path, text: str):
    """Write via a temporary file, so an interrupted run never leaves a half file that a re-run would trust."""
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    tmp.replace(path)


def _name_files(hits: list[dict]) -> list[dict]:
    """Give each hit a file name unique within its topic folder. A title whose safe name is taken (compared
    case-insensitively, as macOS and Windows file systems do) gets its page id appended: ``C (6021).txt``."""
    taken: set[str] = set()
    for hit in hits:
        stem = safe_name(hit["title"])[:200] or "page"  # 200: well inside file systems' 255-byte limit
        if stem.casefold() in taken:
            stem = f"{stem} ({hit['pageid']})"
        taken.add(stem.casefold())
        hit["file"] = stem + ".txt"
    return hits


def _topic_index(api: _Api, topic: str, per_topic: int, folder: Path) -> dict:
    """The topic's search result, from ``_index.json`` when an earlier run of the same query saved it."""
    path = folder / INDEX_NAME
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
        if ((index["topic"], index["per_topic"], index["api_url"]) == (topic, per_topic, api.url)
                and all({"pageid", "title", "file"} <= set(hit) for hit in index["pages"])):
            index.setdefault("empty", [])
            return index
    except (OSError, ValueError, KeyError, TypeError):
        pass  # absent, unreadable, or from another query: search again
    index = {"topic": topic, "per_topic": per_topic, "api_url": api.url,
             "pages": _name_files(_search(api, topic, per_topic)), "empty": []}
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, json.dumps(index, ensure_ascii=False, indent=1))
    return index


def fetch_wikipedia(topics, per_topic: int = 150, api_url: str = API_URL, out_dir: str | Path = "wikipedia_articles",
                    session: requests.Session | None = None, timeout: float | tuple = 10.0,
                    name: str = "wikipedia") -> Corpus:
    """Search each topic and save the intro extract of every page found; returns the articles as a Corpus
    called ``name``.

    Requests: one search per topic (more only past 500 hits), then one extracts request per 20 pages
    (the API's cap), following its ``continue`` so that every page found arrives.

    Resumable: each topic's search result is saved as ``<Topic>/_index.json`` right after the search and
    each article as soon as its extract arrives; a re-run skips what is on disk. If the server stays
    down, one DataError names the API URL and what failed, and everything fetched so far is kept.

    Rules: a page found under several topics is kept under the topic whose search ranked it highest
    (ties go to the topic earlier in ``topics``). Pages with an empty extract are dropped. Rows come in
    the order :func:`load_wikipedia_dir` reads the folder back (topic folder, then file name).
    """
    topics = list(topics)
    if per_topic < 1:
        raise ValueError(f"per_topic must be at least 1, got {per_topic}")
    out = Path(out_dir)
    api = _Api(session or make_session(), api_url, timeout)
    saved = 0
    try:
        indexes = {t: _topic_index(api, t, per_topic, out / topic_folder(t))
                   for t in tqdm(topics, desc="wikipedia: search", unit="topic")}
        wanted = _assign_topics(topics, indexes)  # [(topic, hit)]
        todo = [(t, h) for t, h in wanted
                if h["pageid"] not in indexes[t]["empty"] and not (out / topic_folder(t) / h["file"]).is_file()]
        with tqdm(total=len(todo), desc="wikipedia: extracts", unit="article") as bar:
            for start in range(0, len(todo), EXTRACTS_PER_REQUEST):
                batch = {h["pageid"]: (t, h) for t, h in todo[start:start + EXTRACTS_PER_REQUEST]}
                emptied = set()
                for pageid, extract in _extracts(api, list(batch)):
                    topic, hit = batch[pageid]
                    if extract.strip():
                        _write_atomic(out / topic_folder(topic) / hit["file"],
                                      f"Title: {hit['title']}\n\n{extract.strip()}\n")
                        saved += 1
                    else:
                        indexes[topic]["empty"].append(pageid)
                        emptied.add(topic)
                    bar.update(1)
                for topic in emptied:  # remember empty pages so a re-run does not ask for them again
                    _write_atomic(out / topic_folder(topic) / INDEX_NAME,
                                  json.dumps(indexes[topic], ensure_ascii=False, indent=1))
    except DataError as e:
        raise DataError(f"{e}; {saved} new article(s) saved under {out} - a re-run fetches only the rest") from None

    files = sorted((topic_folder(t), out / topic_folder(t) / h["file"]) for t, h in wanted)
    files = [(folder, path) for folder, path in files if path.is_file()]
    if not files:
        raise DataError(f"{api_url}: the searches for {', '.join(topics)} found no articles with an extract")
    corpus = _read_articles(files, name=name, source=f"live {api_url}")
    corpus.meta.update(topics=topics, per_topic=per_topic, found=len(wanted))
    return corpus


def _assign_topics(topics: list[str], indexes: dict[str, dict]) -> list[tuple[str, dict]]:
    """Each page once, under the topic where its search rank is best (ties: earlier topic)."""
    best: dict[int, tuple[int, int]] = {}
    for ti, topic in enumerate(topics):
        for rank, hit in enumerate(indexes[topic]["pages"]):
            best[hit["pageid"]] = min(best.get(hit["pageid"], (rank, ti)), (rank, ti))
    return [(topic, hit) for ti, topic in enumerate(topics)
            for rank, hit in enumerate(indexes[topic]["pages"]) if best[hit["pageid"]] == (rank, ti)]


def load_wikipedia_dir(path: str | Path, topics=None, per_topic: int | None = None,
                       name: str = "wikipedia") -> Corpus:
    """Read the folder layout written by :func:`fetch_wikipedia` (label = folder name, ``_`` as space)
    into a Corpus called ``name``.

    Rows are ordered by topic folder, then file name; only ``.txt`` files count. ``topics`` picks folders
    (each must exist); ``per_topic`` keeps the first that many files of each folder.
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder of Wikipedia articles")
    if topics is None:
        folders = [d for d in root.iterdir() if d.is_dir() and not d.name.startswith((".", "_"))]
    else:
        folders = [root / topic_folder(t) for t in topics]
        missing = [f.name for f in folders if not f.is_dir()]
        if missing:
            raise DataError(f"{root}: no folder for topic(s) {', '.join(missing)}")
    files = []
    for folder in sorted(folders, key=lambda d: d.name):
        texts = sorted((f for f in folder.iterdir() if f.suffix == ".txt" and f.is_file()), key=lambda f: f.name)
        files += [(folder.name, f) for f in texts[:per_topic]]
    if not files:
        raise DataError(f"{root}: no <Topic>/<title>.txt articles found")
    return _read_articles(files, name=name, source=f"data-dir {root}")


def _read_articles(files: list[tuple[str, Path]], name: str, source: str) -> Corpus:
    titles, labels, texts = [], [], []
    for folder, path in files:
        try:
            head, _, body = path.read_text(encoding="utf-8-sig").partition("\n")
        except (OSError, UnicodeDecodeError) as e:
            raise DataError(f"{path}: cannot read ({describe_error(e)})") from None
        title = head.strip()[len("Title:"):].strip() if head.startswith("Title:") else ""
        if not title:
            raise DataError(f"{path}: first line is not 'Title: <page title>'")
        if not body.strip():
            raise DataError(f"{path}: no text after the Title line")
        titles.append(title)
        labels.append(folder.replace("_", " "))
        texts.append(body.strip())
    return Corpus(name=name, titles=titles, labels=labels, texts=texts, source=source)
