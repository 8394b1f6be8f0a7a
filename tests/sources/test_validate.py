"""validate_source: defaults filled in; every mistake is one line naming the key; importing it is cheap."""
import subprocess
import sys

import pytest

from assignment.sources import SOURCE_TYPES, validate_source

WHERE = "course.yaml: variants.v.source"


class BlockError(Exception):
    pass


def check(block, kind=None):
    return validate_source(block, WHERE, BlockError, kind=kind)


def test_defaults_are_filled_in_and_validating_twice_changes_nothing():
    cases = {
        "mediawiki": ({"type": "mediawiki", "topics": ["Cats", "Dogs"]},
                      {"api_url": "https://en.wikipedia.org/w/api.php", "per_topic": 150}),
        "csv": ({"type": "csv", "path": "a.csv", "text_column": "t", "label_column": "l"},
                {"encoding": "utf-8", "title_column": None, "classes": None, "per_class": 0, "delimiter": ","}),
        "textdir": ({"type": "textdir", "path": "notes"}, {"per_class": 0, "encoding": "utf-8"}),
        "imagefolder": ({"type": "imagefolder", "path": "pics", "offline": "digits"},
                        {"per_class": 0, "background": [255, 255, 255]}),
        "torchvision": ({"type": "torchvision", "dataset": "CIFAR10"}, {"n_images": 5000}),
    }
    assert set(cases) == set(SOURCE_TYPES)
    for block, defaults in cases.values():
        out = check(block, kind=SOURCE_TYPES[block["type"]].KIND)
        assert out == {**block, **defaults, "offline": block.get("offline")}
        assert check(out) == out and out is not block


BAD = [
    (["not", "a", "block"], "course.yaml: variants.v.source: must be a mapping with a type"),
    ({"topics": ["a", "b"]}, ".source.type: missing (one of mediawiki, csv, textdir, imagefolder, torchvision)"),
    ({"type": "sql"}, ".source.type: must be one of mediawiki, csv, textdir, imagefolder, torchvision, got 'sql'"),
    ({"type": "textdir", "path": "x", "per_topic": 3},
     ".source: unknown key(s) per_topic for type textdir (allowed: encoding, offline, path, per_class, type)"),
    ({"type": "mediawiki"}, ".source.topics: missing"),
    ({"type": "mediawiki", "topics": ["only one"]}, ".source.topics: must be a list of at least 2 non-empty topics"),
    ({"type": "mediawiki", "topics": "Cats, Dogs"}, ".source.topics: must be a list of at least 2"),
    ({"type": "mediawiki", "topics": ["Cats", "", "Dogs"]}, ".source.topics: must be a list of at least 2"),
    ({"type": "mediawiki", "topics": ["Cats", "cats "]}, ".source.topics: must be distinct, 'Cats', 'cats ' appears"),
    ({"type": "mediawiki", "topics": ["a", "b"], "per_topic": 0}, ".source.per_topic: must be an integer ≥ 1"),
    ({"type": "mediawiki", "topics": ["a", "b"], "per_topic": True}, ".source.per_topic: must be an integer ≥ 1"),
    ({"type": "mediawiki", "topics": ["a", "b"], "api_url": "en.wikipedia.org"},
     ".source.api_url: must be an http(s):// URL, got 'en.wikipedia.org'"),
    ({"type": "csv", "text_column": "t", "label_column": "l"}, ".source: needs exactly one of url"),
    ({"type": "csv", "url": "http://x/a.csv", "path": "a.csv", "text_column": "t", "label_column": "l"},
     "got both"),
    ({"type": "csv", "path": "a.csv", "label_column": "l"}, ".source.text_column: missing"),
    ({"type": "csv", "path": "a.csv", "text_column": "t", "label_column": 3},
     ".source.label_column: must be a non-empty string, got 3"),
    ({"type": "csv", "path": "a.csv", "text_column": "t", "label_column": "l", "encoding": "klingon"},
     ".source.encoding: must be a text encoding Python knows"),
    ({"type": "csv", "path": "a.csv", "text_column": "t", "label_column": "l", "classes": "sport, tech"},
     ".source.classes: must be a list of at least 2 labels to keep (as the label column writes them), got 'sport, tech'"),
    ({"type": "csv", "path": "a.csv", "text_column": "t", "label_column": "l", "classes": ["sport"]},
     ".source.classes: must be a list of at least 2 labels"),
    ({"type": "csv", "path": "a.csv", "text_column": "t", "label_column": "l", "classes": ["a", "b", "a "]},
     ".source.classes: must be distinct, 'a' appears more than once"),
    ({"type": "csv", "path": "a.csv", "text_column": "t", "label_column": "l", "per_class": "20"},
     ".source.per_class: must be an integer ≥ 0 (a seeded sample per class; 0 = all), got '20'"),
    ({"type": "csv", "path": "a.csv", "text_column": "t", "label_column": "l", "delimiter": "::"},
     ".source.delimiter: must be one character that separates fields, e.g. ',', ';', '|' or '\\t' (tab), got '::'"),
    ({"type": "csv", "path": "a.csv", "text_column": "t", "label_column": "l", "delimiter": "x"},
     ".source.delimiter: must be one character"),
    ({"type": "textdir"}, ".source.path: missing"),
    ({"type": "textdir", "path": "x", "encoding": "utf8-ish"}, ".source.encoding: must be a text encoding Python knows"),
    ({"type": "imagefolder", "path": "p", "background": "white"},
     ".source.background: must be a colour as [red, green, blue], each 0–255 (e.g. [255, 255, 255] for white), got 'white'"),
    ({"type": "imagefolder", "path": "p", "per_class": -1}, ".source.per_class: must be an integer ≥ 0"),
    ({"type": "torchvision", "dataset": "CIFAR-10"}, ".source.dataset: must name a dataset class of torchvision"),
    ({"type": "torchvision", "dataset": "CIFAR10", "n_images": "many"}, ".source.n_images: must be an integer ≥ 0"),
    ({"type": "textdir", "path": "x", "offline": "wikipedia"}, ".source.offline: must be one of intros, digits"),
    ({"type": "textdir", "path": "x", "offline": "digits"},
     ".source.offline: digits is image data, but type textdir gives text data; use intros"),
    ({"type": "torchvision", "dataset": "MNIST", "offline": "intros"}, "; use digits"),
]


@pytest.mark.parametrize("block, message", BAD, ids=[m[:40] for _, m in BAD])
def test_each_mistake_is_one_line_naming_the_key(block, message):
    with pytest.raises(BlockError) as e:
        check(block)
    text = str(e.value)
    assert message in text and text.startswith(WHERE) and "\n" not in text


def test_the_kind_must_match_the_type():
    with pytest.raises(BlockError, match=r"^course.yaml: variants.v.source.type: type mediawiki gives text data, "
                                         r"but the variant's kind is image$"):
        check({"type": "mediawiki", "topics": ["a", "b"]}, kind="image")


def test_validating_imports_nothing_heavy():
    code = ("import sys; from assignment.sources import validate_source; "
            "validate_source({'type': 'torchvision', 'dataset': 'CIFAR10', 'offline': 'digits'}, 'w', ValueError); "
            "validate_source({'type': 'mediawiki', 'topics': ['a', 'b']}, 'w', ValueError); "
            "print(sorted(m for m in ('numpy', 'torch', 'torchvision', 'requests', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
