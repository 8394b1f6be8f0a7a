"""A labelled corpus (texts or images) and its frozen one-file snapshot.

A snapshot is an uncompressed-header ``.npz`` (numpy arrays only, no pickles), so it loads offline
in any numpy and its sha256 pins exactly what students and the autograder see.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from .errors import LabError

SNAPSHOT_VERSION = 1


class DataError(LabError, ValueError):
    """Data that cannot be used; the message names the file or URL and the problem."""


@dataclass
class Corpus:
    """Rows in a fixed order. Exactly one of ``texts`` / ``images`` is set."""

    name: str                       # variant name: wikipedia, bbc, cifar10
    titles: list[str]
    labels: list[str]               # class name of each row
    texts: list[str] | None = None
    images: np.ndarray | None = None  # uint8 (N, 32, 32, 3)
    source: str = ""                # where it came from, e.g. "data-dir ../shared/fixtures/bbc/dataset.csv"
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.titles)
        if (self.texts is None) == (self.images is None):
            raise ValueError("a Corpus holds either texts or images")
        if len(self.labels) != n or len(self.texts if self.texts is not None else self.images) != n:
            raise ValueError("titles, labels and rows must have the same length")

    def __len__(self) -> int:
        return len(self.titles)

    @property
    def kind(self) -> str:
        return "text" if self.texts is not None else "image"

    @property
    def class_names(self) -> list[str]:
        return sorted(set(self.labels))

    @property
    def label_ids(self) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.class_names)}
        return np.array([index[c] for c in self.labels], dtype=np.int64)

    def snippet(self, i: int, width: int = 160) -> str:
        """A short text shown beside each point in Mantis and in the viewer."""
        if self.texts is None:
            return f"{self.labels[i]} image #{i}"
        text = " ".join(self.texts[i].split())
        return text if len(text) <= width else text[: width - 1].rstrip() + "…"

    def counts(self) -> dict[str, int]:
        return {c: self.labels.count(c) for c in self.class_names}

    def digest(self) -> str:
        """sha256 of the data itself (titles, labels, texts or pixels, in order), not of where it came
        from: the same data fetched twice, or frozen twice, has the same digest. Calibrated thresholds
        are recorded against it."""
        h = hashlib.sha256()
        for part in (self.titles, self.labels, self.texts or []):
            h.update(json.dumps(part, ensure_ascii=False).encode())
        if self.images is not None:
            h.update(str(self.images.shape).encode())
            h.update(np.ascontiguousarray(self.images, dtype=np.uint8).tobytes())
        return h.hexdigest()

    # -- snapshot -------------------------------------------------------------------------------
    def save(self, path: str | Path) -> str:
        """Freeze into one ``.npz`` file; returns its sha256."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"version": SNAPSHOT_VERSION, "name": self.name, "source": self.source, "meta": self.meta}
        arrays = {
            "header": np.array(json.dumps(header, sort_keys=True)),
            "titles": np.array(self.titles, dtype=str),
            "labels": np.array(self.labels, dtype=str),
        }
        if self.texts is not None:
            arrays["texts"] = np.array(self.texts, dtype=str)
        else:
            arrays["images"] = np.ascontiguousarray(self.images, dtype=np.uint8)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as f:  # a file object keeps numpy from appending ".npz" to the temp name
            np.savez_compressed(f, **arrays)
        tmp.replace(path)
        return sha256_file(path)

    @classmethod
    def load(cls, path: str | Path) -> "Corpus":
        """Load a snapshot written by :meth:`save`; ``source`` says it came from this file."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                header = json.loads(str(z["header"]))
                if header.get("version") != SNAPSHOT_VERSION:
                    raise DataError(f"{path}: snapshot version {header.get('version')!r} is not {SNAPSHOT_VERSION}")
                texts = z["texts"].tolist() if "texts" in z.files else None
                images = z["images"] if "images" in z.files else None
                corpus = cls(name=header["name"], titles=z["titles"].tolist(), labels=z["labels"].tolist(),
                             texts=texts, images=images, meta=header.get("meta", {}),
                             source=f"snapshot {path.name} (sha256 {sha256_file(path)[:12]}; originally {header['source']})")
        except FileNotFoundError:
            raise DataError(f"{path}: snapshot not found") from None
        except (OSError, ValueError, KeyError) as e:
            if isinstance(e, DataError):
                raise
            raise DataError(f"{path}: not a readable corpus snapshot ({e})") from None
        return corpus


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
