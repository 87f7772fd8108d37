"""Politeness toward a search provider: requests spaced out, a failed round backed off, and a circuit
breaker that, after repeated failures, lets one probe request through per round instead of every query.

Numbers from the research (../shared/research/news-sources.md §3.1, §4.2): GDELT asks for one request per
5 s and one team still drew 429s at 5.0 and 6.5 s, so 6 s at the least here; backoff starts at 5 minutes
and stops at 2 hours; retrying inside the penalty window restarts a lockout, so there is no retry within
a round.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

FIRST_BACKOFF = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=2)
# Failed rounds in a row that open the circuit (one admin notice, then one probe request per round).
CIRCUIT_THRESHOLD = 3


class Pacer:
    """At most one request per `gap` seconds to a provider from this process, whichever task asks.

    Across the fleet a provider's round is run by one instance at a time (storage claim_search_round).
    """

    def __init__(
        self,
        gap: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.gap = gap
        self.clock = clock
        self.sleep = sleep
        self._last: float | None = None
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when the next request may start (and count it as started)."""
        async with self._lock:
            if self._last is not None:
                left = self.gap - (self.clock() - self._last)
                if left > 0:
                    await self.sleep(left)
            self._last = self.clock()


def next_round_after_failure(
    now: datetime, interval: timedelta, failures: int, retry_after: float | None = None
) -> datetime:
    """When to try again after `failures` failed rounds in a row: 5 min, 10, 20 ... 2 h, never sooner
    than the usual interval nor the provider's Retry-After."""
    backoff = min(FIRST_BACKOFF * 2 ** max(failures - 1, 0), MAX_BACKOFF)
    wait = max(backoff, interval, timedelta(seconds=retry_after or 0))
    return now + wait


def circuit_open(failures: int) -> bool:
    return failures >= CIRCUIT_THRESHOLD
