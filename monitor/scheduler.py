"""The service loop: APScheduler decides *when* each feed is polled; the pipeline decides *what* happens."""

from __future__ import annotations

import asyncio
import logging
import random
import signal
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from .config import FeedConfig
from .logs import log_event
from .pipeline import Pipeline

log = logging.getLogger("monitor.scheduler")

# Jitter spreads polls so feeds on one host are not hit in the same second every interval;
# 10 % of the interval, at most a minute, keeps the schedule recognisable.
JITTER_SHARE = 0.1
MAX_JITTER_SECONDS = 60
# The outbox is retried this often, so an alert that failed on a Slack hiccup goes out soon after.
OUTBOX_RETRY_INTERVAL = timedelta(minutes=1)
# At start-up feeds are spread over this window instead of all polled in the same instant.
START_SPREAD_SECONDS = 10
# On SIGTERM, polls already running get this long to finish what they are sending.
STOP_GRACE_SECONDS = 5


def schedule_feeds(scheduler: AsyncIOScheduler, pipeline: Pipeline, running: set[asyncio.Task[None]]) -> None:
    """One interval job per feed, plus the outbox retry job; running polls are tracked in `running`."""
    now = datetime.now(UTC)
    for feed in pipeline.config.feeds:
        interval = pipeline.config.feed_interval(feed).total_seconds()
        scheduler.add_job(
            _poll_feed,
            IntervalTrigger(seconds=interval, jitter=min(interval * JITTER_SHARE, MAX_JITTER_SECONDS)),
            args=[pipeline, feed, running],
            id=f"feed:{feed.url}",
            next_run_time=now + timedelta(seconds=random.uniform(0, min(START_SPREAD_SECONDS, interval))),
            max_instances=1,  # a slow feed is never polled twice at once
            coalesce=True,  # after a stall, poll once, not once per missed interval
            misfire_grace_time=int(interval),
        )
    scheduler.add_job(
        pipeline.deliver_pending,
        IntervalTrigger(seconds=OUTBOX_RETRY_INTERVAL.total_seconds()),
        id="outbox",
        max_instances=1,
        coalesce=True,
    )


async def _poll_feed(pipeline: Pipeline, feed: FeedConfig, running: set[asyncio.Task[None]]) -> None:
    task = asyncio.current_task()
    if task is not None:
        running.add(task)
    try:
        report = await pipeline.poll_one(feed)
        log_event(log, logging.INFO, "feed.polled", feed_url=feed.url, counts=report.summary() or "none")
    finally:
        running.discard(task)


async def run_service(pipeline: Pipeline, stop: asyncio.Event | None = None) -> None:
    """Poll on schedule until SIGTERM/SIGINT (or `stop` is set), then stop cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    scheduler = AsyncIOScheduler(timezone=UTC)
    running: set[asyncio.Task[None]] = set()
    schedule_feeds(scheduler, pipeline, running)
    scheduler.start()
    log_event(
        log,
        logging.INFO,
        "service.started",
        feeds=len(pipeline.config.feeds),
        watchlists=len(pipeline.watchlists),
        notifier=pipeline.notifier.name,
    )
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        if running:
            # Let polls in flight finish the alert they are sending; cut off after the grace period.
            await asyncio.wait(set(running), timeout=STOP_GRACE_SECONDS)
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        log_event(log, logging.INFO, "service.stopped")
