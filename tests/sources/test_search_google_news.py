"""News search with Google News RSS end to end: `once` against a local Google News fake serving its real
answer format (tests/fixtures/search/google_news/README.md), a real store and the Slack fake."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator

import pytest

from monitor.sources.search import rounds
from monitor.sources.search.google_news import strip_publisher
from monitor.sources.search.politeness import Pacer
from tests.sources.search_fakes import (
    GOOGLE_PATH,
    MINT_TITLE,
    fixture,
    next_round_due,
    queries,
    recent,
    serve,
)
from tests.support.world import World

ARTICLES = "/rss/articles/"


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The pacer's waits, counted and not waited: a test never measures time."""
    counted: list[float] = []

    async def sleep(seconds: float) -> None:
        counted.append(seconds)

    monkeypatch.setattr(rounds, "Pacer", functools.partial(Pacer, sleep=sleep))
    yield counted


def google_answer(world: World, name: str = "search.xml") -> str:
    """The answer with Google's article links on the local server: a request to one would be counted."""
    return recent(fixture("google_news", name)).replace(
        "https://news.google.com/rss/articles/", world.web.url(ARTICLES)
    )


def google_world(world: World, name: str = "search.xml") -> None:
    # A page at Google's article link that names Alibaba: read, it would alert on its own text.
    world.web.add(
        ARTICLES + "CBMi", "<html><body><p>Alibaba consent page</p></body></html>", content_type="text/html"
    )
    serve(world, "google_news", GOOGLE_PATH, google_answer(world, name))


def status(world: World, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    capsys.readouterr()
    assert world.run_cli("status", "--json") == 0
    [google] = json.loads(capsys.readouterr().out)["search"]
    return google


def test_once_alerts_the_matching_hit_once_with_its_headline_and_publisher_and_googles_link(
    world: World,
) -> None:
    google_world(world)
    assert world.once() == 0
    [alert] = world.top_level()
    # The title without " - Mint", the publisher from <source>, and Google's link (the publisher URL is
    # not known): the weather hit names no watched term in what the feed gives, so it posts nothing.
    assert world.titles_posted() == [MINT_TITLE]
    text = json.dumps(alert["blocks"])
    assert "Mint" in text and world.web.url(ARTICLES) in text
    assert not [r for r in world.web.requests() if r["path"].startswith(ARTICLES)]  # never fetched
    [request] = queries(world, GOOGLE_PATH)
    assert request["q"] == [
        '("Alibaba" OR "PLA" OR "People\'s Liberation Army" OR "T-Head" OR "Pingtouge" OR "平头哥") when:1d'
    ]
    assert (request["hl"], request["gl"], request["ceid"]) == (["en-US"], ["US"], ["US:en"])
    next_round_due(world)
    assert world.once() == 0
    assert world.titles_posted() == [MINT_TITLE]  # the same guid on the next round: not again
    assert len(queries(world, GOOGLE_PATH)) == 2


def test_the_terms_notice_is_logged_at_start_and_shown_by_check(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    google_world(world)
    assert world.once() == 0
    err = capsys.readouterr().err
    assert "search.google_news_terms" in err and "personal, non-commercial use" in err
    assert world.run_cli("check") == 0
    out = capsys.readouterr().out
    assert "google_news at" in out and "1 request a round" in out
    assert "personal, non-commercial use" in out


def test_an_empty_answer_where_the_last_had_results_is_a_soft_block(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    google_world(world)
    world.once()
    next_round_due(world)
    serve(world, "google_news", GOOGLE_PATH, google_answer(world, "empty.xml"))
    world.once()
    google = status(world, capsys)
    assert google["state"] == "failing" and google["errors"] == 1
    assert "soft block" in str(google["last_error"])
    [(next_round, last_round)] = world.store.rows(
        "SELECT next_round_at, last_round_at FROM search_providers",
        datetimes=("next_round_at", "last_round_at"),
    )
    assert (next_round - last_round).total_seconds() >= 15 * 60  # backed off
    next_round_due(world)
    serve(world, "google_news", GOOGLE_PATH, google_answer(world))
    world.once()
    assert status(world, capsys)["state"] == "ok"  # answers again: recovered


def test_an_empty_first_answer_and_one_after_results_too_old_to_be_listed_are_no_soft_block(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    google_world(world, "empty.xml")
    world.once()
    assert status(world, capsys)["errors"] == 0
    # Items of 22 hours ago: out of `when:1d` soon, so their absence next time says nothing.
    serve(world, "google_news", GOOGLE_PATH, recent(fixture("google_news", "search.xml"), hours=22))
    next_round_due(world)
    world.once()
    serve(world, "google_news", GOOGLE_PATH, google_answer(world, "empty.xml"))
    next_round_due(world)
    world.once()
    google = status(world, capsys)
    assert google["errors"] == 0 and google["queries"] == 3


def test_an_edition_google_does_not_have_is_reported_with_what_to_set(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    google_world(world)
    world.web.redirect(GOOGLE_PATH, "/rss/unsupported", status=302)
    world.web.add(
        "/rss/unsupported", "<html><body>This feed is not available.</body></html>", content_type="text/html"
    )
    world.settings["search"]["google_news"] = {"hl": "en-XX", "gl": "XX", "ceid": "XX:en"}
    assert world.once() == 1  # no feeds, and the one search round failed
    google = status(world, capsys)
    assert "no edition hl=en-XX gl=XX ceid=XX:en" in str(google["last_error"])
    assert (
        "/rss/unsupported" in str(google["last_error"])
        and "set search.google_news" in str(google["last_error"]).lower()
    )
    assert world.slack.messages() == []


def test_each_watchlists_query_is_one_request_paced_one_at_a_time(world: World, waits: list[float]) -> None:
    world.watchlists += [
        {"name": "second", "terms": ["Tencent"]},
        {"name": "quiet", "terms": ["Baidu"], "search": False},
    ]
    google_world(world, "empty.xml")
    assert world.once() == 0
    assert [q["q"][0] for q in queries(world, GOOGLE_PATH)][1:] == ['"Tencent" when:1d']
    assert len(waits) == 1 and waits[0] >= 5.0  # research §4.2: 5-10 s apart


def test_a_429_is_backed_off_without_a_retry(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    google_world(world)
    world.watchlists.append({"name": "second", "terms": ["Tencent"]})
    world.web.add(GOOGLE_PATH, "Too Many Requests", content_type="text/html", status=429, conditional=False)
    world.once()
    assert len(queries(world, GOOGLE_PATH)) == 1
    assert "429" in str(status(world, capsys)["last_error"])


@pytest.mark.parametrize(
    ("title", "publisher", "expected"),
    [
        ("Alibaba fires back - Mint", "Mint", "Alibaba fires back"),
        ("Alibaba fires back - The Economic Times", "The Economic Times", "Alibaba fires back"),
        ("Q&A - Reuters on Alibaba - Reuters", "Reuters", "Q&A - Reuters on Alibaba"),
        ("Alibaba fires back - Mint", "Reuters", "Alibaba fires back - Mint"),  # only its own <source>
        ("Mint", "Mint", "Mint"),
        ("Alibaba fires back", "", "Alibaba fires back"),
    ],
)
def test_the_publisher_suffix_is_stripped_only_when_it_names_the_source(
    title: str, publisher: str, expected: str
) -> None:
    assert strip_publisher(title, publisher) == expected
