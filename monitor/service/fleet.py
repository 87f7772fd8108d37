"""This process as a member of the fleet sharing its store: joined at start, leases renewed, a dead
member's work taken over, left at stop.

With SQLite the fleet is one process and this costs a write every few seconds; with PostgreSQL it is
what lets several instances share feeds and alerts, and take over a dead one's (storage/fleet.py).

What a dead instance leaves, and when another takes it over (`lease` is fleet.lease, 15 s by default):
- the feed items it was reading (fetching, extracting, matching, up to their record): held in the store
  from the moment an item turns out new, taken over when the lease runs out, without polling the feed
  again;
- its unsent alerts, claimed in batches by its sender: taken over when the lease runs out;
- its feeds: polled when they would have been polled next anyway (a feed is never requested twice
  within its interval), so an item it had not read yet is read on that poll.
Each live instance looks at the moment the next lease of another one would run out, not only on its
own schedule, so the work of a dead instance waits about a lease, no more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING

from ..errors import StorageError
from ..logs import log_event
from ..pipeline.held_items import ItemWork

if TYPE_CHECKING:
    from ..pipeline.feed_cycle import Pipeline

log = logging.getLogger("monitor.fleet")

# Leases are renewed this many times per lease (every 3 s of the default 15 s, as Kubernetes renews its
# 15 s leader lease every 2 s): a slow store may miss four renewals in a row before anything is lost.
RENEWALS_PER_LEASE = 5
# Another instance's lease is looked at this long after it ran out: clocks of two hosts a little apart,
# and its holder's last renewal still being written, do not make the look come early and find nothing.
TAKEOVER_MARGIN_SECONDS = 0.25
# Looks for expired leases come no closer together than this, whatever the leases say.
SHORTEST_LOOK_SECONDS = 0.5


@contextlib.asynccontextmanager
async def fleet_membership(pipeline: Pipeline) -> AsyncIterator[None]:
    """Join the fleet, keep this instance's leases alive and take over dead ones' work while the block
    runs, then give back what this instance holds."""
    storage = pipeline.storage
    storage.join_fleet(pipeline.clock())
    taking_over: set[asyncio.Task[None]] = set()
    keeping = asyncio.create_task(_keep_leases(pipeline, taking_over), name="fleet leases")
    try:
        yield
    finally:
        keeping.cancel()
        for task in taking_over:
            task.cancel()
        await asyncio.gather(keeping, *taking_over, return_exceptions=True)
        try:
            storage.leave_fleet()
        except StorageError as exc:  # the leases then run out by themselves
            log_event(log, logging.WARNING, "fleet.leave_failed", reason=str(exc))


async def _keep_leases(pipeline: Pipeline, taking_over: set[asyncio.Task[None]]) -> None:
    """Renew every RENEWALS_PER_LEASE-th of a lease; between renewals, wake when another instance's
    lease runs out and take its work over."""
    every = pipeline.storage.lease.total_seconds() / RENEWALS_PER_LEASE
    next_renewal = time.monotonic() + every
    while True:
        wait = next_renewal - time.monotonic()
        next_takeover = await _take_over(pipeline, taking_over)
        lease_ends = False
        if next_takeover is not None:
            until = (next_takeover - pipeline.clock()).total_seconds() + TAKEOVER_MARGIN_SECONDS
            lease_ends = until < wait
            wait = min(wait, max(until, SHORTEST_LOOK_SECONDS))
        await asyncio.sleep(max(wait, 0))
        if lease_ends:
            pipeline.outbox.wake()  # its next pass claims the alerts whose lease ran out
        if time.monotonic() >= next_renewal:
            await _renew(pipeline)
            next_renewal = time.monotonic() + every


async def _renew(pipeline: Pipeline) -> None:
    try:
        await asyncio.to_thread(
            pipeline.storage.renew_claims,
            pipeline.clock(),
            feeds=pipeline.held_feed_urls(),
            alerts=pipeline.outbox.held_alert_ids(),
            items=pipeline.held_items.ids(),
        )
    except StorageError as exc:  # tried again next time; a lease is several renewals long
        log_event(log, logging.WARNING, "fleet.renew_failed", reason=str(exc))


async def _take_over(pipeline: Pipeline, taking_over: set[asyncio.Task[None]]) -> datetime | None:
    """Start reading the items whose reader died; return when the next lease of another instance ends."""
    if pipeline.stopping:
        return None
    storage = pipeline.storage
    try:
        taken = await asyncio.to_thread(storage.claim_orphaned_items, pipeline.clock())
        next_takeover = await asyncio.to_thread(storage.next_takeover_at, pipeline.clock())
    except StorageError as exc:  # looked at again at the next renewal
        log_event(log, logging.WARNING, "fleet.takeover_failed", reason=str(exc))
        return None
    if taken:
        log_event(log, logging.INFO, "fleet.took_over", items=len(taken))
    for claim, work in taken:
        task = asyncio.create_task(_read_item(pipeline, claim, ItemWork.from_json(work)), name="taken item")
        taking_over.add(task)
        task.add_done_callback(taking_over.discard)
    return next_takeover


async def _read_item(pipeline: Pipeline, claim: int, work: ItemWork) -> None:
    """Read an item another instance started and did not finish, as its poll would have."""
    item = work.item
    try:
        with pipeline.held_items.holding(claim) as hold:
            outcome = await pipeline.process_item(
                item, work.source, work.first_poll, pipeline.feed_tags(item.feed_url), held=claim
            )
            # Not read: this instance is stopping, and gives the claim back for another to read it.
            hold.leave = outcome == "postponed"
    except StorageError as exc:  # the claim runs out, and this or another instance tries again
        log_event(log, logging.WARNING, "fleet.item_failed", article_url=item.link, reason=str(exc))
        return
    log_event(log, logging.INFO, "fleet.item_read", feed_url=item.feed_url, article_url=item.link,
              outcome=outcome)  # fmt: skip
