"""What every source type shares: the "not here, try the next source" signal, the checks of a source
block's settings, and the network settings of live sources.

Nothing heavy is imported here: the config validates its source blocks on every load.
"""
from __future__ import annotations

import codecs
from pathlib import Path

DEFAULT_CACHE = Path("replab_cache")
# Live sources get one connect retry and a short connect timeout, so that without a network the fallback
# comes within seconds; once connected, the usual retries ride out a busy server's 429/503 answers.
CONNECT_RETRIES = 1
TIMEOUT = (3.05, 30.0)  # (connect, read) seconds

REQUIRED = object()  # a setting without a default


class Absent(Exception):
    """This source does not hold the corpus (not an error: the next source is tried). The message says why."""


class Block:
    """Reads one source block's settings, raising ``error("<where>.<key>: <problem>")`` on the first bad one."""

    def __init__(self, data: dict, where: str, error: type[Exception]):
        self.data, self.where, self.error = data, where, error

    def fail(self, key: str | None, problem: str):
        """Raise the one-line error for ``key`` (None: for the block as a whole)."""
        raise self.error(f"{self.where}.{key}: {problem}" if key else f"{self.where}: {problem}")

    def _value(self, key: str, default):
        if key not in self.data or self.data[key] is None:
            if default is REQUIRED:
                self.fail(key, "missing")
            return default, False
        return self.data[key], True

    def string(self, key: str, default=REQUIRED, check=None, problem: str = "") -> str | None:
        value, given = self._value(key, default)
        if not given:
            return value
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be a non-empty string, got {value!r}")
        if check is not None and not check(value):
            self.fail(key, f"{problem}, got {value!r}")
        return value

    def integer(self, key: str, default=REQUIRED, minimum: int = 0, meaning: str = "") -> int:
        value, given = self._value(key, default)
        if given and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
            self.fail(key, f"must be an integer ≥ {minimum}{meaning}, got {value!r}")
        return value

    def url(self, key: str, default=REQUIRED) -> str | None:
        return self.string(key, default, check=lambda u: u.startswith(("http://", "https://")) and " " not in u,
                           problem="must be an http(s):// URL")

    def path(self, key: str, default=REQUIRED) -> str | None:
        """A file or folder; a relative one is resolved against the config file's folder when loading."""
        return self.string(key, default)

    def rgb(self, key: str, default: list) -> list:
        """A colour as [red, green, blue], each 0–255."""
        value, given = self._value(key, default)
        if given and not (isinstance(value, list) and len(value) == 3 and all(
                isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)):
            self.fail(key, f"must be a colour as [red, green, blue], each 0–255 (e.g. [255, 255, 255] for white), "
                           f"got {value!r}")
        return list(value)

    def encoding(self, key: str, default: str) -> str:
        return self.string(key, default, check=_known_encoding, problem="must be a text encoding Python knows "
                           "(e.g. utf-8, latin-1, cp1252)")


def _known_encoding(name: str) -> bool:
    try:
        codecs.lookup(name)
        return True
    except LookupError:
        return False


def resolve(path: str, base_dir) -> Path:
    """``path`` with ``~`` expanded, relative to ``base_dir`` (the config file's folder) unless absolute."""
    p = Path(path).expanduser()
    return p if p.is_absolute() or base_dir is None else Path(base_dir) / p


def visible(path: Path) -> bool:
    """Not a hidden entry (``.DS_Store``, ``.ipynb_checkpoints``, macOS ``._*`` resource forks)."""
    return not path.name.startswith(".")
