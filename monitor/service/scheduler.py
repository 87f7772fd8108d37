"""The service loop: APScheduler decides *when* to look; the store says which feeds are due.

Every feed's next poll time lives in the store (feed_schedule.py computes it), so a restart resumes
the schedule, backoff included. The scheduler only ticks: each second it asks the pipeline to start
the polls that are due, each minute it queues the digests that are due. Alerts and digests go out from
the outbox sender, which runs beside it.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from ..config import Config
from ..config.reload import ConfigChange, ConfigWatcher
from ..delivery.digest import queue_due_digests
from ..errors import ConfigError, NotifyError, StorageError
from ..logs import log_event
from ..pipeline.feed_cycle import Pipeline
from .interactivity import start_interactivity

log = logging.getLogger("monitor.scheduler")

# How often the store is asked for due feeds: the most a poll can start late.
TICK_SECONDS = 1.0
# How often old article text and rows are pruned (see Pipeline.prune), by one instance of the fleet;
# each instance asks every HOUSEKEEPING_CHECK_MINUTES, so the job survives the one that last ran it.
HOUSEKEEPING_HOURS = 6
HOUSEKEEPING_CHECK_MINUTES = 10
# On SIGTERM, running polls get this long to finish (the post in flight gets slack.timeout).
STOP_GRACE_SECONDS = 5.0
# How often digest schedules are checked: a digest goes out at most this long after its time (cron's
# resolution is a minute). A restart checks at once, so a digest due while it was down is not waited for.
DIGEST_CHECK_SECONDS = 60.0
# How often the store is asked whether a search provider's round is due (search.interval is 5 min or more).
SEARCH_CHECK_SECONDS = 30.0
# Once no poll has finished for this long, the heap memory the polls freed is handed back to the OS.
HEAP_TRIM_QUIET_SECONDS = 1.0


async def run_service(pipeline: Pipeline, stop: asyncio.Event | None = None) -> None:
    """Poll on schedule and deliver alerts until SIGTERM/SIGINT (or `stop` is set), then stop cleanly."""
    stop = stop or asyncio.Event()
    limit_malloc_arenas()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    pipeline.outbox.requeue_after_config_change()
    pipeline.outbox.start()
    socket = await start_interactivity(pipeline)  # the buttons on alerts, over Socket Mode
    scheduler = _scheduler(pipeline)
    scheduler.start()
    pipeline.start_due_polls()  # the first polls start now, not a tick from now
    watcher = ConfigWatcher(
        pipeline.config, apply=_applier(pipeline), reject=_notifier_of_bad_edits(pipeline)
    )
    watching = asyncio.create_task(watcher.run(stop), name="config watcher")
    log_event(log, logging.INFO, "service.started", feeds=len(pipeline.config.feeds),
              watchlists=len(pipeline.watchlists), notifier=pipeline.outbox.notifier.name)  # fmt: skip
    try:
        await stop.wait()
    finally:
        await watching
        log_event(log, logging.INFO, "service.stopping", grace=f"{STOP_GRACE_SECONDS:g}s")
        scheduler.shutdown(wait=False)
        if socket is not None:
            await socket.stop()
        # Both at once: polls get the grace period, the post in flight gets as long as a post may take.
        post_grace = pipeline.config.slack.timeout.total_seconds() + 1
        await asyncio.gather(
            pipeline.stop(grace=STOP_GRACE_SECONDS), pipeline.outbox.shutdown(grace=post_grace)
        )
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        log_event(log, logging.INFO, "service.stopped")


def _scheduler(pipeline: Pipeline) -> AsyncIOScheduler:
    """The service's jobs: the tick that starts due polls, housekeeping, digests and search rounds."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    every_tick = IntervalTrigger(seconds=TICK_SECONDS)
    scheduler.add_job(_tick, every_tick, args=[pipeline], id="tick", max_instances=1, coalesce=True)
    housekeeping = IntervalTrigger(minutes=HOUSEKEEPING_CHECK_MINUTES)
    scheduler.add_job(_housekeeping, housekeeping, args=[pipeline], id="housekeeping",
                      next_run_time=datetime.now(UTC), max_instances=1, coalesce=True)  # fmt: skip
    every_minute = IntervalTrigger(seconds=DIGEST_CHECK_SECONDS)
    scheduler.add_job(_digests, every_minute, args=[pipeline], id="digests",
                      next_run_time=datetime.now(UTC), max_instances=1, coalesce=True)  # fmt: skip
    # Always scheduled: a live reload may add `search:` (it starts nothing while there is none).
    every_half_minute = IntervalTrigger(seconds=SEARCH_CHECK_SECONDS)
    scheduler.add_job(_search, every_half_minute, args=[pipeline], id="search",
                      next_run_time=datetime.now(UTC), max_instances=1, coalesce=True)  # fmt: skip
    return scheduler


def _applier(pipeline: Pipeline) -> Callable[[Config, ConfigChange], Awaitable[None]]:
    async def apply(config: Config, change: ConfigChange) -> None:
        pipeline.reconfigure(config)
        pipeline.outbox.use_config(config)
        pipeline.outbox.wake()

    return apply


def _notifier_of_bad_edits(pipeline: Pipeline) -> Callable[[ConfigError], Awaitable[None]]:
    async def reject(error: ConfigError) -> None:
        channel = pipeline.config.slack.admin_channel
        if channel is None:
            return
        text = f"news-monitor kept its last valid configuration; this edit was refused:\n{error}"
        try:
            await pipeline.outbox.notifier.send_notice(channel, text)
        except NotifyError as exc:
            log_event(log, logging.WARNING, "config.notice_failed", channel=channel, reason=exc.reason)

    return reject


async def _housekeeping(pipeline: Pipeline) -> None:
    # Once per HOUSEKEEPING_HOURS across every instance sharing the store, whichever asks first.
    if not pipeline.storage.claim_job("housekeeping", pipeline.clock(), timedelta(hours=HOUSEKEEPING_HOURS)):
        return
    cleared, deleted = pipeline.prune()
    if cleared or deleted:
        log_event(log, logging.INFO, "store.pruned", texts_cleared=cleared, articles_deleted=deleted)


async def _tick(pipeline: Pipeline) -> None:
    # A coroutine on purpose: AsyncIOScheduler runs coroutines on the event loop, where the pipeline's
    # tasks live; a plain function would run in a worker thread.
    pipeline.start_due_polls()
    _HEAP.trim_after_polls(pipeline.last_poll_finished, datetime.now(UTC).timestamp())


async def _search(pipeline: Pipeline) -> None:
    # A round runs in its own task (paced, it takes a while); this only starts the due ones.
    pipeline.searches.start_due()


async def _digests(pipeline: Pipeline) -> None:
    try:
        queue_digests(pipeline)
    except StorageError as exc:  # the next check tries again; polls and delivery go on meanwhile
        log_event(log, logging.ERROR, "digest.check_failed", reason=str(exc))


def queue_digests(pipeline: Pipeline) -> int:
    """Queue the digests that are due now (see digest.py) and wake the sender; for `run` and `once`."""
    queued = queue_due_digests(pipeline.storage, pipeline.config, pipeline.clock())
    if queued:
        pipeline.outbox.wake()
    return queued


class HeapTrim:
    """Hands the memory a burst of polls freed back to the OS (glibc keeps it otherwise).

    Extraction runs in worker threads, each with its own glibc arena, and the pages freed there stay
    resident: after bench/memory.py's first 1,000-feed cycle, 58 of the 264 MiB were free heap that
    malloc_trim(0) returned in 5 ms (0.4 ms when there is nothing to return). Trimming waits until no
    poll has finished for HEAP_TRIM_QUIET_SECONDS, so a cycle does not give pages back and fault them in
    again. Elsewhere than glibc (musl, macOS) there is no malloc_trim and nothing is done.
    """

    def __init__(self) -> None:
        self._malloc_trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
        self._trimmed_after: float | None = None

    def trim_after_polls(self, last_poll_finished: float | None, now: float) -> bool:
        """Trim once per burst of polls, when the last finished (Unix time) is quiet long enough."""
        if self._malloc_trim is None or last_poll_finished is None:
            return False
        if last_poll_finished == self._trimmed_after or now - last_poll_finished < HEAP_TRIM_QUIET_SECONDS:
            return False
        self._trimmed_after = last_poll_finished
        self._malloc_trim(0)
        return True


_HEAP = HeapTrim()  # the heap is the process's, so one trimmer for the process

# glibc's mallopt parameter for the most arenas threads may create (M_ARENA_MAX in malloc.h).
_M_ARENA_MAX = -8
MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Let the worker threads share `arenas` glibc heaps instead of one each (8 per core by default).

    Each extraction thread otherwise gets an arena of its own whose freed pages stay resident; two
    shared arenas cost the cycle nothing measurable (bench/memory.py) and hold less memory idle. Done
    before the service starts its threads; elsewhere than glibc nothing is done.
    """
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    return bool(mallopt is not None and mallopt(_M_ARENA_MAX, arenas))
