"""The bundled offline text corpus (``offline: intros``): enough original documents per topic, in the
saved-article format.

Each topic folder under assignment/sources/offline/intros holds ``<safe title>.txt`` files laid out like
the real fixtures (``Title: …``, blank line, text). The text must be our own words, so no 10-word run of
any document may appear in a fixture article.
"""
import re
from functools import cache
from pathlib import Path

import pytest

from assignment.sources.offline_defaults import INTROS as OFFLINE

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "wikipedia"
TOPICS = ["Machine_learning", "Molecular_biology", "Renaissance_art",
          "Quantum_physics", "Basketball", "Pure_mathematics"]
MIN_DOCUMENTS = 30
MIN_WORDS = 50
NGRAM = 10


def safe_name(title: str) -> str:
    """File name rule: keep letters, digits, space and underscore only."""
    return re.sub(r"[^\w ]", "", title) + ".txt"


def words(text: str) -> list[str]:
    # Lower-cased runs of letters/digits, so punctuation and spacing cannot hide a copied passage.
    return re.findall(r"[^\W_]+", text.lower())


def ngrams(text: str) -> set[str]:
    tokens = words(text)
    return {" ".join(tokens[i:i + NGRAM]) for i in range(len(tokens) - NGRAM + 1)}


def parse(path: Path) -> tuple[str, str]:
    """(title, body) of one offline article; asserts the exact on-disk format."""
    where = f"{path.parent.name}/{path.name}"
    raw = path.read_text(encoding="utf-8")
    assert raw.endswith("\n"), f"{where}: does not end with a newline"
    lines = raw.split("\n")
    assert lines[0].startswith("Title: ") and lines[0][len("Title: "):].strip(), f"{where}: no 'Title: ' line"
    assert len(lines) > 2 and lines[1] == "", f"{where}: second line is not blank"
    body = "\n".join(lines[2:]).strip()
    assert body, f"{where}: empty text"
    return lines[0][len("Title: "):], body


def documents(topic: str) -> list[Path]:
    return sorted((OFFLINE / topic).glob("*.txt"))


@cache
def fixture_ngrams() -> frozenset[str]:
    articles = sorted(FIXTURES.glob("*/*.txt"))
    assert len(articles) >= 100, f"expected the Wikipedia fixtures in {FIXTURES}"
    seen: set[str] = set()
    for path in articles:
        seen |= ngrams(path.read_text(encoding="utf-8"))
    return frozenset(seen)


@pytest.mark.parametrize("topic", TOPICS)
def test_topic_has_enough_documents(topic):
    folder = OFFLINE / topic
    assert folder.is_dir(), f"missing topic folder {folder}"
    stray = [p.name for p in folder.iterdir() if p.suffix != ".txt"]
    assert not stray, f"{topic}: non-.txt entries {stray}"
    count = len(documents(topic))
    assert count >= MIN_DOCUMENTS, f"{topic}: {count} documents, expected at least {MIN_DOCUMENTS}"


@pytest.mark.parametrize("topic", TOPICS)
def test_documents_are_well_formed(topic):
    paths = documents(topic)
    assert paths, f"{topic}: no documents"
    for path in paths:
        title, body = parse(path)
        assert path.name == safe_name(title), f"{topic}/{path.name}: expected file name {safe_name(title)!r}"
        assert len(words(body)) >= MIN_WORDS, f"{topic}/{path.name}: only {len(words(body))} words"


def test_titles_and_documents_are_unique_across_topics():
    titles: dict[str, str] = {}
    bodies: dict[str, str] = {}
    for topic in TOPICS:
        for path in documents(topic):
            title, body = parse(path)
            where = f"{topic}/{path.name}"
            assert title not in titles, f"title {title!r} in both {titles[title]} and {where}"
            titles[title] = where
            key = " ".join(words(body))
            assert key not in bodies, f"same text in {bodies[key]} and {where}"
            bodies[key] = where
    assert len(titles) >= MIN_DOCUMENTS


@pytest.mark.parametrize("topic", TOPICS)
def test_documents_are_in_our_own_words(topic):
    paths = documents(topic)
    assert paths, f"{topic}: no documents"
    copied = fixture_ngrams()
    offenders = {}
    for path in paths:
        shared = sorted(ngrams(parse(path)[1]) & copied)
        if shared:
            offenders[path.name] = shared[0]
    assert not offenders, f"{topic}: 10-word runs also found in a fixture article: {offenders}"
