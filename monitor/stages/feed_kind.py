"""What a configured feed URL serves, told from its bytes (never from the URL): the kinds poll reads.

A feed `url:` may be RSS (0.9x, 1.0, 2.0), Atom, JSON Feed 1.0/1.1, a sitemap (sitemaps.org `urlset`,
a news sitemap when its URLs carry Google's `news:` extension) or a sitemap index. A web page served
where a feed was expected is an error that says how to find the page's feeds.
"""

from __future__ import annotations

import re
import zlib

from ..errors import FeedError
from ..redact import mask_configured_url
from .xml_guard import root_element_start

RSS = "rss"
ATOM = "atom"
JSON_FEED = "json_feed"
NEWS_SITEMAP = "news_sitemap"
SITEMAP = "sitemap"
SITEMAP_INDEX = "sitemap_index"
HTML = "html"  # not a kind poll reads: the error below
# The one vocabulary: these ids are stored, listed and printed by --json; people read their labels.
KIND_LABELS = {
    RSS: "RSS",
    ATOM: "Atom",
    JSON_FEED: "JSON Feed",
    NEWS_SITEMAP: "news sitemap",
    SITEMAP: "sitemap",
    SITEMAP_INDEX: "sitemap index",
}

_GZIP_MAGIC = b"\x1f\x8b"
_BYTE_ORDER_MARK = b"\xef\xbb\xbf"
_ELEMENT_NAME = re.compile(r"<([\w:.-]+)")
_ROOT_WITH_ATTRIBUTES = re.compile(r"<([\w:.-]+)([^>]{0,2000})")
_ROOT_PEEK_BYTES = 64 * 1024
# An HTML document that is not well-formed enough to have a root element our scan finds (a doctype, then
# text): its first kilobyte names it.
_VERSION = re.compile(r"""\bversion\s*=\s*["']([^"']{1,20})["']""")
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<!doctype\s+html|<html[\s>]", re.I | re.S)


def gunzip_capped(url: str, body: bytes, max_bytes: int) -> bytes:
    """The body, decompressed when it is a gzip file (a `sitemap.xml.gz`), to at most `max_bytes`.

    The HTTP client already undoes a Content-Encoding, with the same cap; this is a file that is itself
    gzip. Decompressed in bounded steps: a bomb (10 MB of zeros in 10 kB) stops at the cap.
    """
    if not body.startswith(_GZIP_MAGIC):
        return body
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, max_bytes + 1)
    except zlib.error as error:
        raise FeedError(url, f"a gzip file that cannot be decompressed ({error})") from error
    if len(data) > max_bytes:
        cap = f"{max_bytes:,} bytes (fetch.max_feed_bytes)"
        raise FeedError(url, f"refused: the gzip file decompresses to more than {cap}")
    return data


def sniff_kind(body: bytes) -> str:
    """The kind the bytes look like: JSON_FEED (JSON), HTML, SITEMAP (a urlset: news or plain is
    told by its URLs), SITEMAP_INDEX, ATOM, else RSS (feedparser then decides what it is)."""
    start = body[:_ROOT_PEEK_BYTES].removeprefix(_BYTE_ORDER_MARK).lstrip()
    if start.startswith((b"{", b"[")):
        return JSON_FEED
    root = _root_name(start)
    if root == "html" or (not root and _HTML_START.search(start[:1024])):
        return HTML
    return {"urlset": SITEMAP, "sitemapindex": SITEMAP_INDEX, "feed": ATOM}.get(root, RSS)


def _root_name(start: bytes) -> str:
    """The root element's local name, lower case ("" when none is found in the first 64 kB)."""
    text = start.decode("utf-8", "replace")
    found = _ELEMENT_NAME.match(text, root_element_start(text))
    return found.group(1).rpartition(":")[2].lower() if found else ""


def kind_label(kind: str | None, version: str = "") -> str:
    """A kind id for people: `RSS 2.0` (with the RSS version when known), `JSON Feed`, `sitemap index`."""
    label = KIND_LABELS.get(kind or "", kind or "unknown")
    return f"{label} {version}" if version and kind == RSS else label


def rss_version(body: bytes) -> str:
    """The RSS version the root element states: `2.0`, `0.91`, `1.0 (RDF)`; "" for any other root."""
    start = body[:_ROOT_PEEK_BYTES].removeprefix(_BYTE_ORDER_MARK).lstrip()
    text = start.decode("utf-8", "replace")
    found = _ROOT_WITH_ATTRIBUTES.match(text, root_element_start(text))
    if found is None:
        return ""
    name = found.group(1).rpartition(":")[2].lower()
    if name == "rdf":
        return "1.0 (RDF)"
    version = _VERSION.search(found.group(2)) if name == "rss" else None
    return version.group(1) if version else ""


def refuse_web_page(url: str, content_type: str) -> FeedError:
    """The error for a web page served where a feed was expected: what was found, and what to run."""
    media_type = content_type.split(";")[0].strip() or "none"
    command = f"news-monitor feeds discover {mask_configured_url(url)}"
    return FeedError(
        url,
        f"the server sent a web page, not a feed (Content-Type: {media_type}): neither RSS, Atom, JSON Feed "
        f"nor a sitemap; to find the feeds it offers, run `{command}`",
    )
