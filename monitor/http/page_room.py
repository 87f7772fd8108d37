"""Room for article pages in memory, counted in bytes: downloading, waiting for extraction, being extracted.

Fetching a page is waiting on the network; extracting it is CPU work, EXTRACT_CONCURRENCY at a time. When
pages come faster than they are read, they wait in memory: 80 links to 4.6 MB pages on a fast host were
all downloaded while two threads extracted, and `once` peaked at ~520 MiB (100 such pages: 885 MiB).
Counting pages was not enough: Python keeps a str at 1, 2 or 4 bytes per character (its widest
character's width), so one emoji makes a 4.6 MB page an 18.4 MB str, and 16 such pages took `once` to
700-800 MiB. So every page in memory holds a share of one byte budget (PAGE_BYTES_BUDGET):

- a little (FIRST_BYTES) when its download starts, taken where its host's turn has come (http.get's
  `then`), so a page waiting for a slow host's politeness delay holds nothing;
- what its body weighs as it streams in (http.get's `reserve`, called before each chunk is kept);
- before decoding, what the text may weigh once decoded (`reserve_for_decoding`), brought down to what
  it does weigh once decoded (`settle_decoded`);
- everything back when its extraction ends (`release`).

A page that must wait for room waits where it is (its body stops being read; the wait counts against
the request's timeout). The oldest claim never waits (it may overdraw the budget): otherwise every page
could hold part of the budget while each waited for more, and none would finish. So what pages hold is
at most the budget plus one page (a 5 MB body that decodes 4 bytes a character: ~30 MB while decoded).

Not counted here: the parsers' working memory while a page is extracted (its lxml tree, and the copies
trafilatura and htmldate make: about 2x the text at most, measured), bounded by EXTRACT_CONCURRENCY
pages at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import sys
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

MB = 1_000_000
# What the pages in memory may hold at once, in bytes (plus the oldest page's overdraft). `once` over 48
# pages of 4.6 MB that download faster than two threads extract them (tests/faults/test_memory_bounds.py),
# peak RSS for 1-, 2- and 4-byte-wide text: 32 MB: 179-195 MiB; 64 MB: 222-247 MiB; 96 MB: 240-272 MiB
# (a quiet `once`: ~110 MiB). 64 MB leaves ~150 MiB under the 400 MiB target for the extraction's own
# memory, and is twice what PAGES_IN_MEMORY ordinary pages ask at most (16 x 6 x 300 KB while a non-ASCII
# page is decoded; ~1 MB each once decoded): they meet the page count, never this.
PAGE_BYTES_BUDGET = 64 * MB
# At most this many pages in memory at once, whatever they weigh: also bounds the downloads under way,
# each with its buffers and connection. A page is extracted in ~20 ms and downloaded in ~0.1-1 s: 16
# downloads at once keep EXTRACT_CONCURRENCY threads busy.
PAGES_IN_MEMORY = 16
# Taken when a download starts: the first chunk of the body (http/client.py reads 64 KiB at a time).
FIRST_BYTES = 64 * 1024
# A str takes at most 4 bytes per character, and no web encoding makes more than one character of a byte.
_WIDEST_CHARACTER = 4


class ByteBudget:
    """Bytes shared by claims: a claim waits (first come, first served) until its share fits in `capacity`,
    except the oldest claim, which never waits. Held bytes stay within `capacity` plus the oldest claim's.
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.held = 0
        self.peak = 0  # the most held at once
        self._claims: dict[ByteClaim, None] = {}  # claims holding or asking for bytes, oldest first
        self._waiting: deque[tuple[ByteClaim, int, asyncio.Future[None]]] = deque()

    def claim(self) -> ByteClaim:
        return ByteClaim(self)

    def _oldest(self) -> ByteClaim | None:
        return next(iter(self._claims), None)

    async def _take(self, claim: ByteClaim, extra: int) -> None:
        self._claims.setdefault(claim, None)
        if claim is self._oldest() or (not self._waiting and self.held + extra <= self.capacity):
            self._grant(claim, extra)
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (claim, extra, granted)
        self._waiting.append(entry)
        try:
            await granted
        except asyncio.CancelledError:
            # Granted just before the cancellation arrived: the bytes are the claim's (release gives them
            # back). Not granted: out of the queue, and those behind may fit now.
            if entry in self._waiting:
                self._waiting.remove(entry)
            self._wake()
            raise

    def _grant(self, claim: ByteClaim, extra: int) -> None:
        self.held += extra
        claim.held += extra
        self.peak = max(self.peak, self.held)

    def _give_back(self, claim: ByteClaim, amount: int) -> None:
        self.held -= amount
        claim.held -= amount
        self._wake()

    def _wake(self) -> None:
        """Grant the oldest claim whatever it waits for, then the others in order while they fit."""
        oldest = self._oldest()
        for entry in list(self._waiting):
            if entry[0] is oldest:
                self._waiting.remove(entry)
                self._settle(entry)
        while self._waiting:
            _, extra, granted = self._waiting[0]
            if not granted.done() and self.held + extra > self.capacity:
                return
            self._settle(self._waiting.popleft())

    def _settle(self, entry: tuple[ByteClaim, int, asyncio.Future[None]]) -> None:
        claim, extra, granted = entry
        if not granted.done():  # a cancelled waiter gets nothing
            self._grant(claim, extra)
            granted.set_result(None)


class ByteClaim:
    """One page's share of a ByteBudget. Used by one task at a time: one request for bytes at once."""

    def __init__(self, budget: ByteBudget):
        self._budget = budget
        self.held = 0

    async def hold(self, total: int) -> None:
        """Hold at least `total` bytes in all: take the difference, waiting for room unless oldest."""
        if total > self.held:
            await self._budget._take(self, total - self.held)

    def shrink(self, total: int) -> None:
        """Hold no more than `total` bytes: give the rest back."""
        if total < self.held:
            self._budget._give_back(self, self.held - max(total, 0))

    def release(self) -> None:
        """Give back everything (and stop being a claim, so the next one becomes the oldest)."""
        self._budget._claims.pop(self, None)
        self._budget._give_back(self, self.held)


class PageRoom:
    """At most `pages` pages in memory at once, holding at most `budget` bytes between them (plus one)."""

    def __init__(self, budget: int = PAGE_BYTES_BUDGET, pages: int = PAGES_IN_MEMORY):
        self.bytes = ByteBudget(budget)
        self._pages = asyncio.Semaphore(pages)

    def claim(self) -> PageClaim:
        return PageClaim(self._pages, self.bytes.claim())


class PageClaim:
    """One page's room: taken when its download starts, grown as it is read, given back once extracted."""

    def __init__(self, pages: asyncio.Semaphore, share: ByteClaim):
        self._pages = pages
        self._counted = False
        self.share = share

    @contextlib.asynccontextmanager
    async def then(self, slot: contextlib.AbstractAsyncContextManager[Any]) -> AsyncIterator[None]:
        """Take the room (a page, FIRST_BYTES), then `slot` for the download; the room outlives the
        download (see release). Room first: no download slot is held while waiting for memory."""
        await self._pages.acquire()
        self._counted = True
        await self.share.hold(FIRST_BYTES)
        async with slot:
            yield

    async def reserve_body(self, size: int) -> None:
        """http.get's `reserve`: the body read so far, `size` bytes, kept in chunks and then joined."""
        await self.share.hold(2 * size)

    async def reserve_for_decoding(self, body: bytes) -> None:
        """Room for `body` and what decoding it takes: a str of as many characters at most, each 1 byte
        if the body is ASCII, else up to _WIDEST_CHARACTER bytes, and then (not ASCII) the decoder's
        1-byte draft of it, widened when a wider character comes (the real weight is settled after)."""
        if body.isascii():
            await self.share.hold(2 * len(body) + sys.getsizeof(""))
        else:
            await self.share.hold((2 + _WIDEST_CHARACTER) * len(body) + sys.getsizeof(""))

    def settle_decoded(self, text: str) -> None:
        """The body is gone; the page now weighs its decoded text."""
        self.share.shrink(sys.getsizeof(text))

    def release(self) -> None:
        self.share.release()
        if self._counted:
            self._counted = False
            self._pages.release()


# glibc's mallopt parameter for the size from which a block is mapped from the system on its own
# (M_MMAP_THRESHOLD in malloc.h), and the size glibc starts with.
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024


def map_page_sized_blocks() -> bool:
    """Have glibc's malloc map every block of MMAP_THRESHOLD or more on its own, so that it goes back to
    the system as soon as it is freed.

    glibc starts there, but raises the threshold to the size of each mapped block freed (up to 32 MiB):
    once an 18 MB page text was freed, every body and text below that size came from the heap, where
    freed blocks stay resident. 48 pages of 4.6 MB with one emoji each (tests/faults/test_memory_bounds.py):
    428 MiB with the byte budget alone, 464 MiB with this alone (16 pages' room), 241-247 MiB with both
    (setting the threshold turns the raising off). A page of 50-300 KB costs a mapping and its page
    faults, microseconds. Nothing is done elsewhere than glibc, nor when the
    operator chose a threshold (MALLOC_MMAP_THRESHOLD_).
    """
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    return bool(mallopt is not None and mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
