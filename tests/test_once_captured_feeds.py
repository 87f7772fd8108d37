"""`once` on a real feed from another parser's test suite (tests/fixtures/feeds-corpus/other-parsers):
martinfowler.com's Atom feed, whose instalments of evolving articles each link the article's page
with a #fragment. Each instalment has its own id and title; sharing its page's link, it is still its
own item and alerts once (issue 16: before, 16 of its 30 entries could never alert).

The feed is served as captured, its host turned into the local web server's (no request leaves the
machine); the article pages are not served, so each text is the feed's own.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.support.world import World

FEED = (
    Path(__file__).parent / "fixtures" / "feeds-corpus" / "other-parsers" / "feedendum" / "martinfowler.atom"
)
# The 6 entries whose text says CD4ML: instalments of "Continuous Delivery for Machine Learning"
# (cd4ml.html, whose own entry names CD4ML only in its URLs), each linking cd4ml.html#<section>.
CD4ML_TITLES = [
    "Technical Components of CD4ML",
    "Serving and testing models in CD4ML",
    "Experiments Tracking and Model Deployment in CD4ML",
    "Orchestration and Observability in CD4ML",
    "Data Versioning and Pipelines in CD4ML",
    "Using CD4ML to evolve without bias",
]


def all_titles(world: World) -> list[str]:
    """Every alert's linked title, top level and thread replies alike (a story groups instalments)."""
    return [_title(message) for message in world.slack.messages()]


def _title(message: dict[str, Any]) -> str:
    """The label of the message's first link: an alert's title, or the title an update reply links."""
    text = str(message["blocks"][0]["text"]["text"] if message.get("blocks") else message["text"])
    found = re.search(r"<[^|>]+\|([^>]+)>", text)
    assert found, text
    return found.group(1)


def test_posts_that_are_fragments_of_one_page_alert_each_once(world: World) -> None:
    body = FEED.read_text(encoding="utf-8").replace("https://martinfowler.com", world.web.base_url)
    world.web.add("/feed.atom", body, content_type="application/atom+xml")
    world.feeds.append({"url": world.web.url("/feed.atom")})
    world.watchlists = [{"name": "ml", "channel": "#china-tech", "terms": ["CD4ML"]}]
    world.settings = {"poll": {"max_age": "3650d"}}  # the feed is of November 2019
    assert world.once() == 0
    posted = all_titles(world)
    assert sorted(posted) == sorted(CD4ML_TITLES), posted
    links = re.findall(r"<([^|>]+)\|", str(world.slack.messages()))
    assert f"{world.web.base_url}/articles/cd4ml.html#ModelServing" in links  # the entry's own link
    assert world.web.hits("/articles/cd4ml.html") == 0  # a shared link is not the entries' text
    assert world.once() == 0
    assert sorted(all_titles(world)) == sorted(CD4ML_TITLES)  # not again on the next poll
