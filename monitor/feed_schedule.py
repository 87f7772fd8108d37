"""When each feed is polled next: its interval with jitter, exponential backoff while it fails.

The answers are stored per feed (feeds.next_poll_at), so the schedule survives restarts and the
scheduler only asks the store which feeds are due.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

# Jitter spreads polls so feeds on one host are not hit in the same second every interval;
# 10 % of the interval, at most a minute, keeps the schedule recognisable.
JITTER_SHARE = 0.1
MAX_JITTER = timedelta(minutes=1)
# A feed that answered 410 Gone is asked again once a day, in case the removal was a mistake.
GONE_RETRY = timedelta(days=1)


def next_poll_after_success(now: datetime, interval: timedelta, rng: random.Random | None = None) -> datetime:
    return now + interval + _jitter(interval, rng)


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
