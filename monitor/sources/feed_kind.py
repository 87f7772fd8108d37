"""What a candidate feed is, read from its bytes: its kind, title, item count and newest item's date.

The poll stage's parser reads it (parse_feed: the xml guard, size caps, both parse paths), so discovery
accepts exactly what polling will read. The kind is named from the root element (`sniff_kind`); JSON
Feed and sitemaps, which the poll stage does not read yet, are read here by `read_by_sniffing`, a small
stand-in for the poll stage's own readers: once parse_feed reads them, it goes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from ..errors import FeedError
from ..libxml import one_parse_at_a_time
from ..stages.poll import parse_feed, parse_headers
from ..stages.xml_guard import refuse_entity_declarations, root_element_start

RSS = "RSS"
ATOM = "Atom"
RDF = "RSS 1.0 (RDF)"
JSON_FEED = "JSON Feed"
NEWS_SITEMAP = "news sitemap"
SITEMAP = "sitemap"
SITEMAP_INDEX = "sitemap index"
WEB_PAGE = "web page"
# Kinds read here when parse_feed refuses them.
SNIFFED_ONLY = frozenset({JSON_FEED, NEWS_SITEMAP, SITEMAP, SITEMAP_INDEX})

# The root element comes after the prolog (an XML declaration, comments, a stylesheet PI).
_PEEK_BYTES = 4096
_ROOT = re.compile(r"<([A-Za-z_][\w.:-]*)([^>]*)>?")
_VERSION = re.compile(r"""\bversion\s*=\s*["']([^"']+)["']""")
_JSON_FEED_VERSION = re.compile(rb'"version"\s*:\s*"https?://jsonfeed\.org/version/')
_NEWS_NAMESPACE = "http://www.google.com/schemas/sitemap-news/0.9"
_SITEMAP_NAMESPACE = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
_NEWS = "{" + _NEWS_NAMESPACE + "}"


@dataclass(frozen=True)
class FeedReading:
    kind: str
    title: str
    items: int
    newest: datetime | None
    problem: str | None = None  # malformed, read anyway


def read_candidate(url: str, body: bytes, content_type: str) -> FeedReading:
    """The candidate read as the poll stage reads it; FeedError when it is no feed (the reason says why)."""
    kind = sniff_kind(body)
    try:
        title, items, problem = parse_feed(url, body, parse_headers(content_type, url))
    except FeedError:
        if kind in SNIFFED_ONLY:
            return read_by_sniffing(url, body, kind)
        raise
    dates = [item.published for item in items if item.published is not None]
    return FeedReading(kind or "feed", title, len(items), max(dates, default=None), problem)


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


def read_by_sniffing(url: str, body: bytes, kind: str) -> FeedReading:
    """A JSON Feed or sitemap's title, item count and newest date; FeedError when it cannot be read."""
    if kind == JSON_FEED:
        return _read_json_feed(url, body)
    refuse_entity_declarations(url, body)
    return _read_sitemap(url, body, kind)


def _read_json_feed(url: str, body: bytes) -> FeedReading:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise FeedError(url, f"not a valid JSON Feed ({exc.__class__.__name__})") from None
    items = document.get("items") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise FeedError(url, "not a valid JSON Feed (no `items` list)")
    dates = [
        _date(item.get("date_published") or item.get("date_modified"))
        for item in items
        if isinstance(item, dict)
    ]
    title = document.get("title")
    return FeedReading(JSON_FEED, str(title) if title else "", len(items), _newest(dates))


@one_parse_at_a_time
def _read_sitemap(url: str, body: bytes, kind: str) -> FeedReading:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise FeedError(url, f"not a valid sitemap ({exc})") from None
    entries = root.findall(f"{_SITEMAP_NAMESPACE}{'sitemap' if kind == SITEMAP_INDEX else 'url'}")
    dates = [
        _date(
            entry.findtext(f"{_NEWS}news/{_NEWS}publication_date")
            or entry.findtext(f"{_SITEMAP_NAMESPACE}lastmod")
        )
        for entry in entries
    ]
    name = root.findtext(f"{_SITEMAP_NAMESPACE}url/{_NEWS}news/{_NEWS}publication/{_NEWS}name") or ""
    return FeedReading(kind, name.strip(), len(entries), _newest(dates))


def _date(value: object) -> datetime | None:
    """A W3C / RFC 3339 date (`2026-01-05`, `2026-01-05T10:00:00Z`) in UTC; None when unreadable."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _newest(dates: list[datetime | None]) -> datetime | None:
    return max((date for date in dates if date is not None), default=None)
