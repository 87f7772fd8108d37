"""robots.txt for article pages, read as RFC 9309 says, cached per site.

Feeds are fetched because the operator configured them; article pages are what a crawler would fetch,
so their site's robots.txt decides. When a page is disallowed, the feed's own summary is used instead.
"""

from __future__ import annotations

import asyncio
import time
import urllib.robotparser
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import FetchError
from .http import HttpClient

# The product token sites use to address this bot in robots.txt ("User-agent: news-monitor").
ROBOTS_AGENT = "news-monitor"
# RFC 9309 §2.4: "crawlers SHOULD NOT use the cached version for more than 24 hours".
CACHE_SECONDS = 24 * 3600
# After a failed fetch (5xx, network) ask again sooner, so one outage does not block a site for a day.
UNREACHABLE_CACHE_SECONDS = 10 * 60
# RFC 9309 §2.5: "crawlers MUST at least parse 500 kibibytes".
MAX_ROBOTS_BYTES = 512 * 1024


@dataclass
class _Rules:
    parser: urllib.robotparser.RobotFileParser | None  # None: allow or disallow everything, see `allow_all`
    allow_all: bool
    expires: float


class RobotsCache:
    """Answers "may we fetch this URL?" from each site's robots.txt, fetched once a day at most."""

    def __init__(self, http: HttpClient, *, agent: str = ROBOTS_AGENT):
        self.http = http
        self.agent = agent
        self._rules: dict[str, _Rules] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}".lower()
        rules = await self._rules_for(site)
        if rules.parser is None:
            return rules.allow_all
        return rules.parser.can_fetch(self.agent, url)

    async def _rules_for(self, site: str) -> _Rules:
        async with self._locks.setdefault(site, asyncio.Lock()):  # one fetch per site, however many pages
            cached = self._rules.get(site)
            if cached is None or cached.expires < time.monotonic():
                cached = self._rules[site] = await self._fetch(site)
            return cached

    async def _fetch(self, site: str) -> _Rules:
        now = time.monotonic()
        try:
            # Unpaced: one small request per site and day, the one crawlers make first; pacing it would
            # add the per-host delay to the first article of every site.
            response = await self.http.get(
                f"{site}/robots.txt", max_bytes=MAX_ROBOTS_BYTES, guarded=True, paced=False
            )
        except FetchError as exc:
            if "too large" in exc.reason:
                return _Rules(None, allow_all=True, expires=now + CACHE_SECONDS)
            # Unreachable: RFC 9309 §2.3.1.4 says assume complete disallow.
            return _Rules(None, allow_all=False, expires=now + UNREACHABLE_CACHE_SECONDS)
        if 400 <= response.status < 500:
            # "Unavailable" (§2.3.1.3): no robots.txt means no restrictions.
            return _Rules(None, allow_all=True, expires=now + CACHE_SECONDS)
        if response.status >= 500:
            return _Rules(None, allow_all=False, expires=now + UNREACHABLE_CACHE_SECONDS)
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(response.body.decode("utf-8", errors="replace").splitlines())
        return _Rules(parser, allow_all=True, expires=now + CACHE_SECONDS)
