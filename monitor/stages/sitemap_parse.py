"""Reading sitemaps (sitemaps.org 0.9) as feeds: a `urlset` gives items, a `sitemapindex` child sitemaps.

A news sitemap (Google's `news:` extension) names each article's title, publication date and outlet:
its items are like a feed's (title, date, source). A plain sitemap gives a URL and its `lastmod`: the
page is fetched and read as for any item. The bytes passed the XML guard first (no entity declarations);
expat reads them as a stream, keeping only the fields used, each capped.
"""

from __future__ import annotations

import xml.parsers.expat
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import FeedError
from .feed_kind import NEWS_SITEMAP, SITEMAP
from .parsed_feed import ParsedEntry, ParsedFeed

NEWS_NAMESPACE = "http://www.google.com/schemas/sitemap-news/0.9"
# <url>, <loc>, <lastmod> count in the sitemap namespace (or none): an image:loc or video:title is another
# thing's. 0.84 is Google's namespace before sitemaps.org, still served by some old generators.
SITEMAP_NAMESPACES = frozenset(
    {"http://www.sitemaps.org/schemas/sitemap/0.9", "http://www.google.com/schemas/sitemap/0.84", ""}
)
# sitemaps.org: "no more than 50,000 URLs"; past that the rest is not read.
MAX_SITEMAP_URLS = 50_000
_MAX_FIELD_CHARS = 4_000  # a URL, title or date longer than this is cut (poll's own caps are smaller)
_FIELDS = {"loc", "lastmod", "title", "publication_date", "name"}
SITEMAP_PARSER = "sitemap"


@dataclass(frozen=True)
class SitemapLink:
    """One <url> of a urlset or <sitemap> of an index, with the fields read from it."""

    loc: str
    lastmod: datetime | None
    title: str = ""  # news:title
    published: datetime | None = None  # news:publication_date
    outlet: str = ""  # news:publication/news:name
    is_news: bool = False


def read_sitemap(url: str, body: bytes) -> tuple[ParsedFeed, str]:
    """A urlset's URLs as feed entries, newest first, and its kind (NEWS_SITEMAP or SITEMAP)."""
    links = read_sitemap_links(url, body, "url")
    is_news = any(link.is_news for link in links)
    entries = tuple(_entry(link) for link in newest_first(links))
    outlet = next((link.outlet for link in links if link.outlet), "")
    return ParsedFeed(outlet, False, entries, None, SITEMAP_PARSER), NEWS_SITEMAP if is_news else SITEMAP


def newest_first(links: list[SitemapLink]) -> list[SitemapLink]:
    """Dated links newest first, then the undated ones in their order (poll keeps the first 1,000)."""
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(links, key=lambda link: link.published or link.lastmod or oldest, reverse=True)


def _entry(link: SitemapLink) -> ParsedEntry:
    return ParsedEntry(
        id=link.loc,
        link=link.loc,
        title=link.title,
        title_is_html=False,
        summary="",
        published=link.published or link.lastmod,
    )


def read_sitemap_links(url: str, body: bytes, element: str) -> list[SitemapLink]:
    """Every `element` (url or sitemap) with a http(s) <loc>, at most MAX_SITEMAP_URLS of them."""
    reader = _SitemapReader(element)
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.text
    try:
        parser.Parse(body, True)
    except xml.parsers.expat.ExpatError as error:
        if not reader.links:
            message = xml.parsers.expat.errors.messages[error.code]
            raise FeedError(url, f"not a valid sitemap ({message}, line {error.lineno})") from error
    except _Enough:
        pass
    return reader.links


class _Enough(Exception):
    """MAX_SITEMAP_URLS were read: the rest is not."""


class _SitemapReader:
    """expat handlers collecting <loc>, <lastmod> and the news: fields of each url (or sitemap)."""

    def __init__(self, element: str):
        self.element = element
        self.links: list[SitemapLink] = []
        self._fields: dict[str, str] | None = None  # inside an `element`: the fields read so far
        self._field: str | None = None
        self._is_news = False

    def start(self, name: str, _attributes: object) -> None:
        namespace, _, local = name.rpartition(" ")
        if local == self.element and namespace in SITEMAP_NAMESPACES and self._fields is None:
            self._fields, self._is_news = {}, False
        elif self._fields is not None and local in _FIELDS:
            news_field = local in ("title", "publication_date", "name")
            if namespace == NEWS_NAMESPACE if news_field else namespace in SITEMAP_NAMESPACES:
                self._field = local
                self._fields[local] = ""
        if namespace == NEWS_NAMESPACE and local == "news":
            self._is_news = True

    def text(self, data: str) -> None:
        if self._fields is not None and self._field is not None:
            value = self._fields[self._field]
            if len(value) < _MAX_FIELD_CHARS:
                self._fields[self._field] = value + data[: _MAX_FIELD_CHARS - len(value)]

    def end(self, name: str) -> None:
        namespace, _, local = name.rpartition(" ")
        self._field = None
        if local != self.element or namespace not in SITEMAP_NAMESPACES or self._fields is None:
            return
        fields, self._fields = self._fields, None
        loc = fields.get("loc", "").strip()
        if loc.lower().startswith(("http://", "https://")):
            self.links.append(_link(loc, fields, self._is_news))
        if len(self.links) >= MAX_SITEMAP_URLS:
            raise _Enough


def _link(loc: str, fields: dict[str, str], is_news: bool) -> SitemapLink:
    return SitemapLink(
        loc=loc,
        lastmod=w3c_datetime(fields.get("lastmod", "")),
        title=" ".join(fields.get("title", "").split()),
        published=w3c_datetime(fields.get("publication_date", "")),
        outlet=" ".join(fields.get("name", "").split()),
        is_news=is_news,
    )


def w3c_datetime(value: str) -> datetime | None:
    """A W3C Datetime (`2008-12-29`, `2008-12-29T02:30:00+00:00`, `…Z`) in UTC; None when unreadable.

    A date alone, or a time without a zone, is read as UTC.
    """
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)
