"""One place that makes HTTP sessions: polite User-Agent, retries with backoff, Retry-After honoured.

Callers always pass ``timeout=`` on each request (requests has no default timeout and would wait forever).
"""
from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

USER_AGENT = f"replab/1.0 (course lab; representation learning) python-requests/{requests.__version__}"
RETRY_STATUSES = (429, 500, 502, 503, 504)


def make_session(retries: int = 5, backoff: float = 0.5, user_agent: str = USER_AGENT,
                 connect_retries: int | None = None) -> requests.Session:
    """A Session that retries GETs on connect/read errors and on 429/5xx, sleeping ``backoff * 2**k``
    between tries, or what the server's Retry-After asks for.

    ``connect_retries`` (default: ``retries``) bounds retries on failed connections separately, so a caller
    that has a fallback can give up on an unreachable host within seconds while still riding out a
    busy server's 429/503 answers.
    """
    retry = Retry(
        total=retries,
        connect=retries if connect_retries is None else connect_retries,
        read=retries,
        status=retries,
        backoff_factor=backoff,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),  # only idempotent reads are ever repeated
        respect_retry_after_header=True,
        raise_on_status=True,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    return session


def describe_error(error: BaseException) -> str:
    """A short one-line reason for a failed request (requests nests urllib3's cause several levels deep)."""
    inner = error.args[0] if error.args and isinstance(error.args[0], BaseException) else None
    reason = getattr(inner, "reason", None) or inner or error
    text = " ".join(str(reason).split())
    return f"{type(reason).__name__}: {text}" if text else type(reason).__name__
