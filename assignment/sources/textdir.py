"""``type: textdir``: a folder with one sub-folder per class, each holding ``.txt`` files (UTF-8).

Label = the sub-folder's name, title = the file's name without ``.txt``, text = the file's content.
Rows are ordered by class folder, then file name; hidden files and folders are skipped.
data-dir layout: ``<data_dir>/<variant>/`` in the same layout. Real source: ``path`` (local, read even
offline).
"""
from __future__ import annotations

from pathlib import Path

from .common import Absent, Block, visible

KIND = "text"
KEYS = {"path", "per_class"}


def validate(b: Block) -> dict:
    return {"path": b.path("path"),
            "per_class": b.integer("per_class", 0, meaning=" (files per class, by name; 0 = all)")}


def real_source(source: dict) -> str:
    return "path"


def from_data_dir(name: str, source: dict, folder: Path, seed: int):
    return read_textdir(name, folder, source["per_class"], f"data-dir {folder}")


def from_source(name: str, source: dict, cache_dir: Path, seed: int):
    path = Path(source["path"])
    if not path.is_dir():
        raise Absent(f"no folder {path}")
    return read_textdir(name, path, source["per_class"], f"path {path}")


def class_folders(root: Path, what: str) -> list[Path]:
    """The visible sub-folders of ``root``, sorted; at least two, or a DataError naming ``root``."""
    from replab.corpus import DataError

    folders = sorted((d for d in root.iterdir() if d.is_dir() and visible(d)), key=lambda d: d.name)
    if len(folders) < 2:
        found = f" ({', '.join(d.name for d in folders)})" if folders else ""
        raise DataError(f"{root}: {len(folders)} class folder(s){found}; need at least 2, one per class, "
                        f"each holding {what}")
    return folders


def read_textdir(name: str, root: Path, per_class: int, origin: str):
    from replab.corpus import Corpus, DataError
    from replab.http import describe_error

    titles, labels, texts = [], [], []
    for folder in class_folders(root, ".txt files"):
        files = sorted((f for f in folder.iterdir() if f.is_file() and visible(f) and f.suffix.lower() == ".txt"),
                       key=lambda f: f.name)
        if not files:
            raise DataError(f"{folder}: no .txt files in this class folder")
        for path in files[:per_class or None]:
            try:
                text = path.read_text(encoding="utf-8-sig").strip()  # -sig: drop a BOM that editors may write
            except (OSError, UnicodeDecodeError) as e:
                raise DataError(f"{path}: cannot read as UTF-8 text ({describe_error(e)})") from None
            if not text:
                raise DataError(f"{path}: empty file")
            titles.append(path.stem)
            labels.append(folder.name)
            texts.append(text)
    return Corpus(name=name, titles=titles, labels=labels, texts=texts, source=origin)
