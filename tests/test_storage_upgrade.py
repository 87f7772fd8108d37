"""A store made by the previous release (schema 1) is upgraded in place, losing nothing."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import StorageError
from monitor.storage import ArticleKey, ArticleRecord, QueuedAlert, open_storage
from monitor.storage.migrate import VERSION_TABLE, head_revision

pytestmark = pytest.mark.sqlite_only("upgrades a SQLite file made by schema 1")

V1_DUMP = Path(__file__).parent / "fixtures" / "store-v1.sql"  # made by news-monitor at schema 1


def v1_store(tmp_path: Path) -> Path:
    path = tmp_path / "news-monitor.db"
    with sqlite3.connect(path) as db:
        db.executescript(V1_DUMP.read_text(encoding="utf-8"))
    return path


def test_a_schema_1_store_is_upgraded_with_its_articles_keys_and_pending_alert(tmp_path: Path) -> None:
    path = v1_store(tmp_path)
    storage = open_storage(f"sqlite:///{path}")
    try:
        # Seen before: still seen, so the next poll does not fetch or alert it again.
        assert storage.find_seen_key([ArticleKey("url", "https://news.example/1")]) is not None
        [pending] = storage.due_alerts(datetime.now(UTC))
        assert (pending.channel, pending.payload, pending.kind) == ("#alerts", '{"pending": true}', "alert")
        assert pending.story_id == pending.article_id  # each old article is a story of its own
        assert storage.story_of(2) == 2
        # And the upgraded store records new articles, with stories.
        now = datetime.now(UTC)
        record = ArticleRecord("https://feed.example/rss", "g3", "https://news.example/3", None, "New",
                               "text", now, now, "fp3", "alerted", source="Feed", story_id=1)  # fmt: skip
        result = storage.record_article(record, [ArticleKey("url", "https://news.example/3")],
                                        [QueuedAlert("#alerts", "{}")])  # fmt: skip
        assert result.article_id == 3 and storage.story_of(3) == 1
    finally:
        storage.close()
    with sqlite3.connect(path) as db:
        # The old marker moves on too (a news-monitor from before migrations then refuses the store) ...
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("8",)
        # ... and alembic knows where it stands.
        versions = db.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
        assert versions == [(head_revision(),)]


def test_a_store_from_a_newer_release_is_refused_untouched(tmp_path: Path) -> None:
    path = v1_store(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '9' WHERE key = 'schema_version'")
    newer = r"made by a newer news-monitor \(revision 9\); this news-monitor needs"
    with pytest.raises(StorageError, match=newer):
        open_storage(f"sqlite:///{path}")
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(articles)")]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "story_id" not in columns and "story_keys" not in tables
