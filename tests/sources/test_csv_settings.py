"""type: csv — the settings an instructor's own table needs: `classes` (labels to keep), `per_class` (a seeded
sample of each class), `delimiter`; and the `encoding` an export from a spreadsheet may need."""
from pathlib import Path

import pandas as pd
import pytest

from assignment.sources import load_corpus
from replab.corpus import DataError

BBC = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "bbc" / "dataset.csv"
BLOCK = {"type": "csv", "path": str(BBC), "text_column": "news", "label_column": "type", "encoding": "latin-1"}


def load(seed=0, **block):
    return load_corpus("news", "text", {**BLOCK, **block}, live=False, seed=seed)


def test_classes_keeps_only_those_labels_in_the_files_order():
    every = load()
    corpus = load(classes=["sport", "tech", "politics"])
    assert corpus.class_names == ["politics", "sport", "tech"]
    assert corpus.counts() == {c: every.counts()[c] for c in ("politics", "sport", "tech")}
    kept = [t for t, label in zip(every.texts, every.labels) if label in ("sport", "tech", "politics")]
    assert corpus.texts == kept


def test_per_class_is_a_seeded_stratified_sample(tmp_path):
    path = tmp_path / "rows.csv"
    pd.DataFrame({"text": [f"row {i}" for i in range(90)], "label": list("abc") * 30}).to_csv(path, index=False)
    block = {"path": str(path), "text_column": "text", "label_column": "label", "encoding": "utf-8"}
    corpus = load(**block, per_class=10)
    assert corpus.counts() == {"a": 10, "b": 10, "c": 10}
    rows = [int(t.split()[1]) for t in corpus.texts]
    assert rows == sorted(rows) and rows != list(range(0, 90))[:30]           # the file's order, not its head
    assert load(**block, per_class=10).texts == corpus.texts                  # same seed, same rows
    other = load(seed=1, **block, per_class=10)
    assert other.texts != corpus.texts and other.counts() == corpus.counts()
    assert load(**block, classes=["a", "c"], per_class=4).counts() == {"a": 4, "c": 4}
    assert load(classes=["sport", "tech", "business"], per_class=20).counts() == {"business": 20, "sport": 20, "tech": 20}


def test_a_class_smaller_than_per_class_is_kept_whole(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"text": [f"t{i}" for i in range(7)], "label": list("aaaaabb")}).to_csv(path, index=False)
    corpus = load(path=str(path), text_column="text", label_column="label", encoding="utf-8", per_class=3)
    assert corpus.counts() == {"a": 3, "b": 2}


def test_a_class_not_in_the_table_is_one_line_naming_the_file_and_the_labels_found():
    with pytest.raises(DataError) as e:
        load(classes=["sport", "sprot"])
    assert str(e.value) == (f"{BBC}: classes: 'sprot' not found in column type "
                            "(found: business, entertainment, politics, sport, tech)")


@pytest.mark.parametrize("delimiter, name", [(";", "europe.csv"), ("\t", "table.tsv"), ("|", "pipes.csv")])
def test_delimiter(tmp_path, delimiter, name):
    path = tmp_path / name
    rows = [("Grand café; ouvert, le soir", "food"), ("Match report, 2–1", "sport")]
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, sep=delimiter, index=False, encoding="cp1252")
    corpus = load(path=str(path), text_column="text", label_column="label", encoding="cp1252", delimiter=delimiter)
    assert corpus.texts == [r[0] for r in rows] and corpus.labels == ["food", "sport"]
    with pytest.raises(DataError) as e:   # read with commas: one column, or rows that do not fit the header
        load(path=str(path), text_column="text", label_column="label", encoding="cp1252")
    assert str(e.value).startswith(f"{path}: ") and "delimiter" in str(e.value)


def test_a_header_holding_another_delimiter_names_it(tmp_path):
    path = tmp_path / "europe.csv"
    path.write_text("text;label\nGrand café;food\nMatch report;sport\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        load(path=str(path), text_column="text", label_column="label", encoding="utf-8")
    assert str(e.value) == (f"{path}: missing column(s) text, label (found: ['text;label']); "
                            "the header holds ';': set source.delimiter: ';'")


def test_numeric_labels_are_kept_as_text(tmp_path):
    path = tmp_path / "stars.csv"
    pd.DataFrame({"review": ["bad", "awful", "ok", "fine", "great"], "stars": [1, 1, 3, 3, 5]}).to_csv(path, index=False)
    corpus = load(path=str(path), text_column="review", label_column="stars", encoding="utf-8", classes=[1, 5])
    assert corpus.labels == ["1", "1", "5"]
