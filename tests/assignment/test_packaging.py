"""pyproject.toml declares what the tool needs: `pip install .` into a fresh environment must give a build.py that
can import its packages (the pinned versions the release is verified with stay in requirements.txt)."""
import ast
import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOL = ["build.py", "autograder", "assignment", "worksheet", "solutions", "templates"]
OPTIONAL = {"umap", "google"}   # umap-learn: the [umap] extra; google.colab: only inside Colab, guarded
OWN = {"wire", "protocol"}      # the driver's siblings (sandbox/wire.py, protocol.py), imported from their folder


def imported_top_level() -> dict[str, Path]:
    found = {}
    for root in TOOL:
        path = ROOT / root
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
                for name in names:
                    found.setdefault(name.split(".")[0], file)
    return found


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_third_party_import_is_declared():
    declared = {_name(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    owners = md.packages_distributions()
    own = {"replab", "assignment", "autograder", "solutions", "templates", "worksheet", "build", "tests", *OWN}
    missing = {}
    for module, where in imported_top_level().items():
        if module in sys.stdlib_module_names or module in own or module in OPTIONAL:
            continue
        dists = {d.lower().replace("_", "-") for d in owners.get(module, [])}
        assert dists, f"{where.relative_to(ROOT)} imports {module}, which no installed distribution provides"
        if not dists & declared:
            missing[module] = (sorted(dists), str(where.relative_to(ROOT)))
    assert not missing, f"imported but not in pyproject's dependencies: {missing}"


def test_the_pins_satisfy_the_declared_ranges():
    """requirements.txt (what releases verify with) is one point inside pyproject's ranges."""
    from packaging.requirements import Requirement
    from packaging.version import Version
    ranges = {Requirement(r).name.lower(): Requirement(r).specifier
              for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            req = Requirement(line)
            pinned = Version(str(req.specifier).lstrip("="))
            if req.name.lower() in ranges:
                assert pinned in ranges[req.name.lower()], f"{line}: outside pyproject's {ranges[req.name.lower()]}"
