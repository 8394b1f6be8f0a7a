"""type: csv — the BBC fixture (latin-1, columns news,type) from a path, a data dir and a local HTTP
server; titles; encodings; errors that name the file or URL."""
from pathlib import Path

import pandas as pd
import pytest

from assignment.sources import load_corpus
from assignment.sources.csv_table import TITLE_WIDTH, made_title
from replab.corpus import DataError
from tests.mediawiki_server import StaticServer

BBC = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "bbc" / "dataset.csv"
BLOCK = {"type": "csv", "text_column": "news", "label_column": "type", "encoding": "latin-1"}


@pytest.fixture(scope="module")
def expected():
    return pd.read_csv(BBC, encoding="latin-1")


def load(block, **kw):
    kw.setdefault("live", False)
    return load_corpus("news", "text", {**BLOCK, **block}, **kw)


def check(corpus, expected):
    assert corpus.name == "news" and corpus.kind == "text"
    assert len(corpus) == len(expected)
    assert corpus.labels == expected["type"].tolist()
    assert corpus.counts() == expected["type"].value_counts().to_dict()
    assert corpus.texts == [t.strip() for t in expected["news"]]
    for title, text in zip(corpus.titles, corpus.texts):
        assert title and title == text.splitlines()[0].strip() and "\n" not in title  # headlines are short


def test_from_a_path_even_when_live_is_off(expected, capsys):
    corpus = load({"path": str(BBC)})
    check(corpus, expected)
    assert corpus.source == f"path {BBC}" and corpus.meta["origin"] == "path"
    assert "£" in "".join(corpus.texts)  # latin-1 decoded, not mangled
    assert capsys.readouterr().out == ""


def test_a_relative_path_is_taken_from_base_dir(expected):
    corpus = load({"path": "bbc/dataset.csv"}, base_dir=BBC.parents[1])
    assert corpus.source == f"path {BBC}" and len(corpus) == len(expected)


def test_through_a_local_http_server(expected):
    with StaticServer(BBC.parent) as server:
        corpus = load({"url": server.url(BBC.name)}, live=True)
    check(corpus, expected)
    assert corpus.source == f"live {server.url(BBC.name)}" and corpus.meta["origin"] == "live"


def test_data_dir_holds_one_csv_of_any_name(tmp_path, expected):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "articles.csv").write_bytes(BBC.read_bytes())
    corpus = load({"url": "http://127.0.0.1:9/never-asked.csv"}, data_dir=tmp_path, live=True)
    assert corpus.source == f"data-dir {tmp_path / 'news' / 'articles.csv'}" and len(corpus) == len(expected)
    (tmp_path / "news" / "more.csv").write_text("news,type\nx,y\n")
    with pytest.raises(DataError, match=r"news: 2 \.csv files \(articles.csv, more.csv\); keep exactly one"):
        load({"path": str(BBC)}, data_dir=tmp_path)


def test_title_column_encoding_and_made_up_titles(tmp_path):
    path = tmp_path / "reviews.csv"
    long = "word " * 40
    pd.DataFrame({"body": ["Grand café.\nSecond line", long, "  ", "no label"], "stars": ["5", "1", "3", ""],
                  "name": ["", "Named", "x", "y"]}).to_csv(path, index=False, encoding="utf-16")
    block = {"path": str(path), "text_column": "body", "label_column": "stars", "encoding": "utf-16"}
    corpus = load(block)
    assert corpus.labels == ["5", "1"] and corpus.texts[0] == "Grand café.\nSecond line"  # blank rows dropped
    assert corpus.titles[0] == "Grand café." and len(corpus.titles[1]) <= TITLE_WIDTH
    assert corpus.titles[1].endswith("…") and corpus.titles[1].startswith("word word")
    titled = load({**block, "title_column": "name"})
    assert titled.titles == ["Grand café.", "Named"]  # an empty title cell falls back to the made-up title
    assert made_title("\n\n  Headline  \nbody") == "Headline"


def test_missing_column_names_the_file(tmp_path):
    path = tmp_path / "articles.csv"
    path.write_text("news,category\nsome text,tech\n", encoding="latin-1")
    with pytest.raises(DataError, match=r"articles.csv: missing column\(s\) type"):
        load({"path": str(path)})


@pytest.mark.parametrize("content", [b"", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"])
def test_empty_or_non_csv_file_names_the_file(tmp_path, content):
    path = tmp_path / "dataset.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match="dataset.csv: "):
        load({"path": str(path)})


def test_wrong_encoding_names_the_file(tmp_path):
    path = tmp_path / "dataset.csv"
    path.write_bytes(BBC.read_bytes())
    with pytest.raises(DataError, match=r"dataset.csv: not a readable CSV in utf-8"):
        load({"path": str(path), "encoding": "utf-8"})


def test_a_missing_url_file_falls_back_or_fails_naming_the_url(tmp_path, capsys):
    with StaticServer(tmp_path) as server:
        url = server.url("nothing.csv")
        corpus = load({"url": url, "offline": "intros"}, live=True)
        assert corpus.meta["origin"] == "offline"
        (line,) = capsys.readouterr().out.splitlines()
        assert line.startswith(f"news: live source unavailable ({url}: download failed") and "404" in line
        with pytest.raises(DataError, match=r"^news: no data \(live source: http.*404.*names no offline default$"):
            load({"url": url}, live=True)
