"""Successful polls are written in batches: new and known feeds in one transaction, nothing lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.storage import PollSuccess, open_storage
from tests.support.store import Store

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def success(etag: str, minutes: int) -> PollSuccess:
    return PollSuccess(title=f"Feed {etag}", etag=etag, last_modified=None, result="20 items",
                       next_poll_at=NOW + timedelta(minutes=minutes))  # fmt: skip


def test_a_batch_records_new_and_known_feeds(store: Store) -> None:
    storage = open_storage(store.url)
    storage.record_poll_failure("https://a.example/rss", error="HTTP 503", at=NOW, next_poll_at=NOW)
    storage.record_poll_successes(
        [("https://a.example/rss", success("a1", 10), NOW), ("https://b.example/rss", success("b1", 5), NOW)]
    )
    a, b = storage.feed_states()
    assert (a.url, a.etag, a.consecutive_failures, a.last_error) == ("https://a.example/rss", "a1", 0, None)
    assert (b.url, b.etag, b.first_polled_at, b.last_success_at) == ("https://b.example/rss", "b1", NOW, NOW)
    # Due again only when the recorded next poll comes.
    urls = [a.url, b.url]
    assert storage.due_feeds(urls, NOW) == []
    assert storage.due_feeds(urls, NOW + timedelta(minutes=6)) == ["https://b.example/rss"]
    storage.record_poll_successes([])  # an empty batch writes nothing and does not fail
    storage.close()
