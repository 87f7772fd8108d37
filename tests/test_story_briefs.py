"""A brief that would start a story is decided again after the rest of its cycle (pipeline/item_stages.py).

Three reports of one climbing accident reach one cycle: a full report, then two agency briefs six
minutes apart. The first brief ("a Perth doctor feared dead") is not like the full report (0.15 where
0.25 is needed); the second ("Mark Vinar ... from Perth ... presumed dead") is, and the first is like the
second (0.33). Decided in publication order alone, the first brief starts a story of its own and posts a
second alert; decided again once the second has joined, it joins too. On that second turn it may join
only a story begun by the time it was published, not one that articles published after it started.
"""

from __future__ import annotations

import json
from collections import Counter

from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago, message_title
from tests.test_once import serve_sample_news
from tests.test_story_threads import article_page

REPORT = (
    "Climber Mark Vinar presumed dead after fall on Mount Cook",
    "Mark Vinar, an Australian doctor from Perth, is presumed dead after he fell from a ridge on Mount Cook"
    " on Thursday. His brother survived two nights in an ice cave high on the mountain before a rescue"
    " helicopter reached him. Police said the climber fell about 600 metres from the ridge.",
)
TRIBUTE = (
    "A colleague has paid tribute to a Perth doctor feared dead after a fall from a mountain in New Zealand."
)
VINAR = (
    "Mark Vinar, an Australian climber from Perth, has been presumed dead after falling over half a kilometre"
    " from New Zealand's highest peak, Mount Cook."
)
# outlet, title, text, hours before now it was published
PUBLISHED = [
    ("Alpine Times", *REPORT, 3.0),
    ("Perth Wire", TRIBUTE, TRIBUTE, 1.0),
    ("Kiwi News", VINAR, VINAR, 0.9),
]


def test_a_brief_published_before_its_storys_next_report_joins_the_story(world: World) -> None:
    for outlet, title, text, hours in PUBLISHED:
        slug = outlet.lower().replace(" ", "-")
        url = world.web.add(
            f"/{slug}/a.html", article_page({"title": title, "text": text}), content_type="text/html"
        )
        item = {"title": title, "link": url, "guid": url, "description": text, "pub_date": hours_ago(hours)}
        world.add_feed(f"/{slug}/rss.xml", rss_feed(outlet, [item]), name=outlet)
    world.watchlists = [{"name": "perth", "channel": "#news-alerts", "terms": ["Perth"]}]
    assert world.once() == 0
    stories = Counter(story for (story,) in world.store.rows("SELECT story_id FROM articles"))
    assert sorted(stories.values()) == [3]
    assert len(world.top_level()) == 1


def test_a_brief_does_not_join_on_its_second_turn_a_story_begun_after_it(world: World) -> None:
    # Mint's 10-word feed summary about T-Head (its page gone) came out two hours before the Alibaba memo
    # story's reports (Mint's and a blog's); decided after them, it scores that story's bar, but the
    # story began after it: it stays an alert of its own, not a reply in the memo's thread.
    serve_sample_news(world)
    assert world.once() == 0
    alerts = {message_title(m) for m in world.top_level("#china-tech")}
    assert "Chip unit expands" in alerts and len(alerts) == 2


HEADLINE = "Climber presumed dead after fall on Mount Cook ridge"


def publish_report_and_headline(world: World) -> None:
    """Alpine Times's full report, then Kiwi News's item an hour later: its page is gone and its feed gives
    no summary, so its title is all there is (a headline alone)."""
    report_url = world.web.add(
        "/alpine-times/a.html",
        article_page({"title": REPORT[0], "text": REPORT[1]}),
        content_type="text/html",
    )
    report = {"title": REPORT[0], "link": report_url, "guid": report_url, "pub_date": hours_ago(2.0)}
    world.add_feed("/alpine-times/rss.xml", rss_feed("Alpine Times", [report]), name="Alpine Times")
    gone = world.web.url("/kiwi-news/gone.html")
    item = {"title": HEADLINE, "link": gone, "guid": gone, "pub_date": hours_ago(1.0)}
    world.add_feed("/kiwi-news/rss.xml", rss_feed("Kiwi News", [item]), name="Kiwi News")
    world.watchlists = [{"name": "climbing", "channel": "#news-alerts", "terms": ["climber"]}]


def test_a_headline_alone_replies_in_the_thread_of_the_story_that_holds_it(world: World) -> None:
    # The headline shares Mount Cook with the report an hour before, and the report holds what it says: a
    # reply in that alert's thread, not a second alert.
    publish_report_and_headline(world)
    headline = HEADLINE
    assert world.once() == 0
    [alert] = world.top_level("#news-alerts")
    assert message_title(alert) == REPORT[0]
    replies = world.slack.replies("#news-alerts", alert["ts"])
    assert [reply for reply in replies if headline in json.dumps(reply)]
    # A headline is nobody's yardstick: stored without a profile, found by no key.
    rows = world.store.rows("SELECT id, story_profile FROM articles WHERE title = :title", title=headline)
    assert [row.story_profile for row in rows] == [None]
    assert world.store.rows("SELECT key FROM story_keys WHERE article_id = :id", id=rows[0].id) == []
