"""Politeness per host: concurrency, a delay between starts, and Retry-After pauses (HostLimiter)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from .. import metrics

# The per-host table is swept once it holds this many hosts, then each time it doubles: amortised O(1)
# per request, and never more than about twice the hosts that are busy, delayed or paused.
SWEEP_HOSTS_FROM = 1_000

# A configured feed's request waits out a host's Retry-After pause this short; a longer pause fails the
# poll at once (HostPausedError), and the feed is polled again once the pause is over: a `once` run or a
# cycle must not sit for an hour behind a `Retry-After: 3600`.
FEED_PAUSE_WAIT_SECONDS = 30.0
# A 429 without Retry-After on a feed still pauses every feed of its host, this long: "too many
# requests" is about the client, not about the one feed that happened to get the answer.
RATE_LIMITED_PAUSE_SECONDS = 60.0


class HostPausedError(Exception):
    """A feed request not sent: its host asked for a pause (Retry-After) longer than a feed waits."""

    def __init__(self, host: str, seconds_left: float):
        super().__init__(host, seconds_left)
        self.host = host
        self.seconds_left = seconds_left


class HostLimiter:
    """Politeness per host, of two kinds, and one Retry-After pause per host that both honour.

    Article pages (and robots.txt) come from strangers' feeds and go to strangers' sites: at most
    `concurrency` requests at once per host, starts at least `delay` apart (not for robots.txt). Each
    host's paced requests line up for their turn one at a time; a request takes a shared slot (`then`:
    the pipeline's page-fetch gate) only once its host's turn has come. A host with a long backlog
    therefore holds at most `concurrency` shared slots and has one request waiting for one, never its
    whole queue holding slots while it sleeps (issue 12: 110 items on one slow host held every
    page-fetch slot and delayed another feed's article by 49 s).

    Configured feeds are the operator's choice, and 1,000 of them may live on one host (a self-hosted
    RSSHub, one search engine's news feeds): at most `feed_concurrency` at once per host and no delay
    between starts, which at 1 s a start made such a cycle take 1,000 s (issue 13). They have their
    own slots, so a host's feeds never wait behind its pages; a feed's start delays the host's next page
    as a page's start would.

    A 429/503 with Retry-After (and a feed's 429 without one, RATE_LIMITED_PAUSE_SECONDS) pauses the
    whole host: no request of either kind starts until it is over. Pages wait it out; feeds wait up to
    FEED_PAUSE_WAIT_SECONDS and otherwise fail at once with the time left (HostPausedError).
    """

    def __init__(self, concurrency: int = 2, delay: float = 1.0, *, feed_concurrency: int = 32):
        self.concurrency = concurrency
        self.delay = delay
        self.feed_concurrency = feed_concurrency
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._feed_slots: dict[str, asyncio.Semaphore] = {}
        self._turns: dict[str, asyncio.Lock] = {}
        self._next_start: dict[str, float] = {}
        self._paused_until: dict[str, float] = {}
        # Hosts come from feeds (article links): a host's state is dropped once it has no request under
        # way and no delay or pause left, in sweeps that run when the table has doubled since the last.
        self._busy: dict[str, int] = {}
        self._sweep_at = SWEEP_HOSTS_FROM

    def set_feed_concurrency(self, feed_concurrency: int) -> None:
        """A new per-host feed limit (live reload): requests from now on use it, those in flight finish."""
        if feed_concurrency != self.feed_concurrency:
            self.feed_concurrency = feed_concurrency
            self._feed_slots = {}

    @contextlib.asynccontextmanager
    async def slot(
        self,
        host: str,
        *,
        paced: bool = True,
        feed: bool = False,
        then: contextlib.AbstractAsyncContextManager[Any] | None = None,
    ) -> AsyncIterator[None]:
        """A request slot; `paced=False` (robots.txt) skips the delay, never a Retry-After pause.

        `feed=True`: a configured feed's request (feed slots, no delay; see the class docstring).
        `then`: a shared slot to hold as well, taken only once this host's turn has come.
        """
        self._busy[host] = self._busy.get(host, 0) + 1
        try:
            if feed:
                async with self._feed_slot(host, then):
                    yield
            else:
                async with self._host_slot(host, paced=paced, then=then):
                    yield
        finally:
            self._busy[host] -= 1
            if not self._busy[host]:
                del self._busy[host]
            if len(self._slots) + len(self._feed_slots) >= self._sweep_at:
                self._forget_idle_hosts()

    @property
    def hosts_tracked(self) -> int:
        """Hosts whose state is kept: the busy ones, those with a delay or pause left, and not yet swept."""
        return len(self._tracked())

    def _tracked(self) -> set[str]:
        return (
            self._slots.keys() | self._feed_slots.keys() | self._next_start.keys() | self._paused_until.keys()
        )

    def _forget_idle_hosts(self) -> None:
        now = asyncio.get_running_loop().time()
        for host in list(self._tracked()):
            if (
                host not in self._busy
                and max(self._next_start.get(host, 0.0), self._paused_until.get(host, 0.0)) <= now
            ):
                for table in (
                    self._slots,
                    self._feed_slots,
                    self._turns,
                    self._next_start,
                    self._paused_until,
                ):
                    table.pop(host, None)
        self._sweep_at = max(SWEEP_HOSTS_FROM, 2 * (len(self._slots) + len(self._feed_slots)))

    @contextlib.asynccontextmanager
    async def _host_slot(
        self, host: str, *, paced: bool, then: contextlib.AbstractAsyncContextManager[Any] | None
    ) -> AsyncIterator[None]:
        semaphore = self._slots.setdefault(host, asyncio.Semaphore(self.concurrency))
        async with semaphore, contextlib.AsyncExitStack() as held:
            if paced:
                async with self._turns.setdefault(host, asyncio.Lock()):
                    await self._wait_until(host, self._next_start.get(host, 0.0), "page")
                    if then is not None:
                        await held.enter_async_context(then)
                    # From when the request really starts: the shared slot may have taken a while.
                    self._next_start[host] = max(
                        self._next_start.get(host, 0.0), asyncio.get_running_loop().time() + self.delay
                    )
            else:
                await self._wait_until(host, self._paused_until.get(host, 0.0), "robots")
                if then is not None:
                    await held.enter_async_context(then)
            yield

    @contextlib.asynccontextmanager
    async def _feed_slot(
        self, host: str, then: contextlib.AbstractAsyncContextManager[Any] | None
    ) -> AsyncIterator[None]:
        semaphore = self._feed_slots.setdefault(host, asyncio.Semaphore(self.feed_concurrency))
        async with semaphore, contextlib.AsyncExitStack() as held:
            # A loop: another feed's 429 may lengthen the pause while this one waits it out.
            while (left := self.pause_left(host)) > 0:
                if left > FEED_PAUSE_WAIT_SECONDS:
                    raise HostPausedError(host, left)
                await self._wait_until(host, self._paused_until[host], "feed")
            if then is not None:
                await held.enter_async_context(then)
            # Not spaced itself, but a start the host's pages keep their distance from: a news site's
            # feed, robots.txt and first article are not three requests in a row.
            self._next_start[host] = max(
                self._next_start.get(host, 0.0), asyncio.get_running_loop().time() + self.delay
            )
            yield

    def pause_left(self, host: str) -> float:
        """Seconds until `host`'s Retry-After pause is over (0 when it is not paused)."""
        return max(self._paused_until.get(host, 0.0) - asyncio.get_running_loop().time(), 0.0)

    async def _wait_until(self, host: str, moment: float, request: str) -> None:
        wait = moment - asyncio.get_running_loop().time()
        if wait > 0:
            reason = "pause" if self.pause_left(host) > 0 else "delay"
            metrics.HOST_WAITS.labels(request, reason).inc()
            await asyncio.sleep(wait)

    def pause(self, host: str, seconds: float) -> None:
        """Honour a Retry-After: no request to `host` starts for `seconds`."""
        until = asyncio.get_running_loop().time() + seconds
        self._next_start[host] = max(self._next_start.get(host, 0.0), until)
        self._paused_until[host] = max(self._paused_until.get(host, 0.0), until)
