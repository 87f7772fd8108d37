"""Sending one outbox entry: an alert (with its buttons, where Slack listens for them), a story's reply in
its alert's thread (then the alert's outlet count updated), an alert rewritten after someone pressed one of
its buttons (`refresh`), or a digest; and storing what became of it: sent, retried later, or failed."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .. import metrics
from ..errors import NotifyError
from ..logs import log_event
from ..models import Alert, AlertControls, Digest, StoryReply
from ..storage import OutboxEntry, Storage
from .notifiers.base import Notifier, Posted
from .pacing import ChannelPacer
from .retry_policy import Blocks, retry_delay, retry_reason
from .slack_health import SlackWatch

log = logging.getLogger("monitor.delivery")


@dataclass
class DeliveryStats:
    """What became of the entries a pass (or the process, in total) took in hand."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    dropped: int = 0  # never to be sent: their watchlists are gone, or another message carries them

    def add(self, other: DeliveryStats) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.dropped += other.dropped


class EntrySender:
    """Sends one claimed entry by its kind, paced by `pacer`, and stores the outcome; one per Outbox."""

    def __init__(
        self,
        storage: Storage,
        notifier: Notifier,
        clock: Callable[[], datetime],
        pacer: ChannelPacer,
        slack: SlackWatch,
        config_fingerprint: str,
    ):
        self.storage = storage
        self.notifier = notifier
        self.clock = clock
        self.pacer = pacer
        self.slack = slack
        self.config_fingerprint = config_fingerprint  # stored with each failure: `retry` waits for another
        self.blocks = Blocks()
        self.attempted: set[int] = set()  # entries this process tried to send: `drain` tries the rest

    def use_fingerprint(self, fingerprint: str) -> None:
        """The configuration or token changed: failures are stored under the new one."""
        self.config_fingerprint = fingerprint
        self.blocks = Blocks()  # what was blocked may be fixed now

    def blocked(self, channel: str) -> str | None:
        """Why every post to the channel would fail now (a bad token, a missing channel), if it would."""
        return self.blocks.blocked(channel)

    async def deliver(self, entry: OutboxEntry, stats: DeliveryStats) -> None:
        """Send the entry (unless it was settled meanwhile or its channel is blocked); one that cannot be
        handled fails alone."""
        if self.storage.alert_status(entry.id) != "pending":
            return  # sent or failed meanwhile (another task got there first)
        blocked = self.blocked(entry.channel)
        if blocked:
            self._fail(entry, blocked, stats, log_it=False)
            return
        self.attempted.add(entry.id)
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
        elif entry.kind == "refresh":
            await self._deliver_refresh(entry, stats)
        else:
            await self._deliver_alert(entry, stats)
        if self.pacer.last_post.get(entry.channel) != posted_before:
            self.pacer.pace_from_answer(entry.channel)

    async def _deliver_alert(self, entry: OutboxEntry, stats: DeliveryStats) -> None:
        alert = Alert.from_json(entry.payload, article_id=entry.article_id)
        self.pacer.posting(entry.channel)
        try:
            posted = await self.notifier.send_alert(alert, AlertControls(entry.id))
        except NotifyError as exc:
            self._handle_failure(entry, alert.article.url, exc, stats)
            return
        self._mark_sent(entry, posted, stats, article_url=alert.article.url)

    async def _deliver_reply(self, entry: OutboxEntry, stats: DeliveryStats) -> None:
        """A later article of a story: a reply in its alert's thread, then (for a new outlet) the count."""
        parent = self._sent_parent(entry, stats)
        if parent is None:
            return
        reply = StoryReply.from_json(entry.payload)
        if self.storage.story_muted(reply.story_id, entry.channel):
            # Queued before someone pressed "Mute story": a muted story posts nothing more there.
            self.storage.drop_alert(entry.id, reason="its story was muted in this channel")
            stats.dropped += 1
            return
        anchor = Posted(parent.ts, parent.channel_id) if parent.ts else None
        if anchor is None and self.notifier.name == "slack" and reply.alert:
            await self._deliver_as_alert(entry, reply.alert, stats)
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
            updated = await self._update_story_alert(entry, entry.story_id, parent, anchor, stats, reply.url)
            if not updated:
                return
        self._mark_sent(entry, posted, stats, article_url=reply.url)

    def _sent_parent(self, entry: OutboxEntry, stats: DeliveryStats) -> OutboxEntry | None:
        """The story's alert, once it is no longer pending; None when the reply fails with it (failed or
        gone) or waits for it (pending)."""
        parent = self.storage.outbox_entry(entry.parent_id) if entry.parent_id is not None else None
        if parent is None or parent.status == "failed":
            # `retry` and a configuration change requeue both, and the alert then goes first.
            reason = (
                f"the story's alert was not sent: {parent.error}" if parent else "the story's alert is gone"
            )
            self._fail(entry, reason, stats, log_it=False)
            return None
        if parent.status == "pending":
            wait_until = max(parent.next_attempt_at or self.clock(), self.clock() + timedelta(seconds=1))
            self.storage.postpone_alert(entry.id, next_attempt_at=wait_until)
            return None
        return parent

    async def _deliver_as_alert(self, entry: OutboxEntry, alert: str, stats: DeliveryStats) -> None:
        """The story's alert was only printed (the console, before a token was set): Slack has no thread
        for it, so this article (its own `alert` JSON) is the story's alert there."""
        self.storage.make_alert(entry.id, alert)
        await self._deliver_alert(
            dataclasses.replace(entry, kind="alert", parent_id=None, payload=alert), stats
        )

    async def _update_story_alert(
        self,
        entry: OutboxEntry,
        story_id: int,
        parent: OutboxEntry,
        anchor: Posted,
        stats: DeliveryStats,
        article_url: str,
    ) -> bool:
        """The story's alert rewritten with the outlets carrying it now; False when that failed for now
        and the entry is retried (its reply kept, not posted again)."""
        try:
            outlets = self.storage.story_outlets(story_id)
            await self.notifier.update_alert(
                Alert.from_json(parent.payload), anchor, outlets, self._controls(parent.id)
            )
        except NotifyError as exc:
            if not exc.permanent:
                self._handle_failure(entry, article_url, exc, stats)
                return False
            # The alert was deleted or can no longer be edited: the reply stands on its own.
            log_event(log, logging.WARNING, "alert.update_failed", channel=entry.channel,
                      reason=exc.reason)  # fmt: skip
        return True

    async def _deliver_refresh(self, entry: OutboxEntry, stats: DeliveryStats) -> None:
        """Someone pressed a button on the alert `parent_id`: rewrite it (chat.update) as it stands now,
        with the line of what was done. Rate limits, outages and retries as for any post."""
        parent = self.storage.outbox_entry(entry.parent_id) if entry.parent_id is not None else None
        if parent is None or parent.ts is None or parent.channel_id is None:
            self.storage.drop_alert(entry.id, reason="the alert is not in Slack to be rewritten")
            stats.dropped += 1
            return
        outlets = self.storage.story_outlets(parent.story_id) if parent.story_id is not None else []
        anchor = Posted(parent.ts, parent.channel_id)
        self.pacer.posting(entry.channel)
        try:
            alert = Alert.from_json(parent.payload)
            await self.notifier.update_alert(alert, anchor, outlets, self._controls(parent.id))
        except NotifyError as exc:
            self._handle_failure(entry, "", exc, stats)
            return
        self._mark_sent(entry, anchor, stats, article_url=alert.article.url)

    def _controls(self, alert_id: int) -> AlertControls:
        """The alert's buttons, and what was done with them so far (the store's interactions)."""
        return AlertControls(alert_id, tuple(self.storage.alert_marks(alert_id)))

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
        if entry.kind != "refresh":  # a rewrite posts nothing new
            metrics.ALERTS_SENT.inc()
        log_event(
            log, logging.INFO, f"{entry.kind}.sent", channel=entry.channel, article_url=article_url, ts=ts
        )

    def _handle_failure(
        self, entry: OutboxEntry, article_url: str, exc: NotifyError, stats: DeliveryStats
    ) -> None:
        """A permanent failure fails the entry (and may block its token or channel); any other is retried
        later: after Retry-After (holding the channel), when Slack answers again, or after backoff."""
        if exc.permanent:
            self.blocks.remember(entry.channel, exc)
            self._fail(entry, exc.reason, stats, log_it=True, article_url=article_url)
            return
        if exc.outage is not None:
            self.slack.went_down(exc.outage)  # posting stops; auth.test is probed until Slack answers
        if exc.retry_after is not None:
            self.pacer.hold(entry.channel, exc.retry_after)
        reason, delay = retry_reason(exc), retry_delay(exc, entry.attempts + 1)
        self.storage.reschedule_alert(entry.id, error=reason, next_attempt_at=self.clock() + delay)
        stats.retrying += 1
        metrics.ALERTS_FAILED.labels("retry").inc()
        log_event(
            log, logging.WARNING, "alert.retry_later", channel=entry.channel, article_url=article_url,
            reason=reason, attempt=entry.attempts + 1,
            retry_in="when Slack answers" if exc.outage else f"{delay.total_seconds():.0f}s",
        )  # fmt: skip

    def _fail(
        self, entry: OutboxEntry, reason: str, stats: DeliveryStats, *, log_it: bool, article_url: str = ""
    ) -> None:
        self.storage.fail_alert(entry.id, error=reason, config_fingerprint=self.config_fingerprint)
        stats.failed += 1
        metrics.ALERTS_FAILED.labels("permanent").inc()
        if log_it:
            # Once per cause: later alerts that hit the same block are failed silently (see Blocks).
            log_event(log, logging.ERROR, "alert.failed", channel=entry.channel, article_url=article_url,
                      reason=reason, retry="after the configuration or token changes")  # fmt: skip
