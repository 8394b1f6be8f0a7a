"""Write every honest student's notebook for each variant of a release.

    python -m tests.shipped.students.write_honest RELEASE_DIR OUT_DIR [--variant NAME]... [--constructs]

reads RELEASE_DIR/<variant>/student/lab8_<variant>.ipynb and writes OUT_DIR/<variant>/<style>.ipynb (with
--constructs: the students of constructs.py instead of honest.py's styles), ready for
``python build.py grade OUT_DIR/<variant>/*.ipynb --variant <variant> --release RELEASE_DIR`` (add
``--sandbox user`` or ``--gradescope`` for the other two paths).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from tests.shipped.students.constructs import construct_notebooks
from tests.shipped.students.honest import honest_notebooks, kind_of

VARIANTS = ("wikipedia", "bbc", "cifar10")


def write_variant(release: Path, out: Path, variant: str, constructs: bool = False) -> list[Path]:
    student = release / variant / "student" / f"lab8_{variant}.ipynb"
    assert student.is_file(), f"{student}: no student notebook in the release"
    nb = nbformat.read(student, as_version=4)
    folder = out / variant
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    students = construct_notebooks if constructs else honest_notebooks
    for style, completed in students(nb, kind_of(variant)).items():
        path = folder / f"{style}.ipynb"
        nbformat.write(completed, path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("release", type=Path, help="the release folder (holding <variant>/student/)")
    parser.add_argument("out", type=Path, help="where to write <variant>/<style>.ipynb")
    parser.add_argument("--variant", action="append", choices=VARIANTS,
                        help="repeatable; default: every variant in the release")
    parser.add_argument("--constructs", action="store_true", help="the students of constructs.py")
    args = parser.parse_args(argv)
    variants = args.variant or [v for v in VARIANTS if (args.release / v / "student").is_dir()]
    for variant in variants:
        paths = write_variant(args.release, args.out, variant, args.constructs)
        print(f"{variant}: {len(paths)} notebooks in {args.out / variant}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
