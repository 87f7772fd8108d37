"""What a page says about itself: its title, publication time, site name and canonical URL.

The <head>'s own tags come first (read_head_metadata: og:*, article:published_time, the canonical link).
What the head leaves out is searched for as trafilatura does (search_metadata), limited to the fields an
Article keeps: trafilatura's full metadata search also looks for authors, categories, tags and a licence,
which costs more than the whole main-text extraction on some pages (bench/extraction.py), and is run only
when the caller wants the authors.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
    find_date,
)
from trafilatura.settings import Document

# Only dates the page states in its markup: htmldate's extensive search also guesses from body
# text and URLs, which is slower and finds the wrong date more often than none at all.
DATE_OPTIONS: dict[str, Any] = {"original_date": True, "extensive_search": False}

_HEAD_END = re.compile(r"</head\s*>", re.I)
# The head is parsed from pieces of this many characters (head_region): the same tree as from one string
# (checked on the extraction benchmark's 181 pages), without a copy of the head.
_FEED_CHARS = 64 * 1024
# Characters that print as nothing but split words for the matcher: zero-width space and joiners,
# word joiner, byte-order mark, soft hyphen. A regex, not str.translate: translate looks every character
# up in its table, 20x slower on the extraction sets' texts (0.24 ms a page against 0.013).
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\xad]")


@dataclass(frozen=True)
class HeadMetadata:
    """What the page's <head> says about itself, where trafilatura gives no (or a worse) answer."""

    canonical_url: str | None = None
    title: str | None = None
    site_name: str | None = None
    published: datetime | None = None
    page_title: str | None = None  # <title>, and the description: only to check a text is the article
    description: str | None = None

    @property
    def is_complete(self) -> bool:
        """True when the head names the title, publication time and site: nothing left to search for."""
        return bool(self.title and self.published and self.site_name)


def read_head_metadata(html: str, tree: HtmlElement, page_url: str) -> HeadMetadata:
    """Read the canonical URL, og:title, og:site_name and article:published_time."""
    region = head_region(html, tree)
    canonical = link_href(region, "canonical") or meta_content(region, "og:url")
    return HeadMetadata(
        canonical_url=absolute_http_url(canonical, page_url),
        title=meta_content(region, "og:title"),
        site_name=meta_content(region, "og:site_name"),
        published=parse_timestamp(meta_content(region, "article:published_time")),
        page_title=tidy_line(region.findtext(".//title") or "") or None,
        description=meta_content(region, "og:description") or meta_content(region, "description"),
    )


def head_region(html: str, tree: HtmlElement) -> HtmlElement:
    """The page up to its </head>, parsed on its own; without one, the page's whole tree.

    Only what comes before </head> describes the page: a widget in the body may carry another article's
    canonical link, which would make this one its duplicate. Not the tree's <head> element either: a
    stray tag in the head (a tracking pixel's <img>) ends it there for the parser, and the metadata
    after it would be missed. Parsed with lxml: 0.3 ms a page on the extraction benchmark's pages,
    against 1.5 ms with BeautifulSoup, for the same metadata. Fed to the parser in pieces: a hostile
    page's head can be most of the page, and html[:end] would copy it whole (18 MB for a 4.6 MB page
    whose text takes 4 bytes a character).
    """
    head_end = _HEAD_END.search(html)
    if head_end is None:
        return tree
    parser = lxml.html.HTMLParser()
    try:
        for start in range(0, head_end.end(), _FEED_CHARS):
            parser.feed(html[start : min(start + _FEED_CHARS, head_end.end())])
        region = parser.close()
    except (etree.LxmlError, ValueError):  # nothing an HTML parser can read before </head>
        return tree
    return tree if region is None else region


def link_href(region: HtmlElement, rel: str) -> str | None:
    """The href of the first <link> whose rel values include `rel`."""
    for link in region.iter("link"):
        if rel in (link.get("rel") or "").split() and (href := tidy_line(link.get("href") or "")):
            return href
    return None


def meta_content(region: HtmlElement, key: str) -> str | None:
    """The content of the first <meta property=key> or else <meta name=key>; None when absent or blank."""
    for attribute in ("property", "name"):
        if content := first_meta_content(region, attribute, key):
            return content
    return None


def first_meta_content(region: HtmlElement, attribute: str, key: str) -> str | None:
    for meta in region.iter("meta"):
        if meta.get(attribute) == key and (content := meta.get("content")) is not None:
            return tidy_line(content)
    return None


def absolute_http_url(href: str | None, base_url: str) -> str | None:
    """Resolve href against the page URL; None unless the result is an http(s) URL with a host."""
    if not href:
        return None
    try:
        url = urljoin(base_url, href)
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket in the host
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def parse_timestamp(value: str | None) -> datetime | None:
    """Parse an ISO 8601 date or timestamp as aware UTC; one without a zone is taken as UTC."""
    if not value:
        return None
    try:
        stamp = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC)


def search_metadata(tree: HtmlElement, page_url: str, head: HeadMetadata) -> Document:
    """trafilatura's metadata search for the title, date and site name the head does not name.

    The same steps, in the same order, as trafilatura.extract_metadata for these three fields (so the same
    answers: tests/stages/test_page_metadata.py compares them), without its search for authors,
    categories, tags and licence: on the article-extraction benchmark the authors alone cost 2.8 ms a page,
    these three fields together 0.7 ms (all 257 pages of the three extraction sets give the same title,
    date and site name either way).
    """
    document = examine_meta(tree)
    if not (head.title and head.site_name):  # JSON-LD gives trafilatura a title and a site name, no date
        with contextlib.suppress(Exception):  # as in trafilatura: its JSON-LD reader can fail on odd JSON
            document = extract_meta_json(tree, document)
    if not head.title and not document.title:
        document.title = extract_title(tree)
    url = document.url or extract_url(tree, page_url)  # where htmldate looks for a date in the URL
    if not head.published:
        document.date = find_date(tree, url=url, **DATE_OPTIONS)
    if not head.site_name:
        document.sitename = site_name_of(tree, document.sitename, url)
    document.author = None  # what the meta tags name is only part of trafilatura's answer: none, not half
    document.clean_and_trim()
    return document


def site_name_of(tree: HtmlElement, named: str | None, url: str | None) -> str | None:
    """trafilatura's site name: the one the meta tags name, else part of the <title>, else the URL's host."""
    name = named or extract_sitename(tree)
    if not name:
        match = META_URL.match(url) if url else None
        return match[1] if match else None
    name = name.lstrip("@")  # a Twitter handle
    if name and "." not in name and not name[0].isupper():
        return name.title()
    return name


def tidy_line(line: str) -> str:
    """Collapse runs of whitespace (non-breaking spaces included) and drop invisible characters."""
    return " ".join(_INVISIBLE.sub("", line).split())
