"""The records the storage interface takes and gives back (base.Storage): plain frozen dataclasses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime


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
    kind: str | None = None  # what the URL served at its last successful poll: rss, atom, news_sitemap…


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

    def watchlists_alerted(self) -> tuple[str, ...]:
        """The watchlists that matched when the article was alerted (empty if no alert of it was delivered
        or is on its way: one that failed, or was dropped, reached nobody)."""
        if not self.channels_alerted:
            return ()
        try:
            return tuple(entry["watchlist"] for entry in json.loads(self.record.matches_json))
        except (ValueError, KeyError, TypeError):
            return ()


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
    kind: str = "alert"  # alert | reply | digest | refresh (chat.update of `parent_id` after a button)
    story_id: int | None = None
    parent_id: int | None = None  # a reply's alert, or the alert a refresh rewrites
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
    kind: str | None = None  # rss, atom, json_feed, news_sitemap, sitemap, sitemap_index (feed_kind.py)


@dataclass(frozen=True)
class Instance:
    """A process sharing the store, with what it holds now."""

    id: str
    host: str
    pid: int
    namespace: str
    version: str
    started_at: datetime
    seen_at: datetime
    feeds_held: int
    alerts_held: int


@dataclass(frozen=True)
class PendingCounts:
    """The pending outbox entries, by what they wait for."""

    total: int
    retry_after: int  # Slack answered 429: held until its Retry-After
    backing_off: int  # another transient error: waiting for the next attempt of their backoff


@dataclass(frozen=True)
class StoredOutage:
    """Slack found unreachable (or failing) since `since`, by this process or another."""

    since: datetime
    problem: str  # "connection refused", "HTTP 503", ...


@dataclass(frozen=True)
class SearchState:
    """A news search provider's state between rounds (sources/search/), and its counters for `status`."""

    provider: str
    next_round_at: datetime | None = None
    last_round_at: datetime | None = None
    consecutive_failures: int = 0
    incident_since: datetime | None = None  # the circuit is open since then
    last_hits: int | None = None
    query_hits: dict[str, int] = field(default_factory=dict)  # each query's hits in its last answer
    queries: int = 0
    hits: int = 0
    new_articles: int = 0
    alerts: int = 0
    errors: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None


@dataclass(frozen=True)
class SearchRoundRecord:
    """What one search round did: added to the provider's counters, and when its next round is due."""

    at: datetime
    next_round_at: datetime
    queries: int = 0
    hits: int = 0
    new_articles: int = 0
    alerts: int = 0
    errors: int = 0
    last_error: str | None = None
    consecutive_failures: int = 0
    incident_since: datetime | None = None
    last_hits: int | None = None
    query_hits: dict[str, int] | None = None  # None: unchanged


@dataclass(frozen=True)
class Interaction:
    """Someone pressed a button on an alert (delivery/interactions.py): who, when, what, on which alert,
    and what that alert was about. Stored once per watchlist of the alert."""

    key: str  # the same for Slack's retries of one press, different for every press (interactions.py)
    at: datetime
    user_id: str
    team_id: str | None
    action: str  # relevant | not_relevant | mute_story | mute_outlet
    alert_id: int
    watchlists: tuple[str, ...]
    article_id: int | None
    story_id: int | None
    outlet: str
    channel: str
    channel_id: str
    message_ts: str


@dataclass(frozen=True)
class OutletMute:
    """An outlet whose articles no longer match a watchlist."""

    outlet: str
    watchlist: str
    muted_at: datetime
    muted_by: str


@dataclass(frozen=True)
class Judgement:
    """The latest verdict on an alert for one watchlist (relevant or not), for precision."""

    alert_id: int
    watchlist: str
    relevant: bool
