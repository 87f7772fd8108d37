"""A finished response, and its body read with a size cap (a gzip bomb never fills memory)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp
from multidict import CIMultiDict

from ..errors import FetchError

# Room in memory for a body as it is read: awaited with its size so far (HttpClient.get's `reserve`).
Reserve = Callable[[int], Awaitable[None]]


@dataclass(frozen=True)
class Response:
    """A finished response with its body read (and capped)."""

    url: str  # the final URL after redirects
    status: int
    headers: CIMultiDict[str]
    body: bytes
    moved_to: str | None = None  # where permanent redirects (301/308) from the requested URL lead

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    @property
    def retry_after(self) -> float | None:
        """Seconds from a Retry-After header (delta or HTTP date), capped at a day; None if absent or bad."""
        return parse_retry_after(self.headers.get("Retry-After"))

    def raise_for_status(self) -> None:
        if self.status >= 400:
            reason = f"HTTP {self.status}"
            raise FetchError(self.url, reason, status=self.status, retry_after=self.retry_after)

    @property
    def charset(self) -> str | None:
        for part in self.headers.get("Content-Type", "").split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                return value.strip("\"' ")
        return None


# A server may ask us to wait; a day is the most we honour, so a typo like "Retry-After: 9999999" cannot
# silence a feed for months.
MAX_RETRY_AFTER_SECONDS = 86_400.0


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


async def read_capped(
    response: aiohttp.ClientResponse, url: str, max_bytes: int, reserve: Reserve | None = None
) -> bytes:
    """Read the (decompressed) body, stopping as soon as it passes max_bytes: no gzip bomb fills memory.

    `reserve(size)` is awaited before a chunk is kept, `size` the body's bytes with it.
    """
    declared = response.content_length
    if declared is not None and declared > max_bytes and "Content-Encoding" not in response.headers:
        raise FetchError(
            url, f"response too large: {declared} bytes, the limit is {max_bytes}", status=response.status
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(
                url, f"response too large: over the limit of {max_bytes} bytes", status=response.status
            )
        if reserve is not None:
            await reserve(size)
        chunks.append(chunk)
    return b"".join(chunks)
