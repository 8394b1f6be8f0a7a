"""Local HTTP servers for tests (127.0.0.1, a free port, a background thread; use as context managers).

``MediaWikiServer`` serves a ``<Topic>/<title>.txt`` folder as a MediaWiki API, the two calls replab makes:

- ``action=query&list=search&srsearch=<topic>``: the titles in that topic's folder (ranked by file name),
  with page ids, ``srlimit``/``sroffset`` paging and a ``continue`` block like the real API;
- ``action=query&prop=extracts&pageids=a|b|..``: at most 20 extracts per answer (``max_extracts``), the
  rest announced with ``continue.excontinue``, as TextExtracts does.

It counts requests and can misbehave on demand: ``fail("429" | "503" | "slow" | "malformed" | "maxlag")``
for the next matching request(s), and ``stay_down(after=n)`` / ``recover()``.

``StaticServer`` serves the files of one folder (``SimpleHTTPRequestHandler``).
"""
from __future__ import annotations

import functools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FAULTS = ("429", "503", "slow", "malformed", "maxlag")


class _Server:
    """Start/stop plumbing shared by both servers."""

    def _start(self, handler):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # daemon threads: a slow reply never blocks exit
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class MediaWikiServer(_Server):
    def __init__(self, corpus_dir: str | Path, max_extracts: int = 20, slow_seconds: float = 1.0,
                 retry_after: int = 0):
        self.max_extracts = max_extracts
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after          # what 429, 503 and maxlag answers put in Retry-After
        self.blank_titles: set[str] = set()     # pages whose extract comes back empty
        self.log: list[dict] = []               # every request's parameters, faulty or not
        self.served: list[int] = []             # page ids whose extract was sent
        self._faults: list[list] = []           # [fault, times left, action or None]
        self._down_after: int | None = None
        self._lock = threading.Lock()

        articles = {}   # title -> extract
        self.topics = {}  # topic (folder name, _ as space) -> titles, best rank first
        for folder in sorted(p for p in Path(corpus_dir).iterdir() if p.is_dir()):
            titles = []
            for f in sorted(folder.glob("*.txt")):
                head, _, body = f.read_text(encoding="utf-8").partition("\n")
                title = head.removeprefix("Title:").strip()
                articles[title] = body.strip()
                titles.append(title)
            self.topics[folder.name.replace("_", " ")] = titles
        # Page ids are spread out and unordered relative to titles, so that code cannot get away with indices.
        self.pageids = {title: 1000 + 37 * i for i, title in enumerate(sorted(articles, key=str.casefold))}
        self.pages = {self.pageids[t]: (t, articles[t]) for t in articles}
        self._start(functools.partial(_MediaWikiHandler, self))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/w/api.php"

    # -- test controls --------------------------------------------------------------------------------
    def fail(self, fault: str, times: int = 1, action: str | None = None):
        """Answer the next ``times`` requests (of ``action`` "search"/"extracts", or any) with ``fault``."""
        assert fault in FAULTS, fault
        with self._lock:
            self._faults.append([fault, times, action])

    def stay_down(self, after: int = 0):
        """Answer ``after`` more requests normally, then 503 to everything until :meth:`recover`."""
        with self._lock:
            self._down_after = after

    def recover(self):
        with self._lock:
            self._down_after = None
            self._faults.clear()

    def count(self, action: str | None = None) -> int:
        with self._lock:
            return sum(1 for q in self.log if action is None or _action(q) == action)

    def reset_counts(self):
        with self._lock:
            self.log.clear()
            self.served.clear()

    # -- behaviour ------------------------------------------------------------------------------------
    def respond(self, query: dict) -> tuple[int, dict, bytes, float]:
        """(status, headers, body, seconds to wait first) for one request."""
        action = _action(query)
        with self._lock:
            self.log.append(query)
            if self._down_after is not None:
                if self._down_after <= 0:
                    return _text(503, "down", self.retry_after)
                self._down_after -= 1
            fault = next((f for f in self._faults if f[1] > 0 and f[2] in (None, action)), None)
            if fault:
                fault[1] -= 1
                fault = fault[0]
        if fault == "429":
            return _text(429, "Too many requests", self.retry_after)
        if fault == "503":
            return _text(503, "Service unavailable", self.retry_after)
        if fault == "malformed":
            return 200, {"Content-Type": "application/json"}, b'{"batchcomplete": true, "query": {"pa', 0
        if fault == "maxlag":
            body = {"error": {"code": "maxlag", "info": "Waiting for a database server: 7 seconds lagged",
                              "host": "db1", "lag": 7}}
            return 200, {"Retry-After": str(self.retry_after), "X-Database-Lag": "7"}, _json(body), 0
        answer = self._answer(query, action)
        return 200, {}, _json(answer), (self.slow_seconds if fault == "slow" else 0)

    def _answer(self, query: dict, action: str) -> dict:
        if query.get("format") != "json" or query.get("formatversion") != "2":
            return {"error": {"code": "badformat", "info": "this mock speaks format=json&formatversion=2 only"}}
        if action == "search":
            return self._search(query)
        if action == "extracts":
            return self._extracts(query)
        return {"error": {"code": "badvalue", "info": f"unsupported request {query}"}}

    def _search(self, query: dict) -> dict:
        topic = query.get("srsearch", "").casefold()
        titles = next((t for name, t in self.topics.items() if name.casefold() == topic), [])
        limit = min(int(query.get("srlimit", 10)), 500)
        offset = int(query.get("sroffset", 0))
        hits = [{"ns": 0, "title": t, "pageid": self.pageids[t]} for t in titles[offset:offset + limit]]
        answer = {"batchcomplete": True, "query": {"searchinfo": {"totalhits": len(titles)}, "search": hits}}
        if offset + limit < len(titles):
            answer["continue"] = {"sroffset": offset + limit, "continue": "-||"}
        return answer

    def _extracts(self, query: dict) -> dict:
        ids = [int(i) for i in query.get("pageids", "").split("|") if i]
        if len(ids) > 50:
            return {"error": {"code": "toomanyvalues", "info": "Too many values for pageids. The limit is 50."}}
        cap = min(int(query.get("exlimit", 20)), 20, self.max_extracts)
        start = int(query.get("excontinue", 0))
        pages = []
        with self._lock:
            for n, pageid in enumerate(ids):
                if pageid not in self.pages:
                    pages.append({"pageid": pageid, "missing": True})
                    continue
                title, extract = self.pages[pageid]
                page = {"pageid": pageid, "ns": 0, "title": title}
                if start <= n < start + cap:  # like TextExtracts: only this slice carries extracts
                    page["extract"] = "" if title in self.blank_titles else extract
                    self.served.append(pageid)
                pages.append(page)
        answer = {"query": {"pages": pages}}
        if start + cap < len(ids):
            answer["continue"] = {"excontinue": start + cap, "continue": "||"}
        else:
            answer["batchcomplete"] = True
        return answer


def _action(query: dict) -> str:
    if query.get("list") == "search":
        return "search"
    if query.get("prop") == "extracts":
        return "extracts"
    return "other"


def _json(data) -> bytes:
    return json.dumps(data).encode("utf-8")


def _text(status: int, text: str, retry_after: int):
    return status, {"Content-Type": "text/plain", "Retry-After": str(retry_after)}, text.encode(), 0


class _MediaWikiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes; Nagle would hold the body ~40 ms

    def __init__(self, server_state: MediaWikiServer, *args, **kwargs):
        self.state = server_state
        super().__init__(*args, **kwargs)

    def do_GET(self):
        parts = urlsplit(self.path)
        if parts.path != "/w/api.php":
            self._send(404, {"Content-Type": "text/plain"}, b"not found")
            return
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        status, headers, body, delay = self.state.respond(query)
        if delay:
            time.sleep(delay)  # the client has given up by now; writing may fail, which is fine
        self._send(status, {"Content-Type": "application/json; charset=utf-8", **headers}, body)

    def _send(self, status: int, headers: dict, body: bytes):
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):  # keep test output quiet
        pass


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class StaticServer(_Server):
    """Serves the files under ``folder`` at ``http://127.0.0.1:<port>/<name>``."""

    def __init__(self, folder: str | Path):
        self._start(functools.partial(_QuietFiles, directory=str(folder)))

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"
