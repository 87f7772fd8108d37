"""robots.txt for article pages, read as RFC 9309 says, cached per site.

Feeds are fetched because the operator configured them; article pages are what a crawler would fetch,
so their site's robots.txt decides. When a page is disallowed, the feed's own summary is used instead.

Hostile input: a feed names the pages, so it also names the sites and how many there are.
- A site is its scheme, host and port as the HTTP library reads the URL (yarl: user info dropped, host
  lower-cased and IDNA-folded, default port left out), so `http://u1@host/` and `http://u2@HOST:80/`
  share one robots.txt instead of costing a fetch and a parse each.
- Only the rules of the group that applies to us are kept, as (pattern, allowed) pairs: a 512 KiB
  robots.txt is at most ~60,000 rules, a few MB. The cache holds at most MAX_CACHED_SITES sites and
  MAX_CACHED_BYTES of rules, the least recently used going first.
- Reading a robots.txt is done in a thread, and so is checking a URL that may take more than
  RULES_CHECKED_ON_LOOP steps (SiteRules.work): neither blocks the event loop, whatever the file holds.
  Plain rules cost one dict lookup per distinct length; a site with more than MAX_WILDCARD_RULES
  wildcard rules for us is taken as disallowing everything.
Why not a library: urllib.robotparser keeps every group of the file (4.4 MB for 512 KiB) and checks
a URL in 5-9 ms; protego (0.7) copies every rule into each user-agent line's rule set, so 10,000
`User-agent:` lines followed by 2,000 rules (212 kB) took 56 s and 1.4 GB to parse, and its check
against 29,000 wildcard rules takes 18 ms.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections import OrderedDict
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from yarl import URL

from ..errors import BlockedAddressError, FetchError
from .client import HttpClient

# The product token sites use to address this bot in robots.txt ("User-agent: news-monitor").
ROBOTS_AGENT = "news-monitor"
# RFC 9309 §2.4: "crawlers SHOULD NOT use the cached version for more than 24 hours".
CACHE_SECONDS = 24 * 3600
# After a failed fetch (5xx, network) ask again sooner, so one outage does not block a site for a day.
UNREACHABLE_CACHE_SECONDS = 10 * 60
# RFC 9309 §2.5: "crawlers MUST at least parse 500 kibibytes".
MAX_ROBOTS_BYTES = 512 * 1024
# A feed's 1,000 items rarely name more than a few dozen sites; a site dropped from the cache costs one
# more small request. 32 MB holds ten of the largest rule sets a 512 KiB file can make (~3 MB each) and
# thousands of ordinary ones (a few kB).
MAX_CACHED_SITES = 1_000
MAX_CACHED_BYTES = 32 * 1024 * 1024
# A check costs ~0.2 us a step (SiteRules.work): a few hundred are cheaper here than a thread hop.
RULES_CHECKED_ON_LOOP = 300
# Rules with `*` or `$` are tried one by one (~1 us each); real sites have a few dozen. A site with more
# than this many for us is taken as disallowing everything (its articles use the feed's summary) rather
# than costing tens of milliseconds of CPU per article: 24,000 such rules fit in 512 KiB.
MAX_WILDCARD_RULES = 2_000
# `Sitemap:` lines kept per site (feed discovery reads them): news sites list a few, some hundreds.
MAX_SITEMAP_LINES = 50

# How RFC 9309 and the parsers crawlers use (Google's, protego) spell the three records that matter.
_USER_AGENT_KEYS = frozenset({"user-agent", "useragent", "user agent"})
_ALLOW_KEYS = frozenset({"allow"})
_DISALLOW_KEYS = frozenset({"disallow", "dissallow", "dissalow", "disalow", "diasllow", "disallaw"})
_SITEMAP_KEYS = frozenset({"sitemap", "site-map"})
# RFC 9309 §2.2.1: the product token is letters, "_" and "-"; "news-monitor/1.0" names us too.
_PRODUCT_TOKEN = re.compile(r"[A-Za-z_-]+")
# Everything printable in ASCII stays as written (so `*`, `$` and existing %XX escapes keep their
# meaning); anything else is percent-encoded, so patterns and URLs compare as octets (§2.2.2).
_LEFT_AS_WRITTEN = "".join(chr(code) for code in range(0x21, 0x7F))
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")


@dataclass(frozen=True)
class SiteRules:
    """The rules of one site's robots.txt that apply to us; none: allow all.

    Plain rules (a path prefix) are looked up by the target's prefixes of their lengths, so a long
    `Disallow:` list costs a few dict lookups a URL; only rules with `*` or a final `$` are tried one by one.
    """

    plain: dict[str, bool]  # pattern -> allowed (an allow wins over a disallow of the same path)
    wildcards: tuple[tuple[str, bool], ...]  # (pattern, allowed), longest first, an allow before a disallow
    expires: float  # time.monotonic() after which the site's robots.txt is asked again
    disallow_all: bool = False  # the site could not be reached (RFC 9309 §2.3.1.4)
    # The `Sitemap:` lines (RFC 9309 §2.2.4: outside the groups, for every crawler), as written.
    sitemaps: tuple[str, ...] = ()
    plain_lengths: tuple[int, ...] = field(init=False)  # longest first
    size: int = field(init=False)  # bytes the rules take, for the cache's bound

    def __post_init__(self) -> None:
        object.__setattr__(self, "plain_lengths", tuple(sorted(set(map(len, self.plain)), reverse=True)))
        patterns = sum(sys.getsizeof(pattern) for pattern in self.plain)
        patterns += sum(sys.getsizeof(rule) + sys.getsizeof(rule[0]) for rule in self.wildcards)
        patterns += sys.getsizeof(self.sitemaps) + sum(map(sys.getsizeof, self.sitemaps))
        containers = sys.getsizeof(self.plain) + sys.getsizeof(self.wildcards) + sys.getsizeof(self)
        object.__setattr__(self, "size", containers + sys.getsizeof(self.plain_lengths) + patterns)

    @property
    def work(self) -> int:
        """Steps a check may take: one per plain rule length and per wildcard rule."""
        return len(self.plain_lengths) + len(self.wildcards)

    def allows(self, target: str) -> bool:
        """May the path and query `target` (as read_target gives it) be fetched?"""
        if self.disallow_all:
            return False
        longest, allowed = -1, True  # the most specific match wins; an allow wins a tie (§2.2.2)
        for length in self.plain_lengths:
            if length <= len(target) and (found := self.plain.get(target[:length])) is not None:
                longest, allowed = length, found
                break
        for pattern, pattern_allowed in self.wildcards:
            if len(pattern) < longest or (len(pattern) == longest and allowed):
                break  # no rule left can be more specific than the plain one found
            if pattern_matches(pattern, target):
                return pattern_allowed or (len(pattern) == longest and allowed)
        return allowed


def read_site_rules(body: bytes, agent: str, expires: float) -> SiteRules:
    """The rules of the groups that name `agent`, else of the `*` groups (RFC 9309 §2.2.1), in one pass."""
    own: list[tuple[str, bool]] = []
    everyone: list[tuple[str, bool]] = []
    sitemaps: list[str] = []
    names_us = names_everyone = named_anywhere = False
    in_rules = False  # a rule came after the group's user-agent lines: the next one starts a group
    for line in body.decode("utf-8", errors="replace").splitlines():
        key, colon, value = line.partition("#")[0].partition(":")
        key, value = key.strip().lower(), value.strip()
        if not colon:
            continue
        if key in _SITEMAP_KEYS:
            if value and len(sitemaps) < MAX_SITEMAP_LINES:
                sitemaps.append(value)
        elif key in _USER_AGENT_KEYS:
            if in_rules:
                names_us = names_everyone = in_rules = False
            token = _PRODUCT_TOKEN.match(value)
            names_everyone |= value == "*"
            names_us |= token is not None and token.group().lower() == agent
            named_anywhere |= names_us
        elif key in _ALLOW_KEYS or key in _DISALLOW_KEYS:
            in_rules = True
            if value and (names_us or names_everyone):  # "Disallow:" with no path allows everything
                rule = (encode_octets(value), key in _ALLOW_KEYS)
                (own if names_us else everyone).append(rule)
    return _site_rules(own if named_anywhere else everyone, expires, tuple(sitemaps))


def _site_rules(rules: list[tuple[str, bool]], expires: float, sitemaps: tuple[str, ...] = ()) -> SiteRules:
    plain: dict[str, bool] = {}
    wildcards: set[tuple[str, bool]] = set()
    for pattern, allowed in rules:
        if "*" in pattern or pattern.endswith("$"):
            wildcards.add((pattern, allowed))
        else:
            plain[pattern] = allowed or plain.get(pattern, False)
    if len(wildcards) > MAX_WILDCARD_RULES:
        return SiteRules({}, (), expires, disallow_all=True, sitemaps=sitemaps)
    ordered = sorted(wildcards, key=lambda rule: (len(rule[0]), rule[1]), reverse=True)
    return SiteRules(plain, tuple(ordered), expires, sitemaps=sitemaps)


def pattern_matches(pattern: str, target: str) -> bool:
    """RFC 9309 §2.2.3: `*` matches any characters, a final `$` the end; otherwise a prefix match."""
    anchored = pattern.endswith("$")
    if anchored:
        pattern = pattern[:-1]
    if "*" not in pattern:
        return target == pattern if anchored else target.startswith(pattern)
    first, *middle, last = pattern.split("*")
    if not target.startswith(first):
        return False
    position = len(first)
    for part in middle:  # the leftmost place of each part leaves the most room to the rest
        found = target.find(part, position)
        if found == -1:
            return False
        position = found + len(part)
    if anchored:
        return len(target) - len(last) >= position and target.endswith(last)
    return target.find(last, position) != -1


def encode_octets(text: str) -> str:
    """`text` with non-ASCII, space and control characters percent-encoded, escapes in upper case."""
    if not text.isascii() or not text.isprintable() or " " in text:
        text = quote(text, safe=_LEFT_AS_WRITTEN)
    return _ESCAPE.sub(lambda escape: escape.group().upper(), text) if "%" in text else text


def read_target(url: str) -> tuple[str, str] | None:
    """The URL's site (`scheme://host[:port]`, as aiohttp will connect to it) and its path and query;
    None when the HTTP library cannot read it as an absolute URL."""
    try:
        parsed = URL(url)
        site = str(parsed.origin())
    except (ValueError, TypeError):
        return None
    return site, encode_octets(parsed.raw_path_qs or "/")


class SiteRulesCache:
    """Sites' rules, least recently used first, bounded in sites and in the bytes of their rules."""

    def __init__(self, max_sites: int = MAX_CACHED_SITES, max_bytes: int = MAX_CACHED_BYTES):
        self.max_sites = max_sites
        self.max_bytes = max_bytes
        self.bytes = 0
        self._sites: OrderedDict[str, SiteRules] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sites)

    def get(self, site: str) -> SiteRules | None:
        """The site's rules unless missing or expired."""
        rules = self._sites.get(site)
        if rules is None or rules.expires < time.monotonic():
            return None
        self._sites.move_to_end(site)
        return rules

    def put(self, site: str, rules: SiteRules) -> None:
        self._forget(site)
        self._sites[site] = rules
        self.bytes += rules.size
        while len(self._sites) > self.max_sites or (self.bytes > self.max_bytes and len(self._sites) > 1):
            self._forget(next(iter(self._sites)))

    def _forget(self, site: str) -> None:
        rules = self._sites.pop(site, None)
        if rules is not None:
            self.bytes -= rules.size


class RobotsCache:
    """Answers "may we fetch this URL?" from each site's robots.txt, fetched once a day at most."""

    def __init__(
        self,
        http: HttpClient,
        *,
        agent: str = ROBOTS_AGENT,
        max_sites: int = MAX_CACHED_SITES,
        max_bytes: int = MAX_CACHED_BYTES,
        trusted_sites: frozenset[str] = frozenset(),
    ):
        self.http = http
        self.agent = agent
        # Sites (as read_target names them) the operator chose, whose robots.txt is fetched as a
        # configured feed is (feed discovery from a URL the operator typed); every other site's is guarded.
        self.trusted_sites = trusted_sites
        self.cache = SiteRulesCache(max_sites, max_bytes)
        # One fetch per site however many pages wait for it; an entry lives only while its fetch runs.
        self._fetching: dict[str, asyncio.Future[SiteRules]] = {}

    async def allows(self, url: str, *, then: AbstractAsyncContextManager[Any] | None = None) -> bool:
        """Whether robots.txt lets us fetch `url`; `then`: the caller's shared slot, held for the
        robots.txt request if one is made (so robots.txt requests are shared out like page fetches)."""
        target = read_target(url)
        if target is None:
            return True  # not a URL the HTTP client can fetch either: the fetch reports why
        site, path = target
        rules = await self._rules_for(site, then)
        if rules.work > RULES_CHECKED_ON_LOOP:
            return await asyncio.to_thread(rules.allows, path)
        return rules.allows(path)

    async def sitemaps(self, url: str) -> tuple[str, ...]:
        """The `Sitemap:` lines of the robots.txt of `url`'s site."""
        target = read_target(url)
        return (await self._rules_for(target[0], None)).sitemaps if target else ()

    async def _rules_for(self, site: str, then: AbstractAsyncContextManager[Any] | None) -> SiteRules:
        cached = self.cache.get(site)
        if cached is not None:
            return cached
        fetching = self._fetching.get(site)
        if fetching is None:
            fetching = self._fetching[site] = asyncio.ensure_future(self._fetch_and_keep(site, then))
        # Shielded: one waiter cancelled (its poll stopped) must not cancel the others' fetch.
        return await asyncio.shield(fetching)

    async def _fetch_and_keep(self, site: str, then: AbstractAsyncContextManager[Any] | None) -> SiteRules:
        try:
            rules = await self._fetch(site, then)
            self.cache.put(site, rules)
            return rules
        finally:
            del self._fetching[site]

    async def _fetch(self, site: str, then: AbstractAsyncContextManager[Any] | None = None) -> SiteRules:
        now = time.monotonic()
        try:
            # Unpaced: one small request per site and day, the one crawlers make first; pacing it would
            # add the per-host delay to the first article of every site.
            response = await self.http.get(
                f"{site}/robots.txt",
                max_bytes=MAX_ROBOTS_BYTES,
                guarded=site not in self.trusted_sites,
                paced=False,
                then=then,
            )
        except BlockedAddressError:
            raise  # the site itself may not be reached: say so, not "disallowed by robots.txt"
        except FetchError as exc:
            if "too large" in exc.reason:
                return SiteRules({}, (), now + CACHE_SECONDS)
            # Unreachable: RFC 9309 §2.3.1.4 says assume complete disallow.
            return SiteRules({}, (), now + UNREACHABLE_CACHE_SECONDS, disallow_all=True)
        if 400 <= response.status < 500:
            # "Unavailable" (§2.3.1.3): no robots.txt means no restrictions.
            return SiteRules({}, (), now + CACHE_SECONDS)
        if response.status >= 500:
            return SiteRules({}, (), now + UNREACHABLE_CACHE_SECONDS, disallow_all=True)
        # Up to 512 KiB of lines: parsed in a thread, so the event loop keeps fetching meanwhile.
        return await asyncio.to_thread(read_site_rules, response.body, self.agent, now + CACHE_SECONDS)
