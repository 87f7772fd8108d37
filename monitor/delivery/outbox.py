"""The outbox sender: alerts sent from the outbox, paced per channel, retried with backoff, never twice on
purpose.

An alert reaches the outbox in the same transaction as its article (pipeline/). From there:

- failures of Slack itself (refused or dropped connections, timeouts, DNS, 5xx, `internal_error`,
  `fatal_error`, `service_unavailable`) are one condition of Slack, not of each alert: posting stops,
  auth.test is probed every few seconds (slack_health.py), and when Slack answers every alert that
  waited for it is due at once. The outage is kept in the store, so the next `once` (or a restart)
  picks it up;
- other transient failures (429, unknown errors) keep it pending with a next attempt after exponential
  backoff with jitter, or after Slack's Retry-After; this survives restarts because the schedule is in
  the store;
- permanent failures (channel_not_found, invalid_auth, invalid_blocks, ...) mark it failed with what to
  fix, logged once; it is retried when the configuration or token changes (see `config_fingerprint`);
- a channel that answered 429 is paused for Retry-After, other channels go on;
- each entry is sent where its watchlists route now (rerouting.py): an alert requeued after its
  channel was fixed goes to the fixed channel, not to the one it failed in;
- posts to one channel are at least `pace` apart (Slack allows about one message per second per channel),
  across every instance sharing the store: each post takes the channel's turn in the store, and a 429
  holds the channel for all of them.

The one window where an alert can be posted twice: Slack accepted the post but the process died (or the
reply was lost) before `mark_alert_sent` was stored. The next attempt posts it again. That is one
duplicate per crash at most, because only one post is in flight at a time.

Here: the sender loop, claiming due entries in batches, routing them and giving back what was not sent.
Its parts: pacing.py (when a channel may be posted to next), sending.py (one entry sent by its kind, and
its outcome stored), retry_policy.py (backoff, Retry-After, what blocks a token or a channel).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from datetime import datetime

from ..config import Config
from ..logs import log_event
from ..storage import OutboxEntry, Storage
from .notifiers.base import Notifier
from .pacing import DEFAULT_PACE_SECONDS, HELD_MARGIN_SECONDS, MIN_TURN_WAIT_SECONDS, ChannelPacer
from .rerouting import Router, Routes
from .retry_policy import BACKOFF_BASE, BACKOFF_CAP, backoff_delay
from .sending import DeliveryStats, EntrySender
from .slack_health import RETRY_AFTER_ERRORS, PendingSummary, SlackWatch

# Callers import these from here; the pacing, retry and sending parts are defined in their own modules.
__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "DEFAULT_PACE_SECONDS",
    "HELD_MARGIN_SECONDS",
    "IDLE_CHECK_SECONDS",
    "MIN_TURN_WAIT_SECONDS",
    "DeliveryStats",
    "Outbox",
    "backoff_delay",
    "delivery_fingerprint",
    "post_interval",
]

log = logging.getLogger("monitor.delivery")

# Without a wake-up the sender still looks at the outbox this often, for alerts whose backoff ended.
IDLE_CHECK_SECONDS = 5.0


class Outbox:
    """Sends due outbox entries one at a time; one instance per process."""

    def __init__(
        self,
        storage: Storage,
        notifier: Notifier,
        *,
        config_fingerprint: str,
        clock: Callable[[], datetime],
        pace: float = DEFAULT_PACE_SECONDS,
        routes: Routes | None = None,
    ):
        self.storage = storage
        self.notifier = notifier
        self.clock = clock
        self.pacer = ChannelPacer(storage, clock, pace)  # posts to one channel `pace` apart (pacing.py)
        # None: entries go where they were queued (tests of the sender alone); see rerouting.py.
        self.router = Router(storage, routes, clock) if routes is not None else None
        self.slack = SlackWatch(storage, notifier, clock)  # up, or down and probed (slack_health.py)
        # Sends one entry by its kind and stores the outcome (sending.py).
        self.sender = EntrySender(storage, notifier, clock, self.pacer, self.slack, config_fingerprint)
        self.stopping = False  # set on SIGTERM: finish the post in flight, start no other
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._closing = False
        self._loop: asyncio.Task[None] | None = None
        self.stats = DeliveryStats()  # totals since start, for reports and metrics
        self.in_hand: list[OutboxEntry] = []  # claimed, waiting their turn to be sent
        self.sending: OutboxEntry | None = None

    @property
    def config_fingerprint(self) -> str:
        """The configuration and token that permanently failed entries are stored with."""
        return self.sender.config_fingerprint

    def use_config(self, config: Config) -> int:
        """After a live reload: new pacing and routes, and failed alerts get another chance if the config
        changed (they then go where their watchlists route now)."""
        self.pacer.pace = post_interval(config, self.notifier)
        self.router = Router(self.storage, Routes.from_config(config), self.clock)
        fingerprint = delivery_fingerprint(config)
        if fingerprint == self.config_fingerprint:
            return 0
        self.sender.use_fingerprint(fingerprint)
        self.pacer.forget_pauses()
        return self.requeue_after_config_change()

    def requeue_after_config_change(self) -> int:
        """Alerts that failed permanently under another config or token get another chance."""
        count = self.storage.requeue_failed_alerts(self.config_fingerprint)
        if count:
            log_event(log, logging.INFO, "outbox.requeued", alerts=count, reason="configuration changed")
        return count

    def wake(self) -> None:
        """New alerts are queued: the sender loop should look now rather than at its next check."""
        self._wake.set()

    def start(self) -> None:
        """Run the sender loop in the background until `drain` or `shutdown`."""
        self._loop = asyncio.create_task(self._run(), name="outbox sender")

    async def drain(self) -> DeliveryStats:
        """Stop the loop after its current pass, then try every pending entry this process has not tried,
        whatever its backoff, except those held by Slack's Retry-After; for `once` and the other one-shot
        commands. While Slack is down (after one more probe), nothing is tried."""
        self._closing = True
        self._wake.set()
        if self._loop is not None:
            await self._loop
        self.slack.read_stored()
        if self.slack.down:
            await self.probe()
        if not self.slack.down:
            self.storage.end_backoff_except(self.clock(), error_prefixes=RETRY_AFTER_ERRORS,
                                            skip=self.sender.attempted)  # fmt: skip
            self.stats.add(await self.deliver_due())
        return self.stats

    def stop(self) -> None:
        """SIGTERM: finish the post in flight, start no other."""
        self.stopping = True
        self._wake.set()

    async def shutdown(self, grace: float) -> None:
        self.stop()
        if self._loop is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._loop, timeout=grace)

    async def _run(self) -> None:
        """The sender loop: deliver what is due (while Slack is down: probe it when due instead), then
        sleep until woken, the next probe or the next check."""
        while not (self.stopping or self._closing):
            self._wake.clear()
            try:
                self.slack.read_stored()
                if self.slack.health.probe_due():
                    await self.probe()
                if not self.slack.down:
                    self.stats.add(await self.deliver_due())
            except Exception as exc:  # the store failed over, a bug: the sender must outlive one pass
                log_event(log, logging.ERROR, "outbox.pass_failed", reason=f"{type(exc).__name__}: {exc}")
            idle = IDLE_CHECK_SECONDS
            if self.slack.down:
                idle = min(idle, max(self.slack.health.seconds_to_probe(), MIN_TURN_WAIT_SECONDS))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=idle)

    async def probe(self) -> bool:
        """Ask Slack whether it answers; when it does, what waited for it is due now (slack_health.py)."""
        answered = await self.slack.probe()
        if answered:
            self._wake.set()
        return answered

    def pending_summary(self) -> PendingSummary:
        """How many entries wait to be sent, and why: for the `once` and periodic `run` summaries."""
        return self.slack.pending_summary()

    async def deliver_due(self) -> DeliveryStats:
        """Send every due alert, pacing each channel; returns what happened.

        Entries are claimed in batches (storage/claims.py), so instances sharing a store never send one
        twice; a claimed entry that is not sent (the sender is stopping) is given back.
        """
        stats = DeliveryStats()
        async with self._lock:
            seen: set[int] = set()
            while not (self.stopping or self.slack.down):
                queue = self.storage.claim_due_alerts(self.clock())
                if not queue or seen.issuperset(entry.id for entry in queue):
                    self._give_back(queue)
                    break
                seen.update(entry.id for entry in queue)
                queue = self._routed(queue, stats)
                self.in_hand = queue
                try:
                    # Slack down: the entries in hand go back untried, to wait for the probe.
                    while queue and not (self.stopping or self.slack.down):
                        entry = await self.pacer.next_ready(queue, self.sender.blocked)
                        if entry is not None:
                            self.sending = entry  # its lease is renewed while the post takes
                            await self.sender.deliver(entry, stats)
                            self.sending = None
                finally:
                    self.in_hand, self.sending = [], None
                    self._give_back(queue)
        return stats

    def _routed(self, queue: list[OutboxEntry], stats: DeliveryStats) -> list[OutboxEntry]:
        """The entries as they go now: where their watchlists route under this configuration."""
        if self.router is None:
            return queue
        routed = []
        for entry in queue:
            try:
                now = self.router.route(entry)
            except Exception:  # an entry that cannot be routed is sent as queued (and fails alone there)
                log.exception("alert.unroutable alert_id=%s", entry.id)
                now = entry
            if now is None:
                stats.dropped += 1
            else:
                routed.append(now)
        return routed

    def _give_back(self, queue: list[OutboxEntry]) -> None:
        if queue:
            self.storage.release_alerts([entry.id for entry in queue])

    def held_alert_ids(self) -> list[int]:
        """The entries this sender holds claims on now (their leases are renewed while it works)."""
        sending = [self.sending.id] if self.sending is not None else []
        return [entry.id for entry in self.in_hand] + sending


def post_interval(config: Config, notifier: Notifier) -> float:
    """Seconds between posts to one channel: Slack allows about one per second; a terminal has no limit."""
    return config.slack.min_post_interval.total_seconds() if notifier.name == "slack" else 0.0


def delivery_fingerprint(config: Config) -> str:
    """Changes with the configuration or the token: what permanently failed alerts wait for."""
    token = config.slack.token() or ""
    return hashlib.sha256(f"{config.fingerprint}\0{token}".encode()).hexdigest()
