"""When each feed is polled next: an interval that follows how often it publishes, with jitter;
exponential backoff while it fails.

Adaptive interval (like Miniflux's "entry frequency" scheduler): a feed is polled about as often as it
publishes, judged by the dates of the items it shows from the last week, between poll.min_interval and
poll.max_interval. A feed that published every 5 minutes is polled every 5 minutes (floored at the
minimum); one quiet for a week every max_interval (30 minutes by default); one without dates at
poll.interval. A server's own hint (Cache-Control max-age, RSS <ttl>) is a floor: no point asking before
it says anything can change. An unchanged feed (304) keeps the interval it had. bench/adaptive.py
counts what this saves over a day.

The answers are stored per feed (feeds.next_poll_at), so the schedule survives restarts and the
scheduler only asks the store which feeds are due.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

# Jitter spreads polls so feeds on one host are not hit in the same second every interval;
# 10 % of the interval, at most a minute, keeps the schedule recognisable.
JITTER_SHARE = 0.1
MAX_JITTER = timedelta(minutes=1)
# A feed that answered 410 Gone is asked again once a day, in case the removal was a mistake.
GONE_RETRY = timedelta(days=1)


# How far back a feed's item dates say how often it publishes.
RATE_WINDOW = timedelta(days=7)


def next_poll_after_success(now: datetime, interval: timedelta, rng: random.Random | None = None) -> datetime:
    return now + interval + _jitter(interval, rng)


def adaptive_interval(
    now: datetime,
    published: Sequence[datetime | None],
    *,
    default: timedelta,
    minimum: timedelta,
    maximum: timedelta,
    server_hint: timedelta | None = None,
) -> timedelta:
    """The interval for a feed whose items carry these publication dates (see the module's docstring)."""
    dated = [moment for moment in published if moment is not None and moment <= now]
    if not dated:
        interval = default
    else:
        recent = [moment for moment in dated if now - moment <= RATE_WINDOW]
        # The average gap between recent items; their span runs from the oldest to now, so a feed that
        # stopped publishing a day ago slows down even though its last items came quickly.
        interval = (now - min(recent)) / len(recent) if recent else maximum
    if server_hint is not None:
        interval = max(interval, min(server_hint, maximum))
    return max(minimum, min(interval, maximum))


def next_poll_after_failure(
    now: datetime,
    interval: timedelta,
    failures: int,
    *,
    max_backoff: timedelta,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """interval x 2^(failures-1), capped at max(interval, max_backoff), never before Retry-After."""
    cap = max(interval, max_backoff)
    delay = min(interval * 2 ** min(max(failures - 1, 0), 30), cap)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return now + delay + _jitter(delay, rng)


def next_poll_after_gone(now: datetime) -> datetime:
    return now + GONE_RETRY


def _jitter(span: timedelta, rng: random.Random | None) -> timedelta:
    width = min(span * JITTER_SHARE, MAX_JITTER)
    return width * (rng or random).uniform(-1, 1)
