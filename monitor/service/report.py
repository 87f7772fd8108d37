"""What `run` and `once` say about the service: where things are at start-up, and a summary line.

`run` says at start where its state lives, which notifier it uses, where /healthz listens and when the
next poll is; then, every `ops.summary_interval`, one `service.summary` line. `once` prints the same
summary after its cycle. The counts come from the store, so in a fleet they are the whole fleet's.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..config import Config, duration_text
from ..errors import StorageError
from ..logs import format_value, log_event, safe_line
from ..pipeline.feed_cycle import Pipeline
from ..redact import mask_configured_url
from ..storage import FeedState, OutboxEntry, Storage
from ..text import cut

log = logging.getLogger("monitor.service")

# An error quoted in a summary line is cut to this many characters: the line stays one screen wide.
ERROR_CHARS = 80


@dataclass(frozen=True)
class ServiceSummary:
    """The feeds by state and the outbox by status, with why alerts are still pending or failed."""

    feeds_ok: int
    feeds_failing: int
    feeds_disabled: int
    feeds_unpolled: int
    alerts_sent: int
    sent_in: str  # the period alerts_sent counts: "this cycle", "5m"
    alerts_pending: int
    alerts_failed: int
    pending_why: str | None = None
    failed_why: str | None = None

    def fields(self) -> dict[str, Any]:
        """The summary as log fields; zero counts of rare states are left out, None fields too."""
        fields: dict[str, Any] = {"feeds_ok": self.feeds_ok, "feeds_failing": self.feeds_failing}
        if self.feeds_disabled:
            fields["feeds_disabled"] = self.feeds_disabled
        if self.feeds_unpolled:
            fields["feeds_unpolled"] = self.feeds_unpolled
        fields |= {"alerts_sent": self.alerts_sent, "sent_in": self.sent_in,
                   "alerts_pending": self.alerts_pending, "alerts_failed": self.alerts_failed,
                   "pending_why": self.pending_why, "failed_why": self.failed_why}  # fmt: skip
        return fields

    def line(self) -> str:
        """`service.summary key=value ...`: what `run` logs, as `once` prints it."""
        fields = self.fields().items()
        return "service.summary " + " ".join(f"{k}={format_value(v)}" for k, v in fields if v is not None)


def summarise(
    config: Config,
    storage: Storage,
    now: datetime,
    *,
    sent: int,
    sent_in: str,
    slack_outage: str | None = None,
) -> ServiceSummary:
    """The summary of the configured feeds and of the outbox, as the store has them at `now`.

    `slack_outage`: the sender's word when Slack itself is down (every pending alert waits for it, not
    for its own error): it replaces the per-alert reasons."""
    states = {state.url: state for state in storage.feed_states()}
    feeds = Counter(_feed_state(states.get(feed.url)) for feed in config.feeds)
    counts = storage.outbox_counts()
    pending = storage.outbox_entries(("pending",)) if counts.get("pending") else []
    failed = storage.outbox_entries(("failed",)) if counts.get("failed") else []
    return ServiceSummary(
        feeds_ok=feeds["ok"],
        feeds_failing=feeds["failing"],
        feeds_disabled=feeds["disabled"],
        feeds_unpolled=feeds["unpolled"],
        alerts_sent=sent,
        sent_in=sent_in,
        alerts_pending=counts.get("pending", 0),
        alerts_failed=counts.get("failed", 0),
        pending_why=(slack_outage if pending and slack_outage else _pending_why(pending, now)),
        failed_why=_commonest_error(failed),
    )


def _feed_state(state: FeedState | None) -> str:
    if state is None or state.last_polled_at is None:
        return "unpolled"
    if state.disabled_reason:
        return "disabled"
    return "failing" if state.consecutive_failures else "ok"


def _pending_why(entries: Sequence[OutboxEntry], now: datetime) -> str | None:
    """`2 not tried yet; 3 to retry after HTTP 503, next try in 8s`."""
    if not entries:
        return None
    retrying = [entry for entry in entries if entry.error]
    parts = []
    if len(entries) > len(retrying):
        parts.append(f"{len(entries) - len(retrying)} not tried yet")
    if retrying:
        soonest = min((e.next_attempt_at for e in retrying if e.next_attempt_at), default=None)
        when = f"next try in {_span(soonest - now)}" if soonest and soonest > now else "due now"
        parts.append(f"{len(retrying)} to retry after {_commonest_error(retrying)}, {when}")
    return "; ".join(parts)


def _commonest_error(entries: Sequence[OutboxEntry]) -> str | None:
    errors = Counter(cut(safe_line(entry.error), ERROR_CHARS) for entry in entries if entry.error)
    if not errors:
        return None
    error, _ = errors.most_common(1)[0]
    return error if len(errors) == 1 else f"{error} (and {len(errors) - 1} other errors)"


def _span(span: timedelta) -> str:
    """8s, 4m, 2.5h: how long until something happens, for a log line."""
    seconds = max(span.total_seconds(), 1.0)
    if seconds < 90:
        return f"{seconds:.0f}s"
    return f"{seconds / 60:.0f}m" if seconds < 5400 else f"{seconds / 3600:.1f}h"


# -- run -------------------------------------------------------------------------------------------


def log_startup(pipeline: Pipeline, healthz_url: str | None) -> None:
    """Where the state lives, which notifier posts, where /healthz listens, when the next poll is."""
    config = pipeline.config
    log_event(log, logging.INFO, "service.store", url=mask_configured_url(config.storage_url))
    notifier = pipeline.outbox.notifier.name
    if notifier == "slack":
        api = mask_configured_url(config.slack.resolved_api_url())
        log_event(log, logging.INFO, "service.notifier", notifier=notifier, api=api,
                  token_env=config.slack.token_env)  # fmt: skip
    else:
        note = f"alerts are printed, not posted; set ${config.slack.token_env} to post to Slack"
        log_event(log, logging.INFO, "service.notifier", notifier=notifier, note=note)
    if healthz_url:
        log_event(log, logging.INFO, "service.healthz", url=healthz_url)
    else:
        log_event(log, logging.INFO, "service.healthz", state="off",
                  note="set ops.enabled: true to serve /healthz and /metrics")  # fmt: skip
    next_poll = _next_poll(config, pipeline.storage, pipeline.clock())
    every = duration_text(config.ops.summary_interval)
    log_event(log, logging.INFO, "service.next_poll", **next_poll, summary_every=every)


def _next_poll(config: Config, storage: Storage, now: datetime) -> dict[str, Any]:
    states = {state.url: state for state in storage.feed_states()}
    times = [state.next_poll_at if state else None for state in (states.get(f.url) for f in config.feeds)]
    due = sum(1 for at in times if at is None or at <= now)
    later = [at for at in times if at is not None and at > now]
    if not later:
        return {"due_now": due}
    soonest = min(later)
    return {"due_now": due, "next_at": soonest.isoformat(timespec="seconds"), "next_in": _span(soonest - now)}


async def log_summaries(pipeline: Pipeline) -> None:
    """Every ops.summary_interval (read anew each time: a live edit applies), one service.summary line."""
    since = pipeline.clock()
    while True:
        every = pipeline.config.ops.summary_interval
        await asyncio.sleep(every.total_seconds())
        now = pipeline.clock()
        try:
            sent = pipeline.storage.outbox_sent_since(since)
            period = duration_text(every)
            summary = summarise(pipeline.config, pipeline.storage, now, sent=sent, sent_in=period,
                                slack_outage=slack_outage(pipeline))  # fmt: skip
        except StorageError as exc:  # the next one tries again; /healthz reports the store meanwhile
            log_event(log, logging.WARNING, "service.summary_failed", reason=str(exc))
            continue
        log_event(log, logging.INFO, "service.summary", **summary.fields())
        since = now


def slack_outage(pipeline: Pipeline) -> str | None:
    """`3 alerts pending: Slack unreachable (connection refused) since 08:01 UTC`, while Slack is down."""
    pending = pipeline.outbox.pending_summary()
    return pending.describe() if pending.outage is not None else None
