"""State storage: one interface, one SQL implementation for SQLite and PostgreSQL; every read and write of
the state database goes through it.

    base.py          the Storage protocol stages and the pipeline are written against
    records.py       the records it takes and gives back (FeedState, ArticleRecord, OutboxEntry, Story, ...)
    sql.py           SQLStorage: the engine, the schema check, the heartbeat; one mixin of queries per entity:
    feeds.py           feed state between polls, which feeds are due, recording polls
    articles.py        dedup keys, recording an article with its indexes and alerts, preview reads, retention
    alerts.py          an outbox entry's life: queued, sent, retried, failed, requeued, counted
    outbox.py          re-routing outbox entries, Slack outages, what is pending
    stories.py         a new article's candidate stories, a story's Slack thread, the stories of a period
    digests.py         a watchlist's last digest, its matched stories since, queueing a digest once
    fleet.py           instances sharing the store, and the lease model
    claims.py          claims on feeds, feed items being read and outbox entries
    turns.py           fleet-wide jobs, posting turns per channel, the story lock
    search.py          news search providers: whose round it is, backoff, counters for `status`
    interactions.py    the buttons on alerts: interactions recorded once, story and outlet mutes, feedback
    common.py        what those modules share: outbox columns, upserts, error wrapping, chunks
    schema.py        the tables, the same for SQLite and PostgreSQL
    migrate.py       bringing a store's schema to this version (alembic)
    copy.py          copying a whole store into another (SQLite to PostgreSQL)

Inside the package imports run one way, from sql.py down to records.py and schema.py. May import config,
query, http, data and the foundations (it uses models, errors, logs, redact); never stages or anything above.
"""

from datetime import timedelta

from .base import Storage
from .fleet import DEFAULT_LEASE
from .records import (
    ArticleKey,
    ArticleRecord,
    FeedState,
    Instance,
    Interaction,
    Judgement,
    OutboxEntry,
    OutletMute,
    PollSuccess,
    QueuedAlert,
    RecordResult,
    SearchRoundRecord,
    SearchState,
    StoredArticle,
    Story,
    StoryArticle,
    StoryThread,
)
from .sql import SQLStorage, holds_store


def open_storage(url: str, *, lease: timedelta = DEFAULT_LEASE) -> SQLStorage:
    """Open (and create if needed) the state database at a SQLAlchemy URL.

    `lease`: how long this process's claims on feeds and alerts outlive it (storage/fleet.py).
    """
    return SQLStorage(url, lease=lease)


__all__ = [
    "ArticleKey",
    "ArticleRecord",
    "FeedState",
    "Instance",
    "Interaction",
    "Judgement",
    "OutboxEntry",
    "OutletMute",
    "PollSuccess",
    "QueuedAlert",
    "RecordResult",
    "SQLStorage",
    "SearchRoundRecord",
    "SearchState",
    "Storage",
    "StoredArticle",
    "Story",
    "StoryArticle",
    "StoryThread",
    "holds_store",
    "open_storage",
]
