"""Keys longer than their column (a page's canonical URL, a story name) are stored and found again, on
SQLite and PostgreSQL alike (PostgreSQL refuses an over-long value; the store hashes it)."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.storage import ArticleKey, ArticleRecord, open_storage
from monitor.storage.schema import KEY_LENGTH, STORY_KEY_LENGTH
from tests.support.store import Store

NOW = datetime.now(UTC)


def test_an_over_long_url_key_is_recorded_and_recognised(store: Store) -> None:
    storage = open_storage(store.url)
    try:
        long_url = "https://news.example/" + "a" * (KEY_LENGTH * 2)
        near = long_url[:-1] + "b"  # the same first 2,048 characters: must stay a different key
        name = "x" * (STORY_KEY_LENGTH + 50)
        record = ArticleRecord("https://feeds.example/rss", "g1", long_url, long_url, "T", "text", NOW, NOW,
                               "fp1", "no_match", story_profile="{}", story_keys=(name,))  # fmt: skip
        assert storage.record_article(record, [ArticleKey("url", long_url)], []).article_id == 1
        assert storage.find_seen_key([ArticleKey("url", long_url)]) == ArticleKey("url", long_url)
        assert storage.find_seen_key([ArticleKey("url", near)]) is None
        [member] = storage.story_members([name], NOW)
        assert member.article_id == 1
    finally:
        storage.close()
