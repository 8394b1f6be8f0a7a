"""load_bbc from the fixture CSV, directly and through a local HTTP server; its errors."""
from pathlib import Path

import pandas as pd
import pytest

from mediawiki_server import StaticServer
from replab.bbc import load_bbc
from replab.corpus import DataError
from replab.http import make_session

BBC = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "bbc" / "dataset.csv"


@pytest.fixture(scope="module")
def expected():
    return pd.read_csv(BBC, encoding="latin-1")


def check(corpus, expected):
    assert corpus.name == "bbc" and corpus.kind == "text"
    assert len(corpus) == len(expected)
    assert corpus.labels == expected["type"].tolist()
    assert corpus.counts() == expected["type"].value_counts().to_dict()
    assert corpus.texts == [t.strip() for t in expected["news"]]
    for title, text in zip(corpus.titles, corpus.texts):
        assert title and title == text.splitlines()[0].strip() and "\n" not in title


def test_from_the_fixture_path(expected):
    corpus = load_bbc(BBC)
    check(corpus, expected)
    assert corpus.source == f"data-dir {BBC}"
    assert "£" in "".join(corpus.texts)  # latin-1 decoded, not mangled


def test_through_a_local_http_server(expected):
    with StaticServer(BBC.parent) as server:
        corpus = load_bbc(server.url(BBC.name), session=make_session(retries=0), timeout=5)
    check(corpus, expected)
    assert corpus.source == f"live {server.url(BBC.name)}"


def test_missing_column_names_the_file(tmp_path):
    path = tmp_path / "articles.csv"
    path.write_text("news,category\nsome text,tech\n", encoding="latin-1")
    with pytest.raises(DataError, match=r"articles.csv: missing column\(s\) type"):
        load_bbc(path)


@pytest.mark.parametrize("content", [b"", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"])
def test_empty_or_non_csv_file_names_the_file(tmp_path, content):
    path = tmp_path / "dataset.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match="dataset.csv: "):
        load_bbc(path)


def test_missing_file_and_bad_url_name_themselves(tmp_path):
    with pytest.raises(DataError, match="nothing.csv: file not found"):
        load_bbc(tmp_path / "nothing.csv")
    with StaticServer(tmp_path) as server:
        url = server.url("nothing.csv")
        with pytest.raises(DataError) as e:
            load_bbc(url, session=make_session(retries=0), timeout=5)
    assert str(e.value).startswith(f"{url}: download failed") and "404" in str(e.value)
