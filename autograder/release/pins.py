"""Do the zip's pins resolve, as binary wheels, for a given Python?  (pip's own resolver, a dry run: nothing is
downloaded but metadata.)

    python -m autograder.release.pins [REQUIREMENTS] [--python 3.10 --python 3.11 ...]

The Gradescope zip's setup.sh installs its requirements.txt into a Python of the build's minor version (the
image's own `python3` where it is that version, else one fetched by uv: setup.sh). This says, per Python, which
pins have no wheel: the release's verified versions need Python 3.11 or newer (numpy 2.4, pandas 3), so an image
whose python3 is 3.10 (Ubuntu 22.04, Gradescope's default) must not use it. PyTorch's CPU index is out of reach
here: a `+cpu` pin is checked as its PyPI version (the same release, its CUDA build), and the table says so.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64",
             "linux_x86_64")


def requirements(text: str) -> list[str]:
    """The pins of a requirements file (index options and comments dropped)."""
    pins = []
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            pins.append(line)
    return pins


def _dry_run(pins: list[str], python: str) -> str:
    """pip's reason the pins do not resolve together ("" when they do)."""
    asked = [re.sub(r"\+cpu$", "", pin) for pin in pins]   # PyTorch's CPU index is out of reach here: its PyPI twin
    with tempfile.TemporaryDirectory() as target:
        cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed", "--no-deps",
               "--only-binary=:all:", "--python-version", python, "--implementation", "cp", "--target", target,
               "--disable-pip-version-check", *[f"--platform={p}" for p in PLATFORMS], *asked]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("ERROR")]
    return "" if proc.returncode == 0 else (errors[-1] if errors else proc.stderr.strip()[-200:])


def resolve(pins: list[str], python: str) -> dict[str, str]:
    """{pin: "" (resolves) or pip's reason} for CPython `python` ("3.11") on Linux x86_64, binary wheels only:
    one dry run for them all; where that fails, one per pin, to name each that does not resolve."""
    if not _dry_run(pins, python):
        return {pin: "" for pin in pins}
    return {pin: _dry_run([pin], python) for pin in pins}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m autograder.release.pins", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("requirements", nargs="?", help="a requirements file (default: the zip's, as this build writes it)")
    p.add_argument("--python", action="append", help="a CPython version (repeatable; default 3.10 to 3.13)")
    args = p.parse_args(argv)
    if args.requirements:
        text = Path(args.requirements).read_text(encoding="utf-8")
    else:
        from autograder.release.assign import grading_requirements
        text = grading_requirements()
    pins = requirements(text)
    zip_python = f"{sys.version_info.major}.{sys.version_info.minor}"
    for python in args.python or ["3.10", "3.11", "3.12", "3.13"]:
        found = resolve(pins, python)
        bad = {pin: why for pin, why in found.items() if why}
        mark = " (the zip's)" if python == zip_python else ""
        print(f"Python {python}{mark}: " + ("every pin resolves" if not bad else
                                            f"{len(bad)} of {len(pins)} pins do not resolve: " + ", ".join(bad)))
    print("(torch's +cpu pins checked as their PyPI versions: PyTorch's CPU index is not reachable here)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
