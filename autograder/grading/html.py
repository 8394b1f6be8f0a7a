"""The Jinja environment of the pages a TA opens (report.html, written.html).

Names, answers and messages in them are the students' own text, so the pages treat them as text only:
autoescape everywhere, no inline event handlers, and a Content-Security-Policy that lets run only the
page's own script (by its hash) and fetch nothing, so even a mistake in a template cannot turn a
submission's name into code or a request that leaves the TA's machine.
"""
from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates"


def csp_sha256(script) -> str:
    """'sha256-…' of an inline script's text, as a Content-Security-Policy source."""
    digest = hashlib.sha256(str(script).encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def num(value, decimals: int = 2) -> str:
    """A number for people: at most `decimals` decimals, no trailing zeros (8.16665 → "8.17", 6.0 → "6")."""
    text = f"{float(value):.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["csp_sha256"] = csp_sha256
    env.filters["num"] = num
    return env
