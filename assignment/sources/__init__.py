"""Where a variant's data comes from (build side: students get the frozen snapshot, never this package).

A variant's ``source:`` block names a source type (a module here) and its settings; the types are code,
the datasets are config. For each variant, in this order:

1. ``<data_dir>/<variant>/`` when it exists, read in the source type's own layout (a folder that lacks
   the corpus is skipped; one that holds broken data is an error);
2. the real source: a network one (MediaWiki API, a CSV's URL, torchvision's download into
   ``cache_dir``) unless ``live=False``, or a local ``path`` (read even when ``live=False``);
3. the offline default the block names with ``offline:`` (``intros`` text, ``digits`` images), if any.

Each skipped source prints one line saying why; ``corpus.source`` says which one was used and
``corpus.meta["origin"]`` is one of ``data-dir``, ``live``, ``path``, ``offline``.

Importing this package is cheap (no numpy, torch or requests): the config validates its source blocks
with :func:`validate_source` on every load; the loaders import what they need when they run.
"""
from __future__ import annotations

from pathlib import Path

from . import csv_table, imagefolder, mediawiki, textdir, torchvision_dataset
from .common import DEFAULT_CACHE, Absent, Block, resolve
from .offline_defaults import DEFAULTS as OFFLINE_DEFAULTS

# Each module declares KIND, KEYS, validate(), real_source(), from_data_dir() and from_source().
SOURCE_TYPES = {
    "mediawiki": mediawiki,
    "csv": csv_table,
    "textdir": textdir,
    "imagefolder": imagefolder,
    "torchvision": torchvision_dataset,
}
COMMON_KEYS = {"type", "offline"}

__all__ = ["SOURCE_TYPES", "OFFLINE_DEFAULTS", "load_corpus", "load_variant_corpus", "check_sizes",
           "validate_source", "describe_source"]


def validate_source(block, where: str, error: type[Exception], kind: str | None = None) -> dict:
    """``block`` checked and returned as a new dict with every default filled in (``offline`` None when not
    given, csv's ``title_column`` None when not given). ``where`` names the block in messages, e.g.
    ``assignment/config.yaml: variants.bbc.source``; the first problem raises ``error`` with one line
    such as ``<where>.topics: must be a list of at least 2 …``. ``kind`` (text/image), when given, must be
    what the source type produces. Validating a validated block again gives the same block."""
    types = ", ".join(SOURCE_TYPES)
    if not isinstance(block, dict):
        raise error(f"{where}: must be a mapping with a type ({types}), got {block!r}")
    b = Block(block, where, error)
    kind_of = block.get("type")
    if kind_of is None:
        b.fail("type", f"missing (one of {types})")
    if kind_of not in SOURCE_TYPES:
        b.fail("type", f"must be one of {types}, got {kind_of!r}")
    module = SOURCE_TYPES[kind_of]
    allowed = COMMON_KEYS | module.KEYS
    extra = sorted(map(str, set(block) - allowed))
    if extra:
        b.fail(None, f"unknown key(s) {', '.join(extra)} for type {kind_of} (allowed: {', '.join(sorted(allowed))})")
    if kind is not None and kind != module.KIND:
        b.fail("type", f"type {kind_of} gives {module.KIND} data, but the variant's kind is {kind}")
    offline = block.get("offline")
    if offline is not None:
        if offline not in OFFLINE_DEFAULTS:
            b.fail("offline", f"must be one of {', '.join(OFFLINE_DEFAULTS)}, got {offline!r}")
        if OFFLINE_DEFAULTS[offline][0] != module.KIND:
            fits = [n for n, (k, _) in OFFLINE_DEFAULTS.items() if k == module.KIND]
            b.fail("offline", f"{offline} is {OFFLINE_DEFAULTS[offline][0]} data, but type {kind_of} gives "
                              f"{module.KIND} data" + (f"; use {' or '.join(fits)}" if fits else ""))
    return {"type": kind_of, **module.validate(b), "offline": offline}


def load_corpus(name: str, kind: str, source: dict, data_dir=None, cache_dir=None, seed: int = 0,
                live: bool = True, base_dir=None):
    """The corpus of variant ``name`` (a ``replab.corpus.Corpus`` called ``name``) from the first source
    that has it (see the module's doc). ``source`` is its source block (validated again here, so a
    hand-made dict works too), ``kind`` the variant's (text/image). A relative ``path`` in the block is
    taken relative to ``base_dir`` (the config file's folder; default: the working directory). Live
    sources download into ``cache_dir/<name>`` (default ``replab_cache/``). Raises DataError (one line)."""
    from replab.corpus import DataError

    source = validate_source(source, f"{name}.source", DataError, kind=kind)
    if "path" in source:
        source = {**source, "path": str(resolve(source["path"], base_dir))}
    module = SOURCE_TYPES[source["type"]]
    real = module.real_source(source)          # "live" (network) or "path" (a local file or folder)
    use_real = live or real == "path"
    what = "live source" if real == "live" else "source path"
    then = "using the offline default" if source["offline"] else "and there is no offline default"
    reasons = []

    if data_dir is not None:
        folder = Path(data_dir) / name
        try:
            if not folder.is_dir():
                raise Absent(f"no {folder}")
            return _tagged(module.from_data_dir(name, source, folder, seed), "data-dir")
        except Absent as e:
            reasons.append(f"data dir: {e}")
            after = f"trying the {what}" if use_real else ("trying the offline default" if source["offline"] else
                                                           "live source off and there is no offline default")
            print(f"{name}: data dir skipped ({e}); {after}")
    if not use_real:
        reasons.append("live source off (live=False)")
        print(f"{name}: live source off (live=False); {then}")
    else:
        cache = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE
        try:
            return _tagged(module.from_source(name, source, cache, seed), real)
        except Absent as e:
            reasons.append(f"{what}: {e}")
            print(f"{name}: {what} skipped ({e}); {then}")
        except DataError as e:
            if real != "live":
                raise  # a local file that is there but unusable is the instructor's to fix, not to stand in for
            reasons.append(f"live source: {e}")
            print(f"{name}: live source unavailable ({e}); {then}")

    if not source["offline"]:
        raise DataError(f"{name}: no data ({'; '.join(reasons)}) and its source block names no offline default")
    _, loader = OFFLINE_DEFAULTS[source["offline"]]
    return _tagged(loader(name, source, seed), "offline")


def load_variant_corpus(cfg, variant, *, data_dir=None, cache_dir=None, live: bool = True):
    """The corpus a release or calibrate uses for ``variant`` of config ``cfg`` (load_corpus with the config's
    seed and folder), checked by :func:`check_sizes` — the one place data is loaded for a variant, so a
    class too small for the held-out split is one line here, never a library's traceback later."""
    corpus = load_corpus(variant.name, variant.kind, variant.source, data_dir=data_dir, cache_dir=cache_dir,
                         seed=cfg.seed, live=live, base_dir=cfg.path.parent)
    check_sizes(corpus, variant.data_checks, cfg.test_fraction)
    return corpus


# how the held-out share is called in messages
_SHARES = {0.5: "half", 0.25: "quarter", 0.2: "fifth", 0.1: "tenth"}


def check_sizes(corpus, checks, test_fraction: float) -> None:
    """DataError (one line naming the variant, the class and its count) unless the corpus has at least
    ``checks.min_classes`` classes of at least ``checks.min_items_per_class`` items each."""
    from replab.corpus import DataError

    counts = corpus.counts()
    where = f"[{corpus.source}]"
    if len(counts) < checks.min_classes:
        raise DataError(f"variant {corpus.name}: {len(counts)} class{'es' * (len(counts) != 1)} "
                        f"({', '.join(counts)}); at least {checks.min_classes} are needed "
                        f"(data_checks.min_classes) {where}")
    small = sorted((n, c) for c, n in counts.items() if n < checks.min_items_per_class)
    if small:
        (n, c), rest = small[0], small[1:]
        share = _SHARES.get(test_fraction, f"{test_fraction:.0%}")
        held = max(1, round(checks.min_items_per_class * test_fraction))
        also = f"; also under {checks.min_items_per_class}: " + ", ".join(f"{c2!r} {n2}" for n2, c2 in rest) if rest else ""
        raise DataError(f"variant {corpus.name}: class {c!r} has {n} item{'s' * (n != 1)}; at least "
                        f"{checks.min_items_per_class} are needed per class (the held-out {share} needs {held})"
                        f"{also} {where}")


def describe_source(corpus) -> str:
    """One line: what the corpus holds and where it came from."""
    unit = "articles" if corpus.kind == "text" else "images"
    counts = ", ".join(f"{c} {n}" for c, n in corpus.counts().items())
    classes = len(corpus.class_names)
    return f"{corpus.name}: {len(corpus)} {unit} in {classes} classes ({counts}); source: {corpus.source}"


def _tagged(corpus, origin: str):
    corpus.meta["origin"] = origin
    return corpus
