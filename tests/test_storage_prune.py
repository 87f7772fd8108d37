"""Retention: text and story indexes go after `retention`, rows and dedup keys later, pending alerts never."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.storage import ArticleKey, ArticleRecord, QueuedAlert, SQLStorage, open_storage
from tests.support.store import Store

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def record(storage: SQLStorage, n: int, age: timedelta, alerts: list[QueuedAlert] | None = None) -> int:
    seen = NOW - age
    article = ArticleRecord(
        "https://feed.example/rss", f"g{n}", f"https://news.example/{n}", None, f"Title {n}", f"text {n}",
        seen, seen, f"fp{n}", "alerted", signature=b"\0" * 8, bands=(f"band{n}",), source="Feed",
        story_profile='{"w":{},"n":{}}', story_keys=(f"name{n}",),
    )  # fmt: skip
    result = storage.record_article(article, [ArticleKey("url", f"https://news.example/{n}")], alerts or [])
    assert result.article_id is not None
    return result.article_id


def test_prune_keeps_what_each_use_needs(store: Store) -> None:
    storage = open_storage(store.url)
    young = record(storage, 1, timedelta(days=1))
    middle = record(storage, 2, timedelta(days=20))  # older than retention, younger than the key horizon
    old = record(storage, 3, timedelta(days=100))
    assert old not in (young, middle)
    old_pending = record(storage, 4, timedelta(days=100), [QueuedAlert("#c", "{}")])  # Slack down for months
    cleared, deleted = storage.prune(
        text_before=NOW - timedelta(days=14), rows_before=NOW - timedelta(days=90)
    )
    assert (cleared, deleted) == (3, 1)
    rows = dict(store.rows("SELECT id, text FROM articles"))
    profiles = dict(store.rows("SELECT id, story_profile FROM articles"))
    story_keys = {r[0] for r in store.rows("SELECT article_id FROM story_keys")}
    bands = {r[0] for r in store.rows("SELECT article_id FROM near_dup_bands")}
    assert rows == {young: "text 1", middle: "", old_pending: ""} and old not in rows  # gone, with its keys
    assert profiles[young] is not None and profiles[middle] is None
    assert story_keys == bands == {young}  # the indexes only serve the story window
    # Dedup keys outlive the text: the middle article is still recognised, the deleted one is not.
    assert storage.find_seen_key([ArticleKey("url", "https://news.example/2")]) is not None
    assert storage.find_seen_key([ArticleKey("url", "https://news.example/3")]) is None
    assert [e.article_id for e in storage.due_alerts(NOW)] == [old_pending]
    storage.close()
