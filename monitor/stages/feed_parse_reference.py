"""The reference path: feedparser, bounded so a hostile feed cannot hold a poll for long."""

from __future__ import annotations

import calendar
import io
import xml.sax
from datetime import UTC, datetime
from typing import Any

import feedparser

from ..errors import FeedError
from .feed_kind import refuse_web_page
from .parsed_feed import FEEDPARSER, ParsedEntry, ParsedFeed

# feedparser's loose parser (pure-Python sgmllib) reads what its strict parser refused, at up to 4.5 us
# a character on tag-dense input: a malformed 10 MB feed cost 40 s on every poll (issue 12). It reads
# at most this much, 4-5 s in the worst case measured. A feed lists its newest items first, so cutting
# keeps those; `problem` says that the rest was not read. Bounding it this way holds whether or not
# the body changes between polls (remembering the hash of a slow body would not: a feed that changes
# every poll, as a hostile one can, would be parsed in full each time).
LOOSE_PARSER_MAX_CHARS = 1_000_000


class _BoundedLooseFeedParser(feedparser.api.LooseFeedParser):
    """feedparser's loose parser, fed at most LOOSE_PARSER_MAX_CHARS characters."""

    def feed(self, data: str) -> None:
        super().feed(data[:LOOSE_PARSER_MAX_CHARS])


# Its strict parser is pure Python too, about 15 us an element: a well-formed 10 MB feed of tags (one
# not in UTF-8, say, which the fast path leaves to feedparser) took 25 s. Past this many elements (a
# full 1,000-item feed at 100 elements an item; real items have 10-50) the rest is skipped as expat
# reads it, at about 1.5 us an element (10 MB: 4.4 s in all); what was read before stays.
STRICT_PARSER_MAX_ELEMENTS = 100_000
_BOUNDED = "monitor bounded"  # a key of the parsed feed no element can make (it holds a space)


class _BoundedStrictFeedParser(feedparser.api.StrictFeedParser):
    """feedparser's strict parser, reading the first STRICT_PARSER_MAX_ELEMENTS elements only."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._elements = 0
        self._skipping = 0  # depth of the elements being skipped

    def startElementNS(self, name: Any, qname: Any, attrs: Any) -> None:
        self._elements += 1
        if self._skipping or self._elements > STRICT_PARSER_MAX_ELEMENTS:
            self._skipping += 1
            self.feeddata[_BOUNDED] = True
            return
        super().startElementNS(name, qname, attrs)

    def endElementNS(self, name: Any, qname: Any) -> None:
        if self._skipping:
            self._skipping -= 1
            return
        super().endElementNS(name, qname)

    def characters(self, text: str) -> None:
        if not self._skipping:
            super().characters(text)


# feedparser.parse creates its parsers by these module-level names, at the time of the call.
feedparser.api.LooseFeedParser = _BoundedLooseFeedParser
feedparser.api.StrictFeedParser = _BoundedStrictFeedParser


def read_with_feedparser(url: str, body: bytes, headers: dict[str, str]) -> ParsedFeed:
    """The feed as feedparser reads it; FeedError when it is not a feed at all."""
    try:
        # A stream, not the bytes themselves: feedparser opens bytes that name a file ("/dev/zero").
        # sanitize_html=False: we never render feed HTML (html_to_text keeps only text), and feedparser's
        # sanitiser costs about 1 µs per byte, ~9 s for a 10 MB feed.
        parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False)
    except Exception as error:  # e.g. UnicodeError for charset=punycode: the feed's fault, not the cycle's
        raise FeedError(url, f"not a valid RSS/Atom feed (feedparser failed: {error!r})") from error
    problem = _problem_of(parsed)
    if isinstance(parsed.get("bozo_exception"), xml.sax.SAXException) and len(body) > LOOSE_PARSER_MAX_CHARS:
        problem = f"{problem}; only its first {LOOSE_PARSER_MAX_CHARS:,} characters were read"
    elif parsed.feed.pop(_BOUNDED, False):
        problem = f"only its first {STRICT_PARSER_MAX_ELEMENTS:,} elements were read"
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        content_type = headers.get("content-type", "").split(";")[0].strip()
        if content_type in ("text/html", "application/xhtml+xml"):
            raise refuse_web_page(url, content_type)
        raise FeedError(url, f"not a valid RSS/Atom feed ({problem or 'no RSS or Atom content'})")
    title, title_is_html = _text_construct(parsed.feed, "title")
    entries = tuple(_feedparser_entry(entry) for entry in parsed.entries)
    return ParsedFeed(title, title_is_html, entries, problem, FEEDPARSER)


def _problem_of(parsed: Any) -> str | None:
    """Why feedparser flagged the feed, unless the flag is harmless: a good feed served as text/html is
    common, and warning about it on every poll would only teach people to ignore the warnings."""
    if not parsed.bozo:
        return None
    error = parsed.get("bozo_exception")
    if isinstance(error, feedparser.NonXMLContentType) and parsed.entries:
        return None
    return str(error or "malformed")


def _feedparser_entry(entry: Any) -> ParsedEntry:
    title, title_is_html = _text_construct(entry, "title")
    contents = entry.get("content") or []
    return ParsedEntry(
        id=entry.get("id") or "",
        link=entry.get("link") or "",
        title=title,
        title_is_html=title_is_html,
        summary=entry.get("summary") or (contents[0].get("value", "") if contents else ""),
        published=_feedparser_date(entry),
    )


def _text_construct(element: Any, key: str) -> tuple[str, bool]:
    detail = element.get(f"{key}_detail") or {}
    is_html = detail.get("type", "text/plain") in ("text/html", "application/xhtml+xml")
    return element.get(key, "") or "", is_html


def _feedparser_date(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # The plain dict lookup: FeedParserDict maps a missing `updated_parsed` to `published_parsed` with a
        # DeprecationWarning (its issue 310); that one was tried first anyway.
        value = dict.get(entry, key)
        if value:
            # feedparser gives UTC struct_time; timegm reads it as UTC (mktime would apply local time).
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return None
