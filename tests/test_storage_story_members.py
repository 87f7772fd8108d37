"""The store reads a story through as many of its newest members as the story stage compares: storage
keeps its own copy of the number (it may not import a stage), and this ties the two."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.stages.stories import MEMBERS_COMPARED
from monitor.storage import ArticleKey, ArticleRecord, open_storage
from tests.support.store import Store

NOW = datetime.now(UTC)


def test_a_story_is_read_through_its_newest_members_as_many_as_the_stage_compares(store: Store) -> None:
    storage = open_storage(store.url)
    try:
        stored = MEMBERS_COMPARED + 6
        for number in range(1, stored + 1):
            seen = NOW - timedelta(minutes=stored - number)
            record = ArticleRecord("https://feeds.example/rss", f"g{number}", f"https://news.example/{number}",
                                   None, "T", "text", seen, seen, f"fp{number}", "no_match",
                                   story_id=None if number == 1 else 1, story_profile="{}",
                                   story_keys=("Xinchuang",))  # fmt: skip
            storage.record_article(record, [ArticleKey("guid", f"g{number}")], [])
        members = storage.story_members(["Xinchuang"], NOW - timedelta(days=1))
        newest = range(stored - MEMBERS_COMPARED + 1, stored + 1)
        assert sorted(member.article_id for member in members) == list(newest)
        assert {member.story_id for member in members} == {1}
    finally:
        storage.close()
