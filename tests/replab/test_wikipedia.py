"""fetch_wikipedia against a local mock MediaWiki API serving the fixture articles; load_wikipedia_dir."""
import math
import time
from pathlib import Path

import pytest

from tests.mediawiki_server import MediaWikiServer
from replab import wikipedia
from replab.corpus import DataError
from replab.http import make_session
from replab.wikipedia import fetch_wikipedia, load_wikipedia_dir

WIKI = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "wikipedia"
TOPICS = [d.name.replace("_", " ") for d in sorted(WIKI.iterdir()) if d.is_dir()]


@pytest.fixture
def server():
    with MediaWikiServer(WIKI) as s:
        yield s


def session():
    return make_session(retries=2, backoff=0)  # no sleeping between retries in tests


def fetch(server, out, topics=TOPICS, **kw):
    kw.setdefault("timeout", 5.0)
    return fetch_wikipedia(topics, per_topic=150, api_url=server.url, out_dir=out, session=session(), **kw)


def articles_on_disk(out: Path) -> list[Path]:
    return sorted(out.glob("*/*.txt"))


def check_complete(corpus, server):
    """Every page the server has arrives exactly once, with its own extract, under one of its topics."""
    assert sorted(corpus.titles) == sorted(t for t, _ in server.pages.values())
    extracts = dict(server.pages.values())
    for title, label, text in zip(corpus.titles, corpus.labels, corpus.texts):
        assert text == extracts[title]
        assert title in server.topics[label]


def test_every_article_arrives_once_with_one_request_per_20(server, tmp_path):
    corpus = fetch(server, tmp_path)
    check_complete(corpus, server)
    n = len(server.pages)
    assert len(server.served) == len(set(server.served)) == n
    assert server.count("search") == len(TOPICS)
    assert server.count("extracts") == math.ceil(n / 20)
    for q in server.log:
        assert (q["format"], q["formatversion"], q["maxlag"]) == ("json", "2", "5")
        if q.get("list") == "search":
            assert q["srnamespace"] == "0" and q["srlimit"] == "150"
        else:
            assert q["exintro"] == "1" and q["explaintext"] == "1"
            assert len(q["pageids"].split("|")) <= 20
    assert corpus.source == f"live {server.url}" and corpus.name == "wikipedia"
    # what was saved reads back identically, and a re-run asks the server nothing
    back = load_wikipedia_dir(tmp_path)
    assert (back.titles, back.labels, back.texts) == (corpus.titles, corpus.labels, corpus.texts)
    server.reset_counts()
    again = fetch(server, tmp_path)
    assert server.count() == 0 and again.titles == corpus.titles


def test_follows_continuation_when_fewer_than_20_extracts_come_back(tmp_path):
    with MediaWikiServer(WIKI, max_extracts=7) as server:
        corpus = fetch(server, tmp_path)
        check_complete(corpus, server)
        n = len(server.pages)
        full, rest = divmod(n, 20)
        assert server.count("extracts") == full * math.ceil(20 / 7) + math.ceil(rest / 7)
        assert len(server.served) == len(set(server.served)) == n


def test_search_pages_past_the_srlimit_ceiling(server, tmp_path, monkeypatch):
    monkeypatch.setattr(wikipedia, "SEARCH_LIMIT", 25)
    corpus = fetch(server, tmp_path)
    check_complete(corpus, server)
    assert server.count("search") == sum(math.ceil(len(t) / 25) for t in server.topics.values())
    assert any("sroffset" in q for q in server.log)


def test_per_topic_caps_each_search(server, tmp_path):
    corpus = fetch_wikipedia(TOPICS, per_topic=5, api_url=server.url, out_dir=tmp_path, session=session())
    assert all(n <= 5 for n in corpus.counts().values()) and len(corpus) >= 5 * len(TOPICS) - 1
    for label, title in zip(corpus.labels, corpus.titles):
        assert title in server.topics[label][:5]


@pytest.mark.parametrize("action", ["search", "extracts"])
@pytest.mark.parametrize("fault", ["429", "503", "slow", "malformed", "maxlag"])
def test_each_fault_is_recovered(tmp_path, fault, action):
    with MediaWikiServer(WIKI, slow_seconds=1.5) as server:
        server.fail(fault, action=action)
        corpus = fetch(server, tmp_path, timeout=(2.0, 0.5))
        check_complete(corpus, server)
        n = len(server.pages)
        assert server.count() == len(TOPICS) + math.ceil(n / 20) + 1  # one extra request: the retry


@pytest.mark.parametrize("fault", ["429", "maxlag"])
def test_retry_after_is_respected(tmp_path, fault):
    with MediaWikiServer(WIKI, retry_after=1) as server:
        server.fail(fault, action="search")
        start = time.monotonic()
        fetch(server, tmp_path)
        assert time.monotonic() - start >= 1.0


def test_json_that_stays_malformed_is_one_clear_error(server, tmp_path):
    server.fail("malformed", times=100, action="extracts")
    with pytest.raises(DataError) as e:
        fetch(server, tmp_path)
    message = str(e.value)
    assert server.url in message and "malformed JSON" in message and "\n" not in message
    assert server.count("extracts") == wikipedia.API_TRIES


def test_server_that_stays_down_keeps_what_arrived_and_rerun_fetches_only_the_rest(server, tmp_path):
    n = len(server.pages)
    server.stay_down(after=len(TOPICS) + 5)  # all searches and five extract batches, then 503 for good
    with pytest.raises(DataError) as e:
        fetch(server, tmp_path)
    message = str(e.value)
    assert server.url in message and "503" in message and "extracts" in message and "\n" not in message
    first = set(server.served)
    assert len(articles_on_disk(tmp_path)) == len(first) == 5 * 20
    assert len(list(tmp_path.glob("*/_index.json"))) == len(TOPICS)

    server.recover()
    server.reset_counts()
    corpus = fetch(server, tmp_path)
    check_complete(corpus, server)
    assert server.count("search") == 0
    assert server.count("extracts") == math.ceil((n - 100) / 20)
    assert first.isdisjoint(server.served) and len(first) + len(server.served) == n


def test_server_down_during_searches_keeps_the_finished_searches(server, tmp_path):
    server.stay_down(after=2)
    with pytest.raises(DataError, match="search for"):
        fetch(server, tmp_path)
    assert len(list(tmp_path.glob("*/_index.json"))) == 2
    server.recover()
    server.reset_counts()
    check_complete(fetch(server, tmp_path), server)
    assert server.count("search") == len(TOPICS) - 2


def test_unreachable_server_is_one_error_naming_the_url(tmp_path):
    with MediaWikiServer(WIKI) as server:
        url = server.url
    with pytest.raises(DataError) as e:  # the server is closed now: nothing listens on that port
        fetch_wikipedia(TOPICS, api_url=url, out_dir=tmp_path, session=session(), timeout=2.0)
    assert url in str(e.value) and "search for" in str(e.value) and "\n" not in str(e.value)


def test_empty_extracts_are_dropped_and_not_asked_for_again(server, tmp_path):
    blank = server.topics[TOPICS[0]][0]
    server.blank_titles.add(blank)
    corpus = fetch(server, tmp_path)
    assert blank not in corpus.titles and len(corpus) == len(server.pages) - 1
    server.reset_counts()
    fetch(server, tmp_path)
    assert server.count() == 0


def write_topics(root: Path, topics: dict[str, list[str]]):
    """A synthetic corpus: file names 00.txt, 01.txt, ... fix the mock's search ranking."""
    for topic, titles in topics.items():
        folder = root / topic.replace(" ", "_")
        folder.mkdir(parents=True)
        for rank, title in enumerate(titles):
            (folder / f"{rank:02d}.txt").write_text(f"Title: {title}\n\nText about {title}.\n", encoding="utf-8")


@pytest.mark.parametrize("order", [["Alpha", "Beta"], ["Beta", "Alpha"]])
def test_page_under_two_topics_goes_where_ranked_highest_ties_to_the_earlier_topic(tmp_path, order):
    write_topics(tmp_path / "src", {"Alpha": ["Alpha only", "Tie", "Shared"], "Beta": ["Shared", "Tie", "Beta only"]})
    with MediaWikiServer(tmp_path / "src") as server:
        corpus = fetch(server, tmp_path / "out", topics=order)
    where = dict(zip(corpus.titles, corpus.labels))
    assert len(corpus) == len(where) == 4
    assert where["Shared"] == "Beta"   # rank 0 in Beta beats rank 2 in Alpha, whatever the order
    assert where["Tie"] == order[0]    # rank 1 in both: the earlier topic
    assert (where["Alpha only"], where["Beta only"]) == ("Alpha", "Beta")


def test_safe_file_names_and_collisions(tmp_path):
    titles = ["C++", "C", "Schrödinger's cat", "AC/DC", "Dog", "DOG", "?!"]
    write_topics(tmp_path / "src", {"Name tests": titles})
    with MediaWikiServer(tmp_path / "src") as server:
        corpus = fetch(server, tmp_path / "out", topics=["Name tests"])
        ids = server.pageids
    files = {p.name for p in (tmp_path / "out" / "Name_tests").glob("*.txt")}
    assert files == {"C.txt", f"C ({ids['C']}).txt", "Schrödingers cat.txt", "ACDC.txt", "Dog.txt",
                     f"DOG ({ids['DOG']}).txt", "page.txt"}
    assert sorted(corpus.titles) == sorted(titles)
    text = (tmp_path / "out" / "Name_tests" / "ACDC.txt").read_text(encoding="utf-8")
    assert text == "Title: AC/DC\n\nText about AC/DC.\n"


# -- load_wikipedia_dir ----------------------------------------------------------------------------------

def test_load_dir_reads_the_fixture_layout_in_sorted_order():
    corpus = load_wikipedia_dir(WIKI)
    files = sorted((d.name, f.name) for d in WIKI.iterdir() if d.is_dir() for f in d.glob("*.txt"))
    assert len(corpus) == len(files)
    assert corpus.labels == [d.replace("_", " ") for d, _ in files]
    assert corpus.class_names == TOPICS
    first = WIKI / files[0][0] / files[0][1]
    head, _, body = first.read_text(encoding="utf-8").partition("\n")
    assert corpus.titles[0] == head.removeprefix("Title: ") and corpus.texts[0] == body.strip()
    assert corpus.source == f"data-dir {WIKI}"


def test_load_dir_topic_filter_cap_and_other_files_ignored(tmp_path):
    write_topics(tmp_path, {"Alpha": ["a1", "a2", "a3"], "Beta": ["b1", "b2"], "Gamma": ["g1"]})
    (tmp_path / "Alpha" / "_index.json").write_text("{}")
    (tmp_path / "Alpha" / "notes.md").write_text("not an article")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    assert load_wikipedia_dir(tmp_path).titles == ["a1", "a2", "a3", "b1", "b2", "g1"]
    picked = load_wikipedia_dir(tmp_path, topics=["Beta", "Alpha"], per_topic=2)
    assert (picked.titles, picked.labels) == (["a1", "a2", "b1", "b2"], ["Alpha", "Alpha", "Beta", "Beta"])


def test_load_dir_errors_name_the_file(tmp_path):
    write_topics(tmp_path, {"Alpha": ["a1", "a2"]})
    bad = tmp_path / "Alpha" / "01.txt"
    bad.write_text("no title line here\n\ntext\n", encoding="utf-8")
    with pytest.raises(DataError, match="01.txt: first line is not 'Title: <page title>'"):
        load_wikipedia_dir(tmp_path)
    with pytest.raises(DataError, match="no folder for topic"):
        load_wikipedia_dir(tmp_path, topics=["Alpha", "Missing topic"])
    with pytest.raises(DataError, match="no such folder"):
        load_wikipedia_dir(tmp_path / "nowhere")


def test_nothing_found_is_an_error(server, tmp_path):
    with pytest.raises(DataError, match="found no articles"):
        fetch(server, tmp_path, topics=["No such topic", "Nor this one"])
