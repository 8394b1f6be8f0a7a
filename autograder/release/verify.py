"""What every build checks before it releases a variant: the solution runs and scores full marks,
the untouched student notebook scores zero, and nothing under student/ gives an answer away."""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from traitlets.config import Config

from templates.render import IN_CELL_MARKER
from replab.errors import LabError

SOLUTION_LINE = re.compile(r"#\s*SOLUTION\s*$")
MIN_LEAK_CHARS = 16  # shorter lines ("model.eval()", "parts = []") are too common to mean a leak


class VerifyError(LabError, RuntimeError):
    pass


def execute_notebook(notebook: Path, support: list[Path], out_dir: Path, timeout: int = 900) -> Path:
    """Run a notebook with nbclient in a fresh folder holding its support files; copy the executed
    notebook and everything it wrote into out_dir. Raises VerifyError naming the failing cell."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lab8-run-") as tmp:
        tmp = Path(tmp)
        for item in support:
            (shutil.copytree if item.is_dir() else shutil.copy)(item, tmp / item.name)
        nb = nbformat.read(notebook, as_version=4)
        before = {p.name for p in tmp.iterdir()}
        config = Config()
        # IPC sockets: no TCP port to collide with parallel builds. Their path must be absolute (the
        # default is relative, and kernel and client run in different folders) and short (< 108 bytes).
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = os.path.join(tmp, ".kernel")
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", config=config,
                                resources={"metadata": {"path": str(tmp)}})
        try:
            client.execute()
        except Exception as e:  # CellExecutionError and friends: one line, with the cell's error
            lines = [l for l in str(e).strip().splitlines() if l.strip()]
            raise VerifyError(f"{notebook}: execution failed: {lines[-1] if lines else type(e).__name__}") from None
        executed = out_dir / notebook.name
        nbformat.write(nb, executed)
        for produced in tmp.iterdir():
            if produced.name not in before and produced.is_file() and not produced.name.startswith("."):
                shutil.copy(produced, out_dir / produced.name)
    return executed


def secret_lines(master: Path, secret_texts=(), public_texts=()) -> set[str]:
    """Every distinctive line the student must not see: code between in-cell solution markers,
    `# SOLUTION` lines, markdown solution cells (written answers) and the secret texts (hidden
    checks, answers) — less the lines students are given anyway (the master outside its solution
    regions, the public texts), which are no leak wherever they appear."""
    nb = nbformat.read(master, as_version=4)
    secret: set[str] = set()
    given: set[str] = set()
    in_block = False  # inside a raw BEGIN SOLUTION … END SOLUTION block
    for cell in nb.cells:
        first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        if cell.cell_type == "raw":
            in_block = {"# BEGIN SOLUTION": True, "# END SOLUTION": False}.get(first, in_block)
            continue
        if cell.cell_type == "markdown":
            (secret if in_block else given).update(cell.source.splitlines())
            continue
        if in_block and not IN_CELL_MARKER.search(cell.source):
            # a solution cell with no in-cell markers is all answer (otter 7.0.0 copies it verbatim)
            secret.update(cell.source.splitlines())
            continue
        inside = False
        for line in cell.source.splitlines():
            if line.strip().startswith("# BEGIN SOLUTION"):
                inside = True
            elif line.strip().startswith("# END SOLUTION"):
                inside = False
            elif inside or SOLUTION_LINE.search(line):
                secret.add(line)
            else:
                given.add(line)
    for text in secret_texts:
        secret.update(text.splitlines())
    for text in public_texts:
        given.update(text.splitlines())
    given = {l.strip() for l in given}
    return {l.strip() for l in secret if len(l.strip()) >= MIN_LEAK_CHARS and l.strip() not in given}


def _text_lines(path: Path) -> list[str]:
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        out = [l for c in nb.cells for l in c.source.splitlines()]
        return out + json.dumps(nb.metadata).split("\\n")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        return []  # binary (the data snapshot): nothing line-shaped to leak


def leak_scan(student_dir: Path, forbidden_lines: set[str], forbidden_strings: dict[str, str],
              allowed_files: set[str]) -> list[str]:
    """Findings as 'path: problem' lines; empty when the student folder is clean."""
    findings = []
    for path in sorted(p for p in student_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(student_dir).as_posix()
        if rel not in allowed_files and not any(rel.startswith(a.rstrip("*")) for a in allowed_files if a.endswith("*")):
            findings.append(f"{rel}: file not meant for students")
            continue
        lines = _text_lines(path)
        for n, line in enumerate(lines, 1):
            if line.strip() in forbidden_lines:
                findings.append(f"{rel}: line {n} is solution code or a written answer: {line.strip()[:70]!r}")
        text = "\n".join(lines)
        for needle, what in forbidden_strings.items():
            if needle in text:
                findings.append(f"{rel}: contains {what} ({needle[:40]!r})")
    return findings
