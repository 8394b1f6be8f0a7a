"""Mode none: no containment at all; only when the TA asks for it (--no-sandbox), and the report says so. The same
few functions as bwrap.py and user.py."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

NAME = "none"
CONTAINED = False


def works() -> bool:
    return True


def inside(scratch: Path) -> Path:
    return scratch


def tmpdir(inside: Path) -> str:
    return str(inside / "_grading" / "tmp")


def files(inside: Path):
    return None   # contain.py does not run


def hold():
    return contextlib.nullcontext()


def prepare(private) -> None:
    pass


def command(scratch: Path, argv: list[str], env: dict, uids) -> tuple[list[str], dict]:
    return argv, {**os.environ, **env}


def written(uids) -> list[str]:
    return []


def shared_memory(uids) -> int:
    return 0


def end(uids) -> None:
    pass


end_uid = None   # no uids of its own


def describe(applied: list[str]) -> str:
    return "NOT contained (--no-sandbox)"
