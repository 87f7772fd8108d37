"""The storage interface: the only way stages and the pipeline touch state.

SQLStorage implements it for SQLite (the embedded default) and, from the same schema, PostgreSQL.
Dedup is decided by unique constraints inside `record_article`, never by an in-memory set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from ..models import StoryMember

if TYPE_CHECKING:
    from .fleet import Instance
    from .outbox import PendingCounts, StoredOutage


@dataclass(frozen=True)
class FeedState:
    """What we remember about one feed between polls."""

    url: str
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    first_polled_at: datetime | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_result: str | None = None
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None
    disabled_reason: str | None = None
    moved_to: str | None = None
    poll_interval: int | None = None  # seconds, the adaptive interval last chosen


@dataclass(frozen=True)
class ArticleKey:
    """One way to recognise an article again: kind is guid, url or fingerprint."""

    kind: str
    key: str


@dataclass(frozen=True)
class ArticleRecord:
    """An article as stored, with how the cycle decided about it."""

    feed_url: str
    guid: str | None
    url: str
    canonical_url: str | None
    title: str
    text: str
    published_at: datetime | None
    first_seen_at: datetime
    fingerprint: str | None
    outcome: str  # alerted | same_story | no_match | too_old | first_poll | copy
    matches_json: str = "[]"
    signature: bytes | None = None  # MinHash values, when the text was long enough to sign
    bands: tuple[str, ...] = ()  # its LSH band keys
    story_id: int | None = None  # the story it joins; None: it starts one (named by its own id)
    source: str | None = None  # the outlet's name
    story_profile: str | None = None  # StoryProfile JSON (stages/stories.py)
    story_keys: tuple[str, ...] = ()  # the names it is found by


@dataclass(frozen=True)
class StoredArticle:
    """An article read back from the store, for preview and backfill."""

    id: int
    record: ArticleRecord
    channels_alerted: tuple[str, ...]  # channels an alert was sent to or is pending for


@dataclass(frozen=True)
class OutboxEntry:
    """An alert waiting in (or sent from) the outbox."""

    id: int
    article_id: int | None  # None for a digest
    channel: str
    payload: str
    status: str
    ts: str | None = None
    error: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    created_at: datetime | None = None
    kind: str = "alert"  # alert | reply | digest
    story_id: int | None = None
    parent_id: int | None = None  # a reply's alert
    channel_id: str | None = None  # Slack's ID of the channel it was posted in


@dataclass(frozen=True)
class QueuedAlert:
    """An alert to put in the outbox together with its article."""

    channel: str
    payload: str
    kind: str = "alert"  # alert | reply
    parent_id: int | None = None  # a reply's alert, whose thread it goes in


@dataclass(frozen=True)
class StoryArticle:
    """One article of a story, as `stories` lists it."""

    id: int
    source: str | None
    title: str
    url: str
    first_seen_at: datetime
    outcome: str
    story_profile: str | None
    watchlists: tuple[str, ...] = ()  # those the article matched (digest watchlists included)
    fingerprint: str | None = None  # of its text: an exact copy's is its original's
    signature: bytes | None = None  # MinHash (stages/neardup.py): what a near-copy is most like


@dataclass(frozen=True)
class Story:
    """Articles reporting one event, oldest first; the first names the story."""

    id: int
    articles: tuple[StoryArticle, ...]

    @property
    def outlets(self) -> list[str]:
        return list(dict.fromkeys(a.source or a.url for a in self.articles))


@dataclass(frozen=True)
class StoryThread:
    """A story's alert in one channel and the outlets already shown in it (the alert's and replies')."""

    alert_id: int
    outlets: frozenset[str]
    broadcast: bool = False  # a reply in it was already shown in the channel


@dataclass(frozen=True)
class RecordResult:
    """The outcome of `record_article`: the new id and its outbox entries, or the duplicate's key."""

    article_id: int | None
    duplicate_of: ArticleKey | None = None
    outbox: tuple[OutboxEntry, ...] = field(default_factory=tuple)

    @property
    def is_duplicate(self) -> bool:
        return self.duplicate_of is not None


@dataclass(frozen=True)
class PollSuccess:
    """What a successful poll leaves behind for the next one."""

    title: str | None
    etag: str | None
    last_modified: str | None
    result: str
    next_poll_at: datetime
    moved_to: str | None = None
    poll_interval: int | None = None  # seconds, kept so that a 304 (no dates to judge by) keeps it


class Storage(Protocol):
    def get_feed_state(self, url: str) -> FeedState | None: ...

    def feed_states(self) -> list[FeedState]: ...

    def due_feeds(self, urls: list[str], now: datetime) -> list[str]: ...

    # Several instances on one store (storage/fleet.py): leases on feeds and outbox entries.
    instance_id: str
    lease: timedelta

    def join_fleet(self, now: datetime) -> None: ...

    def renew_claims(
        self, now: datetime, *, feeds: list[str], alerts: list[int], items: Sequence[int] = ...
    ) -> None: ...

    def hold_item(self, feed_url: str, work: str, now: datetime) -> int: ...

    def finish_items(self, ids: list[int]) -> None: ...

    def claim_orphaned_items(self, now: datetime) -> list[tuple[int, str]]: ...

    def next_takeover_at(self, now: datetime) -> datetime | None: ...

    def leave_fleet(self) -> None: ...

    def instances(self, now: datetime) -> list[Instance]: ...

    def claim_feeds(
        self,
        urls: list[str],
        now: datetime,
        *,
        due_only: bool = True,
        intervals: Mapping[str, timedelta] | None = None,
        default_interval: timedelta | None = None,
        limit: int | None = None,
    ) -> list[str]: ...

    def claim_due_alerts(self, now: datetime, limit: int = ...) -> list[OutboxEntry]: ...

    def release_alerts(self, ids: list[int]) -> None: ...

    def claim_job(self, name: str, now: datetime, every: timedelta) -> bool: ...

    def take_channel_turn(self, channel: str, now: datetime, pace: timedelta) -> datetime | None: ...

    def hold_channel(self, channel: str, until: datetime) -> None: ...

    def story_lock(self) -> AbstractContextManager[None]: ...

    def record_poll_success(self, url: str, poll: PollSuccess, *, at: datetime) -> None: ...

    def record_poll_successes(self, polls: list[tuple[str, PollSuccess, datetime]]) -> None: ...

    def record_poll_failure(
        self,
        url: str,
        *,
        error: str,
        at: datetime,
        next_poll_at: datetime,
        disabled_reason: str | None = None,
    ) -> None: ...

    def find_seen_key(self, keys: list[ArticleKey]) -> ArticleKey | None: ...

    def near_copy_candidates(self, bands: list[str], since: datetime) -> list[tuple[int, bytes]]: ...

    def exact_copy_of(self, fingerprint: str, since: datetime) -> int | None: ...

    def story_members(self, keys: list[str], since: datetime) -> list[StoryMember]: ...

    def story_of(self, article_id: int) -> int | None: ...

    def story_thread(
        self, story_id: int, channel: str, *, excluding: int | None = None
    ) -> StoryThread | None: ...

    def story_outlets(self, story_id: int) -> list[str]: ...

    def stories_since(self, since: datetime) -> list[Story]: ...

    def queue_digest(self, channel: str, payload: str, dedup_key: str, at: datetime) -> bool: ...

    def last_digest(self, key_prefix: str) -> OutboxEntry | None: ...

    def last_article_id(self) -> int: ...

    def matched_stories(
        self, watchlist: str, *, after: datetime, after_id: int, until: datetime, up_to_id: int
    ) -> list[Story]: ...

    def outbox_entry(self, alert_id: int) -> OutboxEntry | None: ...

    def record_reply_posted(self, alert_id: int, ts: str) -> None: ...

    def make_alert(self, alert_id: int, payload: str) -> None: ...

    def record_article(
        self, record: ArticleRecord, keys: list[ArticleKey], alerts: list[QueuedAlert]
    ) -> RecordResult: ...

    def due_alerts(self, now: datetime) -> list[OutboxEntry]: ...

    def alert_status(self, alert_id: int) -> str | None: ...

    def mark_alert_sent(
        self,
        alert_id: int,
        *,
        ts: str | None,
        at: datetime,
        status: str = "sent",
        channel_id: str | None = None,
    ) -> None: ...

    def reschedule_alert(self, alert_id: int, *, error: str, next_attempt_at: datetime) -> None: ...

    def postpone_alert(self, alert_id: int, *, next_attempt_at: datetime) -> None: ...

    def fail_alert(self, alert_id: int, *, error: str, config_fingerprint: str) -> None: ...

    def requeue_failed_alerts(self, config_fingerprint: str) -> int: ...

    def requeue_failed(self, channel: str | None = None) -> int: ...

    def outbox_entries(self, statuses: tuple[str, ...]) -> list[OutboxEntry]: ...

    # Re-routing, outages and what is pending (storage/outbox.py).
    def reroute_alert(
        self, alert_id: int, *, channel: str, payload: str, kind: str, parent_id: int | None
    ) -> bool: ...

    def drop_alert(self, alert_id: int, *, reason: str) -> None: ...

    def entry_for(self, article_id: int, channel: str) -> OutboxEntry | None: ...

    def add_alerts(
        self, article_id: int, story_id: int | None, alerts: list[QueuedAlert], at: datetime
    ) -> list[OutboxEntry]: ...

    def requeue_undelivered(self, article_id: int) -> int: ...

    def end_backoff(self, error_prefix: str) -> int: ...

    def end_backoff_except(
        self, now: datetime, *, error_prefixes: tuple[str, ...], skip: set[int]
    ) -> int: ...

    def pending_counts(self, now: datetime, *, retry_after_prefixes: tuple[str, ...]) -> PendingCounts: ...

    def record_slack_outage(self, outage: StoredOutage) -> None: ...

    def clear_slack_outage(self) -> None: ...

    def slack_outage(self) -> StoredOutage | None: ...

    def outbox_counts(self) -> dict[str, int]: ...

    def outbox_sent_since(self, since: datetime) -> int: ...

    def heartbeat(self, name: str, at: datetime) -> None: ...

    def recent_articles(self, since: datetime) -> list[StoredArticle]: ...

    def queue_alerts(
        self, article_id: int, alerts: list[QueuedAlert], at: datetime, matches_json: str
    ) -> list[OutboxEntry]: ...

    def prune(self, *, text_before: datetime, rows_before: datetime) -> tuple[int, int]: ...

    def close(self) -> None: ...
