"""`news-monitor stories` says why each article is in its story.

README's command table: `stories` shows "why each article was joined (score, shared names)". A headline
alone (00ab6eb) joins a story that shares a name with it and whose words hold HEADLINE_COVERAGE of what it
says; `stories --json` gives it only `{"reason": "headline alone: the story holds what it says"}`: no
figure, no shared name, and none of the keys (`score`, `shared_names`) every other joined, non-copy
article has, so a script reading `joined["score"]` fails on it and a reader cannot tell how close it was.

Pre-existing (not this session's): a near-copy that posts the alert itself, where its original was not
alerted (its original's feed is not one the watchlist reads; docs/stories.md step 5), is shown as "same
event" with its profile's score (0.0 for a Chinese text, no shared names), not as the near-copy it is.
"""

from __future__ import annotations

import json
from typing import Any

from monitor.stages.stories import HEADLINE_COVERAGE
from tests.support.world import World
from tests.test_story_briefs import HEADLINE, publish_report_and_headline
from tests.test_story_threads import Newsroom


def stories_json(world: World, capsys: Any) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert world.run_cli("stories", "--since", "1d", "--all", "--json") == 0
    return list(json.loads(capsys.readouterr().out))


def test_stories_gives_a_headline_alones_share_and_shared_names(world: World, capsys: Any) -> None:
    # As tests/test_story_briefs.py: a report, then a title-only item (its page gone) an hour later.
    publish_report_and_headline(world)
    headline = HEADLINE
    assert world.once() == 0
    [story] = stories_json(world, capsys)
    _report, joined = story["articles"]
    assert joined["title"] == headline and joined["outcome"] == "replied"
    why = joined["joined"]
    assert "headline alone" in why["reason"]
    # What it joined on: the names it shares with the story, and how much of what it says the story holds.
    assert {"mount", "cook"} <= set(why.get("shared_names", [])), why
    assert isinstance(why.get("score"), float) and why["score"] >= HEADLINE_COVERAGE, why


ZH = (
    "阿里巴巴周日否认了英国金融时报的报道，该报道称这家中国科技巨头曾帮助中国人民解放军针对美国的行动。"
    "白宫的一份国家安全备忘录称，阿里巴巴向解放军提供了客户数据和人工智能服务。阿里巴巴表示，"
    "这篇报道完全是错误的，是一次恶意的公关行动，并称公司从未参与任何此类活动。"
)


def test_a_near_copy_that_alerted_is_shown_as_a_near_copy(world: World, capsys: Any) -> None:
    news = Newsroom(world, ["Xinhua", "China News"])
    world.feeds[1]["tags"] = ["watched"]  # only the second outlet's feed is watched
    world.watchlists = [
        {"name": "alibaba", "channel": "#news-alerts", "terms": ["阿里巴巴"], "feeds": ["watched"]}
    ]
    original_text = {"title": "阿里巴巴否认帮助解放军", "text": "新华社北京电 " + ZH + " 责任编辑：王明"}
    copy_text = {"title": "阿里巴巴否认帮助解放军的报道", "text": ZH + " 来源：中国新闻网"}
    news.publish("Xinhua", "zh-original", article=original_text)  # not matched: its feed is not watched
    assert world.once() == 0
    news.publish("China News", "zh-copy", article=copy_text)  # a near-copy on a watched feed: it alerts
    assert world.once() == 0
    [story] = [s for s in stories_json(world, capsys) if len(s["articles"]) == 2]
    original, copy = story["articles"]
    assert copy["outcome"] == "alerted"
    # (Was shown as {"reason": "same event", "like": <original>, "score": 0.0, "shared_names": []}.)
    assert copy["joined"]["reason"] == "near-copy", copy["joined"]
    assert copy["joined"]["copy_of"] == original["id"]
