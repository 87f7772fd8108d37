"""Fetch stage: download an article page named by a feed item, through the SSRF guard."""

from __future__ import annotations

import codecs

from bs4.dammit import UnicodeDammit

from ..errors import FetchError
from ..http import HttpClient
from ..models import Page
from ..robots import RobotsCache

_HTML_TYPES = ("text/html", "application/xhtml+xml", "")


async def fetch_page(
    http: HttpClient, url: str, *, max_bytes: int, robots: RobotsCache | None = None
) -> Page:
    """The page at `url` as text; FetchError for HTTP errors, robots.txt refusals and non-HTML bodies."""
    if robots is not None and not await robots.allows(url):
        raise FetchError(url, "disallowed by the site's robots.txt")
    response = await http.get(
        url, max_bytes=max_bytes, guarded=True, headers={"Accept": "text/html,application/xhtml+xml"}
    )
    response.raise_for_status()
    if response.content_type not in _HTML_TYPES:
        raise FetchError(
            url, f"not an HTML page (Content-Type: {response.content_type})", status=response.status
        )
    return Page(url=response.url, html=decode_html(response.body, response.charset), status=response.status)


_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


def decode_html(body: bytes, declared: str | None) -> str:
    """Decode as the HTML standard orders it: a byte-order mark, the HTTP charset, <meta charset>, then a
    guess that tries UTF-8 and windows-1252 (what mislabelled Western pages really are) first."""
    has_bom = body.startswith(_BOMS)
    known = [declared] if declared and not has_bom else []
    dammit = UnicodeDammit(
        body, known_definite_encodings=known, user_encodings=["utf-8", "windows-1252"], is_html=True
    )
    if dammit.unicode_markup is None:
        return body.decode("utf-8", errors="replace")
    return dammit.unicode_markup
