"""load_corpus: data dir, then the live source (local servers), then the offline default; one line per skip."""
import hashlib
import socket
import tarfile
import time
from dataclasses import replace
from pathlib import Path

import pytest
from torchvision.datasets import CIFAR10

from config import load_config
from mediawiki_server import MediaWikiServer, StaticServer
from replab import sources
from replab.corpus import DataError
from replab.sources import describe_source, load_corpus
from test_cifar10 import write_fake_cifar10

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
CONFIG = load_config()


@pytest.fixture(autouse=True)
def offline_text(monkeypatch):
    """The embedded text default, pointed at the fixture corpus so these tests do not depend on its content."""
    monkeypatch.setattr(sources, "OFFLINE_WIKIPEDIA", FIXTURES / "wikipedia")


@pytest.fixture
def closed_url():
    """An http URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/w/api.php"


def lines(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


# -- wikipedia ------------------------------------------------------------------------------------------

def test_wikipedia_from_data_dir_first(capsys, tmp_path):
    variant = replace(CONFIG.variants["wikipedia"], api_url="http://127.0.0.1:9/never-asked")
    corpus = load_corpus(variant, data_dir=FIXTURES, cache_dir=tmp_path)
    assert corpus.source == f"data-dir {FIXTURES / 'wikipedia'}" and corpus.meta["origin"] == "data-dir"
    assert corpus.class_names == sorted(variant.topics) and lines(capsys) == []
    assert not (tmp_path / "wikipedia").exists()


def test_wikipedia_live_when_data_dir_lacks_it(capsys, tmp_path):
    with MediaWikiServer(FIXTURES / "wikipedia") as server:
        variant = replace(CONFIG.variants["wikipedia"], api_url=server.url)
        corpus = load_corpus(variant, data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")
        assert server.count("search") == len(variant.topics)
    assert corpus.source == f"live {server.url}" and corpus.meta["origin"] == "live"
    assert len(corpus) == len(server.pages) and (tmp_path / "cache" / "wikipedia").is_dir()
    out = lines(capsys)
    assert len(out) == 1 and out[0].startswith("wikipedia: data dir skipped (no ") and "live source" in out[0]


def test_wikipedia_unreachable_falls_back_quickly(capsys, tmp_path, closed_url):
    variant = replace(CONFIG.variants["wikipedia"], api_url=closed_url)
    start = time.monotonic()
    corpus = load_corpus(variant, cache_dir=tmp_path)
    assert time.monotonic() - start < 5
    assert corpus.source.startswith("offline default: encyclopedic intros written for this lab") and corpus.meta["origin"] == "offline"
    assert corpus.name == "wikipedia" and len(corpus.class_names) == 6
    out = lines(capsys)
    assert len(out) == 1 and out[0].startswith("wikipedia: live source unavailable (")
    assert closed_url in out[0] and out[0].endswith("using the offline default")


def test_live_off_goes_straight_to_the_offline_default(capsys, tmp_path):
    corpus = load_corpus(CONFIG.variants["wikipedia"], data_dir=tmp_path, live=False)
    assert corpus.meta["origin"] == "offline"
    out = lines(capsys)
    assert len(out) == 2 and "data dir skipped" in out[0] and "live=False" in out[1]


# -- bbc ------------------------------------------------------------------------------------------------

def test_bbc_data_dir_then_live_then_offline(capsys, tmp_path, closed_url):
    variant = CONFIG.variants["bbc"]
    corpus = load_corpus(replace(variant, url=closed_url), data_dir=FIXTURES)
    assert corpus.source == f"data-dir {FIXTURES / 'bbc' / 'dataset.csv'}" and corpus.counts()["sport"] > 0

    with StaticServer(FIXTURES / "bbc") as server:
        live = load_corpus(replace(variant, url=server.url("dataset.csv")), data_dir=tmp_path)
    assert live.source == f"live {server.url('dataset.csv')}" and live.titles == corpus.titles

    offline = load_corpus(replace(variant, url=closed_url), data_dir=tmp_path)
    assert offline.name == "bbc" and offline.kind == "text"
    assert "standing in for the bbc corpus" in offline.source and offline.meta["origin"] == "offline"
    out = lines(capsys)
    assert len(out) == 3 and "no " in out[0] and "unavailable" in out[2]


# -- cifar10 --------------------------------------------------------------------------------------------

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


def test_cifar_data_dir(capsys, tmp_path):
    write_fake_cifar10(tmp_path / "cifar10", n_per_batch=20)
    variant = replace(CONFIG.variants["cifar10"], n_images=40)
    corpus = load_corpus(variant, data_dir=tmp_path, live=False)
    assert corpus.source == f"data-dir {tmp_path / 'cifar10'}" and len(corpus) == 40 and lines(capsys) == []


def test_cifar_download_then_cache(capsys, tmp_path, fake_cifar_download):
    variant = replace(CONFIG.variants["cifar10"], n_images=40)
    corpus = load_corpus(variant, data_dir=tmp_path / "nothing", cache_dir=tmp_path / "cache", seed=1)
    assert corpus.source.startswith(f"download {CIFAR10.url}") and len(corpus) == 40
    again = load_corpus(variant, cache_dir=tmp_path / "cache", seed=1)
    assert again.source.startswith(f"cache {tmp_path / 'cache' / 'cifar10'}") and again.titles == corpus.titles
    assert len([line for line in lines(capsys) if line.startswith("cifar10:")]) == 1


def test_cifar_download_keeps_the_checksum(capsys, tmp_path, fake_cifar_download, monkeypatch):
    monkeypatch.setattr(CIFAR10, "tgz_md5", "0" * 32)
    variant = replace(CONFIG.variants["cifar10"], n_images=40)
    corpus = load_corpus(variant, cache_dir=tmp_path / "cache")
    assert corpus.source == "offline default: scikit-learn digits (8×8 upscaled to 32×32)"
    assert corpus.images.shape == (40, 32, 32, 3)
    out = [line for line in lines(capsys) if line.startswith("cifar10:")]
    assert len(out) == 1 and CIFAR10.url in out[0] and "failed" in out[0]


def test_cifar_unreachable_falls_back_quickly(capsys, tmp_path, closed_url, monkeypatch):
    monkeypatch.setattr(CIFAR10, "url", closed_url)
    start = time.monotonic()
    corpus = load_corpus(CONFIG.variants["cifar10"], cache_dir=tmp_path)
    assert time.monotonic() - start < 5 and corpus.meta["origin"] == "offline"
    assert lines(capsys)[0].startswith(f"cifar10: live source unavailable ({closed_url}")


def test_describe_source_says_what_and_where():
    corpus = load_corpus(CONFIG.variants["bbc"], data_dir=FIXTURES, live=False)
    text = describe_source(corpus)
    assert text.startswith(f"bbc: {len(corpus)} articles in 5 classes (business 510") and text.endswith(corpus.source)
    assert "\n" not in text


def test_a_corrupt_data_dir_is_an_error_not_a_fallback(tmp_path):
    (tmp_path / "bbc").mkdir()
    (tmp_path / "bbc" / "dataset.csv").write_text("title,label\nx,y\n")
    with pytest.raises(DataError, match="dataset.csv: missing column"):
        load_corpus(CONFIG.variants["bbc"], data_dir=tmp_path, live=False)
