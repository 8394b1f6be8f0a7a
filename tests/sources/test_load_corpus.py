"""load_corpus: data dir, then the real source (local servers only), then the offline default; one line
per skipped source; the kind check; the shipped variants' blocks."""
import hashlib
import socket
import tarfile
import time
from pathlib import Path

import pytest
from torchvision.datasets import CIFAR10

from assignment.sources import describe_source, load_corpus, mediawiki
from replab import wikipedia
from replab.corpus import DataError
from tests.mediawiki_server import MediaWikiServer, StaticServer
from tests.sources.test_torchvision_dataset import write_fake_cifar10

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"
TOPICS = ["Machine learning", "Molecular biology", "Renaissance art", "Quantum physics", "Basketball",
          "Pure mathematics"]
WIKI = {"type": "mediawiki", "topics": TOPICS, "per_topic": 150, "offline": "intros"}
NEWS = {"type": "csv", "text_column": "news", "label_column": "type", "encoding": "latin-1", "offline": "intros"}
IMAGES = {"type": "torchvision", "dataset": "CIFAR10", "n_images": 40, "offline": "digits"}


@pytest.fixture
def closed_url():
    """An http URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/w/api.php"


def lines(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


def test_the_default_api_url_is_replabs():
    assert mediawiki.API_URL == wikipedia.API_URL


def test_the_shipped_text_variants_read_the_fixtures(cfg, capsys):
    for name in ("wikipedia", "bbc"):
        variant = cfg.variant(name)
        corpus = load_corpus(name, variant.kind, variant.source, data_dir=FIXTURES, live=False)
        assert corpus.name == name and corpus.meta["origin"] == "data-dir"
    assert lines(capsys) == []


# -- mediawiki ------------------------------------------------------------------------------------------

def test_mediawiki_from_data_dir_first(capsys, tmp_path):
    block = {**WIKI, "api_url": "http://127.0.0.1:9/never-asked"}
    corpus = load_corpus("wikipedia", "text", block, data_dir=FIXTURES, cache_dir=tmp_path)
    assert corpus.source == f"data-dir {FIXTURES / 'wikipedia'}" and corpus.meta["origin"] == "data-dir"
    assert corpus.class_names == sorted(TOPICS) and lines(capsys) == []
    assert not any(tmp_path.iterdir())


def test_mediawiki_live_when_data_dir_lacks_a_topic(capsys, tmp_path):
    (tmp_path / "data" / "topics" / "Basketball").mkdir(parents=True)   # one topic folder of six
    with MediaWikiServer(FIXTURES / "wikipedia") as server:
        corpus = load_corpus("topics", "text", {**WIKI, "api_url": server.url}, data_dir=tmp_path / "data",
                             cache_dir=tmp_path / "cache")
        assert server.count("search") == len(TOPICS)
    assert corpus.name == "topics" and corpus.source == f"live {server.url}" and corpus.meta["origin"] == "live"
    assert len(corpus) == len(server.pages) and (tmp_path / "cache" / "topics" / "Basketball").is_dir()
    (line,) = lines(capsys)
    assert line.startswith(f"topics: data dir skipped (no {tmp_path / 'data' / 'topics'}/<Topic> folder for Machine learning")
    assert line.endswith("trying the live source")


def test_mediawiki_unreachable_falls_back_quickly(capsys, tmp_path, closed_url):
    start = time.monotonic()
    corpus = load_corpus("wikipedia", "text", {**WIKI, "api_url": closed_url}, cache_dir=tmp_path)
    assert time.monotonic() - start < 5
    assert corpus.source.startswith("offline default: encyclopedic intros written for this lab (6 topics)")
    assert corpus.meta["origin"] == "offline" and corpus.name == "wikipedia" and len(corpus.class_names) == 6
    (line,) = lines(capsys)
    assert line.startswith("wikipedia: live source unavailable (") and closed_url in line
    assert line.endswith("using the offline default")


def test_live_off_goes_straight_to_the_offline_default(capsys, tmp_path):
    corpus = load_corpus("wikipedia", "text", WIKI, data_dir=tmp_path, live=False)
    assert corpus.meta["origin"] == "offline"
    assert lines(capsys) == [f"wikipedia: data dir skipped (no {tmp_path / 'wikipedia'}); trying the offline default",
                             "wikipedia: live source off (live=False); using the offline default"]


# -- csv: the order, with the CSV served over http on 127.0.0.1 -----------------------------------------

def test_csv_data_dir_then_url_then_offline(capsys, tmp_path, closed_url):
    corpus = load_corpus("bbc", "text", {**NEWS, "url": closed_url}, data_dir=FIXTURES)
    assert corpus.source == f"data-dir {FIXTURES / 'bbc' / 'dataset.csv'}" and corpus.counts()["sport"] == 511
    assert lines(capsys) == []

    with StaticServer(FIXTURES / "bbc") as server:
        live = load_corpus("bbc", "text", {**NEWS, "url": server.url("dataset.csv")}, data_dir=tmp_path)
    assert live.source == f"live {server.url('dataset.csv')}" and live.titles == corpus.titles
    assert live.meta["origin"] == "live" and live.digest() == corpus.digest()

    offline = load_corpus("bbc", "text", {**NEWS, "url": closed_url}, data_dir=tmp_path)
    assert offline.name == "bbc" and offline.kind == "text" and offline.meta["origin"] == "offline"
    assert offline.source.endswith("standing in for the bbc corpus")
    out = lines(capsys)
    assert len(out) == 3 and out[0] == out[1] == f"bbc: data dir skipped (no {tmp_path / 'bbc'}); trying the live source"
    assert out[2].startswith(f"bbc: live source unavailable ({closed_url}: download failed")


def test_a_corrupt_data_dir_is_an_error_not_a_fallback(tmp_path):
    (tmp_path / "bbc").mkdir()
    (tmp_path / "bbc" / "dataset.csv").write_text("title,label\nx,y\n")
    with pytest.raises(DataError, match="dataset.csv: missing column"):
        load_corpus("bbc", "text", {**NEWS, "url": "http://127.0.0.1:9/x.csv"}, data_dir=tmp_path, live=False)


# -- local paths, missing sources, kinds ----------------------------------------------------------------

def test_a_local_path_is_read_even_offline_and_a_missing_one_is_skipped(capsys, tmp_path):
    block = {"type": "textdir", "path": "notes", "offline": "intros"}
    for label in ("a", "b"):
        (tmp_path / "notes" / label).mkdir(parents=True)
        (tmp_path / "notes" / label / "one.txt").write_text(f"about {label}")
    corpus = load_corpus("notes", "text", block, live=False, base_dir=tmp_path)
    assert corpus.source == f"path {tmp_path / 'notes'}" and corpus.meta["origin"] == "path"
    assert lines(capsys) == []
    corpus = load_corpus("notes", "text", block, live=False, base_dir=tmp_path / "elsewhere")
    assert corpus.meta["origin"] == "offline"
    assert lines(capsys) == [f"notes: source path skipped (no folder {tmp_path / 'elsewhere' / 'notes'}); "
                             "using the offline default"]


def test_no_source_and_no_offline_default_is_one_line_naming_each_reason(capsys, tmp_path):
    with pytest.raises(DataError) as e:
        load_corpus("notes", "text", {"type": "textdir", "path": str(tmp_path / "none")}, data_dir=tmp_path)
    message = str(e.value)
    assert "\n" not in message and message.startswith(f"notes: no data (data dir: no {tmp_path / 'notes'}; ")
    assert f"source path: no folder {tmp_path / 'none'}" in message and message.endswith("names no offline default")
    assert len(lines(capsys)) == 2


@pytest.mark.parametrize("kind, block, wrong", [
    ("image", {**NEWS, "path": "x.csv"}, "type csv gives text data, but the variant's kind is image"),
    ("text", {"type": "imagefolder", "path": "pics"}, "type imagefolder gives image data, but the variant's kind is text"),
    ("text", IMAGES, "type torchvision gives image data, but the variant's kind is text"),
])
def test_a_kind_mismatch_is_one_line_naming_the_type(kind, block, wrong):
    with pytest.raises(DataError) as e:
        load_corpus("v", kind, block, live=False)
    assert str(e.value) == f"v.source.type: {wrong}"


def test_describe_source_says_what_and_where():
    corpus = load_corpus("bbc", "text", {**NEWS, "path": "unused.csv"}, data_dir=FIXTURES, live=False)
    text = describe_source(corpus)
    assert text.startswith(f"bbc: {len(corpus)} articles in 5 classes (business 510") and text.endswith(corpus.source)
    assert "\n" not in text


# -- torchvision: download into the cache, then the cache ------------------------------------------------

@pytest.fixture
def fake_cifar_download(tmp_path, monkeypatch):
    """A generated CIFAR-10 archive served on 127.0.0.1, with torchvision's URL and checksums pointed at it."""
    src = tmp_path / "src"
    write_fake_cifar10(src, n_per_batch=20)
    archive = tmp_path / "served" / CIFAR10.filename
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src / CIFAR10.base_folder, arcname=CIFAR10.base_folder)

    def md5(path):
        return hashlib.md5(path.read_bytes()).hexdigest()

    folder = src / CIFAR10.base_folder
    monkeypatch.setattr(CIFAR10, "tgz_md5", md5(archive))
    monkeypatch.setattr(CIFAR10, "train_list", [[n, md5(folder / n)] for n, _ in CIFAR10.train_list])
    monkeypatch.setattr(CIFAR10, "test_list", [[n, md5(folder / n)] for n, _ in CIFAR10.test_list])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": md5(folder / "batches.meta")})
    with StaticServer(archive.parent) as server:
        monkeypatch.setattr(CIFAR10, "url", server.url(CIFAR10.filename))
        yield src


def test_torchvision_data_dir(capsys, tmp_path):
    write_fake_cifar10(tmp_path / "pics", n_per_batch=20)
    corpus = load_corpus("pics", "image", IMAGES, data_dir=tmp_path, live=False)
    assert corpus.source == f"data-dir {tmp_path / 'pics'}" and len(corpus) == 40 and lines(capsys) == []


def test_torchvision_download_then_cache(capsys, tmp_path, fake_cifar_download):
    corpus = load_corpus("pics", "image", IMAGES, data_dir=tmp_path / "nothing", cache_dir=tmp_path / "cache", seed=1)
    assert corpus.source == f"download {CIFAR10.url} into {tmp_path / 'cache' / 'pics'}" and len(corpus) == 40
    assert corpus.meta["origin"] == "live"
    again = load_corpus("pics", "image", IMAGES, cache_dir=tmp_path / "cache", seed=1)
    assert again.source == f"cache {tmp_path / 'cache' / 'pics'} (CIFAR10 from {CIFAR10.url})"
    assert again.titles == corpus.titles
    assert [line for line in lines(capsys) if line.startswith("pics:")] == [
        f"pics: data dir skipped (no {tmp_path / 'nothing' / 'pics'}); trying the live source"]


def test_torchvision_download_keeps_the_checksum(capsys, tmp_path, fake_cifar_download, monkeypatch):
    monkeypatch.setattr(CIFAR10, "tgz_md5", "0" * 32)
    corpus = load_corpus("pics", "image", IMAGES, cache_dir=tmp_path / "cache")
    assert corpus.source.startswith("offline default: scikit-learn digits (8×8 upscaled to 32×32)")
    assert corpus.images.shape == (40, 32, 32, 3) and corpus.meta["origin"] == "offline"
    out = [line for line in lines(capsys) if line.startswith("pics:")]
    assert len(out) == 1 and CIFAR10.url in out[0] and "failed" in out[0]


def test_torchvision_unreachable_falls_back_quickly(capsys, tmp_path, closed_url, monkeypatch):
    monkeypatch.setattr(CIFAR10, "url", closed_url)
    start = time.monotonic()
    corpus = load_corpus("pics", "image", IMAGES, cache_dir=tmp_path)
    assert time.monotonic() - start < 5 and corpus.meta["origin"] == "offline"
    assert lines(capsys)[0].startswith(f"pics: live source unavailable ({closed_url}")
