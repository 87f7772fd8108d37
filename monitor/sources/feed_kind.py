"""What a candidate feed is, read from its bytes: its kind, title, item count and newest item's date.

The poll stage reads it (read_source: the xml guard, size caps, both parse paths, JSON Feed and
sitemaps; gunzip_capped for a `sitemap.xml.gz` served as a file, without Content-Encoding), so discovery
accepts exactly what polling will read. `sniff_kind` names the kind for people
("RSS 2.0", "news sitemap") from the document's start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ..stages.feed_kind import gunzip_capped
from ..stages.poll import parse_headers, read_source
from ..stages.xml_guard import root_element_start

RSS = "RSS"
ATOM = "Atom"
RDF = "RSS 1.0 (RDF)"
JSON_FEED = "JSON Feed"
NEWS_SITEMAP = "news sitemap"
SITEMAP = "sitemap"
SITEMAP_INDEX = "sitemap index"
WEB_PAGE = "web page"

# The root element comes after the prolog (an XML declaration, comments, a stylesheet PI).
_PEEK_BYTES = 4096
_ROOT = re.compile(r"<([A-Za-z_][\w.:-]*)([^>]*)>?")
_VERSION = re.compile(r"""\bversion\s*=\s*["']([^"']+)["']""")
_JSON_FEED_VERSION = re.compile(rb'"version"\s*:\s*"https?://jsonfeed\.org/version/')
_NEWS_NAMESPACE = "http://www.google.com/schemas/sitemap-news/0.9"


@dataclass(frozen=True)
class FeedReading:
    kind: str
    title: str
    items: int
    newest: datetime | None
    problem: str | None = None  # malformed, read anyway


def read_candidate(url: str, body: bytes, content_type: str, *, max_bytes: int) -> FeedReading:
    """The candidate read as the poll stage reads it; FeedError when it is no feed (the reason says why).

    A gzip file is decompressed first, to at most `max_bytes` (a bomb is refused at the cap). A sitemap
    index has no items of its own (a poll reads its most recent sitemaps): its note says so.
    """
    body = gunzip_capped(url, body, max_bytes)
    title, items, problem, kind = read_source(url, body, parse_headers(content_type, url))
    dates = [item.published for item in items if item.published is not None]
    return FeedReading(sniff_kind(body) or kind, title, len(items), max(dates, default=None), problem)


def sniff_kind(body: bytes) -> str | None:
    """`RSS 2.0`, `Atom`, `JSON Feed`, `news sitemap`, ...: what the document's start says it is."""
    start = body[:_PEEK_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"{"):
        return JSON_FEED if _JSON_FEED_VERSION.search(start) else None
    text = start.decode("utf-8", "replace")
    root = _ROOT.match(text, root_element_start(text))
    if root is None:
        return None
    name, attributes = root.group(1).rpartition(":")[2].lower(), root.group(2)
    if name == "rss":
        version = _VERSION.search(attributes)
        return f"{RSS} {version.group(1)}" if version else RSS
    if name == "urlset":
        return NEWS_SITEMAP if _NEWS_NAMESPACE in attributes else SITEMAP
    kinds = {"feed": ATOM, "rdf": RDF, "sitemapindex": SITEMAP_INDEX, "html": WEB_PAGE}
    return kinds.get(name)
