"""The shared HTTP client: the SSRF guard, size caps, whole-request timeouts, redirects."""

from __future__ import annotations

import asyncio
import gzip

import pytest

from monitor.errors import BlockedAddressError, FetchError
from monitor.http.client import HttpClient, Response, is_public_address
from tests.support.web_server import WebServer


def fetch(
    url: str, *, guarded: bool = True, max_bytes: int = 1_000_000, timeout: float = 5, **client: object
) -> Response:
    async def go() -> Response:
        async with HttpClient(timeout=timeout, user_agent="news-monitor-test", **client) as http:  # type: ignore[arg-type]
            return await http.get(url, max_bytes=max_bytes, guarded=guarded)

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
    ],
)
def test_address_classification(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_loopback_literal_is_refused_for_feed_links(web_server: WebServer) -> None:
    url = web_server.add("/a.html", "<p>hi</p>")
    with pytest.raises(BlockedAddressError, match=r"non-public address 127\.0\.0\.1"):
        fetch(url)
    assert web_server.hits("/a.html") == 0


def test_dns_name_resolving_to_loopback_is_refused(web_server: WebServer) -> None:
    web_server.add("/a.html", "<p>hi</p>")
    url = web_server.url("/a.html").replace("127.0.0.1", "localhost")
    with pytest.raises(BlockedAddressError, match="non-public address"):
        fetch(url)
    assert web_server.hits("/a.html") == 0


@pytest.mark.parametrize(
    "url", ["http://[::1]/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/"]
)
def test_private_literals_are_refused_without_connecting(url: str) -> None:
    with pytest.raises(BlockedAddressError):
        fetch(url, timeout=1)


def test_redirect_to_a_refused_address_is_not_followed(web_server: WebServer) -> None:
    # Only 127.0.0.1 counts as allowed here, so a redirect to 127.0.0.2 stands for "public -> private".
    web_server.add("/secret", "internal")
    target = web_server.url("/secret").replace("127.0.0.1", "127.0.0.2")
    start = web_server.redirect("/start", target, status=302)
    with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.2"):
        fetch(start, address_policy=lambda address: address == "127.0.0.1")
    assert web_server.hits("/start") == 1 and web_server.hits("/secret") == 0


def test_allow_private_addresses_lets_them_through(web_server: WebServer) -> None:
    url = web_server.add("/a.html", "<p>hi</p>")
    assert fetch(url, allow_private_addresses=True).body == b"<p>hi</p>"


def test_trusted_requests_reach_loopback(web_server: WebServer) -> None:
    url = web_server.add("/feed.xml", "<rss/>")
    assert fetch(url, guarded=False).status == 200


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://x/"])
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(FetchError, match="only http:// and https://"):
        fetch(url)


def test_redirects_are_followed_and_reported(web_server: WebServer) -> None:
    web_server.add("/new", "moved here")
    start = web_server.redirect("/old", "/new")
    response = fetch(start, guarded=False)
    assert response.body == b"moved here" and response.url.endswith("/new")


def test_redirect_loops_end(web_server: WebServer) -> None:
    web_server.redirect("/loop", "/loop")
    with pytest.raises(FetchError, match="more than 10 redirects"):
        fetch(web_server.url("/loop"), guarded=False)


def test_oversized_bodies_are_cut_off(web_server: WebServer) -> None:
    url = web_server.add("/big", b"x" * 200_000)
    with pytest.raises(FetchError, match="response too large"):
        fetch(url, guarded=False, max_bytes=100_000)


def _reserved_sizes(url: str, max_bytes: int) -> tuple[list[int], Response | FetchError]:
    """What http.get's `reserve` hook was asked for, in order, and the response (or the error)."""
    sizes: list[int] = []

    async def reserve(size: int) -> None:
        sizes.append(size)

    async def go() -> Response:
        async with HttpClient(timeout=5, user_agent="news-monitor-test") as http:
            return await http.get(url, max_bytes=max_bytes, reserve=reserve)

    try:
        return sizes, asyncio.run(go())
    except FetchError as error:
        return sizes, error


def test_room_is_reserved_for_the_body_before_each_chunk_is_kept(web_server: WebServer) -> None:
    body = bytes(range(256)) * 2_000  # 512,000 bytes: several 64 KiB chunks
    sizes, response = _reserved_sizes(web_server.add("/big", body), max_bytes=1_000_000)
    assert isinstance(response, Response) and response.body == body
    assert len(sizes) > 1 and sizes == sorted(sizes) and sizes[-1] == len(body)


def test_no_room_is_asked_for_a_body_past_the_limit(web_server: WebServer) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)
    url = web_server.add("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    sizes, error = _reserved_sizes(url, max_bytes=1_000_000)
    assert isinstance(error, FetchError) and "response too large" in error.reason
    assert max(sizes) <= 1_000_000


def test_gzip_bomb_is_stopped_at_the_decompressed_limit(web_server: WebServer) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # ~50 KB on the wire, 50 MB inflated
    url = web_server.add("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="response too large"):
        fetch(url, guarded=False, max_bytes=1_000_000)


def test_slow_drip_is_bounded_by_the_total_timeout(web_server: WebServer) -> None:
    url = web_server.slow_drip("/drip", b"x" * 10_000, bytes_per_second=500)
    with pytest.raises(FetchError, match="timed out after 1s"):
        fetch(url, guarded=False, timeout=1)


def test_user_agent_is_sent(web_server: WebServer) -> None:
    url = web_server.add("/ua", "ok")
    fetch(url, guarded=False)
    assert web_server.requests("/ua")[0]["headers"]["user-agent"] == "news-monitor-test"


def test_connection_refused_is_a_fetch_error() -> None:
    with pytest.raises(FetchError, match="cannot connect"):
        fetch("http://127.0.0.1:9/", guarded=False, timeout=2)
