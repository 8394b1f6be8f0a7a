"""The Mantis CSV writer and validating reader: exact round trips, and one precise message per kind of bad file."""
import csv

import numpy as np
import pandas as pd
import pytest

from replab.mantis import MantisFormatError, mantis_columns, read_mantis_csv, write_mantis_csv

E, N, D = 11, 12, 6


def make_rows(n=N, epochs=E, dim=D, seed=0):
    rng = np.random.default_rng(seed)
    titles = [f"Title {i}, with \"quotes\"" for i in range(n)]
    categories = ["Physics" if i % 2 else "Music" for i in range(n)]
    splits = ["test" if i % 4 == 0 else "train" for i in range(n)]
    snippets = [f"Snippet {i}: a, b; ünïcode ✓" for i in range(n)]
    embeddings = rng.standard_normal((epochs, n, dim)).astype(np.float32)
    return titles, categories, splits, snippets, embeddings


@pytest.fixture
def good_csv(tmp_path):
    path = tmp_path / "export.csv"
    write_mantis_csv(path, *make_rows())
    return path


def rewrite(path, edit):
    """Read the CSV as rows of strings, let ``edit`` change them in place, write it back."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    edit(rows)
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return path


def error_of(path, **kwargs) -> str:
    with pytest.raises(MantisFormatError) as info:
        read_mantis_csv(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message, "errors are one line"
    return message


# -- round trips -------------------------------------------------------------------------------------

def test_float32_round_trip_is_bit_exact_for_extreme_values(tmp_path):
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2**32, size=(E, 40, 16), dtype=np.uint64).astype(np.uint32)
    values = bits.view(np.float32).copy()
    values[~np.isfinite(values)] = 0.5
    values[0, 0, :6] = [1e-45, -1e-45, 3.4028235e38, -3.4028235e38, 1.1754944e-38, -0.0]  # tiny, huge, signed
    text = make_rows(40)[:4]
    titles = ["", " leading space", "multi\nline, \"quoted\"", "ends with ]\"", *text[0][4:]]
    path = write_mantis_csv(tmp_path / "exact.csv", titles, *text[1:], values)

    table = read_mantis_csv(path, epochs=E, dim=16, n_rows=40)
    assert table.embeddings.dtype == np.float32 and table.embeddings.shape == (E, 40, 16)
    assert np.array_equal(table.embeddings.view(np.uint32), values.view(np.uint32))
    assert table.titles == titles and table.snippets == text[3] and table.splits == text[2]
    assert table.epochs == list(range(E))
    assert pd.read_csv(path).columns.tolist() == mantis_columns(E)  # a standard CSV to other tools too


def test_crlf_line_ends_are_accepted(good_csv):
    data = good_csv.read_bytes()
    assert b"\r" not in data
    good_csv.write_bytes(data.replace(b"\n", b"\r\n"))
    table = read_mantis_csv(good_csv, epochs=E, dim=D, n_rows=N)
    assert np.array_equal(table.embeddings, make_rows()[4])
    assert table.titles == make_rows()[0]


def test_float64_text_as_the_original_lab_wrote_it_is_accepted(tmp_path):
    titles, categories, splits, snippets, embeddings = make_rows()
    df = pd.DataFrame({"title": titles, "categoric": categories, "split": splits, "snippet": snippets})
    for e in range(E):
        df[f"embedding_epoch_{e}"] = (embeddings[e].astype(np.float64) / 3).tolist()  # 17-digit numbers
    path = tmp_path / "seed_style.csv"
    df.to_csv(path, index=False)
    assert "[" in path.read_text() and ", " in path.read_text()
    table = read_mantis_csv(path, epochs=E, dim=D, n_rows=N)
    assert np.array_equal(table.embeddings, (embeddings.astype(np.float64) / 3).astype(np.float32))


def test_cells_that_need_the_slow_path_still_read_correctly(good_csv):
    # Spaces around the brackets and a line break inside a cell are unusual but valid JSON.
    def edit(rows):
        rows[1][4] = " [" + ",\n".join(rows[1][4][1:-1].split(",")) + "] "
    table = read_mantis_csv(rewrite(good_csv, edit), epochs=E, dim=D)
    assert np.array_equal(table.embeddings, make_rows()[4])


# -- the writer checks before writing, and loses nothing ----------------------------------------------

def test_writer_rejects_bad_input_and_keeps_the_old_file(good_csv):
    before = good_csv.read_bytes()
    titles, categories, splits, snippets, embeddings = make_rows()
    bad = embeddings.copy()
    bad[3, 5, 2] = np.nan
    with pytest.raises(ValueError, match=r"export\.csv: .*epoch 3, row 6, value 3 is nan"):
        write_mantis_csv(good_csv, titles, categories, splits, snippets, bad)
    with pytest.raises(ValueError, match=r"epoch 2 has shape \(12, 5\)"):
        write_mantis_csv(good_csv, titles, categories, splits, snippets, [*embeddings[:2], embeddings[2][:, :5]])
    with pytest.raises(ValueError, match="snippets has 11 entries"):
        write_mantis_csv(good_csv, titles, categories, splits, snippets[:-1], embeddings)
    with pytest.raises(ValueError, match="'valid'"):
        write_mantis_csv(good_csv, titles, categories, ["valid", *splits[1:]], snippets, embeddings)
    with pytest.raises(ValueError, match="too large for float32"):
        write_mantis_csv(good_csv, titles, categories, splits, snippets, embeddings.astype(np.float64) * 1e300)
    assert good_csv.read_bytes() == before
    assert [p.name for p in good_csv.parent.iterdir()] == ["export.csv"]


# -- the reader: each kind of bad file, with its message ----------------------------------------------

def test_missing_file(tmp_path):
    assert error_of(tmp_path / "nowhere.csv").startswith("nowhere.csv: file not found")


def test_not_utf8(good_csv):
    data = good_csv.read_bytes().split(b"\n")
    data[3] = data[3].replace(b"Title", "Titlé".encode("latin-1"))
    good_csv.write_bytes(b"\n".join(data))
    message = error_of(good_csv)
    assert message.startswith("export.csv: not UTF-8") and "line 4" in message


def test_missing_column(good_csv):
    rewrite(good_csv, lambda rows: [r.pop(1) for r in rows])
    assert error_of(good_csv).startswith("export.csv: missing column 'categoric'")


def test_shuffled_text_columns(good_csv):
    rewrite(good_csv, lambda rows: [r.insert(0, r.pop(1)) for r in rows])
    message = error_of(good_csv)
    assert message.startswith("export.csv: columns: expected title, categoric, split, snippet first")
    assert "found categoric, title" in message


def test_shuffled_epoch_columns(good_csv):
    rewrite(good_csv, lambda rows: [r.insert(4, r.pop(5)) for r in rows])
    assert error_of(good_csv, epochs=E) == ("export.csv: columns: expected embedding_epoch_0 … embedding_epoch_10 "
                                            "after snippet, found 'embedding_epoch_1' in column 5 where "
                                            "embedding_epoch_0 belongs")


@pytest.mark.parametrize("epochs_written", [10, 12])
def test_wrong_number_of_epochs(tmp_path, epochs_written):
    path = write_mantis_csv(tmp_path / "export.csv", *make_rows(epochs=epochs_written))
    assert error_of(path, epochs=11) == ("export.csv: columns: expected embedding_epoch_0 … embedding_epoch_10 after "
                                         f"snippet, found {epochs_written} (embedding_epoch_0 … "
                                         f"embedding_epoch_{epochs_written - 1})")
    assert len(read_mantis_csv(path).epochs) == epochs_written  # fine when no count is required


def test_gap_in_epochs(good_csv):
    rewrite(good_csv, lambda rows: [r.pop(7) for r in rows])  # drop embedding_epoch_3
    gap = ("found no embedding_epoch_3 (a gap: 'embedding_epoch_4' follows embedding_epoch_2 in column 8)")
    # The file names columns up to embedding_epoch_10, so that is what it meant, whether or not a count is required.
    assert error_of(good_csv) == f"export.csv: columns: expected embedding_epoch_0 … embedding_epoch_10 after snippet, {gap}"
    assert error_of(good_csv, epochs=E) == error_of(good_csv)


def test_gap_at_the_start_and_at_the_end(good_csv):
    rewrite(good_csv, lambda rows: [r.pop(4) for r in rows])  # drop embedding_epoch_0
    assert error_of(good_csv, epochs=E) == ("export.csv: columns: expected embedding_epoch_0 … embedding_epoch_10 "
                                            "after snippet, found no embedding_epoch_0 (a gap: 'embedding_epoch_1' "
                                            "follows snippet in column 5)")


def test_missing_last_epoch_column(tmp_path):
    path = write_mantis_csv(tmp_path / "export.csv", *make_rows())
    rewrite(path, lambda rows: [r.pop() for r in rows])  # no embedding_epoch_10 at all
    assert error_of(path, epochs=E) == ("export.csv: columns: expected embedding_epoch_0 … embedding_epoch_10 after "
                                        "snippet, found 10 (embedding_epoch_0 … embedding_epoch_9)")
    assert len(read_mantis_csv(path).epochs) == E - 1  # a complete file of 10 epochs when no count is required


def test_header_lacks_the_last_epoch_name(good_csv):
    rewrite(good_csv, lambda rows: rows[0].pop())  # the values of embedding_epoch_10 are there, its name is not
    message = error_of(good_csv)
    assert message == ("export.csv: not a readable CSV: rows have more fields than the 14 columns of the header "
                       "(row 1 has 15: is embedding_epoch_10 missing from the header, after embedding_epoch_9?)")


def test_rows_lack_the_last_epoch_value(good_csv):
    rewrite(good_csv, lambda rows: [r.pop() for r in rows[1:]])  # header names embedding_epoch_10, no row has it
    expected = "export.csv: row 1 has 14 fields but the header names 15 columns (nothing for embedding_epoch_10)"
    assert error_of(good_csv) == error_of(good_csv, epochs=E) == expected
    rewrite(good_csv, lambda rows: rows[0].append("embedding_epoch_11"))  # and one column too many in the header
    assert error_of(good_csv) == ("export.csv: row 1 has 14 fields but the header names 16 columns "
                                  "(nothing for embedding_epoch_10 … embedding_epoch_11)")


@pytest.mark.parametrize("epochs", [None, E])
def test_extra_column_after_the_last_epoch(good_csv, epochs):
    rewrite(good_csv, lambda rows: [r.append("note" if i else "notes") for i, r in enumerate(rows)])
    assert error_of(good_csv, epochs=epochs) == ("export.csv: columns: expected embedding_epoch_0 … embedding_epoch_10 "
                                                 "after snippet, found an extra column 'notes' (column 16) after "
                                                 "embedding_epoch_10")
    rewrite(good_csv, lambda rows: [r.append("") for r in rows])
    assert error_of(good_csv, epochs=epochs).endswith("found an extra column 'notes' (column 16) after "
                                                      "embedding_epoch_10 and 1 more")


def test_epoch_columns_beyond_the_count_required(tmp_path):
    path = write_mantis_csv(tmp_path / "export.csv", *make_rows(epochs=E + 2))
    rewrite(path, lambda rows: rows[0].__setitem__(-1, "embedding_epoch_13"))  # 0 … 11, then 13: a gap
    assert error_of(path) == ("export.csv: columns: expected embedding_epoch_0 … embedding_epoch_13 after snippet, "
                              "found no embedding_epoch_12 (a gap: 'embedding_epoch_13' follows embedding_epoch_11 "
                              "in column 17)")
    assert error_of(path, epochs=E) == ("export.csv: columns: expected embedding_epoch_0 … embedding_epoch_10 after "
                                        "snippet, found an extra column 'embedding_epoch_11' (column 16) after "
                                        "embedding_epoch_10 and 1 more")


def test_repeated_epoch_column(good_csv):
    rewrite(good_csv, lambda rows: rows[0].__setitem__(9, "embedding_epoch_4"))  # embedding_epoch_5 named 4 again
    assert error_of(good_csv) == ("export.csv: columns: expected embedding_epoch_0 … embedding_epoch_10 after snippet, "
                                  "found a second 'embedding_epoch_4' in column 10 where embedding_epoch_5 belongs")
    write_mantis_csv(good_csv, *make_rows())
    rewrite(good_csv, lambda rows: [r.append(r[-1]) for r in rows])  # embedding_epoch_10 twice at the end
    assert error_of(good_csv) == ("export.csv: columns: expected embedding_epoch_0 … embedding_epoch_10 after snippet, "
                                  "found a second 'embedding_epoch_10' (column 16) after embedding_epoch_10")


@pytest.mark.parametrize("name", ["Embedding_Epoch_10", "embedding_epoch_10 ", "embedding epoch 10"])
def test_misspelt_last_epoch_column(good_csv, name):
    rewrite(good_csv, lambda rows: rows[0].__setitem__(-1, name))
    expected = ("export.csv: columns: expected embedding_epoch_0 … embedding_epoch_10 after snippet, "
                f"found {name!r} in column 15 where embedding_epoch_10 belongs")
    assert error_of(good_csv, epochs=E) == expected
    if name != "embedding epoch 10":  # recognisable as epoch 10 even when no count is required
        assert error_of(good_csv) == expected


def set_cell(rows, row, column, value):
    rows[row][rows[0].index(column)] = value


def test_cell_that_is_not_json(good_csv):
    rewrite(good_csv, lambda rows: set_cell(rows, 3, "embedding_epoch_2", "[0.1, 0.2, oops]"))
    assert error_of(good_csv).startswith(
        "export.csv: row 3, column embedding_epoch_2: not a JSON list of numbers: '[0.1, 0.2, oops]'")


def test_cell_that_is_empty(good_csv):
    rewrite(good_csv, lambda rows: set_cell(rows, 9, "embedding_epoch_0", ""))
    assert error_of(good_csv) == "export.csv: row 9, column embedding_epoch_0: empty cell"


def test_ragged_vector(good_csv):
    rewrite(good_csv, lambda rows: set_cell(rows, 4, "embedding_epoch_5", "[1, 2, 3, 4, 5]"))
    assert error_of(good_csv) == "export.csv: row 4, column embedding_epoch_5: expected 6 numbers, got 5"


def test_one_epoch_with_another_dimension(good_csv):
    def edit(rows):  # every cell of epoch 4 keeps only its first 4 numbers
        column = rows[0].index("embedding_epoch_4")
        for row in rows[1:]:
            row[column] = "[" + ",".join(row[column][1:-1].split(",")[:4]) + "]"
    assert error_of(rewrite(good_csv, edit)) == "export.csv: row 1, column embedding_epoch_4: expected 6 numbers, got 4"


def test_required_dimension(good_csv):
    assert error_of(good_csv, dim=64) == "export.csv: row 1, column embedding_epoch_0: expected 64 numbers, got 6"


@pytest.mark.parametrize("value, problem", [("NaN", "value 3 is NaN"), ("Infinity", "value 3 is inf"),
                                            ("-Infinity", "value 3 is -inf"), ("1e39", "value 3 is 1e+39"),
                                            ("null", "value 3 is not a number: null"),
                                            ("true", "value 3 is not a number: true"),
                                            ('"0.5"', 'value 3 is not a number: "0.5"')])
def test_values_that_are_not_finite_numbers(good_csv, value, problem):
    rewrite(good_csv, lambda rows: set_cell(rows, 5, "embedding_epoch_2", f"[0.5, 1, {value}, 2, 3, 4]"))
    assert error_of(good_csv).startswith(f"export.csv: row 5, column embedding_epoch_2: {problem}")


def test_wrong_number_of_rows(good_csv):
    assert error_of(good_csv, n_rows=500) == "export.csv: expected 500 rows, found 12"


def test_bad_split_value(good_csv):
    rewrite(good_csv, lambda rows: set_cell(rows, 7, "split", "validation"))
    assert error_of(good_csv) == "export.csv: row 7, column split: 'validation' is not 'train' or 'test'"


def test_no_rows(good_csv):
    rewrite(good_csv, lambda rows: rows.__delitem__(slice(1, None)))  # keep only the header
    assert error_of(good_csv) == "export.csv: no rows"
    good_csv.write_bytes(b"")
    assert "export.csv: empty file" in error_of(good_csv)


def test_row_with_too_many_fields(good_csv):
    rewrite(good_csv, lambda rows: rows[6].append("[1]"))
    message = error_of(good_csv)
    assert message.startswith("export.csv: not a readable CSV") and "line 7" in message


def test_comma_at_the_end_of_every_line(good_csv):
    header, body = good_csv.read_bytes().split(b"\n", 1)
    good_csv.write_bytes(header + b"\n" + body.replace(b"\n", b",\n"))
    message = error_of(good_csv)
    assert message.startswith("export.csv: not a readable CSV: rows have more fields than the 15 columns")
    good_csv.write_bytes(header + b",\n" + body.replace(b"\n", b",\n"))
    expected = ("export.csv: columns: expected embedding_epoch_0 … embedding_epoch_10 after snippet, "
                "found an unnamed column 16 after embedding_epoch_10 (a comma at the end of the line?)")
    assert error_of(good_csv) == error_of(good_csv, epochs=E) == expected
    good_csv.write_bytes(header.rsplit(b",", 1)[0] + b",\n" + body.replace(b"\n", b",\n"))  # and no embedding_epoch_10
    assert error_of(good_csv, epochs=E) == ("export.csv: columns: expected embedding_epoch_0 … embedding_epoch_10 after "
                                            "snippet, found an unnamed column 15 (a comma at the end of the line?) "
                                            "where embedding_epoch_10 belongs")


def test_header_without_epoch_columns(good_csv):
    rewrite(good_csv, lambda rows: [r.__delitem__(slice(4, None)) for r in rows])
    assert error_of(good_csv) == "export.csv: columns: expected embedding_epoch_0 after snippet, found none"
