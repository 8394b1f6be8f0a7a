"""Jinja templates → an otter-grader master notebook, as a chain of small steps (each testable alone):

    render_text   the variant's kind template (extending lab.ipynb.j2) → cell-delimited text
    split_cells   text → nbformat cells ("%%% markdown" / "%%% code" / "%%% raw" lines)
    check_solution_cells   every code cell inside a BEGIN SOLUTION block must carry in-cell markers
                  (otter-grader 7.0.0 copies an unmarked one verbatim into the student notebook)
    make_notebook cells → an nbformat notebook with a Python 3 kernel
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import jinja2
import nbformat
import yaml
from replab.errors import LabError

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
CELL_MARK = re.compile(r"^%%% (markdown|code|raw)\s*$", re.M)
IN_CELL_MARKER = re.compile(r"#\s*(BEGIN )?SOLUTION")  # otter's in-cell solution markers


class TemplateError(LabError, ValueError):
    """A template or solution source that would make a broken or leaky notebook."""


def solution(ref: str) -> str:
    """Source of a top-level function or class in solutions/, e.g. "capture.snapshot"."""
    module, name = ref.split(".")
    path = SOLUTIONS / f"{module}.py"
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            end = node.end_lineno
            # ast ends a body at its last statement; a closing "# END SOLUTION" comment belongs to it too
            while end < len(lines) and lines[end].startswith((" ", "\t")) and lines[end].strip().startswith("#"):
                end += 1
            return "\n".join(lines[node.lineno - 1 - len(node.decorator_list):end])
    raise TemplateError(f"{path}: no top-level function or class named {name!r}")


def otter_config(cfg, variant, files: list[str]) -> str:
    """The ASSIGNMENT CONFIG cell: our own init cell replaces otter's (renamed notebooks), and the
    seed variable is set the same in the student's run and in grading."""
    config = {
        "name": f"{cfg.name}-{variant.name}",
        "init_cell": False,
        "check_all_cell": False,
        "export_cell": False,
        "run_tests": False,
        "requirements": "requirements.txt",
        "overwrite_requirements": True,
        "python_version": "3.11",
        # public tests as files beside the notebook, so otter.Notebook() works without a file name
        "tests": {"files": True},
        "seed": {"variable": "SEED", "autograder_value": cfg.seed, "student_value": cfg.seed},
        "files": files,
        # otter's zip is not what grades (autograder/assign.py builds ours); it only must not fail
        "generate": {"show_stdout": False, "show_hidden": True, "pdf": False},
    }
    return yaml.safe_dump(config, sort_keys=False).strip()


# The student bundle's sha256 is known only after otter assign wrote the public tests that go into it, so
# the notebook is rendered with this placeholder and the release's bundle step writes the digest over it.
BUNDLE_SHA256_PLACEHOLDER = "<sha256 of the student bundle: written by the release>"


def bootstrap_source() -> str:
    """The first cell's function (replab.bootstrap.fetch_lab_files), carried in the cell as source: it runs
    before the lab's files are beside the notebook, so it cannot be imported from them."""
    import inspect
    from replab import bootstrap
    return inspect.getsource(bootstrap.fetch_lab_files).rstrip()


def environment(template_dir: Path = ROOT / "templates") -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(template_dir), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    env.globals["solution"] = solution
    env.globals["bootstrap_source"] = bootstrap_source
    env.globals["bundle_sha256"] = BUNDLE_SHA256_PLACEHOLDER
    return env


def render_text(variant, context: dict) -> str:
    """The variant's kind picks the template (templates/kinds/<kind>.ipynb.j2, extending lab.ipynb.j2)."""
    from solutions.kinds import KINDS
    kind = KINDS[variant.kind]
    return environment().get_template(kind.template).render(variant=variant, kind=kind, **context)


def split_cells(text: str) -> list[nbformat.NotebookNode]:
    parts = CELL_MARK.split(text)
    if parts[0].strip():
        raise TemplateError(f"text before the first cell marker: {parts[0].strip()[:60]!r}")
    cells = []
    for kind, body in zip(parts[1::2], parts[2::2]):
        body = body.strip("\n")
        if not body.strip():
            continue
        make = {"markdown": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell,
                "raw": nbformat.v4.new_raw_cell}[kind]
        cells.append(make(body))
    return cells


def check_solution_cells(cells) -> list:
    inside = False
    for i, cell in enumerate(cells):
        first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        if cell.cell_type == "raw" and first == "# BEGIN SOLUTION":
            inside = True
        elif cell.cell_type == "raw" and first == "# END SOLUTION":
            inside = False
        elif inside and cell.cell_type == "code" and not IN_CELL_MARKER.search(cell.source):
            raise TemplateError(f"cell {i}: a code cell inside a solution block has no in-cell solution markers; "
                                f"otter would copy it verbatim into the student notebook: {first[:60]!r}")
    return cells


def make_notebook(cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def render_master(variant, context: dict) -> nbformat.NotebookNode:
    return make_notebook(check_solution_cells(split_cells(render_text(variant, context))))


def write_notebook(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(nb)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
