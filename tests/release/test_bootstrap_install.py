"""The first cell's installs change nothing a student already has (replab/bootstrap.py), with real pip: a fresh
venv, tiny local wheels (offline: PIP_NO_INDEX + PIP_FIND_LINKS), and `install_missing` run inside it as the
notebook runs it. Slow: a venv and a few wheels are made."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _wheel(folder: Path, name: str, version: str, requires=()) -> None:
    src = folder / "src" / f"{name}-{version}"
    module = name.replace("-", "_")
    (src / module).mkdir(parents=True)
    (src / module / "__init__.py").write_text(f"VERSION = {version!r}\n")
    (src / "setup.py").write_text(textwrap.dedent(f"""
        from setuptools import setup
        setup(name={name!r}, version={version!r}, packages=[{module!r}], install_requires={list(requires)!r})
    """))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w",
                    str(folder / "wheels"), str(src)], check=True, timeout=120)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    """A venv with lab8-have 1.0 installed (a package of the runtime's), and wheels: lab8-have 2.0, lab8-easy
    (needs lab8-have>=1.0), lab8-pushy (needs lab8-have>=2.0)."""
    root = tmp_path_factory.mktemp("runtime")
    for name, version, requires in (("lab8-have", "1.0", ()), ("lab8-have", "2.0", ()),
                                    ("lab8-easy", "1.0", ("lab8-have>=1.0",)), ("lab8-pushy", "1.0", ("lab8-have>=2.0",))):
        _wheel(root, name, version, requires)
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(root / "wheels"), "PIP_CONFIG_FILE": os.devnull,
           "PYTHONPATH": str(ROOT / "assignment")}
    env.pop("LAB8_GRADING", None)
    return root, env


def _venv(root: Path, env: dict, name: str) -> Path:
    venv = root / name
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "lab8-have==1.0"], env=env, check=True, timeout=300)
    return python


def _install(python: Path, env: dict, requirements, preload=()) -> tuple[str, dict]:
    code = (f"import {', '.join(preload)}\n" if preload else "") + textwrap.dedent(f"""
        import json
        from importlib import metadata
        from replab import bootstrap
        try:
            bootstrap.install_missing({list(requirements)!r})
            said = ""
        except bootstrap.InstallError as e:
            said = "ERROR " + str(e)
        print("VERSIONS" + json.dumps({{d.metadata["Name"]: d.version for d in metadata.distributions()
                                       if d.metadata["Name"] in ("lab8-have", "lab8-easy", "lab8-pushy")}}))
        print(said)
    """)
    proc = subprocess.run([str(python), "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    printed, _, rest = proc.stdout.partition("VERSIONS")
    versions, said = rest.split("\n", 1)
    return printed + said, json.loads(versions)


def test_a_missing_package_is_installed_and_what_the_runtime_has_is_kept(runtime):
    root, env = runtime
    python = _venv(root, env, "keep")
    printed, versions = _install(python, env, ["lab8-easy==1.0"])
    assert versions == {"lab8-have": "1.0", "lab8-easy": "1.0"}, printed   # lab8-have 2.0 is on offer: not taken
    assert "Changing" not in printed and "Installed 1 package" in printed and "no restart is needed" in printed


def test_a_package_it_must_change_is_changed_only_when_not_loaded_and_said(runtime):
    root, env = runtime
    python = _venv(root, env, "change")
    printed, versions = _install(python, env, ["lab8-pushy==1.0"])
    assert versions == {"lab8-have": "2.0", "lab8-pushy": "1.0"}, printed
    assert "Changing what this runtime has not loaded (no restart needed): lab8-have 1.0 → 2.0" in printed


def test_a_loaded_package_is_never_changed(runtime):
    root, env = runtime
    python = _venv(root, env, "loaded")
    printed, versions = _install(python, env, ["lab8-pushy==1.0"], preload=["lab8_have"])
    assert versions == {"lab8-have": "1.0"}, printed   # nothing installed, nothing changed
    assert "would change packages this runtime has loaded (lab8-have 1.0 → 2.0); nothing was installed" in printed
    assert "restart the runtime" in printed and printed.count("\n") <= 3
