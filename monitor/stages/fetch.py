"""Fetch stage: download an article page named by a feed item, through the SSRF guard."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
from collections.abc import Iterator
from typing import Any

from bs4.dammit import EncodingDetector, UnicodeDammit

from ..errors import FetchError
from ..http.client import HttpClient, Response
from ..http.page_room import PageClaim
from ..http.robots import RobotsCache
from ..models import Page

_HTML_TYPES = ("text/html", "application/xhtml+xml", "")


async def fetch_page(
    http: HttpClient,
    url: str,
    *,
    max_bytes: int,
    robots: RobotsCache | None = None,
    then: contextlib.AbstractAsyncContextManager[Any] | None = None,
    robots_then: contextlib.AbstractAsyncContextManager[Any] | None = None,
    guarded: bool = True,
    room: PageClaim | None = None,
) -> Page:
    """The page at `url` as text; FetchError for HTTP errors, robots.txt refusals and non-HTML bodies.

    `then`: a shared slot held for the request only, taken once the host's turn has come (HostLimiter);
    `robots_then`: the same for the site's robots.txt request, when one is needed. `guarded=False`: the
    URL is the operator's own (typed on the command line), trusted as a configured feed URL is: it may
    point at a private address, and only then may its redirects lead to one. `room`: the page's room in
    memory (page_room.py), grown as its body is read and decoded.
    """
    if robots is not None and not await robots.allows(url, then=robots_then):
        raise FetchError(url, "disallowed by the site's robots.txt")
    response = await http.get(
        url,
        max_bytes=max_bytes,
        guarded=guarded,
        headers={"Accept": "text/html,application/xhtml+xml"},
        then=then,
        reserve=room.reserve_body if room is not None else None,
    )
    response.raise_for_status()
    if response.content_type not in _HTML_TYPES:
        raise FetchError(
            url, f"not an HTML page (Content-Type: {response.content_type})", status=response.status
        )
    page = Page(url=response.url, html=await _decoded(response, room), status=response.status)
    del response  # the body: a page in memory is its text from here on
    if room is not None:
        room.settle_decoded(page.html)
    return page


async def _decoded(response: Response, room: PageClaim | None) -> str:
    """The page's body as text, its room in memory grown for the decoding first."""
    if room is not None:
        await room.reserve_for_decoding(response.body)
    # Decoding a 5 MB page is CPU work (a guess of its encoding, then the whole body): off the event loop.
    return await asyncio.to_thread(decode_html, response.body, response.charset)


_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
# What the encoding is guessed from: BeautifulSoup's guess (charset_normalizer) read the whole page, up
# to 0.5-2.5 s for a 5 MB one, and its <meta charset> search 5% of it (issue 12). The HTML standard
# wants the <meta charset> within the first 1,024 bytes; 64 KiB holds the head of real pages and gives
# charset_normalizer plenty to go on. Every candidate is still checked against the whole body.
DETECT_BYTES = 64 * 1024
# Python codecs that are no character encoding of the web: punycode decodes in quadratic time (300 KB
# of letters took 1.9 s, a 5 MB page would take hours), the others turn escapes into characters.
_NOT_WEB_ENCODINGS = frozenset(
    {"punycode", "idna", "utf-7", "unicode-escape", "raw-unicode-escape", "undefined"}
)


def decode_html(body: bytes, declared: str | None) -> str:
    """Decode as the HTML standard orders it: a byte-order mark, the HTTP charset, <meta charset>, then a
    guess that tries UTF-8 and windows-1252 (what mislabelled Western pages really are) first.

    The order is BeautifulSoup's (UnicodeDammit); the <meta> search and the statistical guess read only
    the first DETECT_BYTES, and the first candidate that decodes the whole body wins.
    """
    has_bom = body.startswith(_BOMS)
    detector = EncodingDetector(
        detection_sample(body, DETECT_BYTES),
        known_definite_encodings=[declared] if declared and not has_bom else [],
        is_html=True,
        user_encodings=["utf-8", "windows-1252"],
    )
    data = without_byte_order_mark(body)
    first = None
    for codec in _codecs(detector.encodings):
        first = first or (codec if codec != "ascii" else None)
        try:
            return str(data, codec)
        except UnicodeDecodeError:
            continue
    # Nothing fits: the first candidate, with U+FFFD for what it cannot read (as UnicodeDammit does).
    return str(data, first or "utf-8", errors="replace")


def without_byte_order_mark(body: bytes) -> memoryview:
    """The body after its byte-order mark (BeautifulSoup's reading of one), as a view: no copy of a
    5 MB page for the sake of its first bytes."""
    start = body[:4]
    stripped, _ = EncodingDetector.strip_byte_order_mark(start)
    return memoryview(body)[len(start) - len(stripped) :]


def detection_sample(body: bytes, limit: int) -> bytes:
    """The body's first `limit` bytes, cut after a byte below 0x40 (never inside a multi-byte character:
    in UTF-8, Shift_JIS, GBK, Big5 and EUC a character's later bytes are all 0x40 or above)."""
    if len(body) <= limit:
        return body
    for end in range(limit, max(limit - 1024, 0), -1):
        if body[end - 1] < 0x40:
            return body[:end]
    return body[:limit]


def _codecs(names: Iterator[str]) -> Iterator[str]:
    """The Python codec of each encoding name that names a web text encoding, once each."""
    seen: set[str] = set()
    for name in names:
        codec = _codec(name)
        if codec is not None and codec not in seen:
            seen.add(codec)
            yield codec


def _codec(name: str) -> str | None:
    name = UnicodeDammit.CHARSET_ALIASES.get(name.lower(), name.lower())
    for spelling in (name, name.replace("-", ""), name.replace("-", "_")):
        try:
            info = codecs.lookup(spelling)
        except (LookupError, ValueError):
            continue
        usable = getattr(info, "_is_text_encoding", True) and info.name not in _NOT_WEB_ENCODINGS
        return info.name if usable else None
    return None
