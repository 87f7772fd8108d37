"""Reading an item's page: fetched and extracted with the slots every feed shares, or the feed's own
summary when the page cannot be read."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os

from ..config import Config
from ..errors import ExtractionError, FetchError
from ..http.client import HttpClient
from ..http.page_room import PageRoom, map_page_sized_blocks
from ..http.robots import RobotsCache
from ..logs import log_event
from ..models import Article, FeedItem
from ..redact import mask_url
from ..stages.dedupe import plausible_canonical
from ..stages.extract import extract_article
from ..stages.fetch import fetch_page
from ..storage import ArticleRecord
from .gates import FairGate

log = logging.getLogger("monitor.pipeline")

# Article pages fetched at once across all feeds (waiting on the network, not on the CPU), and extracted
# at once: extraction is CPU work in threads, so more than the cores only queue. A page-fetch slot is
# taken only once the page's host is ready for it (http.HostLimiter), and both are shared out feed by
# feed (gates.FairGate): one feed's backlog or one slow host never holds the slots the others need.
PAGE_FETCH_CONCURRENCY = 64
# One feed holds at most half the page-fetch slots (robots.txt requests included): a feed linking to many
# hosts that never answer would otherwise hold them all for a fetch timeout while other feeds wait. 64 stays
# under the guarded session's 100 connections, so aiohttp's own queue is never the one that decides.
PAGE_FETCH_SHARE = PAGE_FETCH_CONCURRENCY // 2
EXTRACT_CONCURRENCY = max(os.cpu_count() or 1, 2)


class PageReader:
    """Reads items' pages: fetch, extract, and the feed's own fields where they are better."""

    def __init__(self, config: Config, http: HttpClient):
        self.config = config
        self.http = http
        self.robots = RobotsCache(http) if config.fetch.respect_robots_txt else None
        self._fetch_gate = FairGate(PAGE_FETCH_CONCURRENCY, share=PAGE_FETCH_SHARE)
        self._extract_gate = FairGate(EXTRACT_CONCURRENCY)
        self._page_room = PageRoom()  # bytes of pages in memory, from download to extraction (page_room.py)
        map_page_sized_blocks()  # so that a page's memory goes back to the system once it is read

    def reconfigure(self, config: Config) -> None:
        """Use a new configuration from the next page on (live reload)."""
        self.config = config
        if not config.fetch.respect_robots_txt:
            self.robots = None
        elif self.robots is None:
            self.robots = RobotsCache(self.http)

    async def read_article(self, item: FeedItem) -> Article:
        """Fetch and extract the item's page; fall back to the feed's own summary when that fails.

        An item whose link other entries share (a day page, a show's home page) is read from the feed:
        the page is theirs as much as its own; so is one whose link is no page to fetch (text_only)."""
        if not item.link or item.link_shared or item.text_only:
            return article_from_item(item)
        try:
            article = await self._fetch_and_extract(item)
        except (FetchError, ExtractionError) as exc:
            log_event(
                log, logging.INFO, "article.fallback_to_summary", article_url=item.link, reason=exc.reason
            )
            return article_from_item(item)
        except Exception as exc:  # a bug in a parser must not cost the alert: the feed's text still works
            log_event(log, logging.ERROR, "article.fallback_to_summary", article_url=item.link,
                      reason=f"{exc.__class__.__name__}: {exc}", exc_info=True)  # fmt: skip
            return article_from_item(item)
        return with_feed_fields(item, article)

    async def _fetch_and_extract(self, item: FeedItem) -> Article:
        """The item's page, fetched and extracted within this instance's page room and the feed's slots."""
        room = self._page_room.claim()
        try:
            page = await fetch_page(
                self.http,
                item.link,
                max_bytes=self.config.fetch.max_page_bytes,
                robots=self.robots,
                then=room.then(self._fetch_gate.slot(item.feed_url)),
                robots_then=self._fetch_gate.slot(item.feed_url),
                room=room,
            )
            async with self._extract_gate.slot(item.feed_url):
                return await asyncio.to_thread(extract_article, page, self.config.site_rules, authors=False)
        finally:
            room.release()  # the page is read (or given up): room for the next one


def with_feed_fields(item: FeedItem, article: Article) -> Article:
    """The extracted article with the feed's title and date, and the feed's summary for a shorter text."""
    # The feed's title is the outlet's own headline; page <title>s often carry " | Site name". An item
    # without one (a plain sitemap's URL) is titled by its link in the feed: the page's title is better.
    untitled = item.title == mask_url(item.link)
    article = dataclasses.replace(
        article,
        title=(article.title or item.title) if untitled else item.title,
        published=item.published or article.published,
        canonical_url=plausible_canonical(article.url, article.canonical_url),
    )
    if _word_count(item.summary_text) > _word_count(article.text):
        # A paywall or consent page extracts to a teaser shorter than the feed's own summary; the
        # summary is then the better text (and two different stories' identical teasers would
        # otherwise share a fingerprint).
        log_event(log, logging.INFO, "article.fallback_to_summary", article_url=item.link,
                  reason="the page text is shorter than the feed's summary")  # fmt: skip
        return dataclasses.replace(article, text=item.summary_text, from_feed_summary=True)
    return article


def _word_count(text: str) -> int:
    return len(text.split())


def article_from_item(item: FeedItem) -> Article:
    """The article as the feed describes it, for when its page cannot be fetched or read."""
    return Article(
        url=item.link,
        title=item.title,
        text=item.summary_text,
        published=item.published,
        from_feed_summary=True,
    )


def article_from_record(record: ArticleRecord) -> Article:
    """A stored article as the stages read it (for reviewing stored articles again)."""
    return Article(
        url=record.url,
        title=record.title,
        text=record.text,
        canonical_url=record.canonical_url,
        published=record.published_at,
    )
