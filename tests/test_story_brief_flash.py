"""The brief's second turn (pipeline/item_stages.py), from an outside review: an agency flash minutes
before its event's first full report is one story with it."""

from __future__ import annotations

from collections import Counter

from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago
from tests.test_story_briefs import REPORT
from tests.test_story_threads import article_page

# A 12-word agency flash: a brief (stories.is_brief), as like the full report as reports come (0.89).
FLASH = "Perth doctor Mark Vinar is presumed dead after a fall from a ridge on Mount Cook."


def publish(world: World, outlet: str, title: str, text: str, hours: float) -> None:
    slug = outlet.lower().replace(" ", "-")
    url = world.web.add(
        f"/{slug}/a.html", article_page({"title": title, "text": text}), content_type="text/html"
    )
    item = {"title": title, "link": url, "guid": url, "description": text, "pub_date": hours_ago(hours)}
    world.add_feed(f"/{slug}/rss.xml", rss_feed(outlet, [item]), name=outlet)


def test_a_brief_just_before_the_events_first_full_report_is_one_story_with_it(
    world: World,
) -> None:
    # The agency's brief comes first (the usual order: a flash, then the full report). Decided in
    # publication order (before df51751..), the brief starts the story and the report joins it: one
    # alert. With the second turn, the brief is put off, the report starts the story, and on its second
    # turn the brief may not join a story begun after it: two alerts for one event.
    publish(world, "Kiwi News", FLASH, FLASH, 3.0)
    publish(world, "Alpine Times", *REPORT, 2.9)
    world.watchlists = [{"name": "perth", "channel": "#news-alerts", "terms": ["Perth"]}]
    assert world.once() == 0
    stories = Counter(story for (story,) in world.store.rows("SELECT story_id FROM articles"))
    assert sorted(stories.values()) == [2]
    assert len(world.top_level()) == 1
