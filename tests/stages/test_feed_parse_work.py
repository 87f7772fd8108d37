"""A malformed feed costs bounded parsing work, off the event loop (issue 12, class 3).

Work is counted as the characters handed to feedparser's loose parser (its real `feed`, wrapped).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import feedparser.html
import pytest
from feedparser.parsers.loose import _LooseFeedParser
from feedparser.parsers.strict import _StrictFeedParser

from monitor.http.client import HttpClient
from monitor.stages.feed_parse import LOOSE_PARSER_MAX_CHARS, STRICT_PARSER_MAX_ELEMENTS
from monitor.stages.poll import parse_feed, poll_feed
from tests.support.web_server import WebServer

ITEM = "<item><title>Item {n}</title><link>https://news.example/{n}</link><description>{text}</description></item>"
TEXT = "&lt;p&gt;Council news of the week&lt;/p&gt; " * 20


def malformed_feed(size: int) -> bytes:
    """An RSS feed of about `size` bytes that expat refuses at once (a bare & in the channel title)."""
    items, n, total = [], 0, 0
    while total < size:
        items.append(ITEM.format(n=n, text=TEXT))
        total += len(items[-1])
        n += 1
    channel = "<title>Ham & eggs</title>" + "".join(items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{channel}</channel></rss>'.encode()


class LooseReads:
    """Wraps the loose parser's `feed`: the characters it was handed, and on which thread."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.real = feedparser.html._BaseHTMLProcessor.feed
        self.sizes: list[int] = []
        self.threads: list[threading.Thread] = []
        monkeypatch.setattr(feedparser.html._BaseHTMLProcessor, "feed", self.wrapper())

    def wrapper(self) -> Any:
        def feed(parser: Any, data: str) -> None:
            if isinstance(parser, _LooseFeedParser):  # not the HTML processors run on each summary
                self.sizes.append(len(data))
                self.threads.append(threading.current_thread())
            self.real(parser, data)

        return feed


def test_the_loose_parser_reads_a_bounded_part_of_a_big_malformed_feed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads = LooseReads(monkeypatch)
    _, items, problem = parse_feed("https://news.example/feed", malformed_feed(3_000_000), {})
    assert reads.sizes and max(reads.sizes) <= LOOSE_PARSER_MAX_CHARS  # the whole 3 MB before the fix
    assert items and items[0].title == "Item 0"  # the newest items, at the top, are read
    assert problem and "only its first" in problem


def test_a_small_malformed_feed_is_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    reads = LooseReads(monkeypatch)
    body = malformed_feed(20_000)
    _, items, problem = parse_feed("https://news.example/feed", body, {})
    assert reads.sizes and max(reads.sizes) >= len(body) - 100  # all of it (less the XML declaration)
    assert len(items) == body.count(b"<item>") and problem and "only its first" not in problem


def test_a_feed_is_parsed_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    reads = LooseReads(monkeypatch)

    async def poll(url: str) -> threading.Thread:
        async with HttpClient(timeout=10, user_agent="test") as http:
            await poll_feed(http, url, None, max_bytes=10_000_000)
        return threading.current_thread()

    with WebServer() as server:
        url = server.add("/feed.xml", malformed_feed(20_000), content_type="application/rss+xml")
        loop_thread = asyncio.run(poll(url))
    assert reads.threads and loop_thread not in reads.threads


def test_the_strict_parser_reads_a_bounded_number_of_elements(monkeypatch: pytest.MonkeyPatch) -> None:
    # Well-formed, but not in UTF-8: the fast path leaves it to feedparser, whose strict parser reads it.
    started = 0
    real = _StrictFeedParser.startElementNS

    def counting(parser: Any, *args: Any) -> None:
        nonlocal started
        started += 1
        real(parser, *args)

    monkeypatch.setattr(_StrictFeedParser, "startElementNS", counting)
    item = "<item><title>Item {n}</title><link>https://news.example/{n}</link><description>{tags}</description></item>"
    items = "".join(item.format(n=n, tags="<b>x</b>" * 100) for n in range(1_500))  # 154,500 elements
    body = f'<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><title>F</title>{items}'
    _, read, problem = parse_feed("https://news.example/feed", f"{body}</channel></rss>".encode(), {})
    assert started <= STRICT_PARSER_MAX_ELEMENTS  # every one of them before the fix
    assert read[0].title == "Item 0" and len(read) > 900  # the items before the cut are all there
    assert problem == f"only its first {STRICT_PARSER_MAX_ELEMENTS:,} elements were read"
