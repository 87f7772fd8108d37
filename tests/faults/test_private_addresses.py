"""The private-address guard, tried as an attacker who writes a feed's links and a page's redirects.

Every request goes through the real HttpClient to loopback servers: one on 127.0.0.1 and, where a test
needs a "public" and a "private" address on one machine, a second on 127.0.0.2 with an address policy
that calls only 127.0.0.1 public. "Nothing connects" is checked on the server's request log.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import itertools
import json
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

import monitor.cli.inspect
import monitor.service.assembly
from monitor.errors import BlockedAddressError, FetchError
from monitor.http.client import HttpClient, Response
from monitor.models import FeedPoll
from monitor.stages.poll import poll_feed
from tests.support.feeds import rss_feed
from tests.support.host_spellings import ipv4_spellings, ipv6_spellings
from tests.support.web_server import WebServer
from tests.support.world import World, hours_ago

LOOPBACK = ipaddress.IPv4Address("127.0.0.1")
SECOND = ipaddress.IPv4Address("127.0.0.2")
SECRET = "INTERNAL-ONLY: Alibaba board minutes, do not distribute"
# The spellings the review used, and one more yarl folds: full-width hex letters in an IPv6 literal.
REVIEW_SPELLINGS = [
    "１２７.0.0.1",
    "127。0。0。1",
    "127．0．0．1",
    "①②⑦.0.0.1",
    "127.0.0.１",
    "[::ｆｆｆｆ:127.0.0.1]",
]
_paths = itertools.count()


class SecondAddressServer(WebServer):
    bind_address = str(SECOND)


@pytest.fixture(scope="module")
def inside() -> Iterator[WebServer]:
    """A server on 127.0.0.1 (Hypothesis needs it module-wide; each example uses its own paths)."""
    with WebServer() as server:
        yield server


@pytest.fixture(scope="module")
def second() -> Iterator[WebServer]:
    """A server on 127.0.0.2, "private" for a client whose policy calls only 127.0.0.1 public."""
    with SecondAddressServer() as server:
        yield server


def raw_utf8(text: str) -> str:
    """`text` for a header the test server writes as Latin-1: on the wire it is UTF-8, as servers send."""
    return text.encode("utf-8").decode("latin-1")


def only_first_loopback_is_public(address: str) -> bool:
    return address == str(LOOPBACK)


def public_first_loopback(monkeypatch: pytest.MonkeyPatch, world: World, module: object) -> None:
    """`module`'s HttpClient calls only 127.0.0.1 public (it stands for the public internet: every server
    is local), and the world's configuration keeps the guard on."""
    monkeypatch.setattr(
        module, "HttpClient", functools.partial(HttpClient, address_policy=only_first_loopback_is_public)
    )
    world.settings["fetch"] = {"allow_private_addresses": False}


def port_of(server: WebServer) -> str:
    return server.base_url.rsplit(":", 1)[1]


def secret_page(server: WebServer) -> str:
    """Add a page holding SECRET; return its path."""
    path = f"/internal/{next(_paths)}"
    server.add(path, f"<html><body><p>{SECRET}</p></body></html>")
    return path


def fetch(
    url: str, *, guarded: bool = True, client: type[HttpClient] = HttpClient, **options: object
) -> Response:
    async def go() -> Response:
        async with client(timeout=5, user_agent="news-monitor-test", **options) as http:  # type: ignore[arg-type]
            return await http.get(url, max_bytes=100_000, guarded=guarded)

    return asyncio.run(go())


def poll(url: str, **options: object) -> FeedPoll:
    async def go() -> FeedPoll:
        async with HttpClient(timeout=5, user_agent="news-monitor-test", **options) as http:  # type: ignore[arg-type]
            return await poll_feed(http, url, None, max_bytes=1_000_000)

    return asyncio.run(go())


loopback_spellings = st.one_of(
    ipv4_spellings(LOOPBACK), ipv6_spellings(ipaddress.IPv6Address(f"::ffff:{LOOPBACK}"))
)
second_spellings = st.one_of(
    ipv4_spellings(SECOND), ipv6_spellings(ipaddress.IPv6Address(f"::ffff:{SECOND}"))
)


# -- article links --


@pytest.mark.parametrize("host", REVIEW_SPELLINGS)
def test_a_link_spelling_loopback_in_unicode_is_refused(inside: WebServer, host: str) -> None:
    path = secret_page(inside)
    with pytest.raises(BlockedAddressError, match=r"non-public address (127\.0\.0\.1|::ffff:7f00:1)"):
        fetch(f"http://{host}:{port_of(inside)}{path}")
    assert inside.hits(path) == 0


@settings(max_examples=300)
@given(host=loopback_spellings)
def test_no_spelling_of_loopback_reaches_it(inside: WebServer, host: str) -> None:
    path = secret_page(inside)
    with pytest.raises(BlockedAddressError):
        fetch(f"http://{host}:{port_of(inside)}{path}")
    assert inside.hits(path) == 0


@settings(max_examples=200)
@given(host=second_spellings)
def test_no_spelling_of_a_private_address_in_a_redirect_reaches_it(
    inside: WebServer, second: WebServer, host: str
) -> None:
    path = secret_page(second)
    location = raw_utf8(f"http://{host}:{port_of(second)}{path}")
    start = inside.redirect(f"/go/{next(_paths)}", location, status=302)
    with pytest.raises(BlockedAddressError):
        fetch(start, address_policy=only_first_loopback_is_public)
    assert second.hits(path) == 0


@pytest.mark.parametrize("host", ["１２７.0.0.1", "127。0。0。1", "0x7f.1"])
def test_with_the_shipped_defaults_a_spelled_loopback_link_is_neither_fetched_nor_posted(
    world: World, host: str, caplog: pytest.LogCaptureFixture
) -> None:
    world.settings["fetch"] = {"allow_private_addresses": False}
    page = world.web.add(
        "/internal.html", f"<html><body><article><p>{SECRET}</p>" * 5 + "</article></body></html>"
    )
    link = page.replace("127.0.0.1", host)
    item = {"title": "Alibaba news", "link": link, "guid": "1", "pub_date": hours_ago(1)}
    world.add_feed("/feed.xml", rss_feed("Feed", [item]))
    world.once()
    assert world.web.hits("/internal.html") == 0
    assert world.titles_posted() == ["Alibaba news"]  # the feed's own text still alerts
    assert SECRET not in json.dumps(world.slack.messages(), ensure_ascii=False)
    # The log says why, so the operator learns a feed links into private addresses (it said "disallowed
    # by the site's robots.txt": the robots.txt request was the one refused).
    [fallback] = [r.getMessage() for r in caplog.records if "article.fallback_to_summary" in r.getMessage()]
    assert "non-public address" in fallback and "robots.txt" not in fallback


# -- the connection guard: the last check, on the address a socket connects to --


class UrlCheckBlind(HttpClient):
    """Reads every host as a DNS name before connecting: stands for a spelling nobody foresaw."""

    def _check_target(self, target: URL, url: str, guard: bool) -> None:
        super()._check_target(target, url, guard=False)


@pytest.mark.parametrize("host", [*REVIEW_SPELLINGS, "127.0.0.1", "[::ffff:127.0.0.1]"])
def test_the_connection_guard_refuses_what_the_url_check_missed(inside: WebServer, host: str) -> None:
    path = secret_page(inside)
    with pytest.raises(BlockedAddressError, match="refusing to connect to a non-public address"):
        fetch(f"http://{host}:{port_of(inside)}{path}", client=UrlCheckBlind)
    assert inside.hits(path) == 0


@settings(max_examples=100)
@given(host=loopback_spellings)
def test_without_the_url_check_no_spelling_of_loopback_reaches_it_either(
    inside: WebServer, host: str
) -> None:
    # aiohttp refuses legacy forms (127.1) and the resolver fails on others: an error, never a request.
    path = secret_page(inside)
    with pytest.raises(FetchError):
        fetch(f"http://{host}:{port_of(inside)}{path}", client=UrlCheckBlind)
    assert inside.hits(path) == 0


# -- configured feeds and their redirects --


def feed_body() -> str:
    return rss_feed("Moved feed", [{"title": "Alibaba moved", "link": "http://example.test/a", "guid": "1"}])


@pytest.mark.parametrize("host", [str(SECOND), "１２７.0.0.２", "[::ffff:127.0.0.2]"])
def test_a_feed_on_a_public_address_may_not_redirect_into_a_private_one(
    inside: WebServer, second: WebServer, host: str
) -> None:
    path = f"/feed/{next(_paths)}.xml"
    second.add(path, feed_body(), content_type="application/rss+xml")
    location = raw_utf8(f"http://{host}:{port_of(second)}{path}")
    configured = inside.redirect(f"/old/{next(_paths)}.xml", location, status=301)
    with pytest.raises(BlockedAddressError, match="the feed redirected to a non-public address"):
        poll(configured, address_policy=only_first_loopback_is_public)
    assert second.hits(path) == 0


def test_allow_private_addresses_lets_a_feed_redirect_anywhere(inside: WebServer, second: WebServer) -> None:
    path = f"/feed/{next(_paths)}.xml"
    target = second.add(path, feed_body(), content_type="application/rss+xml")
    configured = inside.redirect(f"/old/{next(_paths)}.xml", target, status=301)
    result = poll(configured, address_policy=only_first_loopback_is_public, allow_private_addresses=True)
    assert [item.title for item in result.items] == ["Alibaba moved"]
    assert result.moved_to == target


@pytest.mark.parametrize("spelled", [False, True])
def test_a_feed_the_operator_put_on_a_private_address_may_redirect_within_it(
    second: WebServer, spelled: bool
) -> None:
    path = f"/feed/{next(_paths)}.xml"
    target = second.add(path, feed_body(), content_type="application/rss+xml")
    configured = second.redirect(f"/old/{next(_paths)}.xml", target, status=301)
    if spelled:
        configured = configured.replace(str(SECOND), "１２７.0.0.２")
    result = poll(configured, address_policy=only_first_loopback_is_public)
    assert [item.title for item in result.items] == ["Alibaba moved"]
    assert result.moved_to == target


def test_a_feed_configured_by_a_name_that_resolves_privately_may_redirect_within_it(
    inside: WebServer,
) -> None:
    target = inside.add(f"/feed/{next(_paths)}.xml", feed_body(), content_type="application/rss+xml")
    configured = inside.redirect(f"/old/{next(_paths)}.xml", target, status=302)
    result = poll(configured.replace("127.0.0.1", "localhost"))  # the shipped policy: localhost is private
    assert [item.title for item in result.items] == ["Alibaba moved"]


def test_once_neither_posts_nor_recommends_where_a_public_feed_redirected_into_a_private_address(
    world: World, second: WebServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    public_first_loopback(monkeypatch, world, monitor.service.assembly)
    path = f"/feed/{next(_paths)}.xml"
    second.add(path, feed_body(), content_type="application/rss+xml")
    configured = world.web.redirect("/feed.xml", second.url(path), status=301)
    world.feeds.append({"url": configured, "name": "Moved"})
    world.once()
    assert second.hits(path) == 0
    assert world.slack.messages() == []
    assert world.run_cli("status", "--json") == 0
    [feed] = json.loads(capsys.readouterr().out)["feeds"]
    assert feed["moved_to"] is None and feed["state"] == "failing"
    assert "the feed redirected to a non-public address" in feed["result"]


@pytest.mark.parametrize("command", ["extract", "match"])
def test_a_typed_public_link_may_not_redirect_into_a_private_address(
    world: World,
    second: WebServer,
    command: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # An operator checks an alert's link (from a stranger's feed) with `match <link>`: the review of
    # issue 12 read a canary page on a private address through its redirect.
    public_first_loopback(monkeypatch, world, monitor.cli.inspect)
    world.add_feed("/unused.xml", feed_body())  # `match` needs a valid configuration
    path = secret_page(second)
    link = world.web.redirect(f"/news/{next(_paths)}.html", second.url(path), status=302)
    assert world.run_cli(command, link) == 1  # a runtime failure, not a configuration error
    assert second.hits(path) == 0
    assert SECRET not in capsys.readouterr().out


def test_a_typed_link_on_a_private_address_may_redirect_within_it(
    world: World, second: WebServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    public_first_loopback(monkeypatch, world, monitor.cli.inspect)
    path = secret_page(second)
    link = second.redirect(f"/intranet/{next(_paths)}.html", second.url(path), status=302)
    assert world.run_cli("extract", link) == 0
    assert SECRET in capsys.readouterr().out
