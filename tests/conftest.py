"""Shared test fixtures: the read-only corpora beside the repo and the assignment config."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    assert (FIXTURES / "wikipedia").is_dir(), f"{FIXTURES}: the shared test corpora must sit beside the repo"
    return FIXTURES


@pytest.fixture(scope="session")
def cfg():
    from assignment.config import load_config
    return load_config()


@pytest.fixture(scope="session")
def wiki_corpus(fixtures_dir):
    from replab.wikipedia import load_wikipedia_dir
    return load_wikipedia_dir(fixtures_dir / "wikipedia")


@pytest.fixture(scope="session")
def release(tmp_path_factory, fixtures_dir):
    """One verified release of every variant (wikipedia and bbc from the fixtures, cifar10 from its
    offline stand-in), built once for every slow test: (out folder, build stdout)."""
    import subprocess
    import sys
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "build.py", "--out", str(out), "--data-dir", str(fixtures_dir),
                           "--jobs", "3"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc.stdout
