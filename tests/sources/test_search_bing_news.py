"""News search with Bing News RSS end to end: `once` against a local Bing fake serving its real answer
format (tests/fixtures/search/bing_news/README.md), real pages, a real store and the Slack fake."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator

import pytest

from monitor.sources.search import rounds
from monitor.sources.search.bing_news import publisher_url
from monitor.sources.search.leads import BadHit
from monitor.sources.search.politeness import Pacer
from tests.sources.search_fakes import (
    BING_PATH,
    MINT_TITLE,
    bing_answer,
    fixture,
    next_round_due,
    queries,
    serve,
)
from tests.sources.test_search_gdelt import GDELT_PATH, gdelt_answer, gdelt_requests, serve_pages
from tests.support.world import World

# One request per term and alias of the world's watchlist, quoted.
PHRASES = ['"Alibaba"', '"PLA"', '"People\'s Liberation Army"', '"T-Head"', '"Pingtouge"', '"平头哥"']


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The pacer's waits, counted and not waited: a test never measures time."""
    counted: list[float] = []

    async def sleep(seconds: float) -> None:
        counted.append(seconds)

    monkeypatch.setattr(rounds, "Pacer", functools.partial(Pacer, sleep=sleep))
    yield counted


def bing_requests(world: World) -> list[str]:
    return [q["q"][0] for q in queries(world, BING_PATH)]


def status(world: World, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    capsys.readouterr()
    assert world.run_cli("status", "--json") == 0
    providers = json.loads(capsys.readouterr().out)["search"]
    return next(p for p in providers if p["provider"] == "bing_news")


def test_once_alerts_the_matching_hit_once_read_from_the_url_parameter_one_request_per_term(
    world: World, waits: list[float]
) -> None:
    mint, weather = serve_pages(world)
    serve(world, "bing_news", BING_PATH, bing_answer([mint, weather]))
    assert world.once() == 0
    assert world.titles_posted() == [MINT_TITLE]
    assert "Mint" in json.dumps(world.top_level()[0]["blocks"])  # News:Source
    # Both publisher pages were read (the weather page does not match), each once, with no request to Bing
    # beyond the searches: apiclick is never followed.
    assert world.web.hits("/mint/alibaba.html") == 1 and world.web.hits("/world/weather.html") == 1
    assert bing_requests(world) == PHRASES
    assert all(q["format"] == ["rss"] for q in queries(world, BING_PATH))
    assert len(waits) == len(PHRASES) - 1 and all(wait >= 10.0 for wait in waits)  # research: 10+ s


def test_the_same_publisher_url_from_gdelt_and_bing_alerts_once(world: World) -> None:
    mint, _ = serve_pages(world)
    world.web.add(GDELT_PATH, gdelt_answer([mint]), content_type="application/json", conditional=False)
    world.settings["search"] = {"providers": ["gdelt"], "endpoints": {"gdelt": world.web.url(GDELT_PATH)}}
    serve(world, "bing_news", BING_PATH, bing_answer([mint, mint + "?utm_source=bing"]))
    assert world.once() == 0
    assert world.titles_posted() == [MINT_TITLE]
    assert len(gdelt_requests(world)) == 1 and len(bing_requests(world)) == len(PHRASES)
    assert world.web.hits("/mint/alibaba.html") == 1  # known by its URL: Bing's hit is not even fetched


def test_a_round_stops_at_its_first_empty_answer_and_the_next_starts_after_it(world: World) -> None:
    serve(world, "bing_news", BING_PATH, fixture("bing_news", "empty.xml"))
    assert world.once() == 0
    assert bing_requests(world) == PHRASES[:1]
    next_round_due(world)
    world.once()
    assert bing_requests(world) == PHRASES[:2]  # a term with no news never keeps the others from being asked


def test_an_empty_answer_where_the_last_had_results_is_a_soft_block(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    mint, weather = serve_pages(world)
    serve(world, "bing_news", BING_PATH, bing_answer([mint, weather]))
    world.once()
    next_round_due(world)
    serve(world, "bing_news", BING_PATH, fixture("bing_news", "empty.xml"))
    world.once()
    assert len(bing_requests(world)) == len(PHRASES) + 1  # the round ended at the empty answer
    bing = status(world, capsys)
    assert bing["state"] == "failing" and bing["errors"] == 1 and "soft block" in str(bing["last_error"])


def test_soft_blocks_in_a_row_send_one_admin_notice(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.settings["slack"] = {"admin_channel": "#news-alerts"}
    mint, weather = serve_pages(world)
    serve(world, "bing_news", BING_PATH, bing_answer([mint, weather]))
    world.once()
    serve(world, "bing_news", BING_PATH, fixture("bing_news", "empty.xml"))
    for _ in range(4):
        next_round_due(world)
        world.once()
    notices = [
        m for m in world.slack.messages("#news-alerts") if "search provider bing_news" in json.dumps(m)
    ]
    assert len(notices) == 1 and "soft block" in json.dumps(notices[0])
    assert status(world, capsys)["state"] == "circuit open"


def test_a_hit_whose_url_parameter_points_at_a_private_address_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.http.client import HttpClient
    from monitor.service import assembly

    # Only 127.0.0.1 stands for the public internet (where the fake Bing is); 127.0.0.2 is "private".
    public = functools.partial(HttpClient, address_policy=lambda address: address == "127.0.0.1")
    monkeypatch.setattr(assembly, "HttpClient", public)
    world.settings["fetch"] = {"allow_private_addresses": False}
    mint, weather = serve_pages(world)
    serve(world, "bing_news", BING_PATH, bing_answer([mint.replace("127.0.0.1", "127.0.0.2"), weather]))
    assert world.once() == 0
    assert world.web.hits("/mint/alibaba.html") == 0  # never fetched
    # Bing's own title and snippet are the text (as a feed's summary would be): they name Alibaba.
    assert world.titles_posted() == [MINT_TITLE]


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (
            "http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=1&url=https%3a%2f%2fa.example%2fx%3fp%3d1&c=2&mkt=en-us",
            "https://a.example/x?p=1",
        ),
        ("https://a.example/direct", "https://a.example/direct"),
        ("http://www.bing.com/news/apiclick.aspx?ref=FexRss&c=2", None),  # no url=: never followed
        ("http://www.bing.com/news/apiclick.aspx?url=https%3a%2f%2fwww.bing.com%2fsearch", None),
        ("https://www.bing.com/news/search?q=x", None),  # another Bing page
        ("http://www.bing.com/news/apiclick.aspx?url=file%3a%2f%2f%2fetc%2fpasswd", None),
        ("javascript:alert(1)", None),
        # Bing's own host however written: a trailing dot, upper case, full-width letters (IDNA maps them).
        ("http://www.bing.com./news/search?q=x", None),
        ("http://WWW.BING.COM./news/search?q=x", None),
        ("http://www.\uff42\uff49\uff4e\uff47.com/news/search?q=x", None),
        ("http://www.bing.com./news/apiclick.aspx?url=https%3a%2f%2fwww.bing.com.%2fsearch", None),
        (
            "http://www.bing.com./news/apiclick.aspx?url=https%3a%2f%2fa.example%2fx&c=2",
            "https://a.example/x",
        ),
        # Unreadable URLs, outside and inside the tracker: skipped, never raised past the item.
        ("http://[::1", None),
        ("http://www.bing.com/news/apiclick.aspx?url=http%3a%2f%2f%5b%3a%3a1", None),
        # Userinfo is dropped, as from a feed item's link.
        (
            "http://www.bing.com/news/apiclick.aspx?url=https%3a%2f%2fu%3ap%40a.example%2fx",
            "https://a.example/x",
        ),
    ],
)
def test_the_publisher_url_is_the_apiclick_url_parameter(link: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(BadHit):
            publisher_url(link)
    else:
        assert publisher_url(link) == expected


def test_check_says_how_many_requests_a_round_sends_and_how_long_it_takes(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(world, "bing_news", BING_PATH, fixture("bing_news", "empty.xml"))
    assert world.run_cli("check") == 0
    assert "6 requests a round, one every 12 s: about 1 min" in capsys.readouterr().out
