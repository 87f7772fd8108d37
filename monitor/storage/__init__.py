"""State storage: one interface (base.Storage), one SQL implementation for SQLite and PostgreSQL."""

from .base import (
    ArticleKey,
    ArticleRecord,
    FeedState,
    OutboxEntry,
    PollSuccess,
    QueuedAlert,
    RecordResult,
    Storage,
    StoredArticle,
    Story,
    StoryArticle,
    StoryThread,
)
from .sql import SQLStorage


def open_storage(url: str) -> SQLStorage:
    """Open (and create if needed) the state database at a SQLAlchemy URL."""
    return SQLStorage(url)


__all__ = [
    "ArticleKey",
    "ArticleRecord",
    "FeedState",
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
