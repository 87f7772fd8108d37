"""What a candidate feed is, read from its bytes: its kind, title, item count and newest item's date.

The poll stage reads it (read_source: the xml guard, size caps, both parse paths, JSON Feed and
sitemaps; gunzip_capped for a `sitemap.xml.gz` served as a file, without Content-Encoding), so discovery
and `check --online` accept exactly what polling will read, and name it with the kinds poll stores
(stages/feed_kind.py: `rss`, `json_feed`, ...; `kind_label` says them for people).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..redact import mask_configured_url
from ..stages.feed_kind import RSS, SITEMAP_INDEX, gunzip_capped, rss_version
from ..stages.poll import parse_headers, read_source
from ..stages.sitemap_parse import newest_first, read_sitemap_links


@dataclass(frozen=True)
class FeedReading:
    kind: str  # a kind id of stages/feed_kind.py
    title: str  # "" when the feed gives none
    items: int
    newest: datetime | None  # a sitemap index: its most recent sitemap's <lastmod>
    problem: str | None = None  # malformed, read anyway
    version: str = ""  # RSS: the version its root element states (`2.0`)
    children: int = 0  # a sitemap index: the sitemaps it lists (a poll reads the most recent ones)
    first_child: str = ""  # a sitemap index: its most recent sitemap


def read_candidate(url: str, body: bytes, content_type: str, *, max_bytes: int) -> FeedReading:
    """The candidate read as the poll stage reads it; FeedError when it is no feed (the reason says why).

    A gzip file is decompressed first, to at most `max_bytes` (a bomb is refused at the cap). A sitemap
    index has no items of its own: a well-formed one is read as its children (how many, the newest).
    """
    body = gunzip_capped(url, body, max_bytes)
    title, items, problem, kind = read_source(url, body, parse_headers(content_type, url))
    title = "" if title == mask_configured_url(url) else title  # read_source names it by its URL
    if kind == SITEMAP_INDEX:
        children = newest_first(read_sitemap_links(url, body, "sitemap"))  # read_source checked: not empty
        newest, first = children[0].lastmod, children[0].loc
        return FeedReading(kind, title, 0, newest, problem, children=len(children), first_child=first)
    dates = [item.published for item in items if item.published is not None]
    version = rss_version(body) if kind == RSS else ""
    return FeedReading(kind, title, len(items), max(dates, default=None), problem, version)
