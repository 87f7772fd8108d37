"""Slack's health as the outbox sees it: up, or down since when and why, and when to look again.

A refused connection, a timeout, a 5xx or an `internal_error` is a condition of Slack (or of the way to
it), not of the alert that met it: every other post would fail the same way. So the outbox stops
posting, asks Slack's cheapest method (auth.test) at a short interval until it answers, and then sends
everything that waited at once, instead of leaving each alert to its own backoff (up to 30 minutes).

`PendingSummary` is what `once` and `run` print about the outbox: how many alerts wait, and why.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime

# Probing while Slack is down: 5 s after the failure, then 1.5x longer after each failed probe, up to
# 25 s; each plus up to 20 % jitter (so a fleet's instances drift apart): 5-6 s, 7.5-9 s, ... 25-30 s.
# auth.test is Tier 4 (100+ a minute), so even the shortest interval is far below its limit; the cap
# bounds how long a recovered Slack waits to be noticed.
PROBE_FIRST_SECONDS = 5.0
PROBE_GROWTH = 1.5
PROBE_LONGEST_SECONDS = 25.0
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
