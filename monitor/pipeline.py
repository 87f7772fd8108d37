"""The one place where the stage order is written.

A feed's cycle:   poll (conditional GET) -> for each new item -> record the poll
An item's stages: item keys seen? -> age check -> fetch -> extract -> match -> summarise
                  -> record article + queue alerts (one transaction) -> deliver from the outbox

Ordering invariants:
- The cheap dedup check (GUID, link) runs before the page is fetched, so a known item costs no request.
- The article, its dedup keys and its alerts are stored in one transaction *before* anything is sent:
  a crash after it leaves the alert in the outbox (sent on restart), never an alert without a record.
- Failures are caught per item and per feed: one bad article or feed never stops the cycle.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from .config import Config, FeedConfig
from .errors import ExtractionError, FeedError, FetchError, MonitorError, NotifyError, StorageError
from .http import HttpClient
from .logs import log_event
from .models import Alert, Article, FeedItem, Match
from .notifiers.base import Notifier
from .stages.dedupe import article_keys, fingerprint_text, item_keys
from .stages.extract import extract_article
from .stages.fetch import fetch_page
from .stages.match import CompiledWatchlist, compile_watchlists, match_article
from .stages.poll import poll_feed
from .stages.summarise import summarise_article
from .storage import ArticleRecord, OutboxEntry, QueuedAlert, Storage

log = logging.getLogger("monitor.pipeline")

# How many article pages are fetched and extracted at once across all feeds; extraction is CPU-bound
# and runs in threads, so more than a few per core only queues.
ARTICLE_CONCURRENCY = 8


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
    """Runs feed cycles with the collaborators it is given (HTTP client, storage, notifier)."""

    def __init__(
        self,
        config: Config,
        storage: Storage,
        http: HttpClient,
        notifier: Notifier,
        *,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.config = config
        self.storage = storage
        self.http = http
        self.notifier = notifier
        self.clock = clock
        self.watchlists: tuple[CompiledWatchlist, ...] = compile_watchlists(config)
        self._feed_gate = asyncio.Semaphore(config.poll.concurrency)
        self._article_gate = asyncio.Semaphore(ARTICLE_CONCURRENCY)
        self._delivery_lock = asyncio.Lock()

    async def run_cycle(self, feeds: Sequence[FeedConfig] | None = None) -> CycleReport:
        """Poll every feed once (concurrently, bounded), then retry anything left in the outbox."""
        report = CycleReport()
        await self.deliver_pending(report)
        await asyncio.gather(*(self.poll_one(feed, report) for feed in feeds or self.config.feeds))
        await self.deliver_pending(report)
        return report

    async def poll_one(self, feed: FeedConfig, report: CycleReport | None = None) -> CycleReport:
        """One feed's cycle: poll, process each item, record the poll. Never raises for a feed's fault."""
        report = report if report is not None else CycleReport()
        async with self._feed_gate:
            state = self.storage.get_feed_state(feed.url)
            try:
                poll = await poll_feed(self.http, feed.url, state, max_bytes=self.config.fetch.max_feed_bytes)
            except (FetchError, FeedError) as exc:
                self._record_feed_failure(feed, exc, report)
                return report
            report.counts["feeds/polled"] += 1
            if poll.problem:
                log_event(log, logging.WARNING, "feed.malformed", feed_url=feed.url, reason=poll.problem)
            if poll.not_modified:
                report.counts["feeds/not_modified"] += 1
            first_poll = state is None or state.last_success_at is None
            source = feed.name or poll.title
            items = poll.items
            outcomes = await asyncio.gather(
                *(self.process_item(item, source, first_poll, report) for item in items)
            )
            report.counts.update(f"items/{outcome}" for outcome in outcomes)
            self.storage.record_poll_success(
                feed.url, title=poll.title, etag=poll.etag, last_modified=poll.last_modified, at=self.clock()
            )
        return report

    def _record_feed_failure(self, feed: FeedConfig, exc: MonitorError, report: CycleReport) -> None:
        report.counts["feeds/failed"] += 1
        report.errors.append(str(exc))
        reason = getattr(exc, "reason", str(exc))
        log_event(log, logging.WARNING, "feed.failed", feed_url=feed.url, reason=reason)
        self.storage.record_poll_failure(feed.url, error=reason, at=self.clock())

    async def process_item(self, item: FeedItem, source: str, first_poll: bool, report: CycleReport) -> str:
        """Take one feed item through every stage; return its outcome (a counter name)."""
        try:
            return await self._process_item(item, source, first_poll, report)
        except StorageError:
            raise  # a broken store breaks every item; the caller must see it
        except Exception as exc:  # one bad article must never stop the cycle
            log.exception(f"item.failed feed_url={item.feed_url} article_url={item.link} reason={exc}")
            return "failed"

    async def _process_item(self, item: FeedItem, source: str, first_poll: bool, report: CycleReport) -> str:
        if self.storage.find_seen_key(item_keys(item)):
            return "seen"
        now = self.clock()
        if item.published is None and first_poll:
            # Adding a feed must not flood a channel with its whole undated backlog.
            return self._record_without_alert(item, "first_poll", now)
        if self._too_old(item.published, now):
            return self._record_without_alert(item, "too_old", now)
        async with self._article_gate:
            article = await self.read_article(item)
        if self._too_old(article.published, now):
            return self._record_without_alert(item, "too_old", now, article)
        matches = match_article(article, self.watchlists)
        alerts = self._alerts_for(article, matches, source)
        result = self.storage.record_article(
            self._record(item, article, now, "alerted" if alerts else "no_match", matches),
            article_keys(item, article),
            [QueuedAlert(channel=a.channel, payload=a.to_json()) for a in alerts],
        )
        if result.is_duplicate:
            return "duplicate"
        await self.deliver(list(result.outbox), report)
        return "matched" if alerts else "no_match"

    def _too_old(self, published: datetime | None, now: datetime) -> bool:
        return published is not None and now - published > self.config.poll.max_age

    def _record_without_alert(
        self, item: FeedItem, outcome: str, now: datetime, article: Article | None = None
    ) -> str:
        article = article or article_from_item(item)
        record = self._record(item, article, now, outcome, [])
        result = self.storage.record_article(record, article_keys(item, article), [])
        return "duplicate" if result.is_duplicate else outcome

    def _record(
        self, item: FeedItem, article: Article, now: datetime, outcome: str, matches: list[Match]
    ) -> ArticleRecord:
        return ArticleRecord(
            feed_url=item.feed_url,
            guid=item.guid,
            url=article.url or item.link,
            canonical_url=article.canonical_url,
            title=article.title,
            text=article.text,
            published_at=article.published or item.published,
            first_seen_at=now,
            fingerprint=fingerprint_text(article.text),
            outcome=outcome,
            matches_json=_matches_json(matches),
        )

    async def read_article(self, item: FeedItem) -> Article:
        """Fetch and extract the item's page; fall back to the feed's own summary when that fails."""
        if not item.link:
            return article_from_item(item)
        try:
            page = await fetch_page(self.http, item.link, max_bytes=self.config.fetch.max_page_bytes)
            article = await asyncio.to_thread(extract_article, page, self.config.site_rules)
        except (FetchError, ExtractionError) as exc:
            log_event(
                log, logging.INFO, "article.fallback_to_summary", article_url=item.link, reason=exc.reason
            )
            return article_from_item(item)
        # The feed's title is the outlet's own headline; page <title>s often carry " | Site name".
        return dataclasses.replace(
            article, title=item.title or article.title, published=item.published or article.published
        )

    def _alerts_for(self, article: Article, matches: list[Match], source: str) -> list[Alert]:
        """One alert per channel, naming every watchlist routed there (never two messages for one article)."""
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
            )
            for channel, channel_matches in by_channel.items()
        ]

    async def deliver_pending(self, report: CycleReport | None = None) -> None:
        """Send whatever waits in the outbox (left by a crash or a failed send)."""
        await self.deliver(self.storage.pending_alerts(), report)

    async def deliver(self, entries: list[OutboxEntry], report: CycleReport | None = None) -> None:
        """Send outbox entries one at a time; the lock keeps two tasks from sending the same entry."""
        async with self._delivery_lock:
            pending_ids = {entry.id for entry in self.storage.pending_alerts()} if entries else set()
            for entry in entries:
                if entry.id in pending_ids:
                    await self._send(entry, report)

    async def _send(self, entry: OutboxEntry, report: CycleReport | None) -> None:
        alert = Alert.from_json(entry.payload, article_id=entry.article_id)
        try:
            ts = await self.notifier.send_alert(alert)
        except NotifyError as exc:
            self.storage.mark_alert_failed(entry.id, error=exc.reason, permanent=exc.permanent)
            log_event(
                log,
                logging.ERROR,
                "alert.failed",
                channel=entry.channel,
                article_url=alert.article.url,
                reason=exc.reason,
                permanent=exc.permanent,
            )
            if report is not None:
                report.counts["alerts/failed"] += 1
            return
        self.storage.mark_alert_sent(entry.id, ts=ts, at=self.clock())
        log_event(
            log, logging.INFO, "alert.sent", channel=entry.channel, article_url=alert.article.url, ts=ts
        )
        if report is not None:
            report.counts["alerts/sent"] += 1


def article_from_item(item: FeedItem) -> Article:
    """The article as the feed describes it, for when its page cannot be fetched or read."""
    return Article(
        url=item.link,
        title=item.title,
        text=item.summary_text,
        published=item.published,
        from_feed_summary=True,
    )


def _matches_json(matches: list[Match]) -> str:
    return json.dumps(
        [{"watchlist": m.watchlist, "channel": m.channel, "terms": list(m.terms)} for m in matches]
    )
