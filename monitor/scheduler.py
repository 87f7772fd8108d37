"""The service loop: APScheduler decides *when* to look; the store says which feeds are due.

Every feed's next poll time lives in the store (feed_schedule.py computes it), so a restart resumes
the schedule, backoff included. The scheduler only ticks: each second it asks the pipeline to start
the polls that are due. Alerts go out from the outbox sender, which runs beside it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from .logs import log_event
from .pipeline import Pipeline

log = logging.getLogger("monitor.scheduler")

# How often the store is asked for due feeds: the most a poll can start late.
TICK_SECONDS = 1.0
# On SIGTERM, running polls get this long to finish (the post in flight gets slack.timeout).
STOP_GRACE_SECONDS = 5.0


async def run_service(pipeline: Pipeline, stop: asyncio.Event | None = None) -> None:
    """Poll on schedule and deliver alerts until SIGTERM/SIGINT (or `stop` is set), then stop cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    pipeline.outbox.requeue_after_config_change()
    pipeline.outbox.start()
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(_tick, IntervalTrigger(seconds=TICK_SECONDS), args=[pipeline], id="tick",
                      max_instances=1, coalesce=True)  # fmt: skip
    scheduler.start()
    pipeline.start_due_polls()  # the first polls start now, not a tick from now
    log_event(log, logging.INFO, "service.started", feeds=len(pipeline.config.feeds),
              watchlists=len(pipeline.watchlists), notifier=pipeline.outbox.notifier.name)  # fmt: skip
    try:
        await stop.wait()
    finally:
        log_event(log, logging.INFO, "service.stopping", grace=f"{STOP_GRACE_SECONDS:g}s")
        scheduler.shutdown(wait=False)
        # Both at once: polls get the grace period, the post in flight gets as long as a post may take.
        post_grace = pipeline.config.slack.timeout.total_seconds() + 1
        await asyncio.gather(
            pipeline.stop(grace=STOP_GRACE_SECONDS), pipeline.outbox.shutdown(grace=post_grace)
        )
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        log_event(log, logging.INFO, "service.stopped")


async def _tick(pipeline: Pipeline) -> None:
    # A coroutine on purpose: AsyncIOScheduler runs coroutines on the event loop, where the pipeline's
    # tasks live; a plain function would run in a worker thread.
    pipeline.start_due_polls()
