"""Feed discovery against hostile sites: links into private addresses, thousands of links, slow servers,
huge and compressed bodies. Bounds are checked by counting requests at the server, never by timing.

Private addresses as in test_private_addresses.py: the site on 127.0.0.1 stands for the public internet
(the client's policy calls only it public) and a second server on 127.0.0.2 for a private network.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
from collections.abc import Iterator

import pytest

import monitor.cli.feeds
from monitor.http.client import HttpClient
from monitor.sources.discovery import DiscoveryLimits, discover_feeds
from tests.support.feeds import rss_feed
from tests.support.web_server import WebServer
from tests.support.world import World, hours_ago

RSS = "application/rss+xml"
SECRET_FEED = rss_feed(
    "INTERNAL-ONLY board minutes", [{"title": "Alibaba board minutes", "link": "http://x/1"}]
)


class SecondAddressServer(WebServer):
    bind_address = "127.0.0.2"


@pytest.fixture
def second() -> Iterator[WebServer]:
    with SecondAddressServer() as server:
        yield server


def only_first_loopback_is_public(address: str) -> bool:
    return address == "127.0.0.1"


@pytest.fixture
def guarded_world(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """The world with the address guard on, 127.0.0.1 public and every other address private."""
    client = functools.partial(HttpClient, address_policy=only_first_loopback_is_public)
    monkeypatch.setattr(monitor.cli.feeds, "HttpClient", client)
    world.settings["fetch"] = {"allow_private_addresses": False}
    world.feeds.append({"url": world.web.url("/configured.xml")})
    return world


def discover(world: World, capsys: pytest.CaptureFixture[str], url: str) -> tuple[int, dict]:
    code = world.run_cli("feeds", "discover", url, "--json")
    return code, json.loads(capsys.readouterr().out)


def page_declaring(*hrefs: str) -> str:
    links = "".join(f'<link rel="alternate" type="application/rss+xml" href="{href}">' for href in hrefs)
    return f"<!DOCTYPE html><html><head>{links}</head><body><p>News.</p></body></html>"


def test_a_page_linking_a_private_address_never_reaches_it(
    guarded_world: World, second: WebServer, capsys: pytest.CaptureFixture[str]
) -> None:
    web = guarded_world.web
    inside = second.add("/feed.xml", SECRET_FEED, content_type=RSS)
    web.add("/", page_declaring(inside, "/moved.xml"))
    web.redirect("/moved.xml", inside, status=302)  # the site's own path, redirecting inside
    web.add("/robots.txt", f"Sitemap: {second.url('/sitemap.xml')}\n", content_type="text/plain")
    code, found = discover(guarded_world, capsys, web.url("/"))
    # Two layers hold here: the robots.txt request for 127.0.0.2 is guarded, and so is the candidate's.
    assert code == 1 and found["feeds"] == []
    reasons = {item["url"]: item["reason"] for item in found["not_feeds"]}
    refused = "not followed: it leads to a private address (refusing a non-public address 127.0.0.2"
    assert reasons[inside].startswith(refused)
    assert "non-public address" in reasons[web.url("/moved.xml")]
    assert "non-public address" in reasons[second.url("/sitemap.xml")]
    assert second.requests() == []


def test_the_typed_url_and_its_own_origin_are_trusted_as_extract_trusts_them(
    guarded_world: World, second: WebServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # The operator typed an address on their own network: its page and its own feed are read.
    second.add("/", page_declaring("/feed.xml"))
    second.add("/feed.xml", SECRET_FEED, content_type=RSS)
    code, found = discover(guarded_world, capsys, second.url("/"))
    assert code == 0
    assert [feed["url"] for feed in found["feeds"]] == [second.url("/feed.xml")]


def test_a_page_with_thousands_of_feed_links_costs_a_bounded_number_of_requests(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    links = "".join(f'<a href="/feeds/{n}.rss">feed {n}</a>' for n in range(5000))
    world.web.add("/", f"<html><body>{links}</body></html>")
    world.feeds.append({"url": world.web.url("/configured.xml")})
    code, found = discover(world, capsys, world.web.url("/"))
    assert code == 1
    limit = DiscoveryLimits().candidates
    # The page, its robots.txt and the candidates within the limit; every other link only counted.
    assert len(world.web.requests()) == found["requests"] == 2 + limit
    assert found["not_checked"] == 5000 - limit + 9  # and the 9 common paths never asked


def test_a_candidate_that_never_answers_costs_one_request_and_its_timeout(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.settings["fetch"] = {"timeout": "1s"}
    world.feeds.append({"url": world.web.url("/configured.xml")})
    world.web.add("/", page_declaring("/slow.xml", "/feed.xml"))
    world.web.hang("/slow.xml", 30)
    items = [{"title": "A", "link": "http://x/1", "pub_date": hours_ago(1)}]
    world.web.add("/feed.xml", rss_feed("Wire", items))
    code, found = discover(world, capsys, world.web.url("/"))
    assert code == 0
    assert [feed["url"] for feed in found["feeds"]] == [world.web.url("/feed.xml")]
    [slow] = found["not_feeds"]
    assert (slow["url"], slow["reason"]) == (world.web.url("/slow.xml"), "timed out after 1s")
    assert world.web.hits("/slow.xml") == 1


def test_candidates_still_waiting_when_the_time_limit_passes_are_reported_not_checked(
    web_server: WebServer,
) -> None:
    hanging = [f"/slow/{n}.xml" for n in range(3)]
    web_server.add("/", page_declaring(*hanging))
    for path in hanging:
        web_server.hang(path, 30)

    async def go() -> object:
        # Each request may take 20 s; the whole discovery may take a tenth of one.
        async with HttpClient(timeout=20, user_agent="news-monitor-test") as http:
            limits = DiscoveryLimits(seconds=2.0)
            return await discover_feeds(http, web_server.url("/"), max_bytes=100_000, limits=limits)

    found = asyncio.run(go())
    reasons = {item.url: item.reason for item in found.not_feeds}  # type: ignore[attr-defined]
    for path in hanging:
        assert reasons[web_server.url(path)] == "not checked: discovery's time limit (2s) ran out"


def test_a_huge_or_compressed_bomb_candidate_is_cut_at_the_size_cap(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.settings["fetch"] = {"max_feed_bytes": 50_000, "max_page_bytes": 50_000}
    world.feeds.append({"url": world.web.url("/configured.xml")})
    world.web.add("/", page_declaring("/big.xml", "/bomb.xml"))
    world.web.add("/big.xml", "<rss version='2.0'><channel>" + "x" * 200_000, content_type=RSS)
    world.web.add("/bomb.xml", b"<rss>" + b" " * 50_000_000, content_type=RSS, gzip=True)
    code, found = discover(world, capsys, world.web.url("/"))
    assert code == 1
    reasons = [item["reason"] for item in found["not_feeds"] if "/b" in item["url"]]
    assert len(reasons) == 2 and all(reason.startswith("response too large") for reason in reasons)


def test_a_gzip_body_within_the_cap_is_read(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.feeds.append({"url": world.web.url("/configured.xml")})
    world.web.add("/", page_declaring("/feed.xml"))
    feed = rss_feed("Wire", [{"title": "A", "link": "http://x/1", "pub_date": hours_ago(1)}])
    world.web.add("/feed.xml", feed, content_type=RSS, gzip=True)
    code, found = discover(world, capsys, world.web.url("/"))
    assert code == 0 and found["feeds"][0]["items"] == 1


def test_a_gzip_file_bomb_sitemap_is_refused_at_the_decompressed_cap(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """A `.xml.gz` served as a file (no Content-Encoding): 50 MB of spaces in about 50 kB sent."""
    world.settings["fetch"] = {"max_feed_bytes": 100_000, "max_page_bytes": 100_000}
    world.feeds.append({"url": world.web.url("/configured.xml")})
    bomb = gzip.compress(b"<urlset>" + b" " * 50_000_000, compresslevel=9)
    assert len(bomb) < 100_000  # within the download cap: only the decompressed cap can stop it
    world.web.add("/", "<!DOCTYPE html><html><head><title>Times</title></head><body></body></html>")
    world.web.add("/news-sitemap.xml.gz", bomb, content_type="application/x-gzip")
    world.web.add("/robots.txt", "Sitemap: /news-sitemap.xml.gz\n", content_type="text/plain")
    code, found = discover(world, capsys, world.web.url("/"))
    assert code == 1
    reasons = {item["url"]: item["reason"] for item in found["not_feeds"]}
    assert reasons[world.web.url("/news-sitemap.xml.gz")] == (
        "refused: the gzip file decompresses to more than 100,000 bytes (fetch.max_feed_bytes)"
    )
    # Typed as the URL itself, the bomb is no feed either: the page's candidates are looked for.
    code, found = discover(world, capsys, world.web.url("/news-sitemap.xml.gz"))
    assert code == 1 and found["feeds"] == []
