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
    """Write a Mantis CSV; ``embeddings`` is float32 (E, N, D) or a list of E arrays (N, D).

    Everything is checked before anything is written, and the file appears only when complete.
    """
    path = Path(path)

    def fail(problem: str):
        raise ValueError(f"{path.name}: cannot write Mantis CSV: {problem}")

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

    if isinstance(embeddings, np.ndarray) and embeddings.ndim != 3:
        fail(f"embeddings has shape {embeddings.shape}, expected (epochs, rows, dim)")
    arrays = [np.asarray(a) for a in embeddings]
    if not arrays:
        fail("no epochs")
    dim = arrays[0].shape[-1]
    for e, a in enumerate(arrays):
        if a.shape != (n, dim) or dim == 0:
            fail(f"epoch {e} has shape {a.shape}, expected ({n}, D) with the same D > 0 for every epoch")
        if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
            fail(f"epoch {e} has dtype {a.dtype}, expected real numbers")
    with np.errstate(over="ignore"):  # beyond float32 becomes inf, reported just below
        arrays = [np.ascontiguousarray(a, dtype=np.float32) for a in arrays]
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
    n_epochs = len(rest) if epochs is None else epochs
    if rest == mantis_columns(n_epochs)[4:] and n_epochs > 0:
        return n_epochs
    problem = f"expected {_span(n_epochs)} after snippet, found "
    if rest == mantis_columns(len(rest))[4:]:  # contiguous, just not as many as required
        problem += f"{len(rest)} ({_span(len(rest))})" if rest else "none"
    else:
        i = next(i for i, name in enumerate(rest) if name != f"{EPOCH_PREFIX}{i}")
        found = f"an unnamed column {5 + i} (a comma at the end of the line?)" if not rest[i].strip() \
            else f"{rest[i]!r} in column {5 + i}"
        problem += f"{found} where {EPOCH_PREFIX}{i} belongs"
    raise MantisFormatError(f"{where}: columns: {problem}")


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
        raise MantisFormatError(f"{where}: not a readable CSV: rows have more fields than the "
                                f"{len(header)} columns of the header (a comma at the end of each line?)") from None
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
    for e in range(n_epochs):
        column = f"{EPOCH_PREFIX}{e}"
        array = _parse_epoch(where, column, df.iloc[:, 4 + e].astype(str).tolist(), dim)
        dim = array.shape[1]  # every later epoch must match the first one
        arrays.append(array)
    return MantisTable(titles=text["title"], categories=text["categoric"], splits=text["split"],
                       snippets=text["snippet"], embeddings=np.stack(arrays), epochs=list(range(n_epochs)))
