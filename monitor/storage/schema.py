"""The one schema every storage backend shares (SQLAlchemy Core, so SQLite and PostgreSQL read the same).

Over 300 lines on purpose: every table, with why each key and index is there, in one file to read.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone; we put it back)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class NulFreeText(TypeDecorator[str]):
    """Text without NUL characters: PostgreSQL refuses them in text columns, and a stranger's feed may
    carry one anywhere (a feed title, an error message quoting a body); SQLite would keep it."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return value.replace("\x00", "") if value is not None else None


def fitted_key(key: str, length: int) -> str:
    """A key as stored in a column of `length` characters: itself, or its SHA-256 when longer.

    Keys are only ever compared for equality, so a hash serves; PostgreSQL refuses an over-long value
    (SQLite would store it), and a page may carry a canonical URL of any length.
    """
    if len(key) <= length:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


KEY_LENGTH = 2048  # article_keys.key
STORY_KEY_LENGTH = 255  # story_keys.key

metadata = MetaData()

# A table changes only with an alembic revision in migrations/versions/ (listed in migrate.REVISIONS);
# each revision also writes its number to meta.schema_version, which news-monitor before alembic reads
# to refuse a store made by a newer version. tests/test_migrations.py checks the revisions build these
# tables.
meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", NulFreeText(), nullable=False),
)

# Scheduling state lives here, not in memory, so a restart resumes where it stopped.
feeds = Table(
    "feeds",
    metadata,
    Column("url", String(2048), primary_key=True),
    Column("title", NulFreeText()),
    Column("etag", NulFreeText()),
    Column("last_modified", NulFreeText()),
    Column("first_polled_at", UTCDateTime()),
    Column("last_polled_at", UTCDateTime()),
    Column("last_success_at", UTCDateTime()),
    Column("last_error", NulFreeText()),
    Column(
        "last_result", NulFreeText()
    ),  # what the last poll did, for `status`: "12 items", "not modified", an error
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("next_poll_at", UTCDateTime()),  # NULL: due now
    Column("poll_interval", Integer),  # seconds: the adaptive interval last chosen (kept through 304s)
    Column("disabled_reason", NulFreeText()),  # set after 410 Gone; the feed is then only retried daily
    Column(
        "moved_to", NulFreeText()
    ),  # where a permanent redirect leads, so the operator can update the config
    Column("kind", String(32)),  # what the URL serves: rss, atom, json_feed, news_sitemap, sitemap…
)

# Feeds being polled now: a lease per feed (a row of its own, since a feed is polled before it has a
# row in `feeds`). A due feed is taken only when nobody holds it or the holder's lease ran out (it died);
# recording the poll deletes the row. See storage/fleet.py and claims.py.
feed_claims = Table(
    "feed_claims",
    metadata,
    Column("url", String(2048), primary_key=True),
    Column("claimed_by", String(128), nullable=False),
    Column("claimed_until", UTCDateTime(), nullable=False),
)

# Feed items being read now (fetched, extracted, matched, up to their record): the work a dead instance
# leaves behind once its feed was polled. A row is written when an item turns out new and deleted once
# it is recorded; its lease is renewed while its reader lives, and another instance takes it over when
# the lease runs out, without polling the feed again. See storage/fleet.py and claims.py.
item_claims = Table(
    "item_claims",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("feed_url", String(2048), nullable=False),
    Column("work", NulFreeText(), nullable=False),  # JSON: the feed item, its outlet, whether a first poll
    Column("created_at", UTCDateTime(), nullable=False),
    Column("claimed_by", String(128)),  # NULL: free now (its holder stopped and gave it back)
    Column("claimed_until", UTCDateTime()),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("feed_url", String(2048), nullable=False),
    Column("guid", NulFreeText()),
    Column("url", NulFreeText(), nullable=False),
    Column("canonical_url", NulFreeText()),
    Column("title", NulFreeText(), nullable=False),
    Column("text", NulFreeText(), nullable=False),
    Column("published_at", UTCDateTime()),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("fingerprint", String(64)),
    Column(
        "outcome", String(32), nullable=False
    ),  # alerted | same_story | no_match | too_old | first_poll | copy
    Column("matches", NulFreeText(), nullable=False, default="[]"),  # JSON: [{watchlist, channel, terms}]
    Column("signature", LargeBinary),  # MinHash values (stages/neardup.py), for near-copy checks
    # The story (stages/stories.py) is named by its first article's id; `source` is the outlet's name,
    # so a story can say how many outlets carry it and reply once per outlet.
    Column("story_id", Integer, index=True),
    Column("source", NulFreeText()),
    Column("story_profile", NulFreeText()),  # StoryProfile JSON, compared with later articles in the window
)

# The story index: an article's most telling names (StoryProfile.keys). Candidates for a new article's
# story are the recent articles sharing one, found by index lookups, not by a scan.
story_keys = Table(
    "story_keys",
    metadata,
    Column("key", String(STORY_KEY_LENGTH), nullable=False),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("key", "article_id"),
)

# The near-duplicate index: one row per (LSH band key, article). A new article's candidates are the
# articles sharing a band key, found by index lookups, not by a scan.
near_dup_bands = Table(
    "near_dup_bands",
    metadata,
    Column("band_key", String(64), nullable=False),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("band_key", "article_id"),
)

# Every key by which an article can be recognised again. The primary key is the dedup decision:
# a second insert of the same (kind, key) fails, whichever process or task tries it.
article_keys = Table(
    "article_keys",
    metadata,
    Column("kind", String(16), nullable=False),  # guid | url | fingerprint
    Column("key", String(KEY_LENGTH), nullable=False),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    PrimaryKeyConstraint("kind", "key"),
)

# Liveness marks: `/healthz` proves the store is writable by writing here.
heartbeats = Table(
    "heartbeats",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
)

# The outbox: an alert is stored in the same transaction as its article, then sent, then marked sent.
# Kinds: `alert` (a story's first message in a channel), `reply` (another outlet, in that alert's thread;
# `parent_id` names the alert) and `digest` (no article; `dedup_key` makes each digest run queue once).
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE")),
    Column("kind", String(16), nullable=False, default="alert", server_default="alert"),
    Column("story_id", Integer, index=True),
    Column("parent_id", Integer),
    Column("dedup_key", String(255)),
    Column("channel", String(255), nullable=False),
    Column("payload", NulFreeText(), nullable=False),  # JSON of the Alert, enough to send it after a restart
    Column("status", String(16), nullable=False, default="pending"),  # storage/outbox.py lists them
    Column("ts", String(32)),  # Slack's message ts, a string on purpose (floats lose digits)
    Column("channel_id", String(32)),  # the channel's Slack ID: chat.update on a story's alert needs it
    Column("error", NulFreeText()),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
    Column("next_attempt_at", UTCDateTime()),  # NULL: due now; set by backoff after a transient failure
    Column(
        "failed_config", String(64)
    ),  # fingerprint of the config + token a permanent failure happened under
    Column("claimed_by", String(128)),  # the instance sending it now (a lease, as for feeds)
    Column("claimed_until", UTCDateTime()),
    UniqueConstraint("article_id", "channel"),
    UniqueConstraint("dedup_key", name="uq_alerts_dedup_key"),
)

# The processes sharing this store, each with the moment it last said it was alive (for `status`, and so
# a restarted instance can free the leases of its dead predecessor on the same host at once).
instances = Table(
    "instances",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("namespace", String(128), nullable=False),  # where its pid means something (fleet.py)
    Column("version", String(32), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("seen_at", UTCDateTime(), nullable=False),
)

# News search providers (monitor/sources/search/): one row each, so that a round is run by one instance of
# the fleet at a time (claimed by moving next_round_at), backoff and the circuit breaker survive a restart,
# and `status` can show each provider's counters and last error from the store.
search_providers = Table(
    "search_providers",
    metadata,
    Column("provider", String(32), primary_key=True),
    Column("next_round_at", UTCDateTime()),  # NULL: due now; moved forward by whoever takes the round
    Column("claimed_by", String(128)),  # the instance running the round now (until next_round_at)
    Column("last_round_at", UTCDateTime()),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("incident_since", UTCDateTime()),  # the circuit is open since then (one admin notice each)
    Column("last_hits", Integer),  # hits of the last round
    # JSON {query: hits} of each query's last answer: an empty answer where it had results is a soft block.
    Column("query_hits", NulFreeText()),
    Column("queries", Integer, nullable=False, default=0),
    Column("hits", Integer, nullable=False, default=0),
    Column("new_articles", Integer, nullable=False, default=0),
    Column("alerts", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("last_error", NulFreeText()),
    Column("last_error_at", UTCDateTime()),
)

# What people did with an alert's buttons (delivery/interactions.py): one row per interaction and watchlist
# of the alert, so feedback per watchlist is a GROUP BY (for `tune` and /metrics). `dedup_key` names the
# interaction (who, which button, which alert, when Slack says it was pressed): Slack's retries and a second
# instance's copy of it find the row there and change nothing.
interactions = Table(
    "interactions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedup_key", String(64), nullable=False),
    Column("watchlist", String(255), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("user_id", String(32), nullable=False),
    Column("team_id", String(32)),
    Column("action", String(32), nullable=False),  # relevant | not_relevant | mute_story | mute_outlet
    Column("alert_id", Integer, nullable=False, index=True),  # the outbox entry the buttons were on
    Column("article_id", Integer),
    Column("story_id", Integer),
    Column("outlet", NulFreeText()),
    Column("channel", String(255), nullable=False),  # as routed (a name or an ID)
    Column("channel_id", String(32), nullable=False),
    Column("message_ts", String(32), nullable=False),
    UniqueConstraint("dedup_key", "watchlist", name="uq_interactions_key"),
)

# A story muted in a channel: its later articles post nothing there (no replies, no updates).
story_mutes = Table(
    "story_mutes",
    metadata,
    Column("story_id", Integer, nullable=False),
    Column("channel", String(255), nullable=False),
    Column("muted_at", UTCDateTime(), nullable=False),
    Column("muted_by", String(32), nullable=False),
    Column("alert_id", Integer, nullable=False),
    PrimaryKeyConstraint("story_id", "channel"),
)

# An outlet muted for a watchlist: its articles no longer match that watchlist, on every instance, until
# `news-monitor watch unmute WATCHLIST OUTLET`.
outlet_mutes = Table(
    "outlet_mutes",
    metadata,
    Column("outlet", NulFreeText(), nullable=False),
    Column("watchlist", String(255), nullable=False),
    Column("muted_at", UTCDateTime(), nullable=False),
    Column("muted_by", String(32), nullable=False),
    Column("alert_id", Integer),
    PrimaryKeyConstraint("outlet", "watchlist"),
)

# Fleet-wide schedules (housekeeping): whoever moves next_run_at forward first runs the job this time.
jobs = Table(
    "jobs",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("next_run_at", UTCDateTime(), nullable=False),
    Column("last_run_by", String(128)),
)
