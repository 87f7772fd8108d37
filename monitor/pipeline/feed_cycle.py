"""The one place where the stage order is written.

A feed's cycle:   poll (conditional GET) -> each new item -> record the poll and when to poll next
An item's stages: item keys seen? -> age check -> fetch -> extract -> match -> summarise
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
import json
import logging
import os
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta

from .. import metrics
from ..config.model import Config, FeedConfig
from ..delivery.outbox import Outbox
from ..errors import ExtractionError, FeedError, FetchError, StorageError
from ..http.client import HttpClient
from ..http.page_room import PageRoom, map_page_sized_blocks
from ..http.robots import RobotsCache
from ..logs import log_event
from ..models import Alert, Article, FeedItem, FeedPoll, Match
from ..redact import mask_configured_url, mask_secrets
from ..stages.dedupe import article_keys, fingerprint_text, item_keys, plausible_canonical
from ..stages.extract import extract_article
from ..stages.fetch import fetch_page
from ..stages.match import CompiledWatchlist, compile_watchlists, match_article, matched_words
from ..stages.neardup import Signature, sign_text
from ..stages.poll import poll_feed
from ..stages.stories import StoryProfile, profile_article, published_time
from ..stages.summarise import summarise_article
from ..storage import ArticleRecord, FeedState, QueuedAlert, RecordResult, Storage
from ..stories.decision_order import DecisionOrder, Hold
from ..stories.desk import StoryDesk, article_outcome
from .gates import FairGate
from .held_items import HeldItems, ItemWork
from .poll_records import PollRecorder
from .stored_text import StoredTextBudget

log = logging.getLogger("monitor.pipeline")

# Article pages fetched at once across all feeds (waiting on the network, not on the CPU), and extracted
# at once: extraction is CPU work in threads, so more than the cores only queue. A page-fetch slot is
# taken only once the page's host is ready for it (http.HostLimiter), and both are shared out feed by
# feed (gates.FairGate): one feed's backlog or one slow host never holds the slots the others need.
PAGE_FETCH_CONCURRENCY = 64
# One feed holds at most half the page-fetch slots (robots.txt requests included): a feed linking to many
# hosts that never answer would otherwise hold them all for a fetch timeout while other feeds wait. 64 stays
# under the guarded session's 100 connections, so aiohttp's own queue is never the one that decides.
PAGE_FETCH_SHARE = PAGE_FETCH_CONCURRENCY // 2
# Due feeds an instance claims at most, as a multiple of poll.concurrency, less the polls it has running.
CLAIM_AHEAD = 2
EXTRACT_CONCURRENCY = max(os.cpu_count() or 1, 2)
PRIORITIES = ("low", "normal", "high")
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


class Pipeline:
    """Runs feed cycles with the collaborators it is given (HTTP client, storage, outbox)."""

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
        self.config = config
        self.storage = storage
        self.http = http
        self.outbox = outbox
        self.clock = clock
        self.polls = PollRecorder(config, storage, clock, rng or random.Random())
        self.robots = RobotsCache(http) if config.fetch.respect_robots_txt else None
        self.stories = StoryDesk(storage)
        self.watchlists: tuple[CompiledWatchlist, ...] = compile_watchlists(config)
        self.stopping = False
        self.last_poll_finished: float | None = None  # Unix time, for /healthz
        self.last_tick: float | None = None  # monotonic time the scheduler last asked for due feeds
        self._feed_gate = asyncio.Semaphore(config.poll.concurrency)
        self._feed_gate_size = config.poll.concurrency
        self._fetch_gate = FairGate(PAGE_FETCH_CONCURRENCY, share=PAGE_FETCH_SHARE)
        self._extract_gate = FairGate(EXTRACT_CONCURRENCY)
        self._page_room = PageRoom()  # bytes of pages in memory, from download to extraction (page_room.py)
        map_page_sized_blocks()  # so that a page's memory goes back to the system once it is read
        self._record_lock = asyncio.Lock()
        self.decisions = DecisionOrder(config.stories.settle.total_seconds())  # story decisions' order
        self._polling: dict[str, asyncio.Task[CycleReport]] = {}
        self._in_flight: set[str] = set()  # feeds being polled now, by any caller (for lease renewal)
        self._text_budgets: dict[str, StoredTextBudget] = {}  # per feed, for the poll being processed
        self.held_items = HeldItems(storage)  # new items being read (taken over if this process dies)
        self._feeds_by_url = {feed.url: feed for feed in config.feeds}
        self._digest_watchlists = {w.name for w in config.watchlists if w.delivery == "digest"}

    def prune(self) -> tuple[int, int]:
        """Forget article text after `retention`, whole articles and their dedup keys after KEY_RETENTION."""
        now = self.clock()
        rows_before = now - max(KEY_RETENTION, self.config.retention, self.config.poll.max_age * 2)
        return self.storage.prune(text_before=now - self.config.retention, rows_before=rows_before)

    def reconfigure(self, config: Config) -> None:
        """Use a new configuration from the next poll on (live reload); polls in flight finish as begun."""
        self.config = config
        self.polls.config = config
        self.watchlists = compile_watchlists(config)
        self._feeds_by_url = {feed.url: feed for feed in config.feeds}
        self._digest_watchlists = {w.name for w in config.watchlists if w.delivery == "digest"}
        self.decisions.settle = config.stories.settle.total_seconds()
        if not config.fetch.respect_robots_txt:
            self.robots = None
        elif self.robots is None:
            self.robots = RobotsCache(self.http)
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
        """Claim feeds for this instance (storage/fleet.py), each held for about its interval."""
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
            metrics.FEED_POLLS.labels("error").inc()
            report.counts["feeds/failed"] += 1
            report.errors.append(str(exc))
            self.polls.failure(feed, state, exc)
            return None
        metrics.FEED_POLLS.labels("not_modified" if poll.not_modified else "ok").inc()
        return poll

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

    # -- items -------------------------------------------------------------------------------------

    async def process_item(
        self,
        item: FeedItem,
        source: str,
        first_poll: bool,
        tags: frozenset[str] = frozenset(),
        *,
        held: int | None = None,
        hold: Hold | None = None,
    ) -> str:
        """Take one feed item through every stage; return its outcome (a counter name).

        `held`: the item's claim, when this instance took it over from a dead one (monitor/fleet.py).
        `hold`: its hold on the cycle's story decisions (decision_order.py), released once it is read.
        """
        hold = hold or self.decisions.hold()
        try:
            if self.stopping:
                return "postponed"  # not recorded: the next poll sees it again
            return await self._process_item(item, source, first_poll, tags, held, hold)
        except StorageError:
            raise  # a broken store breaks every item; the caller must see it
        except Exception as exc:  # one bad article must never stop the cycle
            log_event(log, logging.ERROR, "item.failed", feed_url=item.feed_url, article_url=item.link,
                      reason=f"{exc.__class__.__name__}: {exc}", exc_info=True)  # fmt: skip
            return "failed"
        finally:
            hold.release()

    async def _process_item(
        self,
        item: FeedItem,
        source: str,
        first_poll: bool,
        tags: frozenset[str],
        held: int | None,
        hold: Hold,
    ) -> str:
        now = self.clock()
        if self.too_old(item.published, now):
            # Not even looked up, nor recorded: a dated item only grows older, so it is skipped as cheaply
            # on every poll. Most items of a feed are such old ones; storing them cost most of a cycle.
            return "too_old"
        if self.storage.find_seen_key(item_keys(item)):
            return "seen"
        # The summary's HTML is cleaned on first use (FeedItem.summary_text): up to 0.25 s for a hostile
        # one, which on the event loop would stall every other feed's fetches.
        await asyncio.to_thread(getattr, item, "summary_text")
        if item.published is None and first_poll:
            # Adding a feed must not flood a channel with its whole undated backlog.
            return self._record_without_alert(item, "first_poll", now)
        if held is not None:  # taken over: the instance that took it holds it
            # No cycle of this instance's to be ordered in: decided as soon as read, so that the item is
            # recorded before its feed, free again, is polled by another instance.
            hold.release()
            return await self._read_and_record(item, source, now, tags, hold, ordered=False)
        # From here on the item is work another instance takes over if this one dies before recording
        # it, without polling the feed again (monitor/fleet.py).
        with self.held_items.holding(self.held_items.hold(ItemWork(item, source, first_poll), now)):
            return await self._read_and_record(item, source, now, tags, hold)

    async def _read_and_record(
        self,
        item: FeedItem,
        source: str,
        now: datetime,
        tags: frozenset[str],
        hold: Hold,
        ordered: bool = True,
    ) -> str:
        article = await self.read_article(item)
        if self.too_old(article.published, now):
            return self._record_without_alert(item, "too_old", now, article)
        # Signing, profiling, matching and summarising are CPU work on up to 200,000 characters, and the
        # story decisions and the record are store work: both off the event loop, which keeps fetching.
        signature, profile, matches, alerts = await asyncio.to_thread(self._read_text, article, source, tags)
        # Read: from here it waits for its turn, in publication order (decision_order.py).
        turn = (
            self.decisions.turn(published_time(article.published, now), item.link, hold)
            if ordered
            else contextlib.nullcontext()
        )
        async with turn, self._record_lock:
            outcome, queued, result = await asyncio.to_thread(
                self._decide_and_record, item, article, now, signature, profile, matches, alerts, source
            )
        if result.is_duplicate:
            return "duplicate"
        if queued:
            self.outbox.wake()
        return "matched" if queued else outcome

    def _read_text(
        self, article: Article, source: str, tags: frozenset[str]
    ) -> tuple[Signature | None, StoryProfile | None, list[Match], list[Alert]]:
        """The article's near-copy signature, story profile, matches and alerts."""
        signature = None if article.from_feed_summary else sign_text(article.text)
        profile = profile_article(article.title, article.text)
        matches, alerts = self.analyse(article, source, tags)
        return signature, profile, matches, alerts

    def _decide_and_record(
        self,
        item: FeedItem,
        article: Article,
        now: datetime,
        signature: Signature | None,
        profile: StoryProfile | None,
        matches: list[Match],
        alerts: list[Alert],
        source: str,
    ) -> tuple[str, list[QueuedAlert], RecordResult]:
        """Copy or not, which story, what to post: decided and stored in one go (under the record lock
        here, and the store's story lock across instances: two outlets' reports of one event, read by
        two instances at once, must not both start the story)."""
        with self.storage.story_lock():
            since = now - self.config.stories.window
            keys = article_keys(item, article)
            fingerprint = next((key.key for key in keys if key.kind == "fingerprint"), None)
            exact = self.stories.exact_copy_of(item.link, fingerprint, since) if fingerprint else None
            copy_of = exact or (
                self.stories.copy_of(item.link, signature, since) if signature is not None else None
            )
            story_id = (
                self.storage.story_of(copy_of)
                if copy_of
                else self.stories.story_of(item.link, profile, since, published_time(article.published, now))
            )
            queued = self.story_messages(story_id, alerts, source, copy=copy_of is not None)
            outcome = article_outcome(queued, alerts, matches, is_copy=copy_of is not None)
            record = self._record(item, article, now, outcome, matches, signature, source=source)
            record = dataclasses.replace(
                record,
                story_id=story_id,
                story_profile=profile.to_json() if profile else None,
                # A copy is not indexed: its original stands for it in later comparisons.
                bands=() if copy_of else record.bands,
                story_keys=profile.keys if profile and not copy_of else (),
            )
            if exact:  # its original holds the text's key; its own GUID and URLs are its keys
                keys = [key for key in keys if key.kind != "fingerprint"]
            return outcome, queued, self.storage.record_article(record, keys, queued)

    def story_messages(
        self, story_id: int | None, alerts: list[Alert], source: str, *, copy: bool = False
    ) -> list[QueuedAlert]:
        """What to post for an article of a story (story_desk.StoryDesk.messages), with this config."""
        return self.stories.messages(
            story_id, alerts, source, copy=copy, broadcast_at=self.config.stories.broadcast_at
        )

    def too_old(self, published: datetime | None, now: datetime) -> bool:
        return published is not None and now - published > self.config.poll.max_age

    def _record_without_alert(
        self, item: FeedItem, outcome: str, now: datetime, article: Article | None = None
    ) -> str:
        """Record an item that is not read further (too old, a first poll's undated backlog)."""
        article = article or article_from_item(item)
        result = self.storage.record_article(
            self._record(item, article, now, outcome, []), article_keys(item, article), []
        )
        return "duplicate" if result.is_duplicate else outcome

    def _record(
        self,
        item: FeedItem,
        article: Article,
        now: datetime,
        outcome: str,
        matches: list[Match],
        signature: Signature | None = None,
        *,
        source: str | None = None,
    ) -> ArticleRecord:
        return ArticleRecord(
            feed_url=item.feed_url,
            guid=item.guid,
            url=article.url or item.link,
            canonical_url=article.canonical_url,
            title=article.title,
            text=self._text_to_store(item.feed_url, article.text, matched=bool(matches)),
            published_at=article.published or item.published,
            first_seen_at=now,
            fingerprint=fingerprint_text(article.text),
            outcome=outcome,
            matches_json=matches_json(matches),
            signature=signature.values if signature else None,
            bands=signature.bands if signature else (),
            source=source,
        )

    def _text_to_store(self, feed_url: str, text: str, *, matched: bool) -> str:
        """The part of an article's text the store keeps (stored_text.py): capped per article and poll."""
        budget = self._text_budgets.get(feed_url) or StoredTextBudget()  # outside a poll: the article's cap
        return budget.keep(text, matched=matched)

    async def read_article(self, item: FeedItem) -> Article:
        """Fetch and extract the item's page; fall back to the feed's own summary when that fails."""
        if not item.link:
            return article_from_item(item)
        room = self._page_room.claim()
        try:
            page = await fetch_page(
                self.http,
                item.link,
                max_bytes=self.config.fetch.max_page_bytes,
                robots=self.robots,
                then=room.then(self._fetch_gate.slot(item.feed_url)),
                robots_then=self._fetch_gate.slot(item.feed_url),
                room=room,
            )
            async with self._extract_gate.slot(item.feed_url):
                article = await asyncio.to_thread(
                    extract_article, page, self.config.site_rules, authors=False
                )
        except (FetchError, ExtractionError) as exc:
            log_event(
                log, logging.INFO, "article.fallback_to_summary", article_url=item.link, reason=exc.reason
            )
            return article_from_item(item)
        except Exception as exc:  # a bug in a parser must not cost the alert: the feed's text still works
            log_event(log, logging.ERROR, "article.fallback_to_summary", article_url=item.link,
                      reason=f"{exc.__class__.__name__}: {exc}", exc_info=True)  # fmt: skip
            return article_from_item(item)
        finally:
            room.release()  # the page is read (or given up): room for the next one
        # The feed's title is the outlet's own headline; page <title>s often carry " | Site name".
        article = dataclasses.replace(
            article,
            title=item.title or article.title,
            published=item.published or article.published,
            canonical_url=plausible_canonical(article.url, article.canonical_url),
        )
        if _word_count(item.summary_text) > _word_count(article.text):
            # A paywall or consent page extracts to a teaser shorter than the feed's own summary; the
            # summary is then the better text (and two different stories' identical teasers would
            # otherwise share a fingerprint).
            log_event(log, logging.INFO, "article.fallback_to_summary", article_url=item.link,
                      reason="the page text is shorter than the feed's summary")  # fmt: skip
            return dataclasses.replace(article, text=item.summary_text, from_feed_summary=True)
        return article

    def analyse(self, article: Article, source: str, tags: frozenset[str]) -> tuple[list[Match], list[Alert]]:
        """Match an article and build its alerts, one per channel."""
        matches = self.match(article, tags)
        return matches, self._alerts_for(article, matches, source)

    def match(self, article: Article, tags: frozenset[str]) -> list[Match]:
        return match_article(article, self.watchlists, tags)

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

    @staticmethod
    def article_from_record(record: ArticleRecord) -> Article:
        return Article(
            url=record.url,
            title=record.title,
            text=record.text,
            canonical_url=record.canonical_url,
            published=record.published_at,
        )

    def _alerts_for(self, article: Article, matches: list[Match], source: str) -> list[Alert]:
        """One alert per channel, naming every watchlist routed there (never two messages for one article)."""
        # Digest watchlists' matches are stored with the article; their message comes on their schedule.
        matches = [m for m in matches if m.watchlist not in self._digest_watchlists]
        if not matches:
            return []
        summary = summarise_article(article, matches)
        by_channel: dict[str, list[Match]] = {}
        for match in matches:
            by_channel.setdefault(match.channel, []).append(match)
        return [
            Alert(
                channel=channel,
                article=article,
                source=source or article.site_name or "",
                summary=summary,
                watchlists=tuple(m.watchlist for m in channel_matches),
                terms=tuple(dict.fromkeys(t for m in channel_matches for t in m.terms)),
                matched=matched_words(channel_matches),
                priority=max((m.priority for m in channel_matches), key=PRIORITIES.index),
                notify_here=any(m.notify_here for m in channel_matches),
            )
            for channel, channel_matches in by_channel.items()
        ]


class _Stopping(Exception):
    """A feed poll given up before its request: the pipeline is stopping."""


def _word_count(text: str) -> int:
    return len(text.split())


def article_from_item(item: FeedItem) -> Article:
    """The article as the feed describes it, for when its page cannot be fetched or read."""
    return Article(
        url=item.link,
        title=item.title,
        text=item.summary_text,
        published=item.published,
        from_feed_summary=True,
    )


def matches_json(matches: list[Match]) -> str:
    return json.dumps(
        [{"watchlist": m.watchlist, "channel": m.channel, "terms": list(m.terms)} for m in matches]
    )
