"""A cycle's story decisions do not depend on the order its articles finish in (stories/decision_order.py).

Two near-miss stories of the labelled corpus (tests/fixtures/stories): the Alibaba-PLA memo (s01) and,
about 20 hours later, Alibaba's T-Head chips in China Unicom's data centre (s02), which shares the
company and much vocabulary with it (their score, 0.35, is above the bar of a young story, below that of
a 20-hour-old one). Decided in the order pages finish downloading, an s02 report read first starts a
story that the earlier-published memo reports then join (for them, that story is no older than they
are). Every example serves the feeds' items in another order and makes other pages slow to download.
"""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago
from tests.test_story_threads import CORPUS, article_page

# outlet, corpus article, hours before now it was published (the corpus's own spacing)
PUBLISHED = [
    ("FinanceBlog", "s01-a1", 27.0),
    ("Mint", "s01-a2", 27.1),
    ("Pacific Wire", "s01-a3", 29.8),
    ("Harbour Post", "s01-a5", 9.0),
    ("ChinaWire", "s02-a1", 7.2),
    ("SinoTech Review", "s02-a3", 0.1),
]


def serve_in_order(world: World, seed: int) -> dict[str, str]:
    """Every article on its outlet's site and in its feed, in an order and at speeds drawn from `seed`;
    returns article URL -> corpus article id."""
    rng = random.Random(seed)
    by_outlet: dict[str, list[dict[str, object]]] = defaultdict(list)
    ids = {}
    for outlet, article_id, hours in rng.sample(PUBLISHED, k=len(PUBLISHED)):
        path = f"/{outlet.lower().replace(' ', '-')}/{article_id}.html"
        page = article_page(CORPUS[article_id])
        if rng.random() < 0.5:  # slow to download: read after the others
            url = world.web.slow_drip(path, page, bytes_per_second=len(page) / rng.uniform(0.3, 1.2))
        else:
            url = world.web.add(path, page, content_type="text/html")
        ids[url] = article_id
        item = {"title": CORPUS[article_id]["title"], "link": url, "guid": url, "pub_date": hours_ago(hours)}
        by_outlet[outlet].append(item)
    for outlet, items in by_outlet.items():
        world.add_feed(f"/{outlet.lower().replace(' ', '-')}/rss.xml", rss_feed(outlet, items), name=outlet)
    world.watchlists = [{"name": "alibaba", "channel": "#news-alerts", "terms": ["Alibaba"]}]
    return ids


def grouping(world: World, ids: dict[str, str]) -> set[frozenset[str]]:
    stories: dict[int, set[str]] = defaultdict(set)
    for url, story_id in world.store.rows("SELECT url, story_id FROM articles"):
        stories[story_id].add(ids[url])
    return {frozenset(articles) for articles in stories.values()}


@pytest.mark.parametrize("seed", range(6))
def test_the_grouping_is_the_same_whatever_order_the_articles_finish_in(world: World, seed: int) -> None:
    world.settings["stories"] = {"settle": "2m"}  # a busy machine's slowest read stays within it
    ids = serve_in_order(world, seed)
    assert world.once() == 0
    memo = frozenset({"s01-a1", "s01-a2", "s01-a3", "s01-a5"})
    chips = frozenset({"s02-a1", "s02-a3"})
    assert grouping(world, ids) == {memo, chips}
    # One alert per story, each headed by the story's first-published article.
    titles = [m["blocks"][0]["text"]["text"] for m in world.top_level()]
    assert len(titles) == 2
    assert any(CORPUS["s01-a3"]["title"][:30] in t for t in titles)
    assert any(CORPUS["s02-a1"]["title"][:30] in t for t in titles)
