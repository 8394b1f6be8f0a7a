"""One variant's master folder → otter assign → student folder and Gradescope autograder zip.

The master folder holds what otter copies: the notebook, the replab helper package and the frozen
data snapshot (for students and grading), plus the checks and expected values (autograder only).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from autograder.tests import CHECKS_FILE, hidden_tests, public_test
from templates.render import otter_config, render_master, write_notebook

ROOT = Path(__file__).resolve().parents[1]
EXPECTED_FILE = "lab8_expected.json"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


class AssignError(RuntimeError):
    pass


def notebook_name(variant_name: str) -> str:
    return f"lab8_{variant_name}.ipynb"


def zip_name(variant_name: str) -> str:
    """The autograder zip's name in a release: dist/<variant>/autograder/<this>."""
    return f"lab8_{variant_name}_autograder.zip"


def snapshot_name(variant) -> str:
    return f"data/{variant.name}.npz"


def grading_requirements() -> str:
    """What the Gradescope image installs: CPU-only torch and torchvision (graders have no GPU; the
    default Linux wheels are multi-GB CUDA builds), pinned to the versions this build ran with."""
    import numpy, pandas, sklearn, torch, torchvision, orjson, requests, tqdm, matplotlib
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
        "otter-grader[grading]==7.0.0",
    ]) + "\n"


def copy_replab(dest: Path) -> Path:
    """The helper package as students get it: without the embedded offline corpus (build-side only)."""
    shutil.copytree(ROOT / "assignment" / "replab", dest,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "offline"))
    return dest


def prepare_master(cfg, variant, corpus_snapshot: Path, expected: dict, work: Path, written_questions) -> Path:
    """Write the master folder; returns the master notebook's path."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    copy_replab(work / "replab")
    (work / "data").mkdir()
    shutil.copy(corpus_snapshot, work / snapshot_name(variant))
    shutil.copy(ROOT / "autograder" / "checks.py", work / CHECKS_FILE)
    (work / EXPECTED_FILE).write_text(json.dumps(expected, indent=1), encoding="utf-8")
    (work / "requirements.txt").write_text(grading_requirements(), encoding="utf-8")
    context = {
        "cfg": cfg, "points": cfg.points, "snapshot_path": snapshot_name(variant),
        "written_questions": written_questions,
        "otter_config": otter_config(cfg, variant, files=["replab", snapshot_name(variant)],
                                     autograder_files=[CHECKS_FILE, EXPECTED_FILE]),
        "public_test": public_test,
        "hidden_test": lambda q: "\n%%% code\n".join(hidden_tests(q, cfg.points[q])),
    }
    return write_notebook(render_master(variant, context), work / notebook_name(variant.name))


def run_otter_assign(master: Path, out: Path, timeout: int = 600) -> tuple[Path, Path]:
    """Run `otter assign` (its own solution self-check is off: the build verifies by grading);
    returns (student dir, autograder zip)."""
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, "-m", "otter", "assign", "--no-run-tests", master.name, str(out.resolve())]
    proc = subprocess.run(cmd, cwd=master.parent, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["(no output)"]
        raise AssignError(f"{master}: otter assign failed: {last[0]}")
    zips = sorted((out / "autograder").glob("*.zip"))
    if len(zips) != 1:
        raise AssignError(f"{out / 'autograder'}: expected one autograder zip, found {len(zips)}")
    return out / "student", add_grading_guards(zips[0])


GUARDS = ROOT / "autograder" / "gradescope"


def add_grading_guards(zip_path: Path) -> Path:
    """Swap otter's run_autograder for ours (time limit, kernel clean-up, a results.json always)."""
    replaced = {"run_autograder": (GUARDS / "run_autograder").read_bytes(),
                "ensure_results.py": (GUARDS / "ensure_results.py").read_bytes()}
    tmp = zip_path.with_suffix(".tmp")
    with zipfile.ZipFile(zip_path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename not in replaced:
                dst.writestr(item, src.read(item.filename))
        for name, data in replaced.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16  # executable regular file
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)
    tmp.replace(zip_path)
    return zip_path

