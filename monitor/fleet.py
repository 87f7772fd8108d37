"""This process as a member of the fleet sharing its store: joined at start, leases renewed, left at stop.

With SQLite the fleet is one process and this costs a write every few seconds; with PostgreSQL it is
what lets several instances share feeds and alerts, and take over a dead one's (storage/fleet.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from .errors import StorageError
from .logs import log_event
from .pipeline import Pipeline

log = logging.getLogger("monitor.fleet")

# Leases are renewed this many times per lease, so one missed renewal (a slow store) loses nothing.
RENEWALS_PER_LEASE = 3


@contextlib.asynccontextmanager
async def fleet_membership(pipeline: Pipeline) -> AsyncIterator[None]:
    """Join the fleet, keep this instance's leases alive while the block runs, then give them back."""
    storage = pipeline.storage
    storage.join_fleet(pipeline.clock())
    renewing = asyncio.create_task(_renew_leases(pipeline), name="lease renewal")
    try:
        yield
    finally:
        renewing.cancel()
        await asyncio.gather(renewing, return_exceptions=True)
        try:
            storage.leave_fleet()
        except StorageError as exc:  # the leases then run out by themselves
            log_event(log, logging.WARNING, "fleet.leave_failed", reason=str(exc))


async def _renew_leases(pipeline: Pipeline) -> None:
    every = pipeline.storage.lease.total_seconds() / RENEWALS_PER_LEASE
    while True:
        await asyncio.sleep(every)
        try:
            pipeline.storage.renew_claims(
                pipeline.clock(), feeds=pipeline.held_feed_urls(), alerts=pipeline.outbox.held_alert_ids()
            )
        except StorageError as exc:  # tried again next time; a lease is several renewals long
            log_event(log, logging.WARNING, "fleet.renew_failed", reason=str(exc))
