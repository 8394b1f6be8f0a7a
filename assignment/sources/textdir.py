"""``type: textdir``: a folder with one sub-folder per class, each holding ``.txt`` files (in ``encoding``,
UTF-8 by default; a byte-order mark is dropped).

Label = the sub-folder's name, title = the file's name without ``.txt``, text = the file's content.
Rows are ordered by class folder, then file name; hidden files and folders are skipped.
data-dir layout: ``<data_dir>/<variant>/`` in the same layout. Real source: ``path`` (local, read even
offline).
"""
from __future__ import annotations

from pathlib import Path

from .common import Absent, Block, visible

KIND = "text"
KEYS = {"path", "per_class", "encoding"}


def validate(b: Block) -> dict:
    return {"path": b.path("path"),
            "per_class": b.integer("per_class", 0, meaning=" (files per class, by name; 0 = all)"),
            "encoding": b.encoding("encoding", "utf-8")}


def real_source(source: dict) -> str:
    return "path"


def from_data_dir(name: str, source: dict, folder: Path, seed: int):
    return read_textdir(name, folder, source["per_class"], f"data-dir {folder}", source["encoding"])


def from_source(name: str, source: dict, cache_dir: Path, seed: int):
    path = Path(source["path"])
    if not path.is_dir():
        raise Absent(f"no folder {path}")
    return read_textdir(name, path, source["per_class"], f"path {path}", source["encoding"])


def class_folders(root: Path, what: str) -> list[Path]:
    """The visible sub-folders of ``root``, sorted; at least two, or a DataError naming ``root``."""
    from replab.corpus import DataError

    folders = sorted((d for d in root.iterdir() if d.is_dir() and visible(d)), key=lambda d: d.name)
    if len(folders) < 2:
        found = f" ({', '.join(d.name for d in folders)})" if folders else ""
        raise DataError(f"{root}: {len(folders)} class folder(s){found}; need at least 2, one per class, "
                        f"each holding {what}")
    return folders


def read_textdir(name: str, root: Path, per_class: int, origin: str, encoding: str = "utf-8"):
    from replab.corpus import Corpus, DataError

    titles, labels, texts = [], [], []
    for folder in class_folders(root, ".txt files"):
        files = sorted((f for f in folder.iterdir() if f.is_file() and visible(f) and f.suffix.lower() == ".txt"),
                       key=lambda f: f.name)
        if not files:
            raise DataError(f"{folder}: no .txt files in this class folder")
        for path in files[:per_class or None]:
            text = read_text(path, encoding).strip()
            if not text:
                raise DataError(f"{path}: empty file")
            titles.append(path.stem)
            labels.append(folder.name)
            texts.append(text)
    return Corpus(name=name, titles=titles, labels=labels, texts=texts, source=origin)


def read_text(path: Path, encoding: str) -> str:
    """The file's text; a byte it cannot decode is a DataError naming the file, the byte's offset and the
    setting that fixes it (a folder of notes saved on Windows is often cp1252/latin-1, not UTF-8)."""
    import codecs

    from replab.corpus import DataError
    from replab.http import describe_error

    try:
        data = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read ({describe_error(e)})") from None
    skip = 0
    if codecs.lookup(encoding).name == "utf-8" and data.startswith(codecs.BOM_UTF8):
        skip = len(codecs.BOM_UTF8)   # a byte-order mark that editors may write; offsets stay the file's own
    try:
        return data[skip:].decode(encoding)
    except UnicodeDecodeError as e:
        # latin-1 decodes any byte, so it is the suggestion that always loads (cp1252 reads Windows quotes better)
        raise DataError(f"{path}: not valid {encoding} at byte {skip + e.start} "
                        f"(set source.encoding, e.g. latin-1 or cp1252)") from None
