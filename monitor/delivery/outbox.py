"""Delivery: sending alerts from the outbox, paced per channel, retried with backoff, never twice on purpose.

An alert reaches the outbox in the same transaction as its article (pipeline.py). From there:

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
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .. import metrics
from ..config.model import Config
from ..errors import NotifyError
from ..logs import log_event
from ..models import Alert, Digest, StoryReply
from ..storage import OutboxEntry, Storage
from .notifiers.base import Notifier, Posted
from .pacing import DEFAULT_PACE_SECONDS, MIN_TURN_WAIT_SECONDS, ChannelPacer
from .rerouting import Router, Routes
from .retry_policy import _AUTH_ERRORS, _CHANNEL_ERRORS, _Blocks, backoff_delay
from .retry_policy import BACKOFF_BASE as BACKOFF_BASE  # callers import it from here
from .slack_health import OUTAGE_ERROR_PREFIX, RETRY_AFTER_ERRORS, PendingSummary, SlackWatch

log = logging.getLogger("monitor.delivery")

# Without a wake-up the sender still looks at the outbox this often, for alerts whose backoff ended.
IDLE_CHECK_SECONDS = 5.0


@dataclass
class DeliveryStats:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    dropped: int = 0  # never to be sent: their watchlists are gone, or another message carries them

    def add(self, other: DeliveryStats) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.dropped += other.dropped


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
        self.config_fingerprint = config_fingerprint
        self.clock = clock
        self.pacer = ChannelPacer(storage, clock, pace)  # posts to one channel `pace` apart (pacing.py)
        # None: entries go where they were queued (tests of the sender alone); see rerouting.py.
        self.router = Router(storage, routes, clock) if routes is not None else None
        self.slack = SlackWatch(storage, notifier, clock)  # up, or down and probed (slack_health.py)
        self._attempted: set[int] = set()  # entries this process tried to send: `drain` tries the rest
        self.stopping = False  # set on SIGTERM: finish the post in flight, start no other
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._closing = False
        self._sender: asyncio.Task[None] | None = None
        self.stats = DeliveryStats()  # totals since start, for reports and metrics
        self._blocks = _Blocks()
        self.in_hand: list[OutboxEntry] = []  # claimed, waiting their turn to be sent
        self.sending: OutboxEntry | None = None

    def use_config(self, config: Config) -> int:
        """After a live reload: new pacing and routes, and failed alerts get another chance if the config
        changed (they then go where their watchlists route now)."""
        self.pacer.pace = post_interval(config, self.notifier)
        self.router = Router(self.storage, Routes.from_config(config), self.clock)
        fingerprint = delivery_fingerprint(config)
        if fingerprint == self.config_fingerprint:
            return 0
        self.config_fingerprint = fingerprint
        self._blocks = _Blocks()  # what was blocked may be fixed now
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
        self._sender = asyncio.create_task(self._run(), name="outbox sender")

    async def drain(self) -> DeliveryStats:
        """Stop the loop after its current pass, then try every pending entry this process has not tried,
        whatever its backoff, except those held by Slack's Retry-After; for `once` and the other one-shot
        commands. While Slack is down (after one more probe), nothing is tried."""
        self._closing = True
        self._wake.set()
        if self._sender is not None:
            await self._sender
        self.slack.read_stored()
        if self.slack.down:
            await self.probe()
        if not self.slack.down:
            self.storage.end_backoff_except(self.clock(), error_prefixes=RETRY_AFTER_ERRORS,
                                            skip=self._attempted)  # fmt: skip
            self.stats.add(await self.deliver_due())
        return self.stats

    def stop(self) -> None:
        """SIGTERM: finish the post in flight, start no other."""
        self.stopping = True
        self._wake.set()

    async def shutdown(self, grace: float) -> None:
        self.stop()
        if self._sender is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._sender, timeout=grace)

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

        Entries are claimed in batches (storage/fleet.py), so instances sharing a store never send one
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
                        entry = await self.pacer.next_ready(queue, self._blocked)
                        if entry is not None:
                            self.sending = entry  # its lease is renewed while the post takes
                            await self._deliver(entry, stats)
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

    def _blocked(self, channel: str) -> str | None:
        """Why every post to the channel would fail now (a bad token, a missing channel), if it would."""
        return self._blocks.auth or self._blocks.channels.get(channel)

    async def _deliver(self, entry: OutboxEntry, stats: DeliveryStats) -> None:
        if self.storage.alert_status(entry.id) != "pending":
            return  # sent or failed meanwhile (another task got there first)
        blocked = self._blocked(entry.channel)
        if blocked:
            self._fail(entry, blocked, stats, log_it=False)
            return
        self._attempted.add(entry.id)
        try:
            await self._deliver_by_kind(entry, stats)
        except Exception as exc:
            # One entry the sender cannot handle (a bug meeting a hostile title or link) fails alone;
            # raised further it would end the pass and hold up every alert queued behind it, each pass.
            log.exception("alert.unsendable channel=%s alert_id=%s", entry.channel, entry.id)
            self._fail(entry, f"could not be sent: {type(exc).__name__}: {exc}", stats, log_it=False)

    async def _deliver_by_kind(self, entry: OutboxEntry, stats: DeliveryStats) -> None:
        posted_before = self.pacer.last_post.get(entry.channel)
        if entry.kind == "reply":
            await self._deliver_reply(entry, stats)
        elif entry.kind == "digest":
            await self._deliver_digest(entry, stats)
        else:
            await self._deliver_alert(entry, stats)
        if self.pacer.last_post.get(entry.channel) != posted_before:
            self.pacer.pace_from_answer(entry.channel)

    async def _deliver_alert(self, entry: OutboxEntry, stats: DeliveryStats) -> None:
        alert = Alert.from_json(entry.payload, article_id=entry.article_id)
        self.pacer.posting(entry.channel)
        try:
            posted = await self.notifier.send_alert(alert)
        except NotifyError as exc:
            self._handle_failure(entry, alert.article.url, exc, stats)
            return
        self._mark_sent(entry, posted, stats, article_url=alert.article.url)

    async def _deliver_reply(self, entry: OutboxEntry, stats: DeliveryStats) -> None:
        """A later article of a story: a reply in its alert's thread, then (for a new outlet) the count."""
        parent = self.storage.outbox_entry(entry.parent_id) if entry.parent_id is not None else None
        if parent is None or parent.status == "failed":
            # `retry` and a configuration change requeue both, and the alert then goes first.
            reason = (
                f"the story's alert was not sent: {parent.error}" if parent else "the story's alert is gone"
            )
            self._fail(entry, reason, stats, log_it=False)
            return
        if parent.status == "pending":
            wait_until = max(parent.next_attempt_at or self.clock(), self.clock() + timedelta(seconds=1))
            self.storage.postpone_alert(entry.id, next_attempt_at=wait_until)
            return
        reply = StoryReply.from_json(entry.payload)
        anchor = Posted(parent.ts, parent.channel_id) if parent.ts else None
        if anchor is None and self.notifier.name == "slack" and reply.alert:
            # The story's alert was only printed (the console, before a token was set): Slack has no
            # thread for it, so this article is the story's alert there.
            self.storage.make_alert(entry.id, reply.alert)
            await self._deliver_alert(dataclasses.replace(entry, kind="alert", parent_id=None,
                                                          payload=reply.alert), stats)  # fmt: skip
            return
        self.pacer.posting(entry.channel)
        try:
            posted = Posted(entry.ts) if entry.ts else await self.notifier.send_reply(reply, anchor)
        except NotifyError as exc:
            self._handle_failure(entry, reply.url, exc, stats)
            return
        if posted is not None and not entry.ts:
            # Kept before the update, so a failed update is retried without posting the reply twice.
            self.storage.record_reply_posted(entry.id, posted.ts)
        # An outlet's update leaves "Carried by N outlets" as it is: its outlet is counted already.
        if anchor is not None and entry.story_id is not None and not reply.update:
            try:
                outlets = self.storage.story_outlets(entry.story_id)
                await self.notifier.update_alert(Alert.from_json(parent.payload), anchor, outlets)
            except NotifyError as exc:
                if not exc.permanent:
                    self._handle_failure(entry, reply.url, exc, stats)
                    return
                # The alert was deleted or can no longer be edited: the reply stands on its own.
                log_event(log, logging.WARNING, "alert.update_failed", channel=entry.channel,
                          reason=exc.reason)  # fmt: skip
        self._mark_sent(entry, posted, stats, article_url=reply.url)

    async def _deliver_digest(self, entry: OutboxEntry, stats: DeliveryStats) -> None:
        digest = Digest.from_json(entry.payload)
        self.pacer.posting(entry.channel)
        try:
            ts = await self.notifier.send_digest(digest)
        except NotifyError as exc:
            self._handle_failure(entry, "", exc, stats)
            return
        self._mark_sent(entry, Posted(ts) if ts else None, stats, article_url="")

    def _mark_sent(
        self, entry: OutboxEntry, posted: Posted | None, stats: DeliveryStats, *, article_url: str
    ) -> None:
        # Console output is recorded as `printed`, so nobody mistakes it for a Slack delivery.
        done = "printed" if self.notifier.name == "console" else "sent"
        ts = posted.ts if posted else None
        channel_id = posted.channel_id if posted else None
        self.storage.mark_alert_sent(entry.id, ts=ts, at=self.clock(), status=done, channel_id=channel_id)
        self.slack.health.post_succeeded()
        stats.sent += 1
        metrics.ALERTS_SENT.inc()
        log_event(
            log, logging.INFO, f"{entry.kind}.sent", channel=entry.channel, article_url=article_url, ts=ts
        )

    def _handle_failure(
        self, entry: OutboxEntry, article_url: str, exc: NotifyError, stats: DeliveryStats
    ) -> None:
        if exc.permanent:
            self._remember_block(entry.channel, exc)
            self._fail(entry, exc.reason, stats, log_it=True, article_url=article_url)
            return
        reason = exc.reason
        if exc.outage is not None:
            # Slack's condition, not this alert's: its backoff ends when Slack answers again.
            self.slack.went_down(exc.outage)
            detail = f" ({exc.reason})" if exc.reason != exc.outage else ""
            reason = f"{OUTAGE_ERROR_PREFIX}{exc.outage}{detail}"
        if exc.retry_after is not None:
            self.pacer.hold(entry.channel, exc.retry_after)
        delay = (
            timedelta(seconds=exc.retry_after)
            if exc.retry_after is not None
            else backoff_delay(entry.attempts + 1)
        )
        self.storage.reschedule_alert(entry.id, error=reason, next_attempt_at=self.clock() + delay)
        stats.retrying += 1
        metrics.ALERTS_FAILED.labels("retry").inc()
        log_event(
            log, logging.WARNING, "alert.retry_later", channel=entry.channel, article_url=article_url,
            reason=reason, attempt=entry.attempts + 1,
            retry_in="when Slack answers" if exc.outage else f"{delay.total_seconds():.0f}s",
        )  # fmt: skip

    def _remember_block(self, channel: str, exc: NotifyError) -> None:
        code = exc.reason.split(" ", 1)[0]
        if code in _AUTH_ERRORS:
            self._blocks.auth = exc.reason
        elif code in _CHANNEL_ERRORS:
            self._blocks.channels[channel] = exc.reason

    def _fail(
        self, entry: OutboxEntry, reason: str, stats: DeliveryStats, *, log_it: bool, article_url: str = ""
    ) -> None:
        self.storage.fail_alert(entry.id, error=reason, config_fingerprint=self.config_fingerprint)
        stats.failed += 1
        metrics.ALERTS_FAILED.labels("permanent").inc()
        if log_it:
            # Once per cause: later alerts that hit the same block are failed silently (see _Blocks).
            log_event(log, logging.ERROR, "alert.failed", channel=entry.channel, article_url=article_url,
                      reason=reason, retry="after the configuration or token changes")  # fmt: skip


def post_interval(config: Config, notifier: Notifier) -> float:
    """Seconds between posts to one channel: Slack allows about one per second; a terminal has no limit."""
    return config.slack.min_post_interval.total_seconds() if notifier.name == "slack" else 0.0


def delivery_fingerprint(config: Config) -> str:
    """Changes with the configuration or the token: what permanently failed alerts wait for."""
    token = config.slack.token() or ""
    return hashlib.sha256(f"{config.fingerprint}\0{token}".encode()).hexdigest()
