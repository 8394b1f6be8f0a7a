"""What the student side left behind, read as plain data only.

Everything is read from the folder the grader wrote the driver's report into as it arrived (Report, below):
the cells' states, which probe ran and how it ended, each probe's outputs, the CSV the notebook's run left
beside it (read by the driver once every process of the run was dead) and the executed notebook. Only the
driver writes that pipe; what the probes and the notebook made is still the student side's data. Nothing is
unpickled or executed: JSON, `.npy` arrays of real numbers (loaded with allow_pickle=False after their header
says so), and the Mantis CSV through its validating reader; links are not followed and sizes are capped.
"""
from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import numpy as np

MAX_JSON = 1 << 20
REPORT_NAME = re.compile(r"[a-z][a-z0-9_]*\.(json|npy|csv|ipynb)")


class Unusable(Exception):
    """A file the student side left that cannot be read as the plain data it should be."""


def _open_plain(root: Path, rel: tuple[str, ...], limit: int):
    """A regular file root/rel[0]/rel[1]/…, reached without following any link, at most limit bytes;
    returns a binary file object or None when absent."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in rel[:-1]:
            try:
                nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                return None
            except OSError:
                raise Unusable(f"{part} is not a folder") from None
            os.close(fd)
            fd = nxt
        try:
            leaf = os.open(rel[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
        except FileNotFoundError:
            return None
        except OSError:
            raise Unusable(f"{rel[-1]} is a link or cannot be opened") from None
    finally:
        os.close(fd)
    info = os.fstat(leaf)
    if not stat.S_ISREG(info.st_mode):
        os.close(leaf)
        raise Unusable(f"{rel[-1]} is not a regular file")
    if info.st_size > limit:
        os.close(leaf)
        raise Unusable(f"{rel[-1]} is {info.st_size} bytes, more than the {limit} allowed")
    return os.fdopen(leaf, "rb")


class Report:
    """The driver's report, kept as it arrives (sandbox.run_contained calls this for every message): status.json
    (its latest word on the cells and probes), each probe's files, executed.ipynb. Written by the grader only,
    into a folder of the grader's; names are checked again here."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.messages = 0

    def _write(self, name: str, data: bytes) -> None:
        if REPORT_NAME.fullmatch(name):
            (self.folder / name).write_bytes(data)

    def __call__(self, header: dict, blobs: dict | None = None) -> None:
        blobs = blobs or {}
        self.messages += 1
        op = header.get("op")
        if op == "status":
            self._write("status.json", json.dumps(header.get("status", {})).encode())
        elif op == "executed":
            self._write("executed.ipynb", blobs.get("executed.ipynb", b""))
        elif op in ("probe", "left"):
            for name, data in blobs.items():
                self._write(name, data)


class Evidence:
    """The student side's outputs for one submission: the report folder."""

    def __init__(self, report: Path):
        self.report = Path(report)

    def _out(self, name: str, limit: int):
        """A report file as a file object, or None when absent or unusable (a link, too large...)."""
        try:
            return _open_plain(self.report, (name,), limit)
        except Unusable:
            return None

    def json(self, name: str) -> dict | None:
        f = self._out(name + ".json", MAX_JSON)
        if f is None:
            return None
        with f:
            try:
                data = json.loads(f.read().decode("utf-8"))
            except ValueError:
                return None
        return data if isinstance(data, dict) else None

    def array(self, name: str, max_items: int) -> np.ndarray | None:
        """A float64 array from the report's <name>.npy, or None when absent or not plain real numbers."""
        f = self._out(name + ".npy", 256 + 8 * max_items)
        if f is None:
            return None
        with f:
            try:
                version = np.lib.format.read_magic(f)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(f)
                if dtype.hasobject or dtype.kind not in "fiub" or int(np.prod(shape)) > max_items:
                    return None
                f.seek(0)
                array = np.load(f, allow_pickle=False)
            except (ValueError, OSError, EOFError):
                return None
        return np.asarray(array, dtype=np.float64)

    def file(self, name: str, limit: int) -> bytes | None:
        """Raw bytes of a report file (a CSV, the executed notebook), or None; Unusable says why it cannot be read."""
        f = _open_plain(self.report, (name,), limit)
        if f is None:
            return None
        with f:
            return f.read()
