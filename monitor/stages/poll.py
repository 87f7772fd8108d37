"""Poll stage: a conditional GET of one feed, parsed into FeedItems.

A feed is whatever its bytes show (feed_kind.py): RSS or Atom (read here), JSON Feed (json_feed.py), a
news or plain sitemap (sitemap_parse.py) or a sitemap index, whose recent children are fetched too
(sitemap_index.py). Every kind gives the same FeedItems, so dedup, max_age, the first-poll rule and
stories work on all of them alike.

feedparser is the reference parser: its tolerance of broken real-world feeds is why we depend on it;
fastfeedparser reads the feeds it provably reads the same way (feed_parse.py). Both parse bytes we
fetched ourselves (with our timeouts and size caps), never a URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..http.client import HttpClient, Response
from ..models import FeedItem, FeedPoll
from ..redact import mask_configured_url, mask_secrets, mask_url, without_userinfo
from ..storage import FeedState
from ..text import cut, html_to_text
from .feed_kind import HTML, JSON_FEED, SITEMAP, SITEMAP_INDEX, gunzip_capped, refuse_web_page, sniff_kind
from .feed_parse import ParsedEntry, ParsedFeed, read_feed
from .json_feed import read_json_feed
from .sitemap_index import read_children, recent_children
from .sitemap_parse import read_sitemap
from .xml_guard import refuse_entity_declarations, repair_character_references

# A feed is a list of recent items; past this many, the rest is a dump or an attack.
MAX_ITEMS_PER_FEED = 1000
MAX_TITLE_CHARS = 500
MAX_LINK_CHARS = 2000
MAX_GUID_CHARS = 500
_FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
    "text/xml;q=0.8, */*;q=0.5"
)


async def poll_feed(
    http: HttpClient,
    url: str,
    state: FeedState | None,
    *,
    max_bytes: int,
    gate: contextlib.AbstractAsyncContextManager[Any] | None = None,
) -> FeedPoll:
    """Fetch and parse a feed; FeedPoll(not_modified=True) when the server answers 304.

    The request is a feed's (HttpClient.get `feed=True`): limited per host, never spaced out.
    `gate`: a shared slot (the pipeline's feed gate), taken once the feed's host has room for the
    request and held until the feed is parsed. Taken before, 1,000 feeds of one host would hold every
    slot while waiting for that host, and feeds of other hosts would wait behind them.
    """
    async with contextlib.AsyncExitStack() as held:
        then = _HeldUntilClosed(held, gate) if gate is not None else None
        return await _fetch_and_parse(http, url, state, max_bytes, then)


class _HeldUntilClosed:
    """Enters `slot` into `stack` when entered and leaves it to the stack: HostLimiter enters it when
    the host's turn comes and would release it with the request; the caller releases it later."""

    def __init__(self, stack: contextlib.AsyncExitStack, slot: contextlib.AbstractAsyncContextManager[Any]):
        self._stack, self._slot = stack, slot

    async def __aenter__(self) -> None:
        await self._stack.enter_async_context(self._slot)

    async def __aexit__(self, *exc: object) -> None:
        return None


async def _fetch_and_parse(
    http: HttpClient,
    url: str,
    state: FeedState | None,
    max_bytes: int,
    then: contextlib.AbstractAsyncContextManager[Any] | None,
) -> FeedPoll:
    response = await http.get(
        url, max_bytes=max_bytes, headers=_conditional_headers(state), feed=True, then=then
    )
    if response.status == 304:
        return _not_modified(url, state, response)
    response.raise_for_status()
    headers = parse_headers(response.headers.get("Content-Type", ""), response.url)
    body = gunzip_capped(url, response.body, max_bytes)
    title, items, problem, kind = await _read_body(http, url, body, headers, max_bytes)
    return FeedPoll(
        feed_url=url,
        title=title,
        items=items,
        problem=problem,
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        moved_to=response.moved_to,
        refresh_hint=cache_max_age(response.headers.get("Cache-Control")) or rss_ttl(body),
        kind=kind,
    )


def _not_modified(url: str, state: FeedState | None, response: Response) -> FeedPoll:
    """A 304: the feed as the last poll left it."""
    return FeedPoll(
        feed_url=url,
        title=mask_secrets(state.title) if state and state.title else mask_configured_url(url),
        items=(),
        not_modified=True,
        etag=state.etag if state else None,
        last_modified=state.last_modified if state else None,
        refresh_hint=cache_max_age(response.headers.get("Cache-Control")),
        kind=state.kind if state else None,
    )


async def _read_body(
    http: HttpClient, url: str, body: bytes, headers: dict[str, str], max_bytes: int
) -> tuple[str, tuple[FeedItem, ...], str | None, str]:
    """(title, items, problem, kind): a sitemap index is read through its recent children, fetched here."""
    if sniff_kind(body) != SITEMAP_INDEX:
        return await asyncio.to_thread(read_source, url, body, headers)
    children = await asyncio.to_thread(_index_children, url, body, headers)
    children_feed = await read_children(http, url, children, max_bytes=max_bytes)
    return (*feed_items(url, children_feed), SITEMAP_INDEX)


def _index_children(url: str, body: bytes, headers: dict[str, str]) -> list[str]:
    refuse_entity_declarations(url, body, headers.get("content-type", ""))
    return recent_children(url, body)


def parse_headers(content_type: str, feed_url: str) -> dict[str, str]:
    """The response headers the feed parsers read: the media type, and the base of relative links."""
    return {"content-type": content_type, "content-location": link_base(feed_url)}


def link_base(feed_url: str) -> str:
    """The feed's URL without userinfo, query or fragment: what its relative links (item links,
    enclosures, xml:base, the feed's own link) are resolved against. The configured URL may carry
    `user:token@` or `?apikey=`; resolved against it, `/news/1` or `#a1` would carry them too, into
    alerts, the log and the requests for the article pages of the feed's items."""
    try:
        parts = urlsplit(feed_url)
    except ValueError:
        return ""  # not reached: the URL was just fetched; without a base, relative links stay unusable
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def cache_max_age(cache_control: str | None) -> timedelta | None:
    """Cache-Control's max-age: how long the server says the feed stays as it is."""
    match = _MAX_AGE.search(cache_control or "")
    return timedelta(seconds=int(match.group(1))) if match and int(match.group(1)) > 0 else None


def rss_ttl(body: bytes) -> timedelta | None:
    """RSS 2.0's <ttl>: minutes the channel may be cached (read the same whichever parser reads items)."""
    match = _TTL.search(body[:_TTL_SEARCH_BYTES])
    return timedelta(minutes=int(match.group(1))) if match and int(match.group(1)) > 0 else None


_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d{1,9})", re.IGNORECASE)
_TTL = re.compile(rb"<ttl>\s*(\d{1,7})\s*</ttl>")
_TTL_SEARCH_BYTES = 65_536  # <ttl> belongs to the channel, before the items


def _conditional_headers(state: FeedState | None) -> dict[str, str]:
    headers = {"Accept": _FEED_ACCEPT}
    if state and state.kind == SITEMAP_INDEX:
        # An unchanged index may list children that changed: the index is read each time, and its
        # recent children with it.
        return headers
    if state and state.etag:
        headers["If-None-Match"] = state.etag
    if state and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def parse_feed(
    url: str, body: bytes, headers: dict[str, str]
) -> tuple[str, tuple[FeedItem, ...], str | None]:
    """Parse a feed's bytes into (title, items, problem); raise FeedError when they are not a feed at all."""
    return read_source(url, body, headers)[:3]


def read_source(
    url: str, body: bytes, headers: dict[str, str]
) -> tuple[str, tuple[FeedItem, ...], str | None, str]:
    """(title, items, problem, kind) of a feed's bytes, whatever their kind (feed_kind.py).

    A malformed feed whose items feedparser can still read is used, with `problem` saying what is wrong:
    dropping a whole feed for one bad character would miss news. A sitemap index's children are not
    fetched here (poll_feed does): it has no items of its own, and a well-formed one has no problem.
    """
    content_type = headers.get("content-type", "")
    kind = sniff_kind(body)
    if kind == HTML:
        raise refuse_web_page(url, content_type)
    if kind == JSON_FEED:
        feed = read_json_feed(url, body, link_base(url))
        return (*feed_items(url, feed), kind)
    refuse_entity_declarations(url, body, content_type)
    if kind == SITEMAP_INDEX:
        recent_children(url, body)  # FeedError for an index that lists no sitemap
        return mask_configured_url(url), (), None, kind
    if kind == SITEMAP:
        feed, kind = read_sitemap(url, body)
        return (*feed_items(url, feed), kind)
    return (*feed_items(url, read_feed(url, repair_character_references(body), headers)), kind)


def feed_items(url: str, feed: ParsedFeed) -> tuple[str, tuple[FeedItem, ...], str | None]:
    """The feed's (title, items, problem), cleaned and capped, whichever parser read it."""
    # A feed without a <title> is named by its URL, masked: a configured URL may carry `user:token@`,
    # and this name is the source line of every alert from the feed.
    title = cut(_clean(_plain_text(feed.title, feed.title_is_html)), MAX_TITLE_CHARS)
    title = title or mask_configured_url(url)
    entries = feed.entries[:MAX_ITEMS_PER_FEED]
    items = tuple(item for entry in entries if (item := item_from_entry(url, title, entry)) is not None)
    return title, items, feed.problem


def item_from_entry(feed_url: str, feed_title: str, entry: ParsedEntry) -> FeedItem | None:
    """A FeedItem, or None for an entry with neither a link nor a title (nothing to show or fetch)."""
    # A link never carries userinfo: the article page is fetched without a feed's credentials, and the
    # link is shown (as the title of an item without one) in alerts and commands.
    link = without_userinfo(_clean(entry.link))
    if len(link) > MAX_LINK_CHARS:
        link = ""  # no real article URL is this long; what is left is the feed's own text
    title = cut(_clean(_plain_text(entry.title, entry.title_is_html)), MAX_TITLE_CHARS)
    if not link and not title:
        return None
    return FeedItem(
        feed_url=feed_url,
        feed_title=feed_title,
        guid=_guid(_clean(entry.id) or link or _hash(title)),
        link=link,
        title=title or mask_url(link),
        summary_html=entry.summary,
        published=entry.published,
    )


def _clean(text: str) -> str:
    """Stripped, without NUL characters (PostgreSQL refuses them in text columns)."""
    return text.replace("\x00", "").strip()


def _guid(guid: str) -> str:
    # GUIDs are dedup keys; a stranger's megabyte-long one is stored as its hash.
    return guid if len(guid) <= MAX_GUID_CHARS else "sha256:" + hashlib.sha256(guid.encode()).hexdigest()


def _plain_text(value: str, is_html: bool) -> str:
    """A text construct as plain text: HTML ones are cleaned, plain ones kept as written (even `<!x>`)."""
    return html_to_text(value) if is_html else " ".join(value.split())


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]
