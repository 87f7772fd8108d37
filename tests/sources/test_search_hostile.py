"""Hostile provider answers, served by the local fakes: a bad hit is skipped (counted, logged), an
unreadable answer or any unexpected error fails the round (counted, backed off, never recorded as "ok"),
and `once` exits 1 when nothing it tried worked."""

from __future__ import annotations

import functools
import json
import socket
from collections.abc import Iterator
from datetime import datetime

import pytest

from monitor.sources.search import gdelt, rounds
from monitor.sources.search.politeness import Pacer
from tests.sources.search_fakes import BING_PATH, MINT_TITLE, bing_answer, next_round_due, serve
from tests.sources.test_search_gdelt import GDELT_PATH, gdelt_answer, search_world, serve_pages
from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The pacer's waits are not waited (Bing asks one query per phrase, 12 s apart)."""

    async def sleep(seconds: float) -> None:
        pass

    monkeypatch.setattr(rounds, "Pacer", functools.partial(Pacer, sleep=sleep))
    yield


def provider_status(world: World, capsys: pytest.CaptureFixture[str], name: str) -> dict[str, object]:
    capsys.readouterr()
    assert world.run_cli("status", "--json") == 0
    return next(p for p in json.loads(capsys.readouterr().out)["search"] if p["provider"] == name)


def round_times(world: World) -> tuple[datetime, datetime]:
    [(next_round, last_round)] = world.store.rows(
        "SELECT next_round_at, last_round_at FROM search_providers",
        datetimes=("next_round_at", "last_round_at"),
    )
    return next_round, last_round


def with_articles(answer: str, *extra: object) -> str:
    """A GDELT answer with `extra` articles before its own."""
    data = json.loads(answer)
    return json.dumps({"articles": [*extra, *data["articles"]]})


def closed_port_url(path: str) -> str:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def test_a_deeply_nested_gdelt_answer_fails_the_round_and_once(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = 200_000
    answer = '{"articles":' + "[" * deep + "]" * deep + "}"
    assert len(answer) < 2_000_000  # under the answer size cap: only its depth is hostile
    search_world(world, answer)
    assert world.once() == 1  # no feeds, and the one search round failed: nothing worked
    assert "search round(s) failed" in capsys.readouterr().err
    status = provider_status(world, capsys, "gdelt")
    assert status["state"] == "failing" and status["errors"] == 1
    assert "nested too deeply" in str(status["last_error"])
    next_round, last_round = round_times(world)
    assert (next_round - last_round).total_seconds() >= 15 * 60  # backed off


def test_a_gdelt_article_with_an_unreadable_url_is_skipped_and_the_rest_alerts(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    mint, _ = serve_pages(world)
    bad = {"url": "http://[::1", "title": "Alibaba hostile", "seendate": "20260322T101500Z"}
    search_world(world, with_articles(gdelt_answer([mint]), bad, ["not", "an", "article"]))
    assert world.once() == 0
    assert world.titles_posted() == [MINT_TITLE]
    err = capsys.readouterr().err
    assert "search.hits_skipped" in err and "Invalid IPv6 URL" in err and "not a JSON object" in err
    assert "search/gdelt/skipped_hits=2" in err
    status = provider_status(world, capsys, "gdelt")
    assert status["state"] == "ok" and status["errors"] == 0 and status["hits"] == 1


def test_a_bing_item_whose_url_parameter_is_unreadable_is_skipped(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    mint, _ = serve_pages(world)
    answer = bing_answer([mint, "http://placeholder.invalid/"]).replace(
        "url=http%3a%2f%2fplaceholder.invalid%2f&amp;", "url=http%3a%2f%2f%5b%3a%3a1&amp;"
    )
    assert "%5b%3a%3a1" in answer
    serve(world, "bing_news", BING_PATH, answer)
    assert world.once() == 0
    assert world.titles_posted() == [MINT_TITLE]
    err = capsys.readouterr().err
    assert "search.hits_skipped" in err and "Invalid IPv6 URL" in err
    status = provider_status(world, capsys, "bing_news")
    assert status["state"] == "ok" and status["errors"] == 0


def test_any_unexpected_error_in_a_round_is_a_failed_round_backed_off_with_one_notice(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(response: object) -> object:  # a bug no provider check foresaw
        raise KeyError("a bug in reading the answer")

    monkeypatch.setattr(gdelt, "read_answer", broken)
    world.settings["slack"] = {"admin_channel": "#news-alerts"}
    search_world(world, gdelt_answer([]))
    assert world.once() == 1
    err = capsys.readouterr().err
    assert err.count("search.round_crashed") == 1 and err.count("Traceback (most recent call last)") == 1
    status = provider_status(world, capsys, "gdelt")
    assert status["state"] == "failing" and status["errors"] == 1
    assert "KeyError" in str(status["last_error"]) and "a bug in reading the answer" in str(
        status["last_error"]
    )
    next_round, last_round = round_times(world)
    assert (next_round - last_round).total_seconds() >= 15 * 60
    for _ in range(3):
        next_round_due(world)
        assert world.once() == 1
    notices = [m for m in world.slack.messages("#news-alerts") if "search provider gdelt" in json.dumps(m)]
    assert len(notices) == 1
    assert provider_status(world, capsys, "gdelt")["state"] == "circuit open"


def test_once_exits_1_when_every_search_provider_fails_and_no_feed_is_configured(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.settings["search"] = {"providers": ["gdelt"], "endpoints": {"gdelt": closed_port_url(GDELT_PATH)}}
    assert world.once() == 1
    assert "1 search round(s) failed" in capsys.readouterr().err
    assert world.once() == 0  # backed off: not due, so not tried, and nothing failed


def test_once_exits_0_when_a_feed_works_though_search_fails_and_1_when_both_fail(world: World) -> None:
    item = {
        "title": "Nothing to see",
        "link": world.web.url("/x.html"),
        "guid": "x",
        "pub_date": hours_ago(1),
    }
    world.add_feed("/rss.xml", rss_feed("Quiet", [item]))
    world.settings["search"] = {"providers": ["gdelt"], "endpoints": {"gdelt": closed_port_url(GDELT_PATH)}}
    assert world.once() == 0
    world.feeds = [{"url": closed_port_url("/rss.xml")}]
    next_round_due(world)
    assert world.once() == 1


def test_a_search_hit_that_works_keeps_once_at_0_when_every_feed_fails(world: World) -> None:
    mint, _ = serve_pages(world)
    search_world(world, gdelt_answer([mint]))
    world.feeds = [{"url": closed_port_url("/rss.xml")}]
    assert world.once() == 0


def test_a_hit_keeps_no_userinfo_in_its_link(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    mint, _ = serve_pages(world)
    search_world(world, gdelt_answer([mint.replace("http://", "http://user:pw@")]))
    assert world.once() == 0
    assert "alerts/queued=1" in capsys.readouterr().err  # a hit's alert is queued as a feed item's is
    assert world.titles_posted() == [MINT_TITLE]
    assert "user:pw" not in json.dumps(world.top_level())
    assert [tuple(row) for row in world.store.rows("SELECT url, guid FROM articles")] == [(mint, mint)]
