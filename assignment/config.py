"""The assignment config (assignment/config.yaml), loaded into typed objects and validated.

A variant is one block: its kind (solutions/kinds.py), its data source (assignment/sources/), its
training settings and the separation thresholds `python build.py calibrate` wrote for its data. No
variant name appears in code: adding one is a block in the config and its data.

Every problem is reported as one line naming the file and the key, e.g.
``assignment/config.yaml: variants.bbc.lr: must be a positive number, got 'fast'``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from replab.errors import LabError

CONFIG_PATH = Path(__file__).with_name("config.yaml")
QUESTIONS = ("q1_hook", "q2_capture", "q3_export", "q4_separation")


class ConfigError(LabError, ValueError):
    """A config file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Thresholds:
    """The separation the reference solution must reach on one dataset, and the runs it was set from."""
    silhouette_min: float       # held-out silhouette at the last epoch must reach this
    silhouette_gain_min: float  # ... and exceed epoch 0 by at least this
    seeds: int                  # reference runs behind them
    silhouette_last: tuple      # (mean, std, min) over those runs
    gain: tuple                 # (mean, std, min)
    source: str = ""            # where that data came from when it was calibrated
    # what calibrate measured (entries written before it measured these have none): held-out silhouette and
    # 5-NN accuracy at epoch 0 and the last epoch as {mean, min, max} over the seeds, and the chance accuracy
    measured: dict = field(default_factory=dict)
    forced: bool = False        # the data did not separate and the instructor released it anyway (--force)
    # the reference run's nearest and farthest class centroids at the last epoch, {related: (a, b),
    # unrelated: (c, d)}: the worksheet's example pairs (entries written before calibrate chose them have none)
    pairs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DataChecks:
    """What a variant's data must be before calibrate or a release uses it (config key ``data_checks:``,
    top level for every variant, or inside one variant's block for it alone). The defaults:

    - ``min_items_per_class: 8``: with ``test_fraction: 0.25`` the held-out quarter then holds 2 of each
      class (a silhouette of a class held out once is 0 by definition) and the 6 left to train on can fill
      the k = 5 nearest neighbours of a held-out item; fewer, and both measures are noise.
    - ``min_classes: 3``: two classes separate along one direction; three or more make a picture to read.
    - ``min_heldout_silhouette_last_every_seed``, ``min_heldout_silhouette_gain_every_seed`` (0.05): the
      reference run must reach this held-out silhouette at the last epoch, and gain this much over epoch 0,
      on every seed calibrate runs — less and there is nothing for students to watch.
    - ``min_heldout_knn_accuracy_times_chance: 1.5``: the held-out rows, classified at the last epoch by
      their 5 nearest training rows (mean over the seeds), must beat a guess (1 / classes) by this factor.
    """
    min_items_per_class: int = 8
    min_classes: int = 3
    min_heldout_silhouette_last_every_seed: float = 0.05
    min_heldout_silhouette_gain_every_seed: float = 0.05
    min_heldout_knn_accuracy_times_chance: float = 1.5


@dataclass(frozen=True)
class Variant:
    name: str
    kind: str                  # a key of solutions.kinds.KINDS: "text" or "image"
    title: str
    source: dict               # the data source block, validated (assignment/sources)
    hidden: tuple[int, ...]    # hidden layer widths; the hook reads the last one
    lr: float
    batch_size: int            # 0 = full batch
    about: str = ""            # the notebook's first words about this variant (markdown)
    max_features: int = 1000   # TF-IDF width (text kinds)
    calibration: dict = field(default_factory=dict)  # data digest → Thresholds
    data_checks: DataChecks = DataChecks()           # the config's, with this block's own data_checks over them
    # the worksheet's example pairs chosen by the instructor, over those calibrate chose: {related: (a, b), ...}
    pairs: dict = field(default_factory=dict)

    @property
    def embedding_dim(self) -> int:
        return self.hidden[-1]

    def thresholds(self, digest: str) -> Thresholds | None:
        """The thresholds calibrated on the data with this digest (replab.corpus.Corpus.digest), if any."""
        return self.calibration.get(digest)


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
    data_checks: DataChecks = DataChecks()
    # Where students get the lab when they open the notebook alone (Colab, a JupyterHub, a download):
    student_bundle_url: str = ""   # the URL of dist/<variant>/student.zip once published; "{variant}" in it
    publish_url: str = ""          # the GitHub folder the notebooks are published in: the release writes Colab links
    colab: bool = False            # a Colab-ready release: refused while student_bundle_url is unset

    def variant(self, name: str) -> Variant:
        if name not in self.variants:
            raise ConfigError(f"{self.path}: variants: no variant named {name!r} (have {', '.join(self.variants)})")
        return self.variants[name]

    def bundle_url(self, variant_name: str) -> str:
        """Where the notebook of this variant downloads its student bundle ("" when the config names none)."""
        return self.student_bundle_url.replace("{variant}", variant_name)

    def colab_url(self, variant_name: str, notebook: str) -> str:
        """The "Open in Colab" link of this variant's notebook once published under publish_url ("" without one)."""
        if not self.publish_url:
            return ""
        owner, repo, _, branch, *folder = _github_parts(self.publish_url.replace("{variant}", variant_name))
        return "/".join(["https://colab.research.google.com/github", owner, repo, "blob", branch, *folder, notebook])


def _github_parts(url: str) -> list[str] | None:
    """https://github.com/<owner>/<repo>/(blob|tree)/<branch>[/<folder>...] → its parts, or None."""
    prefix = "https://github.com/"
    if not url.startswith(prefix):
        return None
    parts = [p for p in url[len(prefix):].split("/") if p]
    return parts if len(parts) >= 4 and parts[2] in ("blob", "tree") else None


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


VARIANT_KEYS = {"kind", "title", "about", "source", "hidden", "lr", "batch_size", "max_features", "calibration",
                "data_checks", "pairs"}
CALIBRATION_KEYS = {"source", "seeds", "silhouette_last", "gain", "silhouette_min", "silhouette_gain_min",
                    "measured", "forced", "pairs"}
PAIR_KINDS = ("related", "unrelated")
MEASURED_RANGES = ("silhouette_epoch0", "silhouette_last", "knn_accuracy_epoch0", "knn_accuracy_last")
MEASURED_KEYS = {*MEASURED_RANGES, "knn_k", "knn_chance"}


def _measured(r: "_Reader", data, at: str) -> dict:
    """A calibration entry's optional ``measured:`` block, checked: each range {mean, min, max} of numbers."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        r.fail(at, f"must be a mapping, got {data!r}")
    r.unknown(data, MEASURED_KEYS, at)
    out = {}
    for key, value in data.items():
        if key in MEASURED_RANGES:
            ok = isinstance(value, dict) and set(value) == {"mean", "min", "max"} and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in value.values())
            if not ok:
                r.fail(f"{at}.{key}", f"must be {{mean, min, max}} numbers, got {value!r}")
            out[key] = {k: float(value[k]) for k in ("mean", "min", "max")}
        else:
            out[key] = r.get(data, key, at, float if key == "knn_chance" else int)
    return out


def _pairs(r: "_Reader", data, at: str) -> dict:
    """An optional ``pairs:`` block (a variant's or a calibration entry's): {related: [a, b], unrelated: [c, d]},
    each two different class names; either may be left out. Whether they are classes of the data is checked
    when the worksheet is worded (worksheet/bank.py), since only then is the data known."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        r.fail(at, f"must be a mapping like {{related: [a, b], unrelated: [c, d]}}, got {data!r}")
    r.unknown(data, set(PAIR_KINDS), at)
    out = {}
    for key, value in data.items():
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(x, str) and x for x in value)
                and value[0] != value[1]):
            r.fail(f"{at}.{key}", f"must be two different class names [a, b], got {value!r}")
        out[key] = tuple(value)
    return out


def _calibration(r: _Reader, data, where: str) -> dict[str, Thresholds]:
    out = {}
    for digest, entry in (data or {}).items():
        at = f"{where}.{digest}"
        if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
            r.fail(at, "must be keyed by the data's sha256 (64 hex digits), as `python build.py calibrate` writes it")
        if not isinstance(entry, dict):
            r.fail(at, f"must be a mapping, got {entry!r}")
        r.unknown(entry, CALIBRATION_KEYS, at)
        spread = lambda k: tuple(r.get(entry, k, at, list, check=lambda v: len(v) == 3 and all(
            isinstance(x, (int, float)) for x in v), problem="must be [mean, std, min]"))
        out[digest] = Thresholds(
            silhouette_min=r.get(entry, "silhouette_min", at, float, check=lambda x: -1 <= x <= 1, problem="must lie in [-1, 1]"),
            silhouette_gain_min=r.get(entry, "silhouette_gain_min", at, float),
            seeds=r.get(entry, "seeds", at, int, check=_positive, problem="must be positive"),
            silhouette_last=spread("silhouette_last"), gain=spread("gain"),
            source=r.get(entry, "source", at, str, default=""),
            measured=_measured(r, entry.get("measured"), f"{at}.measured"),
            forced=r.get(entry, "forced", at, bool, default=False),
            pairs=_pairs(r, entry.get("pairs"), f"{at}.pairs"))
    return out


def _data_checks(r: _Reader, data, where: str, base: DataChecks) -> DataChecks:
    """``base`` with the keys ``data`` (a ``data_checks:`` mapping, maybe None) sets."""
    from dataclasses import fields, replace
    if data is None:
        return base
    if not isinstance(data, dict):
        r.fail(where, f"must be a mapping, got {data!r}")
    r.unknown(data, {f.name for f in fields(DataChecks)}, where)
    # at least 2 items per class: the held-out split is stratified and needs one to hold out and one to train on
    values = {
        "min_items_per_class": (int, lambda n: n >= 2, "must be at least 2"),
        "min_classes": (int, lambda n: n >= 2, "must be at least 2 (a class needs another to separate from)"),
        "min_heldout_silhouette_last_every_seed": (float, lambda x: -1 <= x <= 1, "must lie in [-1, 1]"),
        "min_heldout_silhouette_gain_every_seed": (float, lambda x: -2 <= x <= 2, "must lie in [-2, 2]"),
        "min_heldout_knn_accuracy_times_chance": (float, lambda x: x >= 0, "must be ≥ 0 (1 = as good as a guess)"),
    }
    return replace(base, **{k: r.get(data, k, where, kind, check=check, problem=problem)
                            for k, (kind, check, problem) in values.items() if k in data})


def _variant(r: _Reader, name: str, data, checks: DataChecks = DataChecks()) -> Variant:
    from assignment.sources import validate_source
    from solutions.kinds import KINDS
    where = f"variants.{name}"
    if not isinstance(data, dict):
        r.fail(where, f"must be a mapping, got {data!r}")
    if not (isinstance(name, str) and name.replace("_", "").replace("-", "").isalnum()):
        r.fail(where, "a variant's name must be letters, digits, '-' or '_' (it names its files)")
    r.unknown(data, VARIANT_KEYS, where)
    kind = r.get(data, "kind", where, str, check=lambda k: k in KINDS, problem=f"must be one of {', '.join(KINDS)}")
    depth = KINDS[kind].depth
    hidden = r.get(data, "hidden", where, list,
                   check=lambda h: len(h) == depth and all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in h),
                   problem=f"must be a list of {depth} positive integer width{'s' if depth > 1 else ''} for the {kind} model")
    source = r.get(data, "source", where, dict)
    return Variant(
        name=name, kind=kind,
        title=r.get(data, "title", where, str),
        about=r.get(data, "about", where, str, default=""),
        source=validate_source(source, f"{r.path}: {where}.source", ConfigError, kind=kind),
        hidden=tuple(hidden),
        lr=r.get(data, "lr", where, float, check=_positive, problem="must be a positive number"),
        batch_size=r.get(data, "batch_size", where, int, check=lambda b: b >= 0, problem="must be 0 (full batch) or positive"),
        max_features=r.get(data, "max_features", where, int, default=1000, check=_positive, problem="must be positive"),
        calibration=_calibration(r, r.get(data, "calibration", where, dict, default={}), f"{where}.calibration"),
        data_checks=_data_checks(r, data.get("data_checks"), f"{where}.data_checks", checks),
        pairs=_pairs(r, data.get("pairs"), f"{where}.pairs"),
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
    r.unknown(data, {"name", "title", "term", "seed", "epochs", "test_fraction", "csv_name", "points", "variants",
                     "data_checks", "student_bundle_url", "publish_url", "colab"}, "")
    checks = _data_checks(r, data.get("data_checks"), "data_checks", DataChecks())
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
        variants={name: _variant(r, name, v, checks) for name, v in variants.items()},
        path=path,
        data_checks=checks,
        student_bundle_url=r.get(data, "student_bundle_url", "", str, default="",
                                 check=lambda u: u == "" or u.startswith(("https://", "http://")),
                                 problem="must be an http(s) URL, e.g. https://course.example.edu/lab8/{variant}/student.zip"),
        publish_url=r.get(data, "publish_url", "", str, default="",
                          check=lambda u: u == "" or _github_parts(u) is not None,
                          problem="must be a GitHub folder, https://github.com/<owner>/<repo>/tree/<branch>/<folder>"),
        colab=r.get(data, "colab", "", bool, default=False),
    )
