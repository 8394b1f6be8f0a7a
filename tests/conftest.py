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
