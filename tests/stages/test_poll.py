"""Poll stage: conditional GET, RSS and Atom parsing, dates, relative links, malformed feeds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from monitor.errors import FeedError, FetchError
from monitor.http.client import HttpClient
from monitor.models import FeedPoll
from monitor.stages.poll import MAX_ITEMS_PER_FEED, parse_feed, poll_feed
from monitor.storage import FeedState
from tests.support.feeds import atom_feed, rss_feed
from tests.support.web_server import WebServer

WHEN = datetime(2026, 11, 15, 9, 23, 7, tzinfo=UTC)


def poll(url: str, state: FeedState | None = None) -> FeedPoll:
    async def go() -> FeedPoll:
        async with HttpClient(timeout=5, user_agent="test") as http:
            return await poll_feed(http, url, state, max_bytes=10_000_000)

    return asyncio.run(go())


def test_rss_items(web_server: WebServer) -> None:
    url = web_server.add(
        "/rss.xml",
        rss_feed(
            "Mint & Co",
            [
                {
                    "title": "Alibaba <!channel> denies",
                    "link": "https://m.example/a",
                    "guid": "g1",
                    "pub_date": WHEN,
                    "description": "<p>Alibaba <b>denied</b> it.</p><script>alert(1)</script>",
                },
                {"title": "No date", "link": "https://m.example/b"},
            ],
        ),
    )
    result = poll(url)
    assert result.title == "Mint & Co"
    first, second = result.items
    assert (first.guid, first.link, first.published) == ("g1", "https://m.example/a", WHEN)
    assert first.title == "Alibaba <!channel> denies"  # plain text stays as written; the notifier escapes it
    assert first.summary_text == "Alibaba denied it."
    assert second.published is None and second.guid == "https://m.example/b"
    assert result.etag and result.last_modified


def test_atom_items_and_relative_links(web_server: WebServer) -> None:
    url = web_server.add(
        "/atom.xml",
        atom_feed(
            "Blog", [{"title": "Post", "link": "/2026/post.html", "guid": "urn:x:1", "pub_date": WHEN}]
        ),
        content_type="application/atom+xml",
    )
    [item] = poll(url).items
    assert item.link == web_server.url("/2026/post.html")
    assert (item.guid, item.published) == ("urn:x:1", WHEN)


def test_unchanged_feed_costs_a_304(web_server: WebServer) -> None:
    url = web_server.add("/rss.xml", rss_feed("F", [{"title": "t", "link": "https://x.example/1"}]))
    first = poll(url)
    state = FeedState(url=url, title=first.title, etag=first.etag, last_modified=first.last_modified)
    second = poll(url, state)
    assert second.not_modified and second.items == ()
    assert web_server.requests("/rss.xml")[1]["headers"]["if-none-match"] == first.etag


def test_http_errors(web_server: WebServer) -> None:
    web_server.add("/gone.xml", "gone", status=410)
    with pytest.raises(FetchError, match="HTTP 410"):
        poll(web_server.url("/gone.xml"))


def test_not_a_feed() -> None:
    with pytest.raises(FeedError, match=r"sent a web page, not a feed \(Content-Type: text/html\)"):
        parse_feed("https://x.example/f", b"<html><body>Hello</body></html>", {"content-type": "text/html"})
    with pytest.raises(FeedError, match="not a valid RSS/Atom feed"):
        parse_feed("https://x.example/f", b"\x00\x01 garbage", {"content-type": "application/rss+xml"})


def test_a_good_feed_served_as_html_is_not_flagged() -> None:
    body = rss_feed("F", [{"title": "t", "link": "https://x.example/1"}]).encode()
    _, items, problem = parse_feed("https://x.example/f", body, {"content-type": "text/html; charset=utf-8"})
    assert len(items) == 1 and problem is None


def test_nul_characters_and_giant_guids_are_tamed() -> None:
    body = rss_feed("F", [{"title": "Ali\x00baba", "link": "https://x.example/1", "guid": "g" * 100_000}])
    _, [item], _ = parse_feed("https://x.example/f", body.replace("\x00", "&#0;").encode(), {})
    assert "\x00" not in item.title and len(item.guid) < 100 and item.guid.startswith("sha256:")


def test_malformed_feed_still_yields_its_items() -> None:
    body = rss_feed("F", [{"title": "t", "link": "https://x.example/1", "pub_date": WHEN}])[:-20].encode()
    _, items, problem = parse_feed("https://x.example/f", body, {"content-type": "application/rss+xml"})
    assert len(items) == 1 and problem


def test_item_count_is_capped() -> None:
    items = [{"title": f"t{i}", "link": f"https://x.example/{i}"} for i in range(MAX_ITEMS_PER_FEED + 50)]
    _, parsed, _ = parse_feed("https://x.example/f", rss_feed("F", items).encode(), {})
    assert len(parsed) == MAX_ITEMS_PER_FEED


def test_declared_encodings_are_honoured() -> None:
    body = rss_feed("F", [{"title": "Café Zürich", "link": "https://x.example/1"}]).replace(
        "utf-8", "iso-8859-1"
    )
    _, [item], _ = parse_feed("https://x.example/f", body.encode("iso-8859-1"), {})
    assert item.title == "Café Zürich"
