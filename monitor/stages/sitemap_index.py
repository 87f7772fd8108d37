"""Following a sitemap index: its most recent child sitemaps, read as one feed.

Bounded: at most MAX_CHILD_SITEMAPS children (the newest by <lastmod>, else the first listed), each at
most fetch.max_feed_bytes downloaded and decompressed (a child may be a `.xml.gz`), one level deep (a
child that is itself an index is not followed). A child's URL is the index's word, a stranger's: it is
fetched through the HTTP client's address guard like an article link, never as a configured feed.
"""

from __future__ import annotations

from ..errors import FeedError, FetchError
from ..http.client import HttpClient
from ..redact import mask_url
from .feed_kind import SITEMAP, SITEMAP_INDEX, gunzip_capped, sniff_kind
from .parsed_feed import ParsedEntry, ParsedFeed
from .sitemap_parse import SITEMAP_PARSER, newest_first, read_sitemap, read_sitemap_links
from .xml_guard import refuse_entity_declarations

# A news site's index lists one sitemap per day or per section; the newest few hold the news of the
# last two days (Google's rule for news sitemaps). More would be a crawl, not a poll.
MAX_CHILD_SITEMAPS = 3
_SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, application/gzip;q=0.8, */*;q=0.5"


def recent_children(url: str, body: bytes) -> list[str]:
    """The index's child sitemaps to read: the MAX_CHILD_SITEMAPS most recent ones."""
    children = read_sitemap_links(url, body, "sitemap")
    if not children:
        raise FeedError(url, "a sitemap index that lists no sitemap")
    return [child.loc for child in newest_first(children)[:MAX_CHILD_SITEMAPS]]


async def read_children(http: HttpClient, url: str, children: list[str], *, max_bytes: int) -> ParsedFeed:
    """The children's items as one feed; FeedError when none of them could be read.

    A child that fails (an HTTP error, a private address, a gzip bomb, not a sitemap) is named in the
    feed's `problem`; the others are still read.
    """
    read: list[ParsedFeed] = []
    failures: list[str] = []
    for child in children:
        try:
            read.append(await _read_child(http, child, max_bytes))
        except (FetchError, FeedError) as error:
            failures.append(f"child sitemap {mask_url(child)}: {error.reason}")
    if not read:
        recent = f"{len(children)} most recent sitemaps"
        raise FeedError(url, f"none of the sitemap index's {recent} could be read: {failures[0]}")
    entries: tuple[ParsedEntry, ...] = tuple(entry for feed in read for entry in feed.entries)
    title = next((feed.title for feed in read if feed.title), "")
    problem = "; ".join(failures) or None
    return ParsedFeed(title, False, entries, problem, SITEMAP_PARSER)


async def _read_child(http: HttpClient, child: str, max_bytes: int) -> ParsedFeed:
    response = await http.get(
        child, max_bytes=max_bytes, headers={"Accept": _SITEMAP_ACCEPT}, guarded=True, feed=True
    )
    response.raise_for_status()
    body = gunzip_capped(child, response.body, max_bytes)
    kind = sniff_kind(body)
    if kind == SITEMAP_INDEX:
        raise FeedError(child, "a sitemap index inside a sitemap index (only one level is followed)")
    if kind != SITEMAP:
        raise FeedError(child, "not a sitemap (no <urlset>)")
    refuse_entity_declarations(child, body, response.headers.get("Content-Type", ""))
    return read_sitemap(child, body)[0]
