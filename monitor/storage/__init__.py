"""State storage: one interface (base.Storage), one SQL implementation for SQLite and PostgreSQL."""

from datetime import timedelta

from .base import Storage
from .fleet import DEFAULT_LEASE
from .records import (
    ArticleKey,
    ArticleRecord,
    FeedState,
    Instance,
    OutboxEntry,
    PollSuccess,
    QueuedAlert,
    RecordResult,
    StoredArticle,
    Story,
    StoryArticle,
    StoryThread,
)
from .sql import SQLStorage


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
    "OutboxEntry",
    "PollSuccess",
    "QueuedAlert",
    "RecordResult",
    "SQLStorage",
    "Storage",
    "StoredArticle",
    "Story",
    "StoryArticle",
    "StoryThread",
    "open_storage",
]
