"""The storage interface: the only way stages and the pipeline touch state.

SQLStorage implements it for SQLite (the embedded default) and, from the same schema, PostgreSQL.
Dedup is decided by unique constraints inside `record_article`, never by an in-memory set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


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
    outcome: str  # alerted | no_match | too_old | first_poll | copy
    matches_json: str = "[]"
    signature: bytes | None = None  # MinHash values, when the text was long enough to sign
    bands: tuple[str, ...] = ()  # its LSH band keys


@dataclass(frozen=True)
class StoredArticle:
    """An article read back from the store, for preview and backfill."""

    id: int
    record: ArticleRecord
    channels_alerted: tuple[str, ...]  # channels an alert was queued for (sent, pending or failed)


@dataclass(frozen=True)
class OutboxEntry:
    """An alert waiting in (or sent from) the outbox."""

    id: int
    article_id: int
    channel: str
    payload: str
    status: str
    ts: str | None = None
    error: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class QueuedAlert:
    """An alert to put in the outbox together with its article."""

    channel: str
    payload: str


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


class Storage(Protocol):
    def get_feed_state(self, url: str) -> FeedState | None: ...

    def feed_states(self) -> list[FeedState]: ...

    def due_feeds(self, urls: list[str], now: datetime) -> list[str]: ...

    def record_poll_success(self, url: str, poll: PollSuccess, *, at: datetime) -> None: ...

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

    def record_article(
        self, record: ArticleRecord, keys: list[ArticleKey], alerts: list[QueuedAlert]
    ) -> RecordResult: ...

    def due_alerts(self, now: datetime) -> list[OutboxEntry]: ...

    def alert_status(self, alert_id: int) -> str | None: ...

    def mark_alert_sent(
        self, alert_id: int, *, ts: str | None, at: datetime, status: str = "sent"
    ) -> None: ...

    def reschedule_alert(self, alert_id: int, *, error: str, next_attempt_at: datetime) -> None: ...

    def postpone_alert(self, alert_id: int, *, next_attempt_at: datetime) -> None: ...

    def fail_alert(self, alert_id: int, *, error: str, config_fingerprint: str) -> None: ...

    def requeue_failed_alerts(self, config_fingerprint: str) -> int: ...

    def requeue_failed(self, channel: str | None = None) -> int: ...

    def outbox_entries(self, statuses: tuple[str, ...]) -> list[OutboxEntry]: ...

    def outbox_counts(self) -> dict[str, int]: ...

    def heartbeat(self, name: str, at: datetime) -> None: ...

    def recent_articles(self, since: datetime) -> list[StoredArticle]: ...

    def queue_alerts(
        self, article_id: int, alerts: list[QueuedAlert], at: datetime, matches_json: str
    ) -> list[OutboxEntry]: ...

    def prune(self, *, text_before: datetime, rows_before: datetime) -> tuple[int, int]: ...

    def close(self) -> None: ...
