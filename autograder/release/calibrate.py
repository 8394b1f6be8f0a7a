"""`python build.py calibrate --variant V`: the separation thresholds of a variant, set from its data.

The reference solution (solutions/) runs the whole lab over several seeds on the data the release would
use (same --data-dir / --offline rules). Its held-out silhouette at the last epoch, and its gain over
epoch 0, are summarised as [mean, std, min]; the thresholds are half the weakest run's, so a correct
solution clears them with room to spare on any seed while an untrained or broken one does not. They
are written into the config under the variant's `calibration:`, keyed by the data's sha256
(replab.corpus.Corpus.digest): a release refuses data that has no entry there.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from assignment.config import CONFIG_PATH, load_config
from replab.corpus import DataError
from replab.errors import LabError

MARGIN = 0.5   # thresholds = this share of the weakest reference run


def calibrate(cfg, variant, corpus, seeds: int, progress=print) -> dict:
    """The calibration entry for `corpus`: {source, seeds, silhouette_last, gain, silhouette_min, silhouette_gain_min}."""
    import functools

    import solutions.capture
    from replab.metrics import heldout_silhouette
    from solutions.pipeline import run_lab
    # the reference shows students a progress bar per epoch; here one line per run says more
    solutions.capture.tqdm = functools.partial(solutions.capture.tqdm, disable=True)
    first, last = [], []
    for seed in range(seeds):
        started = time.monotonic()
        run = run_lab(corpus, variant, seed=seed, epochs=cfg.epochs, test_fraction=cfg.test_fraction)
        curve = heldout_silhouette(run.snapshots, corpus.labels, run.is_test)
        first.append(curve[0])
        last.append(curve[-1])
        progress(f"[{variant.name}] seed {seed + 1}/{seeds}: held-out silhouette {curve[0]:.3f} → {curve[-1]:.3f} "
                 f"({time.monotonic() - started:.0f} s)")
    first, last = np.array(first), np.array(last)
    gain = last - first
    if not np.isfinite(last).all():
        raise DataError(f"variants.{variant.name}: the held-out silhouette is undefined on this data "
                        f"(fewer than two classes held out?): {corpus.source}")
    spread = lambda a: [round(float(a.mean()), 3), round(float(a.std()), 3), round(float(a.min()), 3)]
    return {"source": corpus.source, "seeds": seeds, "silhouette_last": spread(last), "gain": spread(gain),
            "silhouette_min": round(MARGIN * float(last.min()), 3),
            "silhouette_gain_min": round(MARGIN * float(gain.min()), 3)}


def write_calibration(config_path: Path, variant_name: str, digest: str, entry: dict) -> None:
    """Set variants.<name>.calibration.<digest> in the config file, keeping its comments and layout
    (ruamel.yaml round-trips them); entries for other data stay."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 120
    data = yaml.load(Path(config_path).read_text(encoding="utf-8"))
    block = data["variants"][variant_name]
    if "calibration" not in block or block["calibration"] is None:
        block["calibration"] = CommentedMap()
        block.yaml_set_comment_before_after_key(
            "calibration", before="written by `python build.py calibrate`: thresholds per dataset (its sha256)", indent=4)
    record = CommentedMap()
    for key, value in entry.items():
        if isinstance(value, list):
            value = CommentedSeq(value)
            value.fa.set_flow_style()
        record[key] = value
    block["calibration"][digest] = record
    tmp = Path(config_path).with_suffix(".yaml.part")
    with open(tmp, "w", encoding="utf-8") as f:
        yaml.dump(data, f)
    tmp.replace(config_path)


def main(argv=None) -> int:
    from assignment.sources import load_variant_corpus
    p = argparse.ArgumentParser(prog="build.py calibrate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variant", required=True, action="append", help="the variant to calibrate (repeatable)")
    p.add_argument("--data-dir", help="read corpora from this folder, as `build.py --data-dir` does")
    p.add_argument("--offline", action="store_true", help="never try the network sources")
    p.add_argument("--seeds", type=int, default=5, help="reference runs (at least 5)")
    p.add_argument("--config", default=str(CONFIG_PATH), help="the assignment config to calibrate and update")
    args = p.parse_args(argv)
    if args.seeds < 5:
        raise LabError(f"--seeds {args.seeds}: calibrate needs at least 5 reference runs to know their spread")
    cfg = load_config(args.config)
    data_dir = Path(args.data_dir) if args.data_dir else None
    if data_dir is not None and not data_dir.is_dir():
        raise DataError(f"{data_dir}: --data-dir is not a folder")
    for name in args.variant:
        variant = cfg.variant(name)
        corpus = load_variant_corpus(cfg, variant, data_dir=data_dir, cache_dir=Path("dist") / ".cache",
                                     live=not args.offline)
        print(f"[{name}] data: {corpus.source} — {len(corpus)} items; {args.seeds} reference runs", flush=True)
        entry = calibrate(cfg, variant, corpus, args.seeds, progress=lambda line: print(line, flush=True))
        digest = corpus.digest()
        write_calibration(cfg.path, name, digest, entry)
        print(f"[{name}] thresholds: held-out silhouette ≥ {entry['silhouette_min']:g}, gain ≥ "
              f"{entry['silhouette_gain_min']:g} (runs: last {entry['silhouette_last']}, gain {entry['gain']}) "
              f"→ {cfg.path}: variants.{name}.calibration.{digest[:12]}…")
    return 0
