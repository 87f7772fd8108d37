"""libxml2 is entered by one thread at a time (monitor/libxml.py): two parses at once crash the process now
and then (adbar/trafilatura#840, #925). Counted, not timed: each call into a library that parses with lxml
is checked to hold the lock, and the threads inside such calls at once are counted."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import bs4.builder._lxml
import fastfeedparser
import lxml.html
import pytest
import trafilatura

from monitor.libxml import LIBXML_LOCK
from monitor.models import Page
from monitor.stages.extract import extract_article
from monitor.stages.poll import parse_feed
from monitor.text import html_to_text
from tests.support.feeds import rss_feed
from tests.support.world import hours_ago

PARAGRAPH = "<p>The council met on Tuesday to discuss the new bus timetable for the northern districts.</p>"
PAGE = f"<html><head><title>Buses</title></head><body><article>{PARAGRAPH * 40}</article></body></html>"
FEED = rss_feed(
    "Buses", [{"title": f"Bus {n}", "link": f"https://example.com/{n}", "guid": str(n),
               "description": PARAGRAPH, "pub_date": hours_ago(1)} for n in range(5)]
).encode()  # fmt: skip


class ParserWatch:
    """Wraps the lxml-parsing library functions our stages call; counts threads inside them at once."""

    def __init__(self) -> None:
        self.most = self.calls = self.unlocked = 0
        self.depth: dict[int, int] = {}  # per thread inside (one library call may make another)
        self._count = threading.Lock()

    def wrap(self, real: Any) -> Any:
        def watched(*args: Any, **kwargs: Any) -> Any:
            me = threading.get_ident()
            with self._count:
                self.calls += 1
                self.unlocked += not LIBXML_LOCK._is_owned()  # type: ignore[attr-defined]
                self.depth[me] = self.depth.get(me, 0) + 1
                self.most = max(self.most, sum(1 for depth in self.depth.values() if depth))
            try:
                return real(*args, **kwargs)
            finally:
                with self._count:
                    self.depth[me] -= 1

        return watched


def test_threads_parse_with_lxml_one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    watch = ParserWatch()
    for module, name in [
        (trafilatura, "load_html"),
        (trafilatura, "bare_extraction"),
        (trafilatura, "extract_metadata"),
        (lxml.html, "document_fromstring"),
        (fastfeedparser, "parse"),
    ]:
        monkeypatch.setattr(module, name, watch.wrap(getattr(module, name)))
    builder = bs4.builder._lxml.LXMLTreeBuilderForXML
    monkeypatch.setattr(builder, "feed", watch.wrap(builder.feed))

    def work(n: int) -> None:
        extract_article(Page(url=f"https://example.com/{n}", html=PAGE, status=200))
        html_to_text(PARAGRAPH * 3)
        parse_feed("https://example.com/feed.xml", FEED, {"content-type": "application/rss+xml"})

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(work, range(24)))
    assert watch.calls >= 24 * 4  # every kind of call was made, from four threads
    assert watch.unlocked == 0
    assert watch.most == 1
