"""One variant's master folder → otter assign → the student folder; and our own Gradescope zip.

otter-grader splits the master into the student notebook and its public tests. Grading does not use
otter's zip (otter runs hidden tests inside the student's kernel); the zip is built here instead: the
grading record, the judge and the sandbox code, the reference solution, replab and the student files.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from autograder.contract import GradingSpec, GRADING_FILE, STUDENT_FILES, notebook_name, snapshot_name  # noqa: F401
from autograder.release.public_tests import public_test
from templates.render import otter_config, render_master, write_notebook
from replab.errors import LabError

ROOT = Path(__file__).resolve().parents[2]
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
GRADESCOPE = ROOT / "autograder" / "shipped" / "gradescope"
# What ships in the zip (source in this repo, path in the zip): the contract and the shipped room of
# autograder/ (never the release or TA rooms), the reference solution and the student package.
ZIP_CODE = [(ROOT / "autograder" / "__init__.py", "autograder/__init__.py"),
            (ROOT / "autograder" / "contract.py", "autograder/contract.py"),
            (ROOT / "autograder" / "shipped", "autograder/shipped"),
            (ROOT / "solutions", "solutions"), (ROOT / "assignment" / "replab", "replab")]
BYTECODE = shutil.ignore_patterns("__pycache__", "*.pyc")   # never copied: into the zip or to students


class AssignError(LabError, RuntimeError):
    pass


def grading_requirements() -> str:
    """What the Gradescope image installs: CPU-only torch and torchvision (graders have no GPU; the
    default Linux wheels are multi-GB CUDA builds), pinned to the versions this build ran with."""
    import matplotlib
    import nbclient
    import numpy
    import orjson
    import pandas
    import psutil
    import requests
    import sklearn
    import torch
    import torchvision
    import tqdm
    import fpdf
    base = lambda v: v.split("+")[0]
    return "\n".join([
        f"--extra-index-url {TORCH_CPU_INDEX}",
        f"torch=={base(torch.__version__)}+cpu",
        f"torchvision=={base(torchvision.__version__)}+cpu",
        f"numpy=={numpy.__version__}",
        f"pandas=={pandas.__version__}",
        f"scikit-learn=={sklearn.__version__}",
        f"matplotlib=={matplotlib.__version__}",
        f"orjson=={orjson.__version__}",
        f"requests=={requests.__version__}",
        f"tqdm=={tqdm.__version__}",
        f"psutil=={psutil.__version__}",
        f"nbclient=={nbclient.__version__}",
        "otter-grader[grading]==7.0.0",   # the build's: it splits the master (students' checks: replab.checks)
        f"fpdf2=={fpdf.__version__}",     # the notebook's last cell writes the written-answers PDF
        *containment_requirements(),
    ]) + "\n"


# What the student's notebook imports, by pip name: the first cell installs those its Python lacks (in Colab:
# fpdf2 and orjson), at the versions this release was verified with. Not otter-grader: the notebook's public
# checks run with replab.checks, so none of otter's dependencies (widget libraries among them) reach a runtime.
STUDENT_PACKAGES = ("numpy", "pandas", "scikit-learn", "matplotlib", "requests", "tqdm", "orjson", "torch", "fpdf2")


def student_requirements() -> str:
    """replab/requirements.txt: the pins of grading_requirements() for STUDENT_PACKAGES, without the CPU
    wheel suffix (a student's torch may be a CUDA build; only a missing torch is installed) or extras."""
    pins = {}
    for line in grading_requirements().splitlines():
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==")
            pins[name.split("[")[0]] = version.split("+")[0]
    return ("# pinned by the release; the notebook's first cell installs those this Python lacks\n"
            + "".join(f"{name}=={pins[name]}\n" for name in STUDENT_PACKAGES))


def build_student_bundle(student_dir: Path, bundle: Path) -> Path:
    """dist/<variant>/student.zip: what the notebook needs beside it (replab/, data/, tests/) for students
    who open the notebook alone; the same bytes for the same files (fixed stamps, sorted), so the sha256
    pinned in the notebook names exactly this content."""
    tmp = bundle.with_suffix(".part")
    with zipfile.ZipFile(tmp, "w") as zf:
        for item in ("replab", "data", "tests"):
            _add_tree(zf, student_dir / item, item, BYTECODE)
    tmp.replace(bundle)
    return bundle


def pin_bundle(notebooks, sha256: str) -> None:
    """Write the bundle's sha256 over the placeholder the notebooks were rendered with."""
    from templates.render import BUNDLE_SHA256_PLACEHOLDER
    for nb in notebooks:
        text = Path(nb).read_text(encoding="utf-8")
        if BUNDLE_SHA256_PLACEHOLDER not in text:
            raise AssignError(f"{nb}: no bundle sha256 placeholder in the first cell (templates/lab.ipynb.j2)")
        Path(nb).write_text(text.replace(BUNDLE_SHA256_PLACEHOLDER, sha256), encoding="utf-8")


def containment_requirements() -> list[str]:
    """The layers the student side puts on itself where namespaces are refused (sandbox/contain.py)."""
    from importlib.metadata import version
    return [f"pyseccomp=={version('pyseccomp')}", f"landlock=={version('landlock')}"]


def copy_replab(dest: Path) -> Path:
    """The student package, as students get it."""
    shutil.copytree(ROOT / "assignment" / "replab", dest,
                    ignore=BYTECODE)
    return dest


def prepare_master(cfg, variant, corpus_snapshot: Path, work: Path, written_questions, data_info: dict) -> Path:
    """Write the master folder (notebook, replab, data); returns the master notebook's path.
    data_info: {"offline": bool, "classes": [...], "source": str, "hard_to_separate": bool (optional: calibrate
    --force)}, so the text follows the data used."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    copy_replab(work / "replab")
    (work / "replab" / "requirements.txt").write_text(student_requirements(), encoding="utf-8")
    (work / "data").mkdir()
    shutil.copy(corpus_snapshot, work / snapshot_name(variant.name))
    (work / "requirements.txt").write_text(grading_requirements(), encoding="utf-8")
    context = master_context(cfg, variant, written_questions, data_info,
                             files=["replab", snapshot_name(variant.name)])
    return write_notebook(render_master(variant, context), work / notebook_name(variant.name))


def master_context(cfg, variant, written_questions, data_info: dict, files: list[str]) -> dict:
    """What the notebook template is rendered with (see prepare_master's data_info)."""
    return {
        "cfg": cfg, "points": cfg.points, "snapshot_path": snapshot_name(variant.name),
        "written_questions": written_questions, "data": data_info,
        "otter_config": otter_config(cfg, variant, files=files),
        "public_test": public_test, "limits": GradingSpec.from_config(cfg, variant).limits(),
    }


def run_otter_assign(master: Path, out: Path, timeout: int = 600) -> Path:
    """Run `otter assign` (its solution self-check is off: the build verifies by grading); returns the
    student folder (notebook, replab/, data/, tests/ with the public tests)."""
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, "-m", "otter", "assign", "--no-run-tests", master.name, str(out.resolve())]
    proc = subprocess.run(cmd, cwd=master.parent, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["(no output)"]
        raise AssignError(f"{master}: otter assign failed: {last[0]}")
    return out / "student"


def _write(zf: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))  # fixed stamps: same input, same zip
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def _add_tree(zf: zipfile.ZipFile, source: Path, prefix: str, ignore=None) -> None:
    for folder, dirs, files in os.walk(source):
        dropped = ignore(folder, dirs + files) if ignore else set()
        dirs[:] = sorted(d for d in dirs if d not in dropped)
        for name in sorted(f for f in files if f not in dropped):
            path = Path(folder) / name
            _write(zf, f"{prefix}/{path.relative_to(source).as_posix()}", path.read_bytes())


def build_autograder_zip(spec, student_dir: Path, zip_path: Path) -> Path:
    """The Gradescope zip: run_autograder and setup.sh at its root (Gradescope's layout), the grading
    record, the code the judge runs, and the files the notebook gets beside it."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = zip_path.with_suffix(".part")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name in ("run_autograder", "setup.sh"):
            _write(zf, name, (GRADESCOPE / name).read_bytes(), executable=True)
        _write(zf, "requirements.txt", grading_requirements().encode())
        # the Python the build verified with, which setup.sh gives the autograder whatever the image's python3 is
        _write(zf, "python_version", f"{sys.version_info.major}.{sys.version_info.minor}\n".encode())
        _write(zf, GRADING_FILE, spec.to_json().encode())
        for source, prefix in ZIP_CODE:
            if source.is_file():
                _write(zf, prefix, source.read_bytes())
            else:
                _add_tree(zf, source, prefix, BYTECODE)
        for item in ("replab", "data", "tests"):
            _add_tree(zf, student_dir / item, f"{STUDENT_FILES}/{item}", BYTECODE)
    tmp.replace(zip_path)
    return zip_path
