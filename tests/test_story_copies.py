"""Exact copies (issue 14.4): a page whose text is exactly a stored article's, at another URL (a
syndication), is recorded as a copy in its original's story and shown by `stories` with what it copies.

Same set-up as test_story_threads.py: corpus articles served by the local web server under feeds named
after their outlets, the real pipeline (`once`), the real slack-sdk client talking to the fake.
"""

from __future__ import annotations

import json
from typing import Any

from tests.support.feeds import rss_feed
from tests.support.world import World, message_title
from tests.test_story_threads import CHANNEL, CORPUS, Newsroom, article_page, top_level


def stories_json(world: World, capsys: Any) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert world.run_cli("stories", "--since", "1d", "--all", "--json") == 0
    return list(json.loads(capsys.readouterr().out))


def test_an_exact_copy_is_recorded_in_its_original_s_story_with_what_it_copies(
    world: World, capsys: Any
) -> None:
    news = Newsroom(world, ["FinanceBlog", "Capital Times", "Market Pulse"])
    news.publish("FinanceBlog", "s01-a1")
    assert world.once() == 0
    news.publish("Capital Times", "s01-a1", as_id="syndicated")  # the same page text at another URL
    news.publish("Market Pulse", "s01-a1", as_id="also-syndicated")
    assert world.once() == 0
    assert len(world.slack.messages(CHANNEL)) == 1  # the story's alert; copies post nothing in its channel

    [story] = stories_json(world, capsys)
    original, *copies = story["articles"]
    assert story["outlets"] == ["FinanceBlog", "Capital Times", "Market Pulse"]
    assert [c["outcome"] for c in copies] == ["copy", "copy"]
    for copy in copies:
        assert copy["url"].endswith("syndicated.html")
        assert copy["joined"] == {
            "reason": "exact copy",
            "copy_of": original["id"],
            "copy_of_url": original["url"],
            "similarity": 1.0,
        }
    assert world.run_cli("stories", "--since", "1d", "--all") == 0
    assert f"joined: exact copy of #{original['id']}" in capsys.readouterr().out

    # The copies hold their own GUID and URL keys (the next poll skips them before fetching); the text's
    # key stays with the original.
    keys = world.store.rows("SELECT kind, article_id FROM article_keys ORDER BY article_id, kind")
    assert [kind for kind, article_id in keys if article_id == original["id"]] == [
        "fingerprint",
        "guid",
        "url",
    ]
    for copy in copies:
        assert [kind for kind, article_id in keys if article_id == copy["id"]] == ["guid", "url"]
    assert world.once() == 0
    [story] = stories_json(world, capsys)
    assert len(story["articles"]) == 3


def test_the_same_page_under_another_url_stays_a_plain_duplicate(world: World, capsys: Any) -> None:
    news = Newsroom(world, ["FinanceBlog", "Capital Times"])
    news.publish("FinanceBlog", "s01-a1")
    assert world.once() == 0
    # Another address of the very page: its rel=canonical names the stored URL. Same text, but a known
    # URL: a duplicate, not recorded again (and not a copy).
    original = news.items["FinanceBlog"][0]["link"]
    canonical = f'<link rel="canonical" href="{original}">'
    page = article_page(CORPUS["s01-a1"]).replace("</head>", canonical + "</head>")
    url = world.web.add("/capital-times/amp/s01-a1.html", page, content_type="text/html")
    item = {**news.items["FinanceBlog"][0], "guid": "ct-amp", "link": url}
    world.web.add(
        "/capital-times/rss.xml", rss_feed("Capital Times", [item]), content_type="application/rss+xml"
    )
    assert world.once() == 0
    [story] = stories_json(world, capsys)
    assert len(story["articles"]) == 1


def test_an_exact_copy_alerts_where_its_original_did_not(world: World) -> None:
    news = Newsroom(world, ["Pacific Wire", "Bay Business Daily"])
    world.feeds[1]["tags"] = ["watched"]  # only the second outlet's feed is watched
    world.watchlists[0]["feeds"] = ["watched"]
    news.publish("Pacific Wire", "s01-a3")  # not matched: its feed is not watched
    assert world.once() == 0
    news.publish("Bay Business Daily", "s01-a3", as_id="syndicated")  # the very same text, on a watched feed
    assert world.once() == 0
    assert [message_title(m) for m in top_level(world)] == [CORPUS["s01-a3"]["title"]]


def test_a_near_copy_shows_what_it_copies_too(world: World, capsys: Any) -> None:
    news = Newsroom(world, ["FinanceBlog", "Pacific Wire", "Capital Times"])
    news.publish("FinanceBlog", "s01-a1")
    assert world.once() == 0
    news.publish("Pacific Wire", "s01-a3")
    assert world.once() == 0
    news.publish("Capital Times", "s01-a6")  # s01-a3 with a disclaimer and another headline
    assert world.once() == 0
    [story] = stories_json(world, capsys)
    _memo, agency, copy = story["articles"]
    assert copy["outcome"] == "copy" and copy["joined"]["reason"] == "near-copy"
    assert (copy["joined"]["copy_of"], copy["joined"]["copy_of_url"]) == (agency["id"], agency["url"])
    assert 0.4 <= copy["joined"]["similarity"] < 1
