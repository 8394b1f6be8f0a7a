"""What every mode of the sandbox shares: its error, and the folders of the Python installation the student side
runs (readable in every mode)."""
from __future__ import annotations

import os
import sys
import sysconfig

from replab.errors import LabError


class SandboxError(LabError, RuntimeError):
    """No way to contain student code here; the message says what to install or pass."""


def python_roots() -> list[str]:
    """Folders the interpreter and its packages live in (read-only inside the sandbox)."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    roots |= {p for k, p in sysconfig.get_paths().items() if k in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots = sorted(os.path.realpath(r) for r in roots if os.path.isdir(r))
    return [r for r in roots if not any(r != o and r.startswith(o + os.sep) for o in roots)]
