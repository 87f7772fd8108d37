"""Room for article pages in memory: downloading, waiting for extraction, or being extracted.

Fetching a page is waiting on the network; extracting it is CPU work, EXTRACT_CONCURRENCY at a time. When
pages come faster than they are read, they wait in memory: 80 links to 4.6 MB pages on a fast host were
all downloaded while two threads extracted, and `once` peaked at ~520 MiB (100 such pages: 885 MiB). A
page's room is taken where its download starts, once its host's turn has come (http.get's `then`, so no
room is held while a host's politeness delay runs), and given back when its extraction ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

# 16 pages of at most fetch.max_page_bytes (5 MB; ~10 MB each while downloaded and decoded): 80 pages of
# 4.6 MB peaked at 357 MiB (8 pages: 323 MiB). A page that decodes to 4 bytes a character (one emoji in
# it) weighs 4x as much, so this bounds pages, not bytes. A page is extracted in ~20 ms and downloaded in
# ~0.1-1 s: 16 downloads at once keep EXTRACT_CONCURRENCY threads busy.
PAGES_IN_MEMORY = 16


class PageRoom:
    """At most `capacity` pages in memory at once; each page's room is a PageClaim."""

    def __init__(self, capacity: int = PAGES_IN_MEMORY):
        self._free = asyncio.Semaphore(capacity)

    def claim(self) -> PageClaim:
        return PageClaim(self._free)


class PageClaim:
    """One page's room: taken when its download starts, given back (release) once the page is read."""

    def __init__(self, free: asyncio.Semaphore):
        self._free = free
        self._held = False

    @contextlib.asynccontextmanager
    async def then(self, slot: contextlib.AbstractAsyncContextManager[Any]) -> AsyncIterator[None]:
        """Take the room, then `slot` for the download; the room outlives the download (see release)."""
        await self._free.acquire()
        self._held = True
        async with slot:
            yield

    def release(self) -> None:
        if self._held:
            self._held = False
            self._free.release()
