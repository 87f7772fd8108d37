"""Reading JSON Feed 1.0 and 1.1 (https://www.jsonfeed.org/version/1.1/) into the records feedparser's
readings use. feedparser 6.0 reads no JSON, so the standard library's json does, on bytes poll already
capped (fetch.max_feed_bytes); a nesting too deep for the parser is the feed's error, not the cycle's.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from ..errors import FeedError
from .parsed_feed import ParsedEntry, ParsedFeed

JSON_FEED_PARSER = "json"
_VERSION_PREFIXES = ("https://jsonfeed.org/version/1", "http://jsonfeed.org/version/1")


def read_json_feed(url: str, body: bytes, base: str) -> ParsedFeed:
    """The JSON Feed's items as feed entries; FeedError when the body is not a JSON Feed.

    `base`: what relative item URLs are resolved against (poll's link_base: no credentials in it).
    """
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise FeedError(url, f"not a valid JSON Feed (not JSON: {type(error).__name__})") from error
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(_VERSION_PREFIXES):
        raise FeedError(url, "JSON, but not a JSON Feed (no `version` https://jsonfeed.org/version/1…)")
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedError(url, "not a valid JSON Feed (no `items` list)")
    entries = tuple(_entry(item, base) for item in items if isinstance(item, dict))
    return ParsedFeed(_text(document.get("title")), False, entries, None, JSON_FEED_PARSER)


def _entry(item: dict[str, Any], base: str) -> ParsedEntry:
    link = _text(item.get("url")) or _text(item.get("external_url"))
    return ParsedEntry(
        id=_text(item.get("id"), numbers=True),  # 1.0 feeds may give a number; the spec says string
        link=_absolute(base, link),
        title=_text(item.get("title")),  # plain text in JSON Feed
        title_is_html=False,
        summary=_summary_html(item),
        published=_date(item.get("date_published")) or _date(item.get("date_modified")),
    )


def _absolute(base: str, link: str) -> str:
    """The item's link made absolute; "" when it is no URL at all (`http://[::1`): the item keeps its text."""
    try:
        return urljoin(base, link) if link else ""
    except ValueError:
        return ""


def _summary_html(item: dict[str, Any]) -> str:
    """The item's text as HTML: its content (HTML, else text), else its summary (plain text)."""
    if content := _text(item.get("content_html")):
        return content
    plain = _text(item.get("content_text")) or _text(item.get("summary"))
    return html.escape(plain)


def _text(value: object, *, numbers: bool = False) -> str:
    if isinstance(value, str):
        return value
    if numbers and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _date(value: object) -> datetime | None:
    """An RFC 3339 date in UTC; None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)
