"""The Mantis CSV: one writer, one reader that validates (used by students, the autograder and the viewer).

Columns, in order: ``title, categoric, split, snippet, embedding_epoch_0 … embedding_epoch_{E-1}``.
Each embedding cell is a JSON list of numbers, e.g. ``"[0.25,-1.5,3e-05]"``. The writer prints float32
values at their shortest exact repr (orjson), so reading them back gives the same float32 bits; the reader
also accepts longer float64 text (``str(list_of_floats)``, as pandas' ``to_csv`` of lists writes) and casts
it to float32.

Reader errors are one line naming the file and, where it applies, the row and column. Rows are counted
from 1 after the header (row 1 = the first data row); values within a cell are counted from 1.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from .arrays import as_snapshots
from .corpus import DataError

TEXT_COLUMNS = ("title", "categoric", "split", "snippet")
SPLITS = ("train", "test")
EPOCH_PREFIX = "embedding_epoch_"
FLOAT32_OVERFLOW = 2.0**128 - 2.0**103  # the smallest magnitude that rounds to inf in float32
# Bytes a JSON list of plain numbers can contain; anything else (NaN, true, null, "…") needs a closer look.
_NUMBER_BYTES = b"0123456789+-.eE[], \t\r\n"


class MantisFormatError(DataError):
    """A Mantis CSV that cannot be used; the one-line message names the file, row and column."""


@dataclass
class MantisTable:
    titles: list[str]
    categories: list[str]
    splits: list[str]
    snippets: list[str]
    embeddings: np.ndarray  # float32 (E, N, D)
    epochs: list[int]

    def __len__(self) -> int:
        return len(self.titles)

    @property
    def is_test(self) -> np.ndarray:
        return np.array([s == "test" for s in self.splits])


def mantis_columns(epochs: int) -> list[str]:
    """The exact header of a Mantis CSV with ``epochs`` embedding columns."""
    return [*TEXT_COLUMNS, *(f"{EPOCH_PREFIX}{e}" for e in range(epochs))]


# -- writing ------------------------------------------------------------------------------------------

def _csv_field(text: str) -> bytes:
    """Quote a text field the way the csv module does (only when needed), as UTF-8 bytes."""
    if any(c in text for c in ',"\r\n') or text != text.strip(" "):
        text = '"' + text.replace('"', '""') + '"'
    return text.encode("utf-8")


def write_mantis_csv(path, titles, categories, splits, snippets, embeddings) -> Path:
    """Write a Mantis CSV; ``embeddings`` (the snapshots) is (E, N, D) or a list of E (N, D) arrays or tensors.

    Everything is checked before anything is written, and the file appears only when complete.
    """
    path = Path(path)

    def fail(problem: str):
        raise ValueError(f"{path.name}: cannot write Mantis CSV: {problem}")

    try:  # first: an unfinished q2 (snapshots None or ...) is the one thing to say
        snapshots = as_snapshots(embeddings)
    except ValueError as e:
        raise ValueError(f"{path.name}: cannot write Mantis CSV: {e}") from None
    columns = {"titles": titles, "categories": categories, "splits": splits, "snippets": snippets}
    texts = {name: [str(v) for v in values] for name, values in columns.items()}
    n = len(texts["titles"])
    for name, values in texts.items():
        if len(values) != n:
            fail(f"{name} has {len(values)} entries but titles has {n}")
    if n == 0:
        fail("no rows")
    bad = [s for s in texts["splits"] if s not in SPLITS]
    if bad:
        fail(f"split values must be 'train' or 'test', got {bad[0]!r}")

    if snapshots.shape[1] != n:
        fail(f"snapshots have {snapshots.shape[1]} rows per epoch (shape {snapshots.shape}) but titles has {n}")
    arrays = list(snapshots)
    for e, a in enumerate(arrays):
        if not np.isfinite(a).all():
            row, col = np.argwhere(~np.isfinite(a))[0]
            fail(f"epoch {e}, row {row + 1}, value {col + 1} is {a[row, col]} (not finite, or too large for float32)")

    # One orjson call per epoch prints every float32 at its shortest exact repr; split it into row cells.
    cells = []
    for a in arrays:
        rows = orjson.dumps(a, option=orjson.OPT_SERIALIZE_NUMPY)[2:-2].split(b"],[")
        cells.append([b'"[' + r + b']"' for r in rows])
    prefixes = [b",".join(_csv_field(texts[k][i]) for k in columns) for i in range(n)]

    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "wb") as f:
            f.write(",".join(mantis_columns(len(arrays))).encode() + b"\n")
            f.writelines(b",".join([prefixes[i], *(c[i] for c in cells)]) + b"\n" for i in range(n))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


# -- reading ------------------------------------------------------------------------------------------

def _span(epochs: int) -> str:
    return f"{EPOCH_PREFIX}0 … {EPOCH_PREFIX}{epochs - 1}" if epochs > 1 else f"{EPOCH_PREFIX}0"


def _epoch_index(name: str, loose: bool = False) -> int | None:
    """k for a column named exactly ``embedding_epoch_k`` (k a plain number), else None; ``loose`` also
    takes other letter cases and spaces around the name."""
    name = name.strip().lower() if loose else name
    suffix = name[len(EPOCH_PREFIX):] if name.startswith(EPOCH_PREFIX) else ""
    return int(suffix) if suffix.isascii() and suffix.isdigit() and str(int(suffix)) == suffix else None


def _check_header(where: str, header: list[str], epochs: int | None) -> int:
    """Return the number of epoch columns, or raise naming what is wrong with the header."""
    for name in TEXT_COLUMNS:
        if name not in header:
            raise MantisFormatError(f"{where}: missing column {name!r} (found {', '.join(header[:6])}"
                                    + (", …)" if len(header) > 6 else ")"))
    if header[:4] != list(TEXT_COLUMNS):
        raise MantisFormatError(f"{where}: columns: expected {', '.join(TEXT_COLUMNS)} first, "
                                f"found {', '.join(header[:4])}")
    rest = header[4:]
    run = next((i for i, name in enumerate(rest) if name != f"{EPOCH_PREFIX}{i}"), len(rest))  # e_0, e_1, … in order
    if epochs is None:
        if run == len(rest) and run > 0:
            return run
        # The columns the writer meant: up to the highest epoch column it named (extra columns after them aside).
        loose = (_epoch_index(name, loose=True) for name in rest)
        n_epochs = max([1, run, *(k + 1 for k in loose if k is not None)])
    else:
        if run == len(rest) == epochs and epochs > 0:
            return epochs
        n_epochs = epochs
    problem = f"expected {_span(n_epochs)} after snippet, found "
    if run == len(rest):  # contiguous, just not as many as required
        problem += f"{len(rest)} ({_span(len(rest))})" if rest else "none"
    elif 0 < n_epochs <= run:  # every expected column is there, in order; something follows the last one
        extra = rest[n_epochs:]
        last = f"{EPOCH_PREFIX}{n_epochs - 1}"
        if not extra[0].strip():
            problem += f"an unnamed column {5 + n_epochs} after {last} (a comma at the end of the line?)"
        else:
            more = f" and {len(extra) - 1} more" if len(extra) > 1 else ""
            kind = "a second" if extra[0] in rest[:n_epochs] else "an extra column"
            problem += f"{kind} {extra[0]!r} (column {5 + n_epochs}) after {last}{more}"
    else:  # column 5 + run should be embedding_epoch_{run} and is not
        want, name = f"{EPOCH_PREFIX}{run}", rest[run]
        index = _epoch_index(name)
        if want not in rest and index is not None and index > run:
            before = f"{EPOCH_PREFIX}{run - 1}" if run else "snippet"
            problem += f"no {want} (a gap: {name!r} follows {before} in column {5 + run})"
        else:
            found = f"an unnamed column {5 + run} (a comma at the end of the line?)" if not name.strip() \
                else f"{'a second ' if name in rest[:run] else ''}{name!r} in column {5 + run}"
            problem += f"{found} where {want} belongs"
    raise MantisFormatError(f"{where}: columns: {problem}")


def _first_row_of_length(path: Path, n_columns: int, longer: bool) -> tuple[int, list[str]] | None:
    """The first data row (counted from 1) with more (``longer``) or fewer fields than ``n_columns``, or None.

    Only read when something already went wrong, to say exactly where."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = csv.reader(f)
        next(rows, None)
        for i, fields in enumerate(rows, 1):
            if fields and (len(fields) > n_columns if longer else len(fields) < n_columns):
                return i, fields
    return None


def _parse_cell(cell: str, dim: int | None) -> list[float]:
    """One embedding cell → its numbers, or ValueError saying what is wrong (the slow, exact path)."""
    if not cell.strip():
        raise ValueError("empty cell")
    try:
        values = json.loads(cell)  # accepts NaN/Infinity, so they can be named below
    except ValueError:
        values = None
    if not isinstance(values, list):
        raise ValueError(f"not a JSON list of numbers: {cell[:40]!r}")
    if not values:
        raise ValueError("empty list")
    for j, v in enumerate(values, 1):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"value {j} is not a number: {json.dumps(v)[:40]}")
        number = float(v) if not isinstance(v, int) or abs(v) < 2**128 else math.inf
        if math.isnan(number):
            raise ValueError(f"value {j} is NaN")
        if abs(number) >= FLOAT32_OVERFLOW:
            raise ValueError(f"value {j} is {number:g} (infinite or too large for float32)")
    if dim is not None and len(values) != dim:
        raise ValueError(f"expected {dim} numbers, got {len(values)}")
    return values


def _parse_fast(cells: list[str]) -> np.ndarray | None:
    """All cells of one column in one C-parser call (one cell per line, brackets dropped); None if anything is odd."""
    blob = "\n".join(cells).encode("utf-8")
    n = len(cells)
    if blob.translate(None, _NUMBER_BYTES) or blob.count(b"[") != n or blob.count(b"]") != n \
            or not all(c.startswith("[") and c.endswith("]") for c in cells):
        return None
    try:
        with np.errstate(over="ignore"):  # a number beyond float32 becomes inf, caught just below
            numbers = blob.replace(b", ", b",").translate(None, b"[]")  # Python's str(list) puts a space after commas
            array = pd.read_csv(io.BytesIO(numbers), header=None, dtype=np.float32, engine="c",
                                skip_blank_lines=False, na_filter=False).to_numpy()
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    return array if array.shape[0] == n and np.isfinite(array).all() else None


def _parse_epoch(where: str, column: str, cells: list[str], dim: int | None) -> np.ndarray:
    """One epoch column → float32 (N, D): fast when the column is clean, else cell by cell naming the first bad one."""
    array = _parse_fast(cells)
    if array is not None and (dim is None or array.shape[1] == dim):
        return array
    rows = []
    for i, cell in enumerate(cells, 1):
        try:
            rows.append(_parse_cell(cell, dim))
        except ValueError as e:
            raise MantisFormatError(f"{where}: row {i}, column {column}: {e}") from None
        dim = len(rows[0])
    return np.asarray(rows, dtype=np.float32)


def read_mantis_csv(path, epochs: int | None = None, dim: int | None = None, n_rows: int | None = None) -> MantisTable:
    """Read and fully validate a Mantis CSV.

    ``epochs``, ``dim`` and ``n_rows`` (when given) are the exact number of epoch columns, numbers per cell
    and data rows expected. Raises :class:`MantisFormatError` with a one-line message.
    """
    path = Path(path)
    where = path.name
    if not path.is_file():
        raise MantisFormatError(f"{where}: file not found ({path})")
    try:
        with open(path, encoding="utf-8", newline="") as f:
            header = next(csv.reader(f), None)
        if header is None:
            raise MantisFormatError(f"{where}: empty file (no header, no rows)")
        if header and header[0].startswith("\ufeff"):  # a byte-order mark, as spreadsheets save
            header[0] = header[0][1:]
        n_epochs = _check_header(where, header, epochs)
        with warnings.catch_warnings():  # rows longer than the header: an error, not silently cut or shifted
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(path, dtype=str, engine="c", encoding="utf-8-sig", keep_default_na=False,
                             na_filter=False, index_col=False)
    except UnicodeDecodeError:
        data = path.read_bytes()
        try:  # decode the whole file again, to say exactly where
            data.decode("utf-8")
            detail = ""
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            detail = f" (byte {data[e.start]:#04x} at line {line})"
        raise MantisFormatError(f"{where}: not UTF-8{detail}; save it as UTF-8") from None
    except pd.errors.ParserWarning:
        hint = "a comma at the end of each line?"
        first = _first_row_of_length(path, len(header), longer=True)
        if first and any(v.strip() for v in first[1][len(header):]):  # real values beyond the header, not a comma
            index = _epoch_index(header[-1])
            missing = f"{EPOCH_PREFIX}{index + 1} missing" if index is not None else "a column name missing"
            hint = f"row {first[0]} has {len(first[1])}: is {missing} from the header, after {header[-1]}?"
        raise MantisFormatError(f"{where}: not a readable CSV: rows have more fields than the "
                                f"{len(header)} columns of the header ({hint})") from None
    except (pd.errors.ParserError, csv.Error) as e:
        raise MantisFormatError(f"{where}: not a readable CSV: {' '.join(str(e).split())}") from None

    n = len(df)
    if n == 0:
        raise MantisFormatError(f"{where}: no rows")
    if n_rows is not None and n != n_rows:
        raise MantisFormatError(f"{where}: expected {n_rows} rows, found {n}")
    text = {name: df.iloc[:, k].astype(str).tolist() for k, name in enumerate(TEXT_COLUMNS)}
    for i, split in enumerate(text["split"], 1):
        if split not in SPLITS:
            raise MantisFormatError(f"{where}: row {i}, column split: {split[:40]!r} is not 'train' or 'test'")

    arrays = []
    try:
        for e in range(n_epochs):
            column = f"{EPOCH_PREFIX}{e}"
            array = _parse_epoch(where, column, df.iloc[:, 4 + e].astype(str).tolist(), dim)
            dim = array.shape[1]  # every later epoch must match the first one
            arrays.append(array)
    except MantisFormatError:
        short = _first_row_of_length(path, len(header), longer=False)  # pandas fills a short row with empty cells
        if short is None:
            raise
        i, fields = short
        missing = header[len(fields):]
        nothing = missing[0] + (f" … {missing[-1]}" if len(missing) > 1 else "")
        raise MantisFormatError(f"{where}: row {i} has {len(fields)} fields but the header names {len(header)} "
                                f"columns (nothing for {nothing})") from None
    return MantisTable(titles=text["title"], categories=text["categoric"], splits=text["split"],
                       snippets=text["snippet"], embeddings=np.stack(arrays), epochs=list(range(n_epochs)))
