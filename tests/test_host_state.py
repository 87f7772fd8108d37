"""Per-host state (politeness slots, delays, pauses) is dropped once a host is idle: hosts come from feeds."""

from __future__ import annotations

import asyncio

import pytest

from monitor.http.client import SWEEP_HOSTS_FROM, HostLimiter


async def use_hosts(limiter: HostLimiter, prefix: str, count: int) -> None:
    for n in range(count):
        async with limiter.slot(f"{prefix}{n}.example"):
            pass


def test_idle_hosts_are_forgotten_after_many_distinct_hosts() -> None:
    async def scenario() -> int:
        limiter = HostLimiter(concurrency=2, delay=0.0)
        await use_hosts(limiter, "host", 10 * SWEEP_HOSTS_FROM)
        return limiter.hosts_tracked

    assert asyncio.run(scenario()) <= 2 * SWEEP_HOSTS_FROM


def test_a_host_still_paused_is_remembered_through_sweeps() -> None:
    async def scenario() -> None:
        limiter = HostLimiter(concurrency=2, delay=0.0)
        async with limiter.slot("paused.example"):
            pass
        limiter.pause("paused.example", 60)  # a Retry-After of a minute
        await use_hosts(limiter, "host", 3 * SWEEP_HOSTS_FROM)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2), limiter.slot("paused.example", paced=False):
                pass

    asyncio.run(scenario())
