"""`python build.py calibrate --variant V`: the separation thresholds of a variant, set from its data —
and a judgement of the data itself.

The reference solution (solutions/) runs the whole lab over several seeds on the data the release would
use (same --data-dir / --offline rules). Its held-out silhouette at the last epoch, and its gain over
epoch 0, are summarised as [mean, std, min]; the thresholds are half the weakest run's, so a correct
solution clears them with room to spare on any seed while an untrained or broken one does not. They
are written into the config under the variant's `calibration:`, keyed by the data's sha256
(replab.corpus.Corpus.digest): a release refuses data that has no entry there.

Thresholds set from data that does not separate would pass anything, and the lab would show students
nothing. So calibrate also measures, at epoch 0 and at the last epoch, the held-out silhouette and the
held-out 5-NN accuracy (held-out rows classified by the training rows), and refuses — one line, nothing
written — data whose reference run stays below the config's `data_checks` (assignment/config.py):
the last-epoch silhouette and its gain over epoch 0 on every seed, the 5-NN accuracy over chance.
`--force` writes the entry anyway with `forced: true`; the release then records it and the notebook
says the classes are hard to separate. Every new entry keeps its measurements under `measured:`.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from assignment.config import CONFIG_PATH, load_config
from replab.corpus import DataError
from replab.errors import LabError

MARGIN = 0.5   # thresholds = this share of the weakest reference run (below it, when it is negative)
KNN_K = 5      # the neighbours of the data check's k-NN accuracy


class DataDoesNotSeparate(LabError):
    """The reference run leaves the data's classes mixed: nothing is written (unless --force)."""


def heldout_knn_accuracy(embeddings: np.ndarray, labels, is_test, k: int = KNN_K) -> float:
    """Share of the held-out rows of one epoch's ``embeddings`` (N, D) that their k nearest training rows
    (euclidean, majority vote) put in their own class."""
    from sklearn.neighbors import KNeighborsClassifier

    labels, is_test = np.asarray(labels), np.asarray(is_test, dtype=bool)
    x = np.asarray(embeddings, dtype=np.float64)
    knn = KNeighborsClassifier(n_neighbors=min(k, int((~is_test).sum())))
    return float(knn.fit(x[~is_test], labels[~is_test]).score(x[is_test], labels[is_test]))


def class_distances(embeddings: np.ndarray, labels, class_names) -> np.ndarray:
    """(k, k) distances between the class centroids of one epoch's ``embeddings`` (N, D), divided by the mean
    distance of a row to its own centroid, so that runs whose activations grew by different amounts can be
    averaged."""
    x, labels = np.asarray(embeddings, dtype=np.float64), np.asarray(labels)
    centroids = np.stack([x[labels == c].mean(axis=0) for c in class_names])
    spread = np.mean([np.linalg.norm(x[labels == c] - centroids[i], axis=1).mean() for i, c in enumerate(class_names)])
    gaps = np.linalg.norm(centroids[:, None, :] - centroids[None, :, :], axis=-1)
    return gaps / spread if spread > 0 else gaps


def choose_pairs(distances: np.ndarray, class_names) -> dict:
    """{related: [a, b], unrelated: [c, d]}: the nearest and the farthest two classes of ``distances`` (k, k),
    each pair in the data's class order; ties go to the pair met first."""
    i, j = np.triu_indices(len(class_names), k=1)
    d = distances[i, j]
    near, far = int(np.argmin(d)), int(np.argmax(d))
    return {"related": [class_names[i[near]], class_names[j[near]]],
            "unrelated": [class_names[i[far]], class_names[j[far]]]}


def calibrate(cfg, variant, corpus, seeds: int, progress=print) -> dict:
    """The calibration entry for `corpus`: {source, seeds, silhouette_last, gain, silhouette_min,
    silhouette_gain_min, measured, pairs}; `measured` holds {mean, min, max} over the seeds of the held-out
    silhouette and 5-NN accuracy at epoch 0 and the last epoch, and the chance accuracy (1 / classes);
    `pairs` the nearest and farthest classes at the last epoch (centroid distances averaged over the seeds),
    which the worksheet names as its related and unrelated examples."""
    import functools

    import solutions.capture
    from replab.http import describe_error
    from replab.metrics import heldout_silhouette
    from solutions.pipeline import run_lab
    # the reference shows students a progress bar per epoch; here one line per run says more
    solutions.capture.tqdm = functools.partial(solutions.capture.tqdm, disable=True)
    first, last, knn_first, knn_last, distances = [], [], [], [], []
    for seed in range(seeds):
        started = time.monotonic()
        try:
            run = run_lab(corpus, variant, seed=seed, epochs=cfg.epochs, test_fraction=cfg.test_fraction)
        except ValueError as e:   # scikit-learn on data it cannot use, e.g. texts of stop words only (no vocabulary)
            raise DataError(f"variants.{variant.name}: the reference solution cannot use this data (seed {seed}: "
                            f"{describe_error(e)}) [{corpus.source}]") from None
        curve = heldout_silhouette(run.snapshots, corpus.labels, run.is_test)
        knn = [heldout_knn_accuracy(run.snapshots[e], corpus.labels, run.is_test) for e in (0, -1)]
        first.append(curve[0])
        last.append(curve[-1])
        knn_first.append(knn[0])
        knn_last.append(knn[1])
        distances.append(class_distances(run.snapshots[-1], corpus.labels, corpus.class_names))
        progress(f"[{variant.name}] seed {seed + 1}/{seeds}: held-out silhouette {curve[0]:.3f} → {curve[-1]:.3f}, "
                 f"{KNN_K}-NN accuracy {knn[0]:.2f} → {knn[1]:.2f} ({time.monotonic() - started:.0f} s)")
    first, last = np.array(first), np.array(last)
    gain = last - first
    if not np.isfinite(last).all():
        raise DataError(f"variants.{variant.name}: the held-out silhouette is undefined on this data "
                        f"(fewer than two classes held out?): {corpus.source}")
    spread = lambda a: [round(float(a.mean()), 3), round(float(a.std()), 3), round(float(a.min()), 3)]
    span = lambda a: {"mean": round(float(np.mean(a)), 3), "min": round(float(np.min(a)), 3),
                      "max": round(float(np.max(a)), 3)}
    # below the weakest run by a share of its size: half of it when positive, 1.5 times it when negative
    below = lambda weakest: round(weakest - (1 - MARGIN) * abs(weakest), 3)
    return {"source": corpus.source, "seeds": seeds, "silhouette_last": spread(last), "gain": spread(gain),
            "silhouette_min": below(float(last.min())), "silhouette_gain_min": below(float(gain.min())),
            "measured": {"silhouette_epoch0": span(first), "silhouette_last": span(last),
                         "knn_accuracy_epoch0": span(knn_first), "knn_accuracy_last": span(knn_last),
                         "knn_k": KNN_K, "knn_chance": round(1 / len(corpus.class_names), 3)},
            "pairs": choose_pairs(np.mean(distances, axis=0), list(corpus.class_names))}


def judge(entry: dict, checks) -> list[tuple[bool, str]]:
    """Each data check against the entry's measurements: (met, what was measured and what is needed)."""
    m, gain = entry["measured"], entry["gain"]
    needed_knn = checks.min_heldout_knn_accuracy_times_chance * m["knn_chance"]
    return [
        (m["silhouette_last"]["min"] >= checks.min_heldout_silhouette_last_every_seed,
         f"held-out silhouette at the last epoch mean {m['silhouette_last']['mean']:.3f}, min "
         f"{m['silhouette_last']['min']:.3f} (needs ≥ {checks.min_heldout_silhouette_last_every_seed:g} on every seed)"),
        (gain[2] >= checks.min_heldout_silhouette_gain_every_seed,
         f"its gain over epoch 0 mean {gain[0]:.3f}, min {gain[2]:.3f} "
         f"(needs ≥ {checks.min_heldout_silhouette_gain_every_seed:g} on every seed)"),
        (m["knn_accuracy_last"]["mean"] >= needed_knn,
         f"held-out {m['knn_k']}-NN accuracy at the last epoch mean {m['knn_accuracy_last']['mean']:.3f}, min "
         f"{m['knn_accuracy_last']['min']:.3f} (needs a mean ≥ {needed_knn:.3f}: "
         f"{checks.min_heldout_knn_accuracy_times_chance:g} × chance {m['knn_chance']:.3f})"),
    ]


def refusal(cfg, variant, corpus, entry: dict, verdicts) -> str:
    """The one line calibrate prints when the data does not separate: what was measured, what helps."""
    short = [text for met, text in verdicts if not met]
    met = [text for ok, text in verdicts if ok]
    counts = corpus.counts()
    tip = ("a different lr or max_features" if variant.kind == "text" else
           "a different lr, or pictures whose subject fills the frame (they are shrunk to 32×32)")
    return (f"{cfg.path}: variants.{variant.name}: the reference solution does not separate this data's classes over "
            f"{entry['seeds']} seeds [{corpus.source}]: " + "; ".join(short)
            + (f"; met: {'; '.join(met)}" if met else "")
            + f". What usually helps: more items per class (now {min(counts.values())}–{max(counts.values())}), "
              f"fewer or more distinct classes (now {len(counts)}), {tip}. Nothing was written; "
              f"--force records it anyway (the notebook then says the classes are hard to separate)")


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
    def node(value, depth: int = 0):
        """Lists and innermost mappings on one line ([mean, std, min], {mean, min, max}); others as blocks."""
        if isinstance(value, list):
            value = CommentedSeq(value)
            value.fa.set_flow_style()
        elif isinstance(value, dict):
            inner = CommentedMap((k, node(v, depth + 1)) for k, v in value.items())
            if depth > 0 and not any(isinstance(v, dict) for v in value.values()):
                inner.fa.set_flow_style()
            value = inner
        return value

    block["calibration"][digest] = node(entry)
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
    p.add_argument("--force", action="store_true",
                   help="write the thresholds even when the reference run does not separate the data (recorded as "
                        "forced: the notebook then says the classes are hard to separate)")
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
        verdicts = judge(entry, variant.data_checks)
        if not all(met for met, _ in verdicts):
            if not args.force:
                raise DataDoesNotSeparate(refusal(cfg, variant, corpus, entry, verdicts))
            entry["forced"] = True
            print(f"[{name}] forced: the reference run does not separate this data ("
                  + "; ".join(text for met, text in verdicts if not met) + "); recorded as forced", flush=True)
        digest = corpus.digest()
        write_calibration(cfg.path, name, digest, entry)
        m = entry["measured"]
        print(f"[{name}] data: held-out silhouette {m['silhouette_epoch0']['mean']:.3f} → {m['silhouette_last']['mean']:.3f}, "
              f"{KNN_K}-NN accuracy {m['knn_accuracy_epoch0']['mean']:.2f} → {m['knn_accuracy_last']['mean']:.2f} "
              f"(chance {m['knn_chance']:.2f}; means over {args.seeds} seeds); nearest classes "
              f"{' and '.join(entry['pairs']['related'])}, farthest {' and '.join(entry['pairs']['unrelated'])}", flush=True)
        print(f"[{name}] thresholds: held-out silhouette ≥ {entry['silhouette_min']:g}, gain ≥ "
              f"{entry['silhouette_gain_min']:g} (runs: last {entry['silhouette_last']}, gain {entry['gain']}) "
              f"→ {cfg.path}: variants.{name}.calibration.{digest[:12]}…")
    return 0
