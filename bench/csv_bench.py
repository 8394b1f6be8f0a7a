"""Mantis CSV speed: our writer/reader against the original lab's pandas + ast code, on the same data.

P2 = seed write time / our write time (also file sizes, and whether ours round-trips float32 exactly).
P3 = seed read+parse time of the seed-written file / our validating read time of our file (old pipeline
against new, same data). ``P3_same_file`` has us read the seed-written file too: what the autograder meets
when students export with pandas.

    python bench/csv_bench.py
"""
from __future__ import annotations

import ast
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


from replab.mantis import read_mantis_csv, write_mantis_csv  # noqa: E402


def make_data(n: int = 5000, epochs: int = 11, dim: int = 128, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    classes = ["Art", "Biology", "Chemistry", "History", "Mathematics", "Music", "Physics"]
    return {
        "titles": [f"Article {i}, part {i % 7}" for i in range(n)],
        "categories": [classes[i % len(classes)] for i in range(n)],
        "splits": ["test" if i % 5 == 0 else "train" for i in range(n)],
        "snippets": [f"Snippet {i}: a short \"quoted\" text, with commas, about {classes[i % 7]}." for i in range(n)],
        "embeddings": (rng.standard_normal((epochs, n, dim)) * rng.lognormal(0, 2, (epochs, 1, dim))).astype(np.float32),
    }


def seed_write(path: Path, data: dict) -> None:
    """The original lab's export: lists of Python floats in a DataFrame, pandas to_csv."""
    df = pd.DataFrame({"title": data["titles"], "categoric": data["categories"], "split": data["splits"],
                       "snippet": data["snippets"]})
    for e, array in enumerate(data["embeddings"]):
        df[f"embedding_epoch_{e}"] = array.tolist()
    df.to_csv(path, index=False)


def seed_read(path: Path) -> np.ndarray:
    """The original lab's import: pandas read_csv, then ast.literal_eval on every embedding cell."""
    df = pd.read_csv(path)
    columns = [c for c in df.columns if c.startswith("embedding_epoch_")]
    return np.stack([np.array([np.array(ast.literal_eval(cell), dtype=np.float32) for cell in df[c]])
                     for c in columns])


def _time(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def measure_write(n: int = 5000, epochs: int = 11, dim: int = 128, seed: int = 0) -> dict:
    data = make_data(n, epochs, dim, seed)
    with tempfile.TemporaryDirectory() as tmp:
        seed_path, ours_path = Path(tmp, "seed.csv"), Path(tmp, "ours.csv")
        seed_s, _ = _time(seed_write, seed_path, data)
        ours_s, _ = _time(write_mantis_csv, ours_path, data["titles"], data["categories"], data["splits"],
                          data["snippets"], data["embeddings"])
        back = read_mantis_csv(ours_path, epochs=epochs, dim=dim, n_rows=n)
        exact = bool(np.array_equal(back.embeddings.view(np.uint32), data["embeddings"].view(np.uint32))
                     and back.titles == data["titles"] and back.snippets == data["snippets"])
        return {"P2": seed_s / ours_s, "seed_s": seed_s, "ours_s": ours_s, "seed_bytes": seed_path.stat().st_size,
                "ours_bytes": ours_path.stat().st_size, "bytes_ratio": ours_path.stat().st_size / seed_path.stat().st_size,
                "exact": exact}


def measure_read(n: int = 5000, epochs: int = 11, dim: int = 128, seed: int = 0) -> dict:
    data = make_data(n, epochs, dim, seed)
    with tempfile.TemporaryDirectory() as tmp:
        seed_path, ours_path = Path(tmp, "seed.csv"), Path(tmp, "ours.csv")
        seed_write(seed_path, data)
        write_mantis_csv(ours_path, data["titles"], data["categories"], data["splits"], data["snippets"],
                         data["embeddings"])
        seed_s, seed_arrays = _time(seed_read, seed_path)
        ours_s, own = _time(read_mantis_csv, ours_path, epochs, dim, n)
        same_file_s, table = _time(read_mantis_csv, seed_path, epochs, dim, n)
        same = bool(np.array_equal(own.embeddings, data["embeddings"]) and np.array_equal(seed_arrays, table.embeddings)
                    and np.array_equal(table.embeddings, data["embeddings"]))
        return {"P3": seed_s / ours_s, "seed_s": seed_s, "ours_s": ours_s,
                "P3_same_file": seed_s / same_file_s, "ours_same_file_s": same_file_s, "same": same}


def main() -> None:
    write = measure_write()
    print(f"P2 write: seed {write['seed_s']:.2f} s, ours {write['ours_s']:.2f} s -> {write['P2']:.1f}x "
          f"(target >= 8); bytes {write['seed_bytes']:,} vs {write['ours_bytes']:,} "
          f"({write['bytes_ratio']:.2f}x, target <= 0.6); exact float32 round trip: {write['exact']}")
    read = measure_read()
    print(f"P3 read+validate: seed {read['seed_s']:.2f} s, ours {read['ours_s']:.2f} s -> {read['P3']:.1f}x "
          f"(target >= 15); ours on the seed-written file {read['ours_same_file_s']:.2f} s -> "
          f"{read['P3_same_file']:.1f}x; same float32 arrays: {read['same']}")


if __name__ == "__main__":
    main()
