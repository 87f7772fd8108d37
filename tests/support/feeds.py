"""Build RSS 2.0 and Atom 1.0 documents for tests, with correct dates and XML escaping.

Items are dicts with these keys (all optional except ``title``):

    title        plain text
    link         article URL
    guid         RSS <guid isPermaLink="false"> / Atom <id> (Atom falls back to link)
    description  HTML summary (RSS <description>, Atom <summary type="html">); ``summary`` is an alias
    content      full HTML (RSS <content:encoded>, Atom <content type="html">)
    pub_date     timezone-aware datetime, or None to leave the date out (feeds in the wild do)
    author       name
    categories   list of strings

HTML is escaped as element text (never CDATA, which breaks on "]]>"); ElementTree does the escaping.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree as ET

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
ITEM_KEYS = frozenset(
    {"title", "link", "guid", "description", "summary", "content", "pub_date", "author", "categories"}
)
# Atom requires <updated>; when no date is known this fixed instant keeps the output deterministic.
FALLBACK_UPDATED = datetime(2024, 1, 1, tzinfo=UTC)
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'


def rfc822_date(moment: datetime) -> str:
    """RSS date, e.g. ``Tue, 02 Jan 2024 03:04:05 GMT`` (``+hhmm`` for other offsets)."""
    _require_aware(moment)
    return format_datetime(moment, usegmt=moment.tzinfo is UTC)  # usegmt only accepts timezone.utc itself


def rfc3339_date(moment: datetime) -> str:
    """Atom date, e.g. ``2024-01-02T03:04:05Z`` (``+hh:mm`` for other offsets)."""
    _require_aware(moment)
    text = moment.isoformat(timespec="seconds")
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def rss_feed(
    title: str,
    items: Iterable[dict[str, Any]],
    *,
    link: str = "http://example.test/",
    description: str = "Test feed",
) -> str:
    """An RSS 2.0 document (str) with one <item> per dict, in the given order."""
    items = [_checked(item) for item in items]
    root = ET.Element("rss", {"version": "2.0"})
    if any("content" in item for item in items):
        root.set("xmlns:content", CONTENT_NS)
    channel = ET.SubElement(root, "channel")
    _text(channel, "title", title)
    _text(channel, "link", link)
    _text(channel, "description", description)
    for item in items:
        _rss_item(channel, item)
    return XML_DECLARATION + ET.tostring(root, encoding="unicode")


def atom_feed(
    title: str,
    items: Iterable[dict[str, Any]],
    *,
    feed_id: str = "urn:test:feed",
    link: str = "http://example.test/",
    updated: datetime | None = None,
) -> str:
    """An Atom 1.0 document (str); feed <updated> defaults to the newest item date."""
    items = [_checked(item) for item in items]
    root = ET.Element("feed", {"xmlns": ATOM_NS})
    _text(root, "title", title)
    _text(root, "id", feed_id)
    ET.SubElement(root, "link", {"rel": "alternate", "href": link})
    dates = [item["pub_date"] for item in items if item.get("pub_date") is not None]
    _text(root, "updated", rfc3339_date(updated or max(dates, default=FALLBACK_UPDATED)))
    for item in items:
        _atom_entry(root, item)
    return XML_DECLARATION + ET.tostring(root, encoding="unicode")


def _rss_item(channel: ET.Element, item: dict[str, Any]) -> None:
    element = ET.SubElement(channel, "item")
    _text(element, "title", item["title"])
    _text(element, "link", item.get("link"))
    if item.get("guid") is not None:
        ET.SubElement(element, "guid", {"isPermaLink": "false"}).text = item["guid"]
    _text(element, "description", item.get("description", item.get("summary")))
    _text(element, "content:encoded", item.get("content"))
    if item.get("pub_date") is not None:
        _text(element, "pubDate", rfc822_date(item["pub_date"]))
    _text(element, "author", item.get("author"))
    for category in item.get("categories", ()):
        _text(element, "category", category)


def _atom_entry(feed: ET.Element, item: dict[str, Any]) -> None:
    entry = ET.SubElement(feed, "entry")
    _text(entry, "title", item["title"])
    _text(entry, "id", item.get("guid") or item.get("link"))
    if item.get("link") is not None:
        ET.SubElement(entry, "link", {"rel": "alternate", "href": item["link"]})
    if item.get("pub_date") is not None:
        _text(entry, "published", rfc3339_date(item["pub_date"]))
        _text(entry, "updated", rfc3339_date(item["pub_date"]))
    summary = item.get("summary", item.get("description"))
    if summary is not None:
        ET.SubElement(entry, "summary", {"type": "html"}).text = summary
    if item.get("content") is not None:
        ET.SubElement(entry, "content", {"type": "html"}).text = item["content"]
    if item.get("author") is not None:
        _text(ET.SubElement(entry, "author"), "name", item["author"])
    for category in item.get("categories", ()):
        ET.SubElement(entry, "category", {"term": category})


def _text(parent: ET.Element, tag: str, value: str | None) -> None:
    """Add <tag>value</tag> unless value is None."""
    if value is not None:
        ET.SubElement(parent, tag).text = value


def _checked(item: dict[str, Any]) -> dict[str, Any]:
    unknown = set(item) - ITEM_KEYS
    if unknown:
        raise ValueError(f"unknown item keys {sorted(unknown)}; allowed: {sorted(ITEM_KEYS)}")
    if "title" not in item:
        raise ValueError("every item needs a 'title'")
    return item


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"pass a timezone-aware datetime (e.g. tzinfo=UTC), got naive {moment!r}")
