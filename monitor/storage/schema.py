"""The one schema every storage backend shares (SQLAlchemy Core, so SQLite and PostgreSQL read the same)."""

from __future__ import annotations

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


metadata = MetaData()

# Bump when a table changes, and teach upgrade.py the step; a store made by a newer version is refused
# with instructions instead of failing later on a missing column.
SCHEMA_VERSION = 2

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# Scheduling state lives here, not in memory, so a restart resumes where it stopped.
feeds = Table(
    "feeds",
    metadata,
    Column("url", String(2048), primary_key=True),
    Column("title", Text),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("first_polled_at", UTCDateTime()),
    Column("last_polled_at", UTCDateTime()),
    Column("last_success_at", UTCDateTime()),
    Column("last_error", Text),
    Column("last_result", Text),  # what the last poll did, for `status`: "12 items", "not modified", an error
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("next_poll_at", UTCDateTime()),  # NULL: due now
    Column("poll_interval", Integer),  # seconds: the adaptive interval last chosen (kept through 304s)
    Column("disabled_reason", Text),  # set after 410 Gone; the feed is then only retried daily
    Column("moved_to", Text),  # where a permanent redirect leads, so the operator can update the config
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("feed_url", String(2048), nullable=False),
    Column("guid", Text),
    Column("url", Text, nullable=False),
    Column("canonical_url", Text),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("published_at", UTCDateTime()),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("fingerprint", String(64)),
    Column(
        "outcome", String(32), nullable=False
    ),  # alerted | same_story | no_match | too_old | first_poll | copy
    Column("matches", Text, nullable=False, default="[]"),  # JSON: [{watchlist, channel, terms}]
    Column("signature", LargeBinary),  # MinHash values (stages/neardup.py), for near-copy checks
    # The story (stages/stories.py) is named by its first article's id; `source` is the outlet's name,
    # so a story can say how many outlets carry it and reply once per outlet.
    Column("story_id", Integer, index=True),
    Column("source", Text),
    Column("story_profile", Text),  # StoryProfile JSON, compared with later articles in the window
)

# The story index: an article's most telling names (StoryProfile.keys). Candidates for a new article's
# story are the recent articles sharing one, found by index lookups, not by a scan.
story_keys = Table(
    "story_keys",
    metadata,
    Column("key", String(255), nullable=False),
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
    Column("key", String(2048), nullable=False),
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
    Column("dedup_key", String(255), unique=True),
    Column("channel", String(255), nullable=False),
    Column("payload", Text, nullable=False),  # JSON of the Alert, enough to send it after a restart
    Column("status", String(16), nullable=False, default="pending"),  # pending | sent | failed
    Column("ts", String(32)),  # Slack's message ts, a string on purpose (floats lose digits)
    Column("channel_id", String(32)),  # the channel's Slack ID: chat.update on a story's alert needs it
    Column("error", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
    Column("next_attempt_at", UTCDateTime()),  # NULL: due now; set by backoff after a transient failure
    Column(
        "failed_config", String(64)
    ),  # fingerprint of the config + token a permanent failure happened under
    UniqueConstraint("article_id", "channel"),
)
