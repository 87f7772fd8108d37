"""An item's stages, in order (ItemStages.process_item); the order's invariants are in feed_cycle.py:
dated too old? -> item keys seen? -> read the page (page_reading.py) -> too old by the page's date? ->
sign, profile, match, build alerts (alerts.py) -> its turn in publication order (stories/decision_order.py)
-> copy? which story? what to post (stories/desk.py) -> record the article and queue its messages (one
transaction) -> wake the outbox sender. A little over 300 lines: the stages stay in one file, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from ..config import Config
from ..delivery.outbox import Outbox
from ..errors import StorageError
from ..http.client import HttpClient
from ..logs import log_event
from ..models import Alert, Article, FeedItem, Match
from ..stages.dedupe import article_keys, fingerprint_text, item_keys
from ..stages.match import CompiledWatchlist, compile_watchlists, match_article
from ..stages.neardup import Signature, sign_text
from ..stages.stories import StoryProfile, is_brief, profile_article, published_time
from ..storage import ArticleKey, ArticleRecord, QueuedAlert, RecordResult, Storage
from ..stories.decision_order import DecisionOrder, Hold
from ..stories.desk import StoryDesk, article_outcome
from .alerts import alerts_for
from .held_items import HeldItems, ItemWork
from .page_reading import PageReader, article_from_item
from .stored_text import StoredTextBudget

log = logging.getLogger("monitor.pipeline")

# Which decision on an article this is: its only one (an item taken over from a dead instance is decided as
# soon as read), its first in publication order, or a brief's second, after the rest of its cycle.
Turn = Literal["only", "first", "second"]


@dataclasses.dataclass(frozen=True)
class TextReading:
    """What reading an article's text found, before the story desk decides on it."""

    signature: Signature | None  # none for a feed's summary: only a page's text is signed
    profile: StoryProfile | None
    matches: list[Match]
    alerts: list[Alert]


class ItemStages:
    """Takes feed items through their stages with the collaborators it is given; the Pipeline
    (feed_cycle.py) is these stages with the feed cycle that hands them its items."""

    def __init__(
        self,
        config: Config,
        storage: Storage,
        http: HttpClient,
        outbox: Outbox,
        clock: Callable[[], datetime],
    ):
        self.config = config
        self.storage = storage
        self.http = http
        self.outbox = outbox
        self.clock = clock
        self.stopping = False
        self.pages = PageReader(config, http)  # fetch and extract, with the slots every feed shares
        self.stories = StoryDesk(storage)
        self.watchlists: tuple[CompiledWatchlist, ...] = compile_watchlists(config)
        self._record_lock = asyncio.Lock()
        self.decisions = DecisionOrder(config.stories.settle.total_seconds())  # story decisions' order
        self._text_budgets: dict[str, StoredTextBudget] = {}  # per feed, for the poll being processed
        self.held_items = HeldItems(storage)  # new items being read (taken over if this process dies)
        self._digest_watchlists = {w.name for w in config.watchlists if w.delivery == "digest"}

    def reconfigure(self, config: Config) -> None:
        """Use a new configuration from the next item on (live reload)."""
        self.config = config
        self.pages.reconfigure(config)
        self.watchlists = compile_watchlists(config)
        self._digest_watchlists = {w.name for w in config.watchlists if w.delivery == "digest"}
        self.decisions.settle = config.stories.settle.total_seconds()

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

        `held`: the item's claim, when this instance took it over from a dead one (service/fleet.py).
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
        # it, without polling the feed again (service/fleet.py).
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
        reading = await asyncio.to_thread(self._read_text, article, source, tags)
        # Read: from here it waits for its turn, in publication order (decision_order.py).
        published = published_time(article.published, now)
        its_turn = self.decisions.turn(published, item.link, hold) if ordered else contextlib.nullcontext()
        async with its_turn, self._record_lock:
            decided = await asyncio.to_thread(
                self._decide_and_record,
                item,
                article,
                now,
                reading,
                source,
                turn="first" if ordered else "only",
            )
        if decided is None:  # a brief that would start a story: once more, after the rest of its cycle
            async with self.decisions.turn(published, item.link, again=True), self._record_lock:
                decided = await asyncio.to_thread(
                    self._decide_and_record, item, article, now, reading, source, turn="second"
                )
        assert decided is not None  # only a first turn may leave the decision for later
        outcome, queued, result = decided
        if result.is_duplicate:
            return "duplicate"
        if queued:
            self.outbox.wake()
        return "matched" if queued else outcome

    def _read_text(self, article: Article, source: str, tags: frozenset[str]) -> TextReading:
        """The article's near-copy signature, story profile, matches and alerts."""
        signature = None if article.from_feed_summary else sign_text(article.text)
        profile = profile_article(article.title, article.text)
        matches, alerts = self.analyse(article, source, tags)
        return TextReading(signature, profile, matches, alerts)

    def _decide_and_record(
        self,
        item: FeedItem,
        article: Article,
        now: datetime,
        reading: TextReading,
        source: str,
        *,
        turn: Turn = "only",
    ) -> tuple[str, list[QueuedAlert], RecordResult] | None:
        """Copy or not, which story, what to post: decided and stored in one go (under the record lock
        here, and the store's story lock across instances: two outlets' reports of one event, read by
        two instances at once, must not both start the story).

        None, with nothing stored, for a brief that would start a story on its first turn: a brief finds
        its story only once another report of the event has, and one of its own cycle published minutes
        after it may be that report (development set: "a Perth doctor feared dead after a fall" came six
        minutes before "Mark Vinar ... from Perth ... presumed dead", which joined the accident's story).
        On its second turn it may join only a story it could have joined in publication order
        (stories.joinable_late): decided after articles published hours later, a 10-word feed summary
        ("Alibaba's chip unit T-Head will supply 72% of the chips") otherwise joined the Alibaba memo
        story that began after it (tests/test_story_briefs.py)."""
        with self.storage.story_lock():
            since = now - self.config.stories.window
            keys = article_keys(item, article)
            copy_of, exact = self._copy_of(item.link, keys, reading.signature, since)
            published = published_time(article.published, now)
            story_id = (
                self.storage.story_of(copy_of)
                if copy_of
                else self.stories.story_of(
                    item.link,
                    reading.profile,
                    since,
                    published,
                    second_turn=turn == "second",
                )
            )
            starts_story = story_id is None and copy_of is None
            if starts_story and turn == "first" and reading.profile is not None and is_brief(reading.profile):
                return None
            queued = self.story_messages(story_id, reading.alerts, source, copy=copy_of is not None)
            muted = not queued and self.stories.muted(story_id, reading.alerts)
            outcome = article_outcome(queued, reading.alerts, reading.matches, is_copy=copy_of is not None,
                                      muted=muted)  # fmt: skip
            record = self._story_record(item, article, now, outcome, reading, source, story_id, copy_of)
            if exact:  # its original holds the text's key; its own GUID and URLs are its keys
                keys = [key for key in keys if key.kind != "fingerprint"]
            return outcome, queued, self.storage.record_article(record, keys, queued)

    def _copy_of(
        self, url: str, keys: list[ArticleKey], signature: Signature | None, since: datetime
    ) -> tuple[int | None, bool]:
        """The stored article this one copies, if any, and whether its text is that one's exactly."""
        fingerprint = next((key.key for key in keys if key.kind == "fingerprint"), None)
        exact = self.stories.exact_copy_of(url, fingerprint, since) if fingerprint else None
        if exact:
            return exact, True
        return (self.stories.copy_of(url, signature, since) if signature is not None else None), False

    def _story_record(
        self,
        item: FeedItem,
        article: Article,
        now: datetime,
        outcome: str,
        reading: TextReading,
        source: str,
        story_id: int | None,
        copy_of: int | None,
    ) -> ArticleRecord:
        """The article's record with its story and, unless it is a copy, its text's index entries."""
        record = self._record(item, article, now, outcome, reading.matches, reading.signature, source=source)
        # A headline alone is nobody's yardstick (stages/stories.py HEADLINE_COVERAGE): no profile, no keys.
        profile = reading.profile if reading.profile and not reading.profile.headline else None
        return dataclasses.replace(
            record,
            story_id=story_id,
            story_profile=profile.to_json() if profile else None,
            # A copy is not indexed: its original stands for it in later comparisons.
            bands=() if copy_of else record.bands,
            story_keys=profile.keys if profile and not copy_of else (),
        )

    def story_messages(
        self, story_id: int | None, alerts: list[Alert], source: str, *, copy: bool = False
    ) -> list[QueuedAlert]:
        """What to post for an article of a story (stories/desk.py StoryDesk.messages), with this config."""
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
        """Fetch and extract the item's page, or fall back to the feed's summary (page_reading.py)."""
        return await self.pages.read_article(item)

    def analyse(self, article: Article, source: str, tags: frozenset[str]) -> tuple[list[Match], list[Alert]]:
        """Match an article and build its alerts, one per channel."""
        matches = self.without_muted_outlet(self.match(article, tags), article, source)
        return matches, alerts_for(article, matches, source, self._digest_watchlists)

    def without_muted_outlet(self, matches: list[Match], article: Article, source: str) -> list[Match]:
        """The matches of watchlists the outlet is not muted for ("Mute <outlet> for <watchlist>")."""
        muted = self.storage.muted_watchlists(source) if matches and source else frozenset()
        if not muted.intersection(m.watchlist for m in matches):
            return matches
        log_event(log, logging.INFO, "match.outlet_muted", article_url=article.url, outlet=source,
                  watchlists=",".join(sorted(muted.intersection(m.watchlist for m in matches))))  # fmt: skip
        return [m for m in matches if m.watchlist not in muted]

    def match(self, article: Article, tags: frozenset[str]) -> list[Match]:
        return match_article(article, self.watchlists, tags)


def matches_json(matches: list[Match]) -> str:
    return json.dumps(
        [{"watchlist": m.watchlist, "channel": m.channel, "terms": list(m.terms)} for m in matches]
    )
