"""News search with GDELT end to end: `once` against a local GDELT fake serving GDELT's real answer
formats (tests/fixtures/search/gdelt/README.md), real pages, a real store and the Slack fake."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from monitor.sources.search import rounds
from monitor.sources.search.politeness import Pacer
from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago, page

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "search" / "gdelt"
GDELT_PATH = "/api/v2/doc/doc"
MINT_TITLE = "Alibaba fires back at allegations of assisting Chinese Military"
WEATHER_TITLE = "Cold snap grips northern Europe"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def seen(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def gdelt_answer(urls: list[str]) -> str:
    """artlist.json with each article's url replaced by a local one (in order) and seen an hour ago."""
    answer = json.loads(fixture("artlist.json"))
    articles = answer["articles"][: len(urls)]
    for article, url in zip(articles, urls, strict=True):
        article["url"] = url
        article["seendate"] = seen(hours_ago(1))
    return json.dumps({"articles": articles})


def serve_pages(world: World) -> tuple[str, str]:
    mint = world.web.add("/mint/alibaba.html", page("mint-alibaba-denies.html"))
    weather = world.web.add("/world/weather.html", page("weather-with-trending.html"))
    return mint, weather


def search_world(world: World, answer: str, **headers: Any) -> str:
    """No feeds, the world's one watchlist, `search.providers: [gdelt]` at the local fake."""
    endpoint = world.web.add(
        GDELT_PATH, answer, content_type="application/json", conditional=False, **headers
    )
    world.settings["search"] = {"providers": ["gdelt"], "endpoints": {"gdelt": endpoint}}
    return endpoint


def gdelt_requests(world: World) -> list[dict[str, list[str]]]:
    return [parse_qs(request["query"]) for request in world.web.requests(GDELT_PATH)]


def next_round_due(world: World) -> None:
    """Time passes: the provider's next round is due (what a later cron run of `once` would see)."""
    world.store.execute("UPDATE search_providers SET next_round_at = NULL")


def test_once_alerts_the_matching_hits_once_each_and_not_a_hit_whose_page_does_not_match(
    world: World,
) -> None:
    mint, weather = serve_pages(world)
    search_world(world, gdelt_answer([mint, weather]))
    assert world.once() == 0
    assert world.titles_posted() == [MINT_TITLE]
    # Both leads were read: GDELT matched the weather page on its "trending" box; the article does not.
    assert world.web.hits("/mint/alibaba.html") == 1
    assert world.web.hits("/world/weather.html") == 1
    [request] = gdelt_requests(world)
    assert (
        request["mode"] == ["ArtList"] and request["format"] == ["json"] and request["sort"] == ["DateDesc"]
    )
    assert request["timespan"] == ["1h"] and request["maxrecords"] == ["75"]
    # PLA goes through its alias (GDELT refuses "PLA" quoted); T-Head is quoted (hyphenated).
    assert request["query"] == ['(Alibaba OR "People\'s Liberation Army" OR "T-Head" OR Pingtouge OR 平头哥)']
    next_round_due(world)
    assert world.once() == 0
    assert world.titles_posted() == [MINT_TITLE]  # the same hit on the next round: not again
    assert len(gdelt_requests(world)) == 2
    assert world.web.hits("/mint/alibaba.html") == 1  # known by its URL: not even fetched again


def test_status_counts_each_providers_queries_hits_new_articles_and_alerts(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    mint, weather = serve_pages(world)
    search_world(world, gdelt_answer([mint, weather]))
    world.once()
    next_round_due(world)
    world.once()
    capsys.readouterr()
    assert world.run_cli("status", "--json") == 0
    [gdelt] = json.loads(capsys.readouterr().out)["search"]
    assert {k: gdelt[k] for k in ("state", "queries", "hits", "new_articles", "alerts", "errors")} == {
        "state": "ok",
        "queries": 2,
        "hits": 4,
        "new_articles": 2,
        "alerts": 1,
        "errors": 0,
    }
    assert world.run_cli("status") == 0
    table = capsys.readouterr().out
    assert "SEARCH" in table and "gdelt" in table


def test_check_shows_each_providers_queries_and_refuses_what_gdelt_cannot_express(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.watchlists.append({"name": "short", "terms": ["AI", {"regex": "chip(s|maker)"}]})
    search_world(world, fixture("no-matches.json"))
    assert world.run_cli("check") == 1
    out = capsys.readouterr()
    assert (
        'alibaba-military: (Alibaba OR "People\'s Liberation Army" OR "T-Head" OR Pingtouge OR 平头哥)'
        in out.out
    )
    assert "'PLA' searched through its aliases only" in out.out
    assert (
        "short: REFUSED" in out.out
        and "'AI' left out" in out.out
        and "regex 'chip(s|maker)' left out" in out.out
    )
    assert "cannot be searched" in out.err
    world.watchlists[-1]["search"] = False
    assert world.run_cli("check") == 0
    assert "short: not searched (search: false)" in capsys.readouterr().out


def test_a_round_is_not_repeated_before_the_interval(world: World) -> None:
    mint, _ = serve_pages(world)
    search_world(world, gdelt_answer([mint]))
    world.once()
    world.once()
    assert len(gdelt_requests(world)) == 1


def test_a_hit_also_in_a_configured_feed_alerts_once(world: World) -> None:
    mint, _ = serve_pages(world)
    item = {"title": MINT_TITLE, "link": mint, "guid": "mint-1", "pub_date": hours_ago(1)}
    world.add_feed("/mint/rss.xml", rss_feed("Mint", [item]))
    search_world(world, gdelt_answer([mint]))
    assert world.once() == 0
    assert world.titles_posted() == [MINT_TITLE]
    assert len(gdelt_requests(world)) == 1
    assert world.web.hits("/mint/alibaba.html") == 1


def test_a_query_error_in_html_is_read_as_an_error_with_gdelts_message(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    search_world(world, fixture("phrase-too-short.html"))
    world.web.add(GDELT_PATH, fixture("phrase-too-short.html"), content_type="text/html", conditional=False)
    assert world.once() == 0
    assert world.slack.messages() == []
    assert world.run_cli("status", "--json") == 0
    [gdelt] = json.loads(capsys.readouterr().out)["search"]
    assert gdelt["provider"] == "gdelt" and gdelt["errors"] == 1 and gdelt["queries"] == 1
    assert "The specified phrase is too short." in gdelt["last_error"]


def test_a_429_on_the_first_request_skips_the_round(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.watchlists.append({"name": "second", "terms": ["Tencent"]})
    world.web.add(
        GDELT_PATH, fixture("rate-limited.txt"), content_type="text/plain", status=429, conditional=False
    )
    world.settings["search"] = {"providers": ["gdelt"], "endpoints": {"gdelt": world.web.url(GDELT_PATH)}}
    assert world.once() == 0
    assert len(gdelt_requests(world)) == 1  # the second watchlist's query is not sent: no retry either
    assert world.run_cli("status", "--json") == 0
    [gdelt] = json.loads(capsys.readouterr().out)["search"]
    assert gdelt["state"] == "ok"  # load shedding is not a failure: no backoff, no incident
    assert "limit requests to one every 5 seconds" in gdelt["last_error"]


def test_requests_of_a_round_are_paced(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # counted, not waited: a test never measures time
        waits.append(seconds)

    monkeypatch.setattr(rounds, "Pacer", functools.partial(Pacer, sleep=sleep))
    world.watchlists += [{"name": "second", "terms": ["Tencent"]}, {"name": "third", "terms": ["Huawei"]}]
    world.watchlists.append({"name": "quiet", "terms": ["Baidu"], "search": False})
    search_world(world, fixture("no-matches.json"))
    assert world.once() == 0
    queries = [request["query"][0] for request in gdelt_requests(world)]
    assert queries[1:] == ["Tencent", "Huawei"]  # one request per searched watchlist, none for `quiet`
    assert len(waits) == 2 and all(wait > 5.0 for wait in waits)  # a wait before each but the first


def test_a_hit_pointing_at_a_private_address_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.http.client import HttpClient
    from monitor.service import assembly

    # Only 127.0.0.1 stands for the public internet (where the fake GDELT is); 127.0.0.2 is "private".
    public = functools.partial(HttpClient, address_policy=lambda address: address == "127.0.0.1")
    monkeypatch.setattr(assembly, "HttpClient", public)
    world.settings["fetch"] = {"allow_private_addresses": False}
    mint, _ = serve_pages(world)
    inside = mint.replace("127.0.0.1", "127.0.0.2")
    search_world(world, gdelt_answer([inside]))
    assert world.once() == 0
    assert world.web.hits("/mint/alibaba.html") == 0  # never fetched
    # The lead's own title is the text (as a feed's summary would be): it names Alibaba, so it alerts,
    # with GDELT's title and the link, and nothing read from the private address.
    assert world.titles_posted() == [MINT_TITLE]


def test_failing_rounds_back_off_and_send_one_admin_notice_per_incident(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.settings["slack"] = {"admin_channel": "#news-alerts"}
    world.watchlists.append({"name": "second", "terms": ["Tencent"]})
    world.web.add(GDELT_PATH, "busy", content_type="text/plain", status=503, conditional=False)
    world.settings["search"] = {"providers": ["gdelt"], "endpoints": {"gdelt": world.web.url(GDELT_PATH)}}
    for _ in range(5):
        assert world.once() == 1  # no feeds, and the one search round failed: nothing worked
        next_round_due(world)  # past the backoff
    assert len(gdelt_requests(world)) == 5  # a failed request ends its round: one request per round
    notices = [m for m in world.slack.messages("#news-alerts") if "search provider gdelt" in json.dumps(m)]
    assert len(notices) == 1
    capsys.readouterr()
    assert world.run_cli("status", "--json") == 0
    [gdelt] = json.loads(capsys.readouterr().out)["search"]
    assert gdelt["state"] == "circuit open" and gdelt["consecutive_failures"] == 5 and gdelt["errors"] == 5
    assert gdelt["last_error"] == "HTTP 503"


def test_a_failed_round_is_backed_off(world: World) -> None:
    world.web.add(GDELT_PATH, "busy", content_type="text/plain", status=503, conditional=False)
    world.settings["search"] = {"providers": ["gdelt"], "endpoints": {"gdelt": world.web.url(GDELT_PATH)}}
    world.once()
    [(next_round, last_round)] = world.store.rows(
        "SELECT next_round_at, last_round_at FROM search_providers",
        datetimes=("next_round_at", "last_round_at"),
    )
    assert (next_round - last_round).total_seconds() >= 15 * 60  # the backoff, never under the interval
    world.once()
    assert len(gdelt_requests(world)) == 1  # inside the backoff: no request


def test_a_long_or_group_is_split_into_queries_gdelt_accepts(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.sources.search.gdelt import MAX_QUERY_CHARS

    names = [f"Subsidiary number {n} of the group" for n in range(12)]
    world.watchlists = [{"name": "many", "terms": [{"term": "Alibaba Group", "aliases": names}]}]
    search_world(world, fixture("no-matches.json"))
    assert world.run_cli("check") == 0
    assert "split into 2 queries of at most 250 characters" in capsys.readouterr().out
    assert world.once() == 0
    sent = [request["query"][0] for request in gdelt_requests(world)]
    assert len(sent) == 2 and all(len(query) <= MAX_QUERY_CHARS for query in sent)
    # Every phrase is asked for, in one query or the other.
    assert all(any(f'"{name}"' in query for query in sent) for name in ["Alibaba Group", *names])


def test_a_watchlists_query_narrows_the_gdelt_query_and_check_shows_it(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.watchlists[0]["query"] = (
        '(Alibaba OR "T-Head") NEAR/30 (PLA OR military) NOT title:"PLA filament" -Tencent'
    )
    mint, weather = serve_pages(world)
    search_world(world, gdelt_answer([mint, weather]))
    assert world.once() == 0
    # GDELT matched both; the local query decides: the Mint article holds, the weather page does not.
    assert world.titles_posted() == [MINT_TITLE]
    [request] = gdelt_requests(world)
    assert request["query"] == [
        '(Alibaba OR "T-Head" OR Pingtouge OR 平头哥) ("People\'s Liberation Army" OR military) -Tencent'
    ]
    capsys.readouterr()
    assert world.run_cli("check") == 0
    out = capsys.readouterr().out
    assert (
        'alibaba-military: (Alibaba OR "T-Head" OR Pingtouge OR 平头哥) '
        '("People\'s Liberation Army" OR military) -Tencent' in out
    )
    assert "note: NEAR/30 at column 1 searched as AND" in out
    assert "note: the NOT at column 49 left to the local match" in out
