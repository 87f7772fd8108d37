"""Slack's health as the outbox sees it: up, or down since when and why, and when to look again.

A refused connection, a timeout, a 5xx or an `internal_error` is a condition of Slack (or of the way to
it), not of the alert that met it: every other post would fail the same way. So the outbox stops
posting, asks Slack's cheapest method (auth.test) at a short interval until it answers, and then sends
everything that waited at once, instead of leaving each alert to its own backoff (up to 30 minutes).

`PendingSummary` is what `once` and `run` print about the outbox: how many alerts wait, and why.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from ..errors import NotifyError
from ..logs import log_event
from ..storage import Storage
from ..storage.outbox import StoredOutage
from .notifiers.base import Notifier

log = logging.getLogger("monitor.delivery")

# How the `error` of an entry that met an outage starts: when Slack answers again, those are due at once.
OUTAGE_ERROR_PREFIX = "Slack unreachable: "
# The errors of a 429 (NotifyError.reason): their entries wait for Slack's Retry-After, even in `once`.
RETRY_AFTER_ERRORS = ("ratelimited", "rate_limited")

# Probing while Slack is down: 5 s after the failure, then 1.5x longer after each failed probe, up to
# 12 s; each plus up to 20 % jitter (so a fleet's instances drift apart): 5-6 s, 7.5-9 s, 11.3-13.5 s,
# then 12-14.4 s. The ceiling is what a recovered Slack waits to be noticed, so alerts go out within
# about 15 s of its return (bench/slack_recovery.py); it costs at most 5 auth.test calls a minute per
# instance, far below that method's Tier 4 limit (100+ a minute, SLACK.md §3).
PROBE_FIRST_SECONDS = 5.0
PROBE_GROWTH = 1.5
PROBE_LONGEST_SECONDS = 12.0
PROBE_JITTER = 0.2


@dataclass(frozen=True)
class Outage:
    """Slack has not answered since `since`; `problem` is the last failure, in a few words."""

    since: datetime
    problem: str  # "connection refused", "timed out", "HTTP 503", "internal_error", ...


class SlackHealth:
    """Up, or down with an outage; when down, when to probe next."""

    def __init__(self, rng: random.Random | None = None):
        self.outage: Outage | None = None
        self._rng = rng or random.Random()
        self._next_probe = 0.0  # monotonic
        # Outage failures and failed probes since a post last succeeded: they lengthen the interval, so a
        # Slack whose auth.test answers while its posts fail is not asked every 5 s for ever.
        self._strikes = 0

    @property
    def down(self) -> bool:
        return self.outage is not None

    def failed(self, problem: str, now: datetime) -> bool:
        """A post or probe met an outage; True when Slack was up until now."""
        newly_down = self.outage is None
        self.outage = Outage(now, problem) if self.outage is None else replace(self.outage, problem=problem)
        self._strikes += 1
        self._next_probe = time.monotonic() + self.probe_interval()
        return newly_down

    def resume(self, outage: Outage) -> None:
        """An outage another process (or an earlier `once`) saw and nobody saw end: probe at once."""
        if self.outage is None:
            self.outage = outage
            self._next_probe = 0.0

    def recovered(self) -> Outage | None:
        """Slack answered: the outage (if any) is over; returns it, for the log."""
        outage, self.outage = self.outage, None
        return outage

    def post_succeeded(self) -> None:
        self._strikes = 0

    def probe_due(self) -> bool:
        return self.outage is not None and time.monotonic() >= self._next_probe

    def seconds_to_probe(self) -> float:
        return max(self._next_probe - time.monotonic(), 0.0)

    def probe_interval(self) -> float:
        base = min(PROBE_FIRST_SECONDS * PROBE_GROWTH ** max(self._strikes - 1, 0), PROBE_LONGEST_SECONDS)
        return base * (1 + PROBE_JITTER * self._rng.random())


class SlackWatch:
    """Slack's health for an outbox: found down by a post, kept in the store (so the next process knows),
    probed while down, and back when a probe answers."""

    def __init__(self, storage: Storage, notifier: Notifier, clock: Callable[[], datetime]):
        self.storage = storage
        self.notifier = notifier
        self.clock = clock
        self.health = SlackHealth()
        self._stored_read = False

    @property
    def down(self) -> bool:
        return self.health.down

    def read_stored(self) -> None:
        """An outage an earlier process saw and nobody saw end (a cron `once` after another): probe first."""
        if self._stored_read:
            return
        self._stored_read = True
        stored = self.storage.slack_outage()
        if stored is not None:
            self.health.resume(Outage(stored.since, stored.problem))

    def went_down(self, problem: str) -> None:
        """A post met an outage: posting stops until a probe answers."""
        now = self.clock()
        if self.health.failed(problem, now):
            self.storage.record_slack_outage(StoredOutage(now, problem))
            log_event(log, logging.WARNING, "slack.unreachable", problem=problem,
                      action="alerts wait in the outbox; auth.test is probed until Slack answers",
                      next_probe=f"{self.health.seconds_to_probe():.0f}s")  # fmt: skip

    async def probe(self) -> bool:
        """Ask Slack whether it answers (auth.test); when it does, what waited for it is due now."""
        try:
            await self.notifier.probe()
        except NotifyError as exc:
            if exc.outage is not None:
                self.health.failed(exc.outage, self.clock())
                log_event(log, logging.DEBUG, "slack.probe_failed", problem=exc.outage,
                          next_probe=f"{self.health.seconds_to_probe():.0f}s")  # fmt: skip
                return False
            # It answered, if only to refuse (a revoked token): the alerts' own attempts say what to fix.
        outage = self.health.recovered()
        self.storage.end_backoff(OUTAGE_ERROR_PREFIX)
        if outage is not None:
            self.storage.clear_slack_outage()
            waiting = self.storage.pending_counts(self.clock(), retry_after_prefixes=RETRY_AFTER_ERRORS)
            log_event(log, logging.INFO, "slack.back", down_since=outage.since.isoformat(timespec="seconds"),
                      problem=outage.problem, alerts_to_send=waiting.total)  # fmt: skip
        return True

    def pending_summary(self) -> PendingSummary:
        now = self.clock()
        counts = self.storage.pending_counts(now, retry_after_prefixes=RETRY_AFTER_ERRORS)
        outage = self.health.outage
        if outage is None and not self._stored_read:  # this process sent nothing: the store knows
            stored = self.storage.slack_outage()
            outage = Outage(stored.since, stored.problem) if stored is not None else None
        return PendingSummary(pending=counts.total, rate_limited=counts.retry_after,
                              backing_off=counts.backing_off, outage=outage, as_of=now)  # fmt: skip


@dataclass(frozen=True)
class PendingSummary:
    """The outbox entries not sent yet, and why they wait (for the `once` and `run` summaries)."""

    pending: int  # alerts, thread replies and digests waiting to be sent
    rate_limited: int  # of them: held by Slack's Retry-After (429)
    backing_off: int  # of them: waiting out their backoff after another error
    outage: Outage | None  # Slack down: every pending entry waits for it
    as_of: datetime

    def describe(self) -> str:
        """e.g. `3 alerts pending: Slack unreachable (connection refused) since 08:01 UTC`."""
        if not self.pending:
            return "no alerts pending"
        head = f"{self.pending} alert{'s' if self.pending != 1 else ''} pending"
        if self.outage is not None:
            return f"{head}: Slack unreachable ({self.outage.problem}) since {self._when(self.outage.since)}"
        reasons = []
        if self.rate_limited:
            reasons.append(f"{self.rate_limited} held by Slack's Retry-After")
        if self.backing_off:
            reasons.append(f"{self.backing_off} retrying after an error")
        due = self.pending - self.rate_limited - self.backing_off
        if due:
            reasons.append(f"{due} to be sent now")
        return f"{head}: {', '.join(reasons)}"

    def _when(self, moment: datetime) -> str:
        moment = moment.astimezone(UTC)
        same_day = moment.date() == self.as_of.astimezone(UTC).date()
        return moment.strftime("%H:%M UTC" if same_day else "%Y-%m-%d %H:%M UTC")
