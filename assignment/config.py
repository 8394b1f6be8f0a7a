"""The assignment config (assignment/config.yaml), loaded into typed objects and validated.

Every problem is reported as one line naming the file and the key, e.g.
``assignment/config.yaml: variants.bbc.lr: must be a positive number, got 'fast'``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

CONFIG_PATH = Path(__file__).with_name("config.yaml")
VARIANT_NAMES = ("wikipedia", "bbc", "cifar10")
QUESTIONS = ("q1_hook", "q2_capture", "q3_export", "q4_separation")


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Thresholds:
    silhouette_min: float      # held-out silhouette at the last epoch must reach this
    silhouette_gain_min: float  # ... and exceed epoch 0 by at least this
    reference: dict = field(default_factory=dict)  # the reference runs they were set from (documentation)


@dataclass(frozen=True)
class Variant:
    name: str
    kind: str                  # "text" or "image"
    title: str
    hidden: tuple[int, ...]    # hidden layer widths; the hook reads the last one
    lr: float
    batch_size: int            # 0 = full batch
    thresholds: Thresholds
    max_features: int = 1000
    api_url: str = ""
    topics: tuple[str, ...] = ()
    per_topic: int = 0
    url: str = ""
    n_images: int = 0

    @property
    def embedding_dim(self) -> int:
        return self.hidden[-1]


@dataclass(frozen=True)
class Config:
    name: str
    title: str
    term: str
    seed: int
    epochs: int
    test_fraction: float
    csv_name: str
    points: dict[str, float]
    variants: dict[str, Variant] = field(default_factory=dict)
    path: Path = CONFIG_PATH

    def variant(self, name: str) -> Variant:
        if name not in self.variants:
            raise ConfigError(f"{self.path}: variants: no variant named {name!r} (have {', '.join(self.variants)})")
        return self.variants[name]


class _Reader:
    """Reads typed values out of nested dicts, naming file and key path in every error."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, problem: str):
        raise ConfigError(f"{self.path}: {key}: {problem}")

    def get(self, data: dict, key: str, where: str, kind, default=..., check=None, problem=""):
        full = f"{where}.{key}" if where else key
        if key not in data:
            if default is ...:
                self.fail(full, "missing")
            return default
        value = data[key]
        ok_types = (int, float) if kind is float else kind
        if isinstance(value, bool) and kind is not bool or not isinstance(value, ok_types):
            self.fail(full, f"must be {_kind_name(kind)}, got {value!r}")
        if check is not None and not check(value):
            self.fail(full, f"{problem}, got {value!r}")
        return float(value) if kind is float else value

    def unknown(self, data: dict, allowed: set[str], where: str):
        extra = sorted(set(data) - allowed)
        if extra:
            self.fail(where or "top level", f"unknown key(s) {', '.join(extra)} (allowed: {', '.join(sorted(allowed))})")


def _kind_name(kind) -> str:
    return {str: "a string", int: "an integer", float: "a number", list: "a list", dict: "a mapping", bool: "true or false"}[kind]


def _positive(x) -> bool:
    return x > 0


def _variant(r: _Reader, name: str, data) -> Variant:
    where = f"variants.{name}"
    if not isinstance(data, dict):
        r.fail(where, f"must be a mapping, got {data!r}")
    if name not in VARIANT_NAMES:
        r.fail(where, f"unknown variant (known: {', '.join(VARIANT_NAMES)})")
    kind = r.get(data, "kind", where, str, check=lambda k: k in ("text", "image"), problem="must be 'text' or 'image'")
    allowed = {"kind", "title", "hidden", "lr", "batch_size", "thresholds", "max_features"}
    allowed |= {"text": {"api_url", "topics", "per_topic", "url"}, "image": {"n_images"}}[kind]
    r.unknown(data, allowed, where)
    hidden = r.get(data, "hidden", where, list, check=lambda h: h and all(isinstance(x, int) and x > 0 for x in h),
                   problem="must be a non-empty list of positive integers")
    th = r.get(data, "thresholds", where, dict)
    r.unknown(th, {"silhouette_min", "silhouette_gain_min", "reference"}, f"{where}.thresholds")
    thresholds = Thresholds(
        silhouette_min=r.get(th, "silhouette_min", f"{where}.thresholds", float, check=lambda x: -1 <= x <= 1,
                             problem="must lie in [-1, 1]"),
        silhouette_gain_min=r.get(th, "silhouette_gain_min", f"{where}.thresholds", float),
        reference=r.get(th, "reference", f"{where}.thresholds", dict, default={}),
    )
    topics = r.get(data, "topics", where, list, default=[],
                   check=lambda t: all(isinstance(x, str) and x.strip() for x in t) and len(set(t)) == len(t),
                   problem="must be distinct non-empty strings")
    if name == "wikipedia" and len(topics) < 2:
        r.fail(f"{where}.topics", "needs at least two topics")
    return Variant(
        name=name, kind=kind,
        title=r.get(data, "title", where, str),
        hidden=tuple(hidden),
        lr=r.get(data, "lr", where, float, check=_positive, problem="must be a positive number"),
        batch_size=r.get(data, "batch_size", where, int, check=lambda b: b >= 0, problem="must be 0 (full batch) or positive"),
        thresholds=thresholds,
        max_features=r.get(data, "max_features", where, int, default=1000, check=_positive, problem="must be positive"),
        api_url=r.get(data, "api_url", where, str, default=""),
        topics=tuple(topics),
        per_topic=r.get(data, "per_topic", where, int, default=0, check=lambda n: n >= 0, problem="must be >= 0"),
        url=r.get(data, "url", where, str, default=""),
        n_images=r.get(data, "n_images", where, int, default=0, check=lambda n: n >= 0, problem="must be >= 0"),
    )


def read_yaml(path: str | Path, error: type[Exception] = ConfigError):
    """Parse a YAML file; a missing or malformed file raises `error` with one line naming the file
    (and the line). Shared by every YAML file of the project (the config, the question bank)."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "YAML"
        raise error(f"{path}: {where}: not valid YAML ({getattr(e, 'problem', e)})") from None


def load_config(path: str | Path = CONFIG_PATH) -> Config:
    """Load and validate the assignment config; raises ConfigError with a one-line message."""
    path = Path(path)
    data = read_yaml(path)
    r = _Reader(path)
    if not isinstance(data, dict):
        r.fail("top level", "must be a mapping")
    r.unknown(data, {"name", "title", "term", "seed", "epochs", "test_fraction", "csv_name", "points", "variants"}, "")
    points = r.get(data, "points", "", dict)
    r.unknown(points, set(QUESTIONS), "points")
    for q in QUESTIONS:
        r.get(points, q, "points", float, check=lambda p: p >= 0, problem="must be >= 0")
    variants = r.get(data, "variants", "", dict, check=bool, problem="must name at least one variant")
    return Config(
        name=r.get(data, "name", "", str, check=lambda s: s.replace("-", "").replace("_", "").isalnum(),
                   problem="must be letters, digits, '-' or '_'"),
        title=r.get(data, "title", "", str),
        term=r.get(data, "term", "", str),
        seed=r.get(data, "seed", "", int),
        epochs=r.get(data, "epochs", "", int, check=_positive, problem="must be positive"),
        test_fraction=r.get(data, "test_fraction", "", float, check=lambda f: 0 < f < 1, problem="must lie in (0, 1)"),
        csv_name=r.get(data, "csv_name", "", str, check=lambda s: s.endswith(".csv") and "/" not in s,
                       problem="must be a plain file name ending in .csv"),
        points={q: float(points[q]) for q in QUESTIONS},
        variants={name: _variant(r, name, v) for name, v in variants.items()},
        path=path,
    )
