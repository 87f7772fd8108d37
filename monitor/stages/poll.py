"""Poll stage: a conditional GET of one feed, parsed into FeedItems.

feedparser is the reference parser: its tolerance of broken real-world feeds is why we depend on it.
It parses bytes we fetched ourselves (with our timeouts and size caps), never a URL.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import io
from datetime import UTC, datetime
from typing import Any

import feedparser

from ..errors import FeedError
from ..http import HttpClient
from ..models import FeedItem, FeedPoll
from ..storage import FeedState
from ..text import cut, html_to_text
from .xml_guard import refuse_entity_declarations, repair_character_references

# A feed is a list of recent items; past this many, the rest is a dump or an attack.
MAX_ITEMS_PER_FEED = 1000
MAX_TITLE_CHARS = 500
MAX_LINK_CHARS = 2000
MAX_GUID_CHARS = 500
MAX_SUMMARY_CHARS = 20_000
_FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"


async def poll_feed(http: HttpClient, url: str, state: FeedState | None, *, max_bytes: int) -> FeedPoll:
    """Fetch and parse a feed; FeedPoll(not_modified=True) when the server answers 304."""
    response = await http.get(url, max_bytes=max_bytes, headers=_conditional_headers(state))
    if response.status == 304:
        return FeedPoll(
            feed_url=url,
            title=state.title if state and state.title else url,
            items=(),
            not_modified=True,
            etag=state.etag if state else None,
            last_modified=state.last_modified if state else None,
        )
    response.raise_for_status()
    headers = {"content-type": response.headers.get("Content-Type", ""), "content-location": response.url}
    title, items, problem = await asyncio.to_thread(parse_feed, url, response.body, headers)
    return FeedPoll(
        feed_url=url,
        title=title,
        items=items,
        problem=problem,
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        moved_to=response.moved_to,
    )


def _conditional_headers(state: FeedState | None) -> dict[str, str]:
    headers = {"Accept": _FEED_ACCEPT}
    if state and state.etag:
        headers["If-None-Match"] = state.etag
    if state and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def parse_feed(
    url: str, body: bytes, headers: dict[str, str]
) -> tuple[str, tuple[FeedItem, ...], str | None]:
    """Parse RSS/Atom bytes into (title, items, problem); raise FeedError when they are not a feed at all.

    A malformed feed whose items feedparser can still read is used, with `problem` saying what is wrong:
    dropping a whole feed for one bad character would miss news.
    """
    refuse_entity_declarations(url, body, headers.get("content-type", ""))
    body = repair_character_references(body)
    try:
        # A stream, not the bytes themselves: feedparser opens bytes that name a file ("/dev/zero").
        # sanitize_html=False: we never render feed HTML (html_to_text keeps only text), and feedparser's
        # sanitiser costs about 1 µs per byte, ~9 s for a 10 MB feed.
        parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False)
    except Exception as error:  # e.g. UnicodeError for charset=punycode: the feed's fault, not the cycle's
        raise FeedError(url, f"not a valid RSS/Atom feed (feedparser failed: {error!r})") from error
    problem = _problem_of(parsed)
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        content_type = headers.get("content-type", "").split(";")[0].strip()
        if content_type in ("text/html", "application/xhtml+xml"):
            raise FeedError(url, f"the server sent a web page, not a feed (Content-Type: {content_type})")
        raise FeedError(url, f"not a valid RSS/Atom feed ({problem or 'no RSS or Atom content'})")
    title = cut(_plain_text(parsed.feed, "title"), MAX_TITLE_CHARS) or url
    entries = parsed.entries[:MAX_ITEMS_PER_FEED]
    items = tuple(item for entry in entries if (item := item_from_entry(url, title, entry)) is not None)
    return title, items, problem


def _problem_of(parsed: Any) -> str | None:
    """Why feedparser flagged the feed, unless the flag is harmless: a good feed served as text/html is
    common, and warning about it on every poll would only teach people to ignore the warnings."""
    if not parsed.bozo:
        return None
    error = parsed.get("bozo_exception")
    if isinstance(error, feedparser.NonXMLContentType) and parsed.entries:
        return None
    return str(error or "malformed")


def item_from_entry(feed_url: str, feed_title: str, entry: Any) -> FeedItem | None:
    """A FeedItem, or None for an entry with neither a link nor a title (nothing to show or fetch)."""
    link = _clean(entry.get("link") or "")
    if len(link) > MAX_LINK_CHARS:
        link = ""  # no real article URL is this long; what is left is the feed's own text
    title = cut(_clean(_plain_text(entry, "title")), MAX_TITLE_CHARS)
    if not link and not title:
        return None
    summary = entry.get("summary") or _first_content(entry)
    return FeedItem(
        feed_url=feed_url,
        feed_title=feed_title,
        guid=_guid(_clean(entry.get("id") or "") or link or _hash(title)),
        link=link,
        title=title or link,
        summary_text=_clean(html_to_text(summary, max_chars=MAX_SUMMARY_CHARS)),
        published=_published(entry),
    )


def _clean(text: str) -> str:
    """Stripped, without NUL characters (PostgreSQL refuses them in text columns)."""
    return text.replace("\x00", "").strip()


def _guid(guid: str) -> str:
    # GUIDs are dedup keys; a stranger's megabyte-long one is stored as its hash.
    return guid if len(guid) <= MAX_GUID_CHARS else "sha256:" + hashlib.sha256(guid.encode()).hexdigest()


def _plain_text(element: Any, key: str) -> str:
    """A text construct as plain text: HTML ones are cleaned, plain ones kept as written (even `<!x>`)."""
    value = element.get(key, "") or ""
    detail = element.get(f"{key}_detail") or {}
    if detail.get("type", "text/plain") in ("text/html", "application/xhtml+xml"):
        return html_to_text(value)
    return " ".join(value.split())


def _first_content(entry: Any) -> str:
    contents = entry.get("content") or []
    return contents[0].get("value", "") if contents else ""


def _published(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            # feedparser gives UTC struct_time; timegm reads it as UTC (mktime would apply local time).
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return None


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]
