"""type: textdir — one folder of .txt files per class, written here; order, titles, per_class, errors."""
import pytest

from assignment.sources import load_corpus
from replab.corpus import DataError


def write(root, files: dict[str, str]):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def load(root, **block):
    return load_corpus("notes", "text", {"type": "textdir", "path": str(root), **block}, live=False)


def test_labels_titles_and_order(tmp_path):
    root = write(tmp_path / "notes", {
        "sailing/b tide.txt": "Tides turn.\n", "sailing/a wind.txt": "\ufeffWind fills the sail.",
        "chess/gambit.txt": "  A pawn for time.  ", "chess/notes.md": "not a text file of the corpus",
        "chess/.hidden.txt": "editor litter", ".ipynb_checkpoints/x.txt": "not a class",
    })
    corpus = load(root)
    assert corpus.labels == ["chess", "sailing", "sailing"]
    assert corpus.titles == ["gambit", "a wind", "b tide"]
    assert corpus.texts == ["A pawn for time.", "Wind fills the sail.", "Tides turn."]  # stripped, BOM dropped
    assert corpus.source == f"path {root}" and corpus.meta["origin"] == "path" and corpus.name == "notes"


def test_per_class_keeps_the_first_files_by_name(tmp_path):
    root = write(tmp_path / "n", {f"{c}/{i}.txt": f"{c} {i}" for c in ("x", "y") for i in range(5)})
    corpus = load(root, per_class=2)
    assert corpus.titles == ["0", "1", "0", "1"] and corpus.counts() == {"x": 2, "y": 2}


def test_data_dir_uses_the_same_layout(tmp_path, capsys):
    write(tmp_path / "data" / "notes", {"a/1.txt": "one", "b/2.txt": "two"})
    corpus = load_corpus("notes", "text", {"type": "textdir", "path": "missing"}, data_dir=tmp_path / "data",
                         live=False, base_dir=tmp_path)
    assert corpus.source == f"data-dir {tmp_path / 'data' / 'notes'}" and corpus.labels == ["a", "b"]
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("files, problem", [
    ({"only/1.txt": "one"}, r"notes: 1 class folder\(s\) \(only\); need at least 2"),
    ({"a/1.txt": "one", "b/readme.md": "no txt"}, r"notes/b: no \.txt files in this class folder"),
    ({"a/1.txt": "one", "b/2.txt": "   \n"}, r"notes/b/2.txt: empty file"),
])
def test_errors_name_the_folder_or_file(tmp_path, files, problem):
    root = write(tmp_path / "notes", files)
    with pytest.raises(DataError, match=problem):
        load(root)


def test_text_that_is_not_utf8_names_the_file_the_byte_and_the_setting(tmp_path):
    root = write(tmp_path / "notes", {"a/1.txt": "one"})
    (root / "b").mkdir()
    (root / "b" / "2.txt").write_bytes("café".encode("latin-1"))
    with pytest.raises(DataError) as e:
        load(root)
    assert str(e.value) == f"{root}/b/2.txt: not valid utf-8 at byte 3 (set source.encoding, e.g. latin-1 or cp1252)"
    # the offset is the file's own, counting its byte-order mark: 3 + len("naïve café ") in UTF-8 = 3 + 13
    (root / "b" / "2.txt").write_bytes(b"\xef\xbb\xbf" + "naïve café".encode("utf-8") + b" \x93quoted\x94")
    with pytest.raises(DataError, match=r"b/2.txt: not valid utf-8 at byte 16 \(set source.encoding"):
        load(root)


def test_encoding_reads_notes_saved_on_windows(tmp_path):
    root = write(tmp_path / "notes", {"a/1.txt": "one"})
    (root / "b").mkdir()
    (root / "b" / "2.txt").write_bytes("\u201cCafé\u201d".encode("cp1252"))
    corpus = load(root, encoding="cp1252")
    assert corpus.texts == ["one", "\u201cCafé\u201d"]
    assert load(root, encoding="latin-1").texts[1] == "\x93Café\x94"   # latin-1 reads any byte, quotes as controls
