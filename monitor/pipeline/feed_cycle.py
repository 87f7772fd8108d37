"""The one place where the stage order is written: a feed's cycle here (Pipeline.poll_one), an item's
stages in item_stages.py (ItemStages.process_item, which the Pipeline is built on). A little over 300
lines: the feed cycle, its claims and its stopping read together, in the order they run.

A feed's cycle:   poll (conditional GET) -> each new item -> record the poll and when to poll next
An item's stages: item keys seen? -> age check -> fetch -> extract -> match -> summarise -> story desk
                  -> record article + queue alerts (one transaction) -> wake the outbox sender

Ordering invariants:
- The cheap dedup check (GUID, link) runs before the page is fetched, so a known item costs no request.
- The article, its dedup keys and its alerts are stored in one transaction *before* anything is sent:
  a crash after it leaves the alert in the outbox (sent on restart), never an alert without a record.
- Sending happens in one place (delivery.Outbox), one post at a time, paced per channel.
- Failures are caught per item and per feed: one bad article or feed never stops the cycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta

from .. import metrics
from ..config import Config, FeedConfig
from ..delivery.outbox import Outbox
from ..errors import FeedError, FetchError
from ..http.client import HttpClient
from ..logs import log_event
from ..models import FeedPoll
from ..redact import mask_configured_url, mask_secrets
from ..stages.dedupe import mark_shared_links
from ..stages.poll import poll_feed
from ..storage import FeedState, Storage
from ..stories.decision_order import Hold
from .item_stages import ItemStages
from .page_reading import article_from_record
from .poll_records import PollRecorder
from .search_cycle import SearchCycle
from .stored_text import StoredTextBudget

log = logging.getLogger("monitor.pipeline")

# Due feeds an instance claims at most, as a multiple of poll.concurrency, less the polls it has running.
CLAIM_AHEAD = 2
# Dedup keys outlive the text: a feed may keep an undated item for months, and forgetting it would make
# it "new" again (undated items count as published when first seen).
KEY_RETENTION = timedelta(days=90)


@dataclasses.dataclass
class CycleReport:
    """Counters of one cycle, named `stage/event` like Scrapy's stats."""

    counts: Counter[str] = dataclasses.field(default_factory=Counter)
    errors: list[str] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        return " ".join(f"{key}={value}" for key, value in sorted(self.counts.items()))


def utcnow() -> datetime:
    return datetime.now(UTC)


class Pipeline(ItemStages):
    """Runs feed cycles with the collaborators it is given (HTTP client, storage, outbox), each new item
    through its stages (ItemStages)."""

    def __init__(
        self,
        config: Config,
        storage: Storage,
        http: HttpClient,
        outbox: Outbox,
        *,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ):
        super().__init__(config, storage, http, outbox, clock)
        self.polls = PollRecorder(config, storage, clock, rng or random.Random())
        self.last_poll_finished: float | None = None  # Unix time, for /healthz
        self.last_tick: float | None = None  # monotonic time the scheduler last asked for due feeds
        self._feed_gate = asyncio.Semaphore(config.poll.concurrency)
        self._feed_gate_size = config.poll.concurrency
        self._polling: dict[str, asyncio.Task[CycleReport]] = {}
        self._in_flight: set[str] = set()  # feeds being polled now, by any caller (for lease renewal)
        self._feeds_by_url = {feed.url: feed for feed in config.feeds}
        self.searches = SearchCycle(self)  # news search rounds (config `search:`), hits as leads

    def prune(self) -> tuple[int, int]:
        """Forget article text after `retention`, whole articles and their dedup keys after KEY_RETENTION."""
        now = self.clock()
        rows_before = now - max(KEY_RETENTION, self.config.retention, self.config.poll.max_age * 2)
        return self.storage.prune(text_before=now - self.config.retention, rows_before=rows_before)

    def reconfigure(self, config: Config) -> None:
        """Use a new configuration from the next poll on (live reload); polls in flight finish as begun."""
        super().reconfigure(config)
        self.polls.config = config
        self._feeds_by_url = {feed.url: feed for feed in config.feeds}
        self.http.hosts.set_feed_concurrency(config.poll.per_host_concurrency)
        if config.poll.concurrency != self._feed_gate_size:
            self._feed_gate, self._feed_gate_size = (
                asyncio.Semaphore(config.poll.concurrency),
                config.poll.concurrency,
            )

    # -- feeds -------------------------------------------------------------------------------------

    async def run_cycle(self, feeds: Sequence[FeedConfig] | None = None) -> CycleReport:
        """Poll every feed once now (concurrently, bounded), whatever their schedule says."""
        report = CycleReport()
        wanted = list(feeds or self.config.feeds)
        # Another instance sharing the store may be polling some of them right now: those are its own.
        claimed = set(self._claim([feed.url for feed in wanted], due_only=False))
        if len(claimed) < len(wanted):
            report.counts["feeds/polled_elsewhere"] += len(wanted) - len(claimed)
        states = self._feed_states()
        try:
            await asyncio.gather(
                *(self.poll_one(feed, report, states=states) for feed in wanted if feed.url in claimed)
            )
        finally:
            self.flush_polls()
        return report

    def start_due_polls(self) -> int:
        """Start a poll task for every feed the store says is due and that is not being polled already."""
        self.last_tick = time.monotonic()
        self.flush_polls()  # before asking what is due: a recorded poll is not due again
        if self.stopping:
            return 0
        idle = [feed.url for feed in self.config.feeds if feed.url not in self._polling]
        # Claimed, not just due: with several instances on one store, each due feed goes to one of them;
        # no more than this instance will soon poll, so a busy instance leaves the rest to the others.
        room = max(self.config.poll.concurrency * CLAIM_AHEAD - len(self._polling), 0)
        claimed = set(self._claim(idle, due_only=True, limit=room)) if room else set()
        starting = [feed for feed in self.config.feeds if feed.url in claimed]
        states = self._feed_states() if starting else {}
        for feed in starting:
            self._polling[feed.url] = asyncio.create_task(
                self._poll_tracked(feed, states), name=f"poll {feed.url}"
            )
        return len(starting)

    def _claim(self, urls: list[str], *, due_only: bool, limit: int | None = None) -> list[str]:
        """Claim feeds for this instance (storage/claims.py), each held for about its interval."""
        poll = self.config.poll
        fixed = {url: feed.interval for url, feed in self._feeds_by_url.items() if feed.interval}
        if not poll.adaptive:  # otherwise the store knows each feed's adaptive interval
            fixed = {url: fixed.get(url, poll.interval) for url in urls}
        return self.storage.claim_feeds(urls, self.clock(), due_only=due_only, intervals=fixed,
                                        default_interval=poll.interval, limit=limit)  # fmt: skip

    def held_feed_urls(self) -> list[str]:
        """The feeds this instance holds claims on and still works on: polling, or poll not yet written."""
        return [*self._in_flight, *self.polls.unwritten_urls()]

    def _feed_states(self) -> dict[str, FeedState]:
        """Every feed's stored state, in one read (a query per feed cost more than the poll itself)."""
        return {state.url: state for state in self.storage.feed_states()}

    def flush_polls(self) -> None:
        """Write the successful polls recorded since the last flush (poll_records.PollRecorder.flush)."""
        self.polls.flush()

    async def _poll_tracked(self, feed: FeedConfig, states: dict[str, FeedState]) -> CycleReport:
        try:
            report = await self.poll_one(feed, states=states)
            log_event(log, logging.DEBUG, "feed.polled", feed_url=feed.url, counts=report.summary() or "none")
            return report
        finally:
            self._polling.pop(feed.url, None)

    async def stop(self, grace: float) -> None:
        """Start nothing new; let polls in flight finish for `grace` seconds, then cancel them."""
        self.stopping = True
        self.outbox.stop()
        running = list(self._polling.values())
        if running:
            _, pending = await asyncio.wait(running, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.searches.stop(grace)
        self.flush_polls()

    async def poll_one(
        self,
        feed: FeedConfig,
        report: CycleReport | None = None,
        *,
        states: dict[str, FeedState] | None = None,
    ) -> CycleReport:
        """One feed's cycle: poll, process each item, record the poll. Never raises for a feed's fault.

        `states`: the feeds' stored states, read once for many polls (a feed missing there was never polled).
        """
        report = report if report is not None else CycleReport()
        if self.stopping:
            return report
        state = states.get(feed.url) if states is not None else self.storage.get_feed_state(feed.url)
        self._in_flight.add(feed.url)
        try:
            with metrics.FEED_POLL_SECONDS.time():
                await self._poll_and_process(feed, state, report)
        finally:
            self._in_flight.discard(feed.url)
        self.last_poll_finished = time.time()
        metrics.LAST_POLL.set(self.last_poll_finished)
        return report

    async def _poll_and_process(self, feed: FeedConfig, state: FeedState | None, report: CycleReport) -> None:
        # Its items may be published before articles of other feeds read meanwhile: their story decisions
        # wait while it is polled (decision_order.py).
        with self.decisions.busy() as polling:
            poll = await self._poll_feed(feed, state, report)
            # Every item holds them back until it is read, as early as its feed did.
            holds = [self.decisions.hold(like=polling) for _ in poll.items] if poll else []
        if poll is None:
            return
        outcomes = await self._process_items(feed, state, poll, report, holds)
        if self.stopping:
            # Some items were left for later: keep the old ETag so the next poll gets the full feed again.
            return
        if "failed" in outcomes and state is not None:
            # Keep the old validators, so the next poll reads the feed again and retries the failed item.
            poll = dataclasses.replace(poll, etag=state.etag, last_modified=state.last_modified)
        self.polls.success(feed, state, poll)

    async def _poll_feed(
        self, feed: FeedConfig, state: FeedState | None, report: CycleReport
    ) -> FeedPoll | None:
        """The feed's poll, or None when it failed (counted and recorded) or the service is stopping."""
        try:
            # The gate bounds feed requests and parsing only, and is taken once the feed's host has room
            # (poll_feed): a feed's items then wait for their pages (host politeness delays), and a
            # host's many feeds wait for their host, without holding a slot other feeds could poll with.
            poll = await poll_feed(
                self.http, feed.url, state, max_bytes=self.config.fetch.max_feed_bytes, gate=self._feed_slot()
            )
        except _Stopping:
            return None
        except (FetchError, FeedError) as exc:
            self._poll_failed(feed, state, report, exc)
            return None
        except Exception as exc:  # a bug met by a hostile feed: that feed fails, never the cycle
            log_event(log, logging.ERROR, "feed.poll_crashed", feed_url=feed.url,
                      reason=f"{exc.__class__.__name__}: {exc}", exc_info=True)  # fmt: skip
            reason = f"could not be read (an internal error, please report it: {type(exc).__name__}: {exc})"
            self._poll_failed(feed, state, report, FeedError(feed.url, reason))
            return None
        metrics.FEED_POLLS.labels("not_modified" if poll.not_modified else "ok").inc()
        return dataclasses.replace(poll, items=mark_shared_links(poll.items))

    def _poll_failed(
        self, feed: FeedConfig, state: FeedState | None, report: CycleReport, exc: FetchError | FeedError
    ) -> None:
        metrics.FEED_POLLS.labels("error").inc()
        report.counts["feeds/failed"] += 1
        report.errors.append(str(exc))
        self.polls.failure(feed, state, exc)

    @contextlib.asynccontextmanager
    async def _feed_slot(self) -> AsyncIterator[None]:
        """A feed-gate slot; none once stopping (the poll is then not sent at all)."""
        async with self._feed_gate:
            if self.stopping:
                raise _Stopping
            yield

    async def _process_items(
        self,
        feed: FeedConfig,
        state: FeedState | None,
        poll: FeedPoll,
        report: CycleReport,
        holds: list[Hold],
    ) -> list[str]:
        """Every item of the poll, each with its hold on the story decisions (taken as the feed was held)."""
        report.counts["feeds/polled"] += 1
        if poll.problem:
            log_event(log, logging.WARNING, "feed.malformed", feed_url=feed.url, reason=poll.problem)
        if poll.not_modified:
            report.counts["feeds/not_modified"] += 1
        first_poll = state is None or state.last_success_at is None
        source = feed.name or poll.title
        tags = frozenset(feed.tags)
        self._text_budgets[feed.url] = StoredTextBudget()  # what this poll may store of its articles' text
        try:
            outcomes = await asyncio.gather(
                *(self.process_item(item, source, first_poll, tags, hold=hold)
                  for item, hold in zip(poll.items, holds, strict=True))
            )  # fmt: skip
        finally:
            for hold in holds:  # (each item releases its own; these are for items that never started)
                hold.release()
        self._text_budgets.pop(feed.url, None)  # (left for the next poll to replace if the store failed)
        report.counts.update(f"items/{outcome}" for outcome in outcomes)
        for outcome in outcomes:
            metrics.ITEMS.labels(outcome).inc()
        if "matched" in outcomes:
            report.counts["alerts/queued"] += outcomes.count("matched")
        return list(outcomes)

    def feed_tags(self, feed_url: str) -> frozenset[str]:
        feed = self._feeds_by_url.get(feed_url)
        return frozenset(feed.tags) if feed else frozenset()

    def source_name(self, feed_url: str) -> str:
        """The outlet's name for a stored article: the configured name, else the feed's own title."""
        feed = self._feeds_by_url.get(feed_url)
        if feed and feed.name:
            return feed.name
        state = self.storage.get_feed_state(feed_url)
        # Masked: a title stored by an older version may be the feed's URL, credentials included.
        return mask_secrets(state.title) if state and state.title else mask_configured_url(feed_url)

    article_from_record = staticmethod(article_from_record)


class _Stopping(Exception):
    """A feed poll given up before its request: the pipeline is stopping."""
