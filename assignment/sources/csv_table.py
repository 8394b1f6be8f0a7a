"""``type: csv``: one row per document, from a CSV file or URL: a text column and a label column.

data-dir layout: ``<data_dir>/<variant>/<any name>.csv`` (exactly one).
Real source: ``url`` (network: downloaded each run) or ``path`` (a local file, read even offline).
Rows keep the file's order; rows without text or label are dropped. ``classes`` keeps only the rows of
those labels; ``per_class`` then keeps a seeded sample of that many rows of each class (all of a smaller
class), in the file's order. ``delimiter`` is the field separator (``","``; ``";"`` from a European
spreadsheet, ``"\t"`` for TSV).
"""
from __future__ import annotations

import io
from pathlib import Path

from .common import CONNECT_RETRIES, TIMEOUT, Absent, Block, visible

KIND = "text"
KEYS = {"url", "path", "text_column", "label_column", "title_column", "encoding", "classes", "per_class", "delimiter"}
TITLE_WIDTH = 80  # a made-up title: the text's first line, cut to this many characters


def validate(b: Block) -> dict:
    has_url, has_path = (b.data.get(k) is not None for k in ("url", "path"))
    if has_url == has_path:
        b.fail(None, "needs exactly one of url (an http(s):// address) or path (a local .csv file), "
                     f"got {'both' if has_url else 'neither'}")
    out = {"url": b.url("url", None), "path": b.path("path", None),
           "text_column": b.string("text_column"), "label_column": b.string("label_column"),
           "title_column": b.string("title_column", None), "encoding": b.encoding("encoding", "utf-8"),
           "classes": _classes(b), "per_class": b.integer("per_class", 0, meaning=" (a seeded sample per class; 0 = all)"),
           "delimiter": _delimiter(b)}
    return {k: v for k, v in out.items() if v is not None or k in ("title_column", "classes")}


def _classes(b: Block) -> list[str] | None:
    value = b.data.get("classes")
    if value is None:
        return None
    # labels are read as text: `classes: [1, 5]` (star ratings, unquoted in YAML) means the labels "1" and "5"
    if not (isinstance(value, list) and len(value) >= 2 and all(
            isinstance(c, str) and c.strip() or isinstance(c, int) and not isinstance(c, bool) for c in value)):
        b.fail("classes", f"must be a list of at least 2 labels to keep (as the label column writes them), got {value!r}")
    labels = [str(c).strip() for c in value]
    repeated = sorted({c for c in labels if labels.count(c) > 1})
    if repeated:
        b.fail("classes", f"must be distinct, {', '.join(map(repr, repeated))} appears more than once")
    return labels


def _delimiter(b: Block) -> str:
    value = b.data.get("delimiter")
    if value is None:
        return ","
    # pandas reads a longer separator as a regular expression, and a letter or quote would split words
    if not (isinstance(value, str) and len(value) == 1 and not value.isalnum() and value not in "\"\n\r"):
        b.fail("delimiter", f"must be one character that separates fields, e.g. ',', ';', '|' or '\\t' (tab), got {value!r}")
    return value


def real_source(source: dict) -> str:
    return "live" if "url" in source else "path"


def from_data_dir(name: str, source: dict, folder: Path, seed: int):
    from replab.corpus import DataError

    files = sorted(p for p in folder.glob("*.csv") if p.is_file() and visible(p))
    if not files:
        raise Absent(f"no {folder}/*.csv")
    if len(files) > 1:
        raise DataError(f"{folder}: {len(files)} .csv files ({', '.join(p.name for p in files)}); keep exactly one")
    return read_table(name, source, files[0], f"data-dir {files[0]}", seed=seed)


def from_source(name: str, source: dict, cache_dir: Path, seed: int):
    if "path" in source:
        path = Path(source["path"])
        if not path.is_file():
            raise Absent(f"no file {path}")
        return read_table(name, source, path, f"path {path}", seed=seed)
    return read_table(name, source, _download(source["url"]), f"live {source['url']}", where=source["url"], seed=seed)


def _download(url: str) -> io.BytesIO:
    import requests
    from replab.corpus import DataError
    from replab.http import describe_error, make_session

    try:
        response = make_session(connect_retries=CONNECT_RETRIES).get(url, timeout=TIMEOUT)
        response.raise_for_status()
    except requests.RequestException as e:
        raise DataError(f"{url}: download failed ({describe_error(e)})") from None
    return io.BytesIO(response.content)


def read_table(name: str, source: dict, data, origin: str, where: str | None = None, seed: int = 0):
    """A Corpus from CSV ``data`` (a path or a file object); errors name ``where`` (default: the path).
    ``seed`` draws the ``per_class`` sample."""
    import pandas as pd
    from replab.corpus import Corpus, DataError
    from replab.http import describe_error

    where = where or str(data)
    columns = [source["text_column"], source["label_column"]]
    columns += [source["title_column"]] if source["title_column"] else []
    try:
        # dtype=str and no NA parsing: labels stay as written ("1", not 1.0) and a text reading "NA" stays text
        frame = pd.read_csv(data, encoding=source["encoding"], dtype=str, keep_default_na=False,
                            sep=source.get("delimiter", ","))
    except FileNotFoundError:
        raise DataError(f"{where}: file not found") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{where}: empty file, expected a CSV with columns {', '.join(columns)}") from None
    except (OSError, ValueError, pd.errors.ParserError) as e:  # UnicodeDecodeError is a ValueError
        sep = source.get("delimiter", ",")
        parsing = f" with delimiter {sep!r}" if isinstance(e, pd.errors.ParserError) else ""
        raise DataError(f"{where}: not a readable CSV in {source['encoding']}{parsing} ({describe_error(e)})") from None

    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{where}: missing column(s) {', '.join(missing)} (found: {list(frame.columns[:8])})"
                        f"{_delimiter_hint(frame.columns, source.get('delimiter', ','))}")
    text, label = (frame[c].str.strip() for c in columns[:2])
    frame = frame[(text != "") & (label != "")]
    if frame.empty:
        raise DataError(f"{where}: no rows with both {columns[0]} and {columns[1]}")
    frame = _chosen_rows(frame, frame[columns[1]].str.strip(), source, seed, where)

    texts = [t.strip() for t in frame[columns[0]]]
    given = [t.strip() for t in frame[source["title_column"]]] if source["title_column"] else [""] * len(texts)
    return Corpus(
        name=name,
        titles=[title or made_title(text) for title, text in zip(given, texts)],
        labels=[label.strip() for label in frame[columns[1]]],
        texts=texts,
        source=origin,
    )


def _delimiter_hint(found, delimiter: str) -> str:
    """When the whole header came back as one column, the file's fields are likely separated by another
    character: name the one the header holds."""
    if len(found) != 1:
        return ""
    for sep in (";", "\t", "|", ","):
        if sep != delimiter and sep in str(found[0]):
            return f"; the header holds {sep!r}: set source.delimiter: {sep!r}"
    return ""


def _chosen_rows(frame, labels, source: dict, seed: int, where: str):
    """The rows of ``source["classes"]`` (all when None), then ``per_class`` of each class drawn with ``seed``."""
    import numpy as np
    from replab.corpus import DataError

    if source.get("classes"):
        found = sorted(set(labels))
        missing = [c for c in source["classes"] if c not in found]
        if missing:
            shown = ", ".join(found[:12]) + (f", … ({len(found)} labels)" if len(found) > 12 else "")
            raise DataError(f"{where}: classes: {', '.join(map(repr, missing))} not found in column "
                            f"{source['label_column']} (found: {shown})")
        keep = labels.isin(source["classes"]).to_numpy()
        frame, labels = frame[keep], labels[keep]
    if source.get("per_class"):
        rng = np.random.default_rng(seed)
        values = labels.to_numpy()
        picked = []
        for c in sorted(set(values)):   # sorted: the same seed draws the same rows whatever the file's order
            members = np.flatnonzero(values == c)
            picked.append(members if len(members) <= source["per_class"]
                          else rng.choice(members, size=source["per_class"], replace=False))
        frame = frame.iloc[np.sort(np.concatenate(picked))]
    return frame


def made_title(text: str) -> str:
    """The text's first non-empty line (a news article's headline), cut at a word within TITLE_WIDTH."""
    line = next(line.strip() for line in text.splitlines() if line.strip())
    if len(line) <= TITLE_WIDTH:
        return line
    return line[:TITLE_WIDTH - 1].rsplit(" ", 1)[0].rstrip() + "…"
