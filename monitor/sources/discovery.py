"""Feed discovery: the feeds a page or site offers, each fetched, read and ranked best first.

The candidates (discovery_links.py) come in two rounds. First what the site says: the URL itself when it
is a feed (then nothing else is asked), the page's `<link rel=alternate>`, its platform's feed path, its
feed-looking links and its robots.txt's `Sitemap:` lines. Then, only when that found no RSS, Atom or JSON
feed, the common feed paths and news sitemap names. Each candidate is read by the poll stage's parser
(feed_kind.py), so a feed found here is a feed the service will read.

Bounded and polite: at most `DiscoveryLimits.candidates` candidates are fetched (the rest are counted,
not fetched), a few at a time, within `DiscoveryLimits.seconds` in all, each request within the HTTP
client's timeout and size cap, paced per host by its HostLimiter and after robots.txt allows it (every
site's robots.txt is one more request). So at most 2 + 2 x candidates requests.

Trust: the URL the operator typed is fetched as `extract URL` fetches it (unguarded: it may name the
operator's own network; its redirects are guarded unless it does). So is every candidate on that same
origin (scheme, host and port, as aiohttp reads them): it reaches nothing the operator did not name.
Every other candidate comes from the page or its robots.txt and goes through the address guard, its
redirects too.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import BlockedAddressError, FeedError, FetchError
from ..http.client import HttpClient
from ..http.response import Response
from ..http.robots import RobotsCache, read_target
from ..redact import mask_configured_url, mask_url
from ..stages.feed_kind import HTML, NEWS_SITEMAP, SITEMAP, SITEMAP_INDEX, gunzip_capped, sniff_kind
from ..stages.poll import feed_items
from ..stages.sitemap_index import read_children
from .discovery_links import (
    FOUND_ITSELF,
    FOUND_ORDER,
    Candidate,
    guessed_candidates,
    platform_candidates,
    read_page_links,
    robots_candidates,
)
from .feed_kind import FeedReading, read_candidate

_ACCEPT = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, */*;q=0.5"
_SITEMAP_KINDS = {NEWS_SITEMAP: 1, SITEMAP_INDEX: 2, SITEMAP: 3}
# The address the HTTP client refused, inside its reason (`refusing a non-public address 10.0.0.5`).
_REFUSED = re.compile(r"refusing (?:to connect to )?a non-public address [^\s();]+")


@dataclass(frozen=True)
class DiscoveryLimits:
    candidates: int = 16  # fetched at most; a site's real feeds are among its first few candidates
    seconds: float = 60.0  # for the whole discovery; candidates still waiting then are not checked
    at_once: int = 4  # candidates fetched at the same time (each may hold max_feed_bytes in memory)


@dataclass(frozen=True)
class FoundFeed:
    url: str
    found: str
    reading: FeedReading
    comments: bool
    position: int = 0  # among the candidates, in the order they were found (the page's order first)
    final_url: str = ""  # where its request ended, after redirects

    def rank(self) -> tuple[bool, bool, int, int, float, int]:
        """Best first: not comments, has items, a feed before a sitemap, how it was found, the newest,
        then the order found: candidates are fetched at once, and the page's first of two equals wins."""
        newest = self.reading.newest.timestamp() if self.reading.newest else 0.0
        kind = _SITEMAP_KINDS.get(self.reading.kind, 0)
        found = FOUND_ORDER.index(self.found)
        return (self.comments, self.reading.items == 0, kind, found, -newest, self.position)


@dataclass(frozen=True)
class NotAFeed:
    url: str
    found: str
    reason: str


@dataclass
class Discovery:
    url: str
    feeds: list[FoundFeed] = field(default_factory=list)
    not_feeds: list[NotAFeed] = field(default_factory=list)
    not_checked: int = 0  # candidates past the limit
    requests: int = 0

    @property
    def best(self) -> FoundFeed | None:
        return self.feeds[0] if self.feeds else None


async def discover_feeds(
    http: HttpClient, url: str, *, max_bytes: int, limits: DiscoveryLimits = DiscoveryLimits()
) -> Discovery:
    """The feeds `url` is or offers, best first; FetchError when `url` itself cannot be fetched."""
    try:
        response = await http.get(url, max_bytes=max_bytes, guarded=False)
    except BlockedAddressError as exc:
        raise BlockedAddressError(url, private_redirect(url, exc.reason)) from None
    response.raise_for_status()
    run = _Run(http, url, max_bytes, limits)
    itself = await asyncio.to_thread(_read_or_none, response, max_bytes)
    if itself is not None:
        itself = await run.name_index(response.url, itself)
        run.keep(Candidate(response.moved_to or url, FOUND_ITSELF), response, itself)
        return run.result()
    links = await asyncio.to_thread(read_page_links, response.body, response.url)
    sitemaps = await run.sitemaps()
    first = links.declared + platform_candidates(url, links.platform, links.home) + links.in_page
    await run.check(first + robots_candidates(url, sitemaps))
    if not run.found_a_feed():
        await run.check(guessed_candidates(url))
    return run.result()


def _read_or_none(response: Response, max_bytes: int) -> FeedReading | None:
    """The response read as a feed (a gzip file decompressed), or None (a web page, most often)."""
    content_type = response.headers.get("Content-Type", "")
    try:
        body = gunzip_capped(response.url, response.body, max_bytes)
        if sniff_kind(body) == HTML:
            return None
        return read_candidate(response.url, body, content_type, max_bytes=max_bytes)
    except FeedError:
        return None


def private_redirect(url: str, reason: str) -> str:
    """What happened when a page discovery fetched led to a private address: said, not advised away.

    The HTTP client's own reason suggests fetch.allow_private_addresses, which is right for a feed the
    operator configured; here the address came from a stranger's page or redirect."""
    refused = _REFUSED.search(reason)
    where = f" ({refused.group()})" if refused else ""
    return f"the page at {mask_url(url)} redirected to a private address{where}; not followed"


class _Run:
    """One discovery: the candidates seen, what they turned out to be, and the budget left."""

    def __init__(self, http: HttpClient, url: str, max_bytes: int, limits: DiscoveryLimits):
        self.http, self.url, self.max_bytes, self.limits = http, url, max_bytes, limits
        self.trusted_site = _site(url)
        self.robots = RobotsCache(http, trusted_sites=frozenset({self.trusted_site}))
        self.deadline = asyncio.get_running_loop().time() + limits.seconds
        self.discovery = Discovery(url, requests=1)
        self.seen: dict[str, int] = {url: 0}  # each candidate URL, with the order it was found in
        self.scheduled = 0  # candidates fetched or being fetched
        self.gate = asyncio.Semaphore(limits.at_once)

    async def sitemaps(self) -> tuple[str, ...]:
        try:
            return await self.robots.sitemaps(self.url)
        except FetchError:
            return ()  # the robots.txt of a site that redirects it into a private address

    def found_a_feed(self) -> bool:
        return any(feed.reading.kind not in _SITEMAP_KINDS for feed in self.discovery.feeds)

    async def check(self, candidates: Iterable[Candidate]) -> None:
        """Fetch and read the new candidates, within the limits; the rest are counted as not checked."""
        new = []
        for candidate in candidates:
            if candidate.url not in self.seen:
                self.seen[candidate.url] = len(self.seen)
                new.append(candidate)
        room = max(self.limits.candidates - self.scheduled, 0)
        now, self.discovery.not_checked = new[:room], self.discovery.not_checked + len(new[room:])
        self.scheduled += len(now)
        tasks = [asyncio.ensure_future(self._check_one(candidate)) for candidate in now]
        if not tasks:
            return
        left = max(self.deadline - asyncio.get_running_loop().time(), 0.0)
        _, late = await asyncio.wait(tasks, timeout=left)
        for task, candidate in zip(tasks, now, strict=True):
            if task in late:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                reason = f"not checked: discovery's time limit ({self.limits.seconds:g}s) ran out"
                self.discovery.not_feeds.append(NotAFeed(candidate.url, candidate.found, reason))

    async def _check_one(self, candidate: Candidate) -> None:
        async with self.gate:
            reason = await self._fetch_and_read(candidate)
        if reason is not None:
            self.discovery.not_feeds.append(NotAFeed(candidate.url, candidate.found, reason))

    async def _fetch_and_read(self, candidate: Candidate) -> str | None:
        """Keep the candidate if it is a feed; else say why not."""
        guarded = _site(candidate.url) != self.trusted_site
        try:
            if not await self.robots.allows(candidate.url):
                return (
                    "found, but the site's robots.txt disallows fetching it; if the site is yours, add it "
                    f"anyway: news-monitor feeds add {mask_configured_url(candidate.url)}"
                )
            self.discovery.requests += 1
            response = await self.http.get(
                candidate.url, max_bytes=self.max_bytes, headers={"Accept": _ACCEPT}, guarded=guarded
            )
        except BlockedAddressError as exc:
            if not guarded:  # on the site typed: refused only when it redirected
                return private_redirect(candidate.url, exc.reason)
            refused = _REFUSED.search(exc.reason)
            return f"not followed: it leads to a private address ({refused[0] if refused else exc.reason})"
        except FetchError as exc:
            return exc.reason
        if response.status >= 400:
            return f"HTTP {response.status}"
        content_type = response.headers.get("Content-Type", "")
        try:
            reading = await asyncio.to_thread(
                read_candidate, response.url, response.body, content_type, max_bytes=self.max_bytes
            )
        except FeedError as exc:
            return exc.reason
        self.keep(candidate, response, await self.name_index(response.url, reading))
        return None

    async def name_index(self, url: str, reading: FeedReading) -> FeedReading:
        """A sitemap index has no name of its own: its most recent sitemap's news:name, when it has one
        (one more request, through the address guard: the child's URL is the index's word)."""
        if reading.kind != SITEMAP_INDEX or reading.title or not reading.first_child:
            return reading
        child = reading.first_child
        try:
            if not await self.robots.allows(child):
                return reading
            self.discovery.requests += 1
            feed = await read_children(self.http, url, [child], max_bytes=self.max_bytes)
        except (FetchError, FeedError):
            return reading
        title = feed_items(child, feed)[0]
        return reading if title == mask_configured_url(child) else dataclasses.replace(reading, title=title)

    def keep(self, candidate: Candidate, response: Response, reading: FeedReading) -> None:
        url = response.moved_to or candidate.url
        comments = candidate.about_comments or "comments" in reading.title.lower()
        position = self.seen.get(candidate.url, len(self.seen))
        found = FoundFeed(url, candidate.found, reading, comments, position, response.url)
        self.discovery.feeds.append(found)

    def result(self) -> Discovery:
        self.discovery.feeds = _one_per_final_url(sorted(self.discovery.feeds, key=FoundFeed.rank))
        self.discovery.requests += len(self.robots.cache)
        return self.discovery


def _one_per_final_url(ranked: list[FoundFeed]) -> list[FoundFeed]:
    """`/feed` and `/feed/` are one feed: the best-ranked of its URLs, whichever answered first."""
    kept: dict[str, FoundFeed] = {}
    for feed in ranked:
        kept.setdefault(feed.final_url, feed)
    return list(kept.values())


def _site(url: str) -> str:
    """The origin (scheme, host, port) as the HTTP client reads it; "" when it cannot read it."""
    target = read_target(url)
    return target[0] if target else ""
