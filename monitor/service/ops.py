"""Operations endpoints for `run`: GET /healthz and GET /metrics (Prometheus text format).

Off unless `ops.enabled: true`; it listens on 127.0.0.1 by default, since metrics name feeds and
channels that are nobody else's business, and warns at start when it listens anywhere else. Each
connection serves one request (`Connection: close`), must send it within `ops.header_timeout`, and is
aborted a few seconds later whatever it is doing; at most `ops.max_connections` are open, and a new one
replaces the least useful at the cap (ops_listener.py says how). `ops.idle_timeout` is still accepted
but has no effect: no connection is kept alive between requests.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .. import metrics
from ..config import OpsSettings
from ..errors import StorageError
from ..pipeline.feed_cycle import Pipeline
from ..redact import mask_secrets
from ..storage import Storage
from .ops_listener import ConnectionLimits, GuardedListener
from .ops_logging import warn_if_exposed, warn_if_few_descriptors

# The scheduler ticks every second; three missed ticks and a bit mean it is stuck.
TICK_STALE_SECONDS = 5.0
# A poll should finish within twice the shortest feed interval (plus a minute for slow feeds);
# until then a fresh start is healthy.
POLL_STALE_SLACK_SECONDS = 60.0
# On stop, a request in progress gets this long (the handlers answer in milliseconds unless the store hangs).
SHUTDOWN_SECONDS = 2.0


@dataclass(frozen=True)
class Health:
    scheduler_alive: bool
    store_writable: bool
    last_cycle_age_seconds: float | None
    polling_on_time: bool
    store_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.scheduler_alive and self.store_writable and self.polling_on_time

    def as_json(self) -> dict[str, object]:
        return {
            "status": "ok" if self.ok else "failing",
            "scheduler_alive": self.scheduler_alive,
            "store_writable": self.store_writable,
            "store_error": mask_secrets(self.store_error) if self.store_error else None,  # unauthenticated
            "last_cycle_age_seconds": self.last_cycle_age_seconds,
            "polling_on_time": self.polling_on_time,
        }


def check_health(pipeline: Pipeline, started: float) -> Health:
    """Is the scheduler ticking, can the store be written, did a poll finish recently enough?"""
    now = time.time()
    tick_age = time.monotonic() - pipeline.last_tick if pipeline.last_tick is not None else None
    scheduler_alive = tick_age is not None and tick_age < TICK_STALE_SECONDS
    store_error = None
    try:
        pipeline.storage.heartbeat("healthz", datetime.now(UTC))
    except StorageError as exc:
        store_error = str(exc)
    shortest = min(pipeline.config.feed_interval(feed).total_seconds() for feed in pipeline.config.feeds)
    allowed = 2 * shortest + POLL_STALE_SLACK_SECONDS
    age = now - pipeline.last_poll_finished if pipeline.last_poll_finished is not None else None
    on_time = (age if age is not None else now - started) < allowed
    return Health(scheduler_alive, store_error is None, age, on_time, store_error)


def build_app(
    pipeline: Pipeline, started: float | None = None, middlewares: tuple[Middleware, ...] = ()
) -> web.Application:
    started_at = started if started is not None else time.time()

    async def healthz(_: web.Request) -> web.Response:
        health = check_health(pipeline, started_at)
        body = json.dumps(health.as_json())
        return web.Response(text=body, status=200 if health.ok else 503, content_type="application/json")

    gauges = StoreGauges(pipeline.storage)

    async def metrics_page(_: web.Request) -> web.Response:
        await gauges.read()
        return web.Response(
            body=generate_latest(metrics.REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app = web.Application(middlewares=middlewares)
    app.on_cleanup.append(lambda _: gauges.close())
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    return app


class StoreGauges:
    """The store's gauges, read for /metrics in a thread of their own (a slow or locked store must hold up
    neither the event loop, which acks Socket Mode envelopes, nor the shared worker threads, which parse
    and extract: eight scrapes stuck on a locked table held up a feed's next alert), one read at a time
    and shared by the scrapes that come while it runs."""

    def __init__(self, storage: Storage):
        self.storage = storage
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metrics-store")
        self._reading: asyncio.Future[None] | None = None

    async def read(self) -> None:
        if self._reading is None or self._reading.done():
            loop = asyncio.get_running_loop()
            self._reading = loop.run_in_executor(self._thread, read_store_gauges, self.storage)
            # Retrieved even when every scrape waiting for it gave up (else asyncio logs it as lost).
            self._reading.add_done_callback(lambda done: done.cancelled() or done.exception())
        await asyncio.shield(self._reading)  # a scrape that gives up leaves the read to the others

    async def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


def read_store_gauges(storage: Storage) -> None:
    """The gauges read from the store at each scrape: the outbox, and the feedback from the buttons
    (every instance's presses, counted once)."""
    counts = storage.outbox_counts()
    metrics.OUTBOX_PENDING.set(counts.get("pending", 0))
    metrics.OUTBOX_FAILED.set(counts.get("failed", 0))
    read_feedback(storage)


def read_feedback(storage: Storage) -> None:
    """Interactions by action and watchlist, and precision per watchlist, from the store (every instance's
    presses); watchlists no longer there drop out."""
    metrics.INTERACTIONS.clear()
    for (action, watchlist), count in storage.interaction_counts().items():
        metrics.INTERACTIONS.labels(action, watchlist).set(count)
    judged: dict[str, list[bool]] = {}
    for judgement in storage.judgements():
        judged.setdefault(judgement.watchlist, []).append(judgement.relevant)
    metrics.JUDGED_ALERTS.clear()
    metrics.PRECISION.clear()
    for watchlist, verdicts in judged.items():
        metrics.JUDGED_ALERTS.labels(watchlist).set(len(verdicts))
        metrics.PRECISION.labels(watchlist).set(sum(verdicts) / len(verdicts))


class OpsServer:
    """The endpoints on ops.host:ops.port, started and stopped with the service."""

    def __init__(self, pipeline: Pipeline, settings: OpsSettings):
        self.host, self.port = settings.host, settings.port
        self._settings = settings
        header_timeout = settings.header_timeout.total_seconds()
        self._limits = ConnectionLimits(settings.max_connections, header_timeout)
        app = build_app(pipeline, middlewares=(self._note_request,))
        app.on_response_prepare.append(self._close_after_response)
        # aiohttp's own knobs: keepalive_timeout (3.14+ also closes a connection that sends nothing) is
        # the header timeout, there being no second request to wait for; lingering_time bounds reading
        # a request body nobody asked for; handler_cancellation stops a handler whose client went away;
        # shutdown_timeout keeps `run` from waiting on a stuck one.
        self._runner = web.AppRunner(
            app,
            access_log=None,
            keepalive_timeout=header_timeout,
            lingering_time=header_timeout,
            handler_cancellation=True,
            shutdown_timeout=SHUTDOWN_SECONDS,
        )
        self._listener: GuardedListener | None = None

    async def start(self) -> None:
        await self._runner.setup()
        server = self._runner.server
        assert server is not None  # setup() made it
        self._listener = GuardedListener(server, self._limits)
        try:
            await self._listener.start(self.host, self.port)
        except OSError:
            await self._runner.cleanup()
            raise
        warn_if_exposed(self.host, self._listener.addresses)
        warn_if_few_descriptors(self._settings.max_connections)

    async def stop(self) -> None:
        if self._listener is not None:
            await self._listener.stop()
        await self._runner.cleanup()  # lets requests in progress finish, closes the connections
        if self._listener is not None:
            self._listener.close_all()  # any aiohttp did not know of yet

    @web.middleware
    async def _note_request(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self._listener is not None:
            self._listener.request_started(request.transport)
        return await handler(request)

    async def _close_after_response(self, request: web.Request, response: web.StreamResponse) -> None:
        """Every response (404s included) ends its connection: `Connection: close`, and aiohttp then
        handles no request pipelined behind it. One request per connection is what lets the listener
        give each connection one short deadline, so no client can keep a slot by polling or pipelining."""
        response.force_close()
        response.headers[hdrs.CONNECTION] = "close"  # aiohttp may have chosen its headers already
        if self._listener is not None:
            self._listener.response_started(request.transport)
