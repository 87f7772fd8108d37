"""Recording a feed's poll: when to poll it next, its validators and title, or its failure and backoff.

Successes are buffered and written in batches (a cycle of 1,000 unchanged feeds would otherwise be
1,000 transactions); failures are written at once, as they are few and set the feed's backoff. Writing a
poll also gives back the instance's claim on the feed (storage/feeds.py).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from ..config import Config, FeedConfig
from ..errors import FeedError, FetchError, StorageError
from ..logs import log_event
from ..models import FeedPoll
from ..storage import FeedState, PollSuccess, Storage
from .feed_schedule import (
    adaptive_interval,
    next_poll_after_failure,
    next_poll_after_gone,
    next_poll_after_success,
)

log = logging.getLogger("monitor.poll_records")

# A busy cycle writes its successful polls at least this often.
MAX_UNWRITTEN_POLLS = 200


class PollRecorder:
    """Turns each poll's outcome into the feed's stored schedule; one per Pipeline."""

    def __init__(self, config: Config, storage: Storage, clock: Callable[[], datetime], rng: random.Random):
        self.config = config  # replaced on a live reload
        self.storage = storage
        self.clock = clock
        self.rng = rng
        self._unwritten: list[tuple[str, PollSuccess, datetime]] = []

    def unwritten_urls(self) -> list[str]:
        """Feeds polled whose success is not written yet (their claims must still be renewed)."""
        return [url for url, _, _ in self._unwritten]

    def flush(self) -> None:
        """Write the successful polls recorded since the last flush, in one transaction.

        Losing the buffer in a crash costs nothing but a repeated conditional request per feed: the
        articles themselves are stored at once.
        """
        finished, self._unwritten = self._unwritten, []
        try:
            self.storage.record_poll_successes(finished)
        except StorageError as exc:
            # Kept for the next flush: losing them would drop their claims from renewal and poll again.
            self._unwritten[:0] = finished
            log_event(log, logging.WARNING, "feed.polls_not_recorded", polls=len(finished), reason=str(exc))

    def success(self, feed: FeedConfig, state: FeedState | None, poll: FeedPoll) -> None:
        now = self.clock()
        if poll.moved_to and (state is None or state.moved_to != poll.moved_to):
            log_event(log, logging.WARNING, "feed.moved", feed_url=feed.url, new_url=poll.moved_to,
                      fix="replace the feed's url in monitor.yaml")  # fmt: skip
        if state is not None and state.disabled_reason:
            log_event(log, logging.INFO, "feed.enabled", feed_url=feed.url, reason="answered again")
        count = len(poll.items)
        result = "not modified" if poll.not_modified else f"{count} item{'' if count == 1 else 's'}"
        interval = self.next_interval(feed, state, poll, now)
        success = PollSuccess(
            title=poll.title,
            etag=poll.etag,
            last_modified=poll.last_modified,
            result=result,
            next_poll_at=next_poll_after_success(now, interval, self.rng),
            moved_to=poll.moved_to,
            poll_interval=round(interval.total_seconds()),
            kind=poll.kind,
        )
        self._unwritten.append((feed.url, success, now))
        if len(self._unwritten) >= MAX_UNWRITTEN_POLLS:
            self.flush()

    def next_interval(
        self, feed: FeedConfig, state: FeedState | None, poll: FeedPoll, now: datetime
    ) -> timedelta:
        """How long until the feed's next poll (pipeline/feed_schedule.py): its own interval if it has one."""
        settings = self.config.poll
        if feed.interval or not settings.adaptive:
            return self.config.feed_interval(feed)
        # A 304 brings no dates to judge by: it keeps the interval the feed had, unless the server's hint
        # now says otherwise.
        kept = timedelta(seconds=state.poll_interval) if state and state.poll_interval else settings.interval
        return adaptive_interval(
            now,
            [] if poll.not_modified else [item.published for item in poll.items],
            default=kept if poll.not_modified else settings.interval,
            minimum=settings.shortest,
            maximum=settings.longest,
            server_hint=poll.refresh_hint,
        )

    def failure(self, feed: FeedConfig, state: FeedState | None, exc: FetchError | FeedError) -> None:
        now = self.clock()
        if isinstance(exc, FetchError) and exc.status == 410:
            self._disable_gone_feed(feed, state, exc.reason, now)
            return
        failures = (state.consecutive_failures if state else 0) + 1
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        next_poll = next_poll_after_failure(
            now, self.config.feed_interval(feed), failures,
            max_backoff=self.config.poll.max_backoff, retry_after=retry_after, rng=self.rng,
        )  # fmt: skip
        log_event(log, logging.WARNING, "feed.failed", feed_url=feed.url, reason=exc.reason,
                  failures=failures, next_poll=next_poll.strftime("%H:%M:%S"))  # fmt: skip
        self.storage.record_poll_failure(feed.url, error=exc.reason, at=now, next_poll_at=next_poll)

    def _disable_gone_feed(
        self, feed: FeedConfig, state: FeedState | None, reason: str, now: datetime
    ) -> None:
        disabled = "410 Gone: the feed was removed; delete it from monitor.yaml (asked again daily)"
        if state is None or not state.disabled_reason:
            # One notice, when the feed goes; the daily re-checks stay quiet.
            log_event(log, logging.WARNING, "feed.disabled", feed_url=feed.url, reason=disabled)
        self.storage.record_poll_failure(
            feed.url, error=reason, at=now, next_poll_at=next_poll_after_gone(now), disabled_reason=disabled
        )
