"""`news-monitor once` end to end: local feeds and pages over real HTTP, real SQLite, the Slack fake."""

from __future__ import annotations

import pytest

from tests.support.feeds import atom_feed, rss_feed
from tests.support.slack_fake import assert_no_mentions
from tests.support.world import PAGES as PAGES_DIR
from tests.support.world import World, hours_ago, message_title, page

MINT_TITLE = "Alibaba fires back at allegations of assisting Chinese Military"
BLOG_TITLE = "Alibaba denies report it helped the PLA target the US"
WIRE_TITLE = "Alibaba denies: a wire copy"


def serve_sample_news(world: World, *, wire_copy: bool = False, blog: bool = True) -> None:
    """Two feeds of the kind the product watches, with the noise real feeds carry.

    The blog's write-up is the same story as Mint's (one alert, the other outlet in its thread);
    `blog=False` leaves it out of the blog's feed. `wire_copy` adds a copy of the Mint page (same
    rel=canonical) at another URL to the blog's feed.
    """
    web = world.web
    mint = web.add(
        "/mint/alibaba.html", page("mint-alibaba-denies.html"), content_type="text/html; charset=utf-8"
    )
    blog_page = web.add(
        "/blog/alibaba-pla.html", page("financeblog-alibaba-pla.html"), content_type="text/html"
    )
    weather = web.add("/world/weather.html", page("weather-with-trending.html"), content_type="text/html")
    syndicated = web.add(
        "/wire/copy-of-mint.html", page("mint-alibaba-denies.html"), content_type="text/html"
    )
    world.add_feed(
        "/mint/rss.xml",
        rss_feed(
            "Mint Companies",
            [
                {
                    "title": MINT_TITLE,
                    "link": mint + "?utm_source=rss&utm_medium=feed",
                    "guid": "mint-1",
                    "pub_date": hours_ago(1),
                },
                {
                    "title": "Cold snap grips northern Europe",
                    "link": weather,
                    "guid": "mint-2",
                    "pub_date": hours_ago(2),
                },
                {
                    "title": "Alibaba results from last month",
                    "link": web.url("/mint/old.html"),
                    "guid": "mint-3",
                    "pub_date": hours_ago(24 * 10),
                },
                {
                    "title": "Chip unit expands",
                    "link": web.url("/mint/gone.html"),
                    "guid": "mint-4",
                    "description": "<p>Alibaba's chip unit <b>T-Head</b> will supply 72% of the chips.</p>",
                    "pub_date": hours_ago(3),
                },
            ],
        ),
        name="Mint",
    )
    world.web.add(
        "/blog/atom.xml",
        atom_feed(
            "Finance Blog",
            [
                *(
                    [
                        {
                            "title": BLOG_TITLE,
                            "link": blog_page,
                            "guid": "urn:blog:1",
                            "pub_date": hours_ago(0.5),
                        }
                    ]
                    if blog
                    else []
                ),
                *(
                    [
                        {
                            "title": WIRE_TITLE,
                            "link": syndicated,
                            "guid": "urn:blog:2",
                            "pub_date": hours_ago(0.4),
                        }
                    ]
                    if wire_copy
                    else []
                ),
            ],
        ),
        content_type="application/atom+xml",
    )
    world.feeds.append({"url": web.url("/blog/atom.xml")})


def test_once_posts_exactly_the_expected_alerts(world: World) -> None:
    serve_sample_news(world, wire_copy=True)
    assert world.once() == 0

    posted = world.titles_posted("#china-tech")
    # Mint's article, the blog's write-up and the blog's wire copy of Mint are one story, and both
    # feeds are read at once: whichever is recorded first alerts. The wire copy and Mint's page are the
    # same text (a duplicate); the other outlet, if it has its own write-up left, replies in the thread.
    memo_story = {MINT_TITLE, WIRE_TITLE, BLOG_TITLE}
    assert len(posted) == 2 and len(memo_story & set(posted)) == 1 and "Chip unit expands" in posted
    [alert] = [m for m in world.top_level("#china-tech") if message_title(m) in memo_story]
    replies = world.slack.replies("#china-tech", alert["ts"])
    assert len(replies) <= 1 and len(world.slack.messages("#china-tech")) == 2 + len(replies)
    assert world.slack.messages("#news-alerts") == []
    assert_no_mentions(world.slack)
    # An article too old for poll.max_age is never fetched.
    assert world.web.hits("/mint/old.html") == 0


def test_message_content(world: World) -> None:
    serve_sample_news(world, blog=False)
    world.once()
    [mint] = [m for m in world.slack.messages() if MINT_TITLE in m["blocks"][0]["text"]["text"]]
    title, source, summary, terms = (
        b.get("text", {}).get("text") or b["elements"][0]["text"] for b in mint["blocks"]
    )
    assert "/companies/news/alibaba-fires-back" in title  # links the canonical URL, tracking parameters gone
    assert "utm_source" not in title
    assert source.startswith("Mint · ")
    assert "*Alibaba*" in terms and "*PLA*" in terms and "alibaba-military" in terms  # as written, in bold
    assert summary.startswith("*Alibaba* refuted claims of assisting the Chinese military")  # the standfirst
    for noise in ("Advertisement", "Also Read", "Written By", "Read Next"):
        assert noise not in summary
    assert mint["text"] and "Alibaba" in mint["text"]  # plain-text fallback
    assert mint["unfurl_links"] is False and mint["unfurl_media"] is False


def test_a_copy_under_the_same_canonical_url_alerts_once(world: World) -> None:
    serve_sample_news(world, blog=False)
    world.once()
    assert MINT_TITLE in world.titles_posted()
    world.feeds.clear()
    serve_sample_news(world, wire_copy=True, blog=False)
    world.once()
    assert WIRE_TITLE not in world.titles_posted() and len(world.slack.messages()) == 2
    assert world.web.hits("/wire/copy-of-mint.html") == 1  # read once, recognised by its rel=canonical


def test_feed_summary_is_the_fallback_when_the_page_fails(world: World) -> None:
    serve_sample_news(world)
    world.once()
    [fallback] = [m for m in world.top_level() if "Chip unit expands" in m["blocks"][0]["text"]["text"]]
    assert "*T-Head* will supply 72% of the chips." in fallback["blocks"][2]["text"]["text"]
    assert world.web.hits("/mint/gone.html") == 1


def test_a_second_run_posts_nothing_and_uses_conditional_requests(world: World) -> None:
    serve_sample_news(world)
    world.once()
    first = len(world.slack.messages())
    world.web.clear_requests()
    assert world.once() == 0
    assert len(world.slack.messages()) == first
    [feed_request] = world.web.requests("/mint/rss.xml")
    assert feed_request["headers"].get("if-none-match")
    assert world.web.hits("/mint/alibaba.html") == 0


def test_only_the_new_item_is_posted_after_a_feed_changes(world: World) -> None:
    serve_sample_news(world)
    world.once()
    before = len(world.titles_posted())
    new_page = world.web.add(
        "/mint/new.html",
        "<html><body><article>"
        + "<p>Regulators asked Alibaba about its cloud contracts with state customers this week.</p>" * 5
        + "</article></body></html>",
        content_type="text/html",
    )
    world.web.add(
        "/mint/rss.xml",
        rss_feed(
            "Mint Companies",
            [
                {
                    "title": "Regulators question Alibaba",
                    "link": new_page,
                    "guid": "mint-5",
                    "pub_date": hours_ago(0.1),
                }
            ],
        ),
        content_type="application/rss+xml",
    )
    world.once()
    assert world.titles_posted()[before:] == ["Regulators question Alibaba"]


def test_sidebar_and_navigation_never_match(world: World) -> None:
    serve_sample_news(world)
    world.once()
    assert "Cold snap grips northern Europe" not in world.titles_posted()
    assert world.web.hits("/world/weather.html") == 1  # fetched and read, just not matched


def test_broken_feeds_do_not_stop_the_others(world: World, caplog: pytest.LogCaptureFixture) -> None:
    serve_sample_news(world)
    world.add_feed("/broken.xml", "<html><body><p>Sorry, this page moved.</p></body></html>")
    world.add_feed(
        "/malformed.xml", rss_feed("M", [{"title": "Weather", "link": "/w", "pub_date": hours_ago(1)}])[:-20]
    )
    world.feeds.append({"url": world.web.url("/missing.xml")})
    world.web.slow_drip("/slow.xml", rss_feed("Slow", []) * 50, bytes_per_second=200)
    world.feeds.append({"url": world.web.url("/slow.xml")})
    world.settings["fetch"] = {"timeout": "2s"}
    assert world.once() == 0
    assert len(world.titles_posted()) == 2  # the memo story (the other outlet replies) and the chip news
    failures = [r.getMessage() for r in caplog.records if r.getMessage().startswith("feed.failed")]
    # An HTML page where a feed was expected (whatever its Content-Type): says so, and what to run.
    assert any(
        "/broken.xml" in line and "sent a web page" in line and "news-monitor feeds discover" in line
        for line in failures
    )
    malformed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("feed.malformed")]
    assert any("/malformed.xml" in line for line in malformed)
    assert any("/missing.xml" in line and "HTTP 404" in line for line in failures)
    assert any("/slow.xml" in line and "timed out after 2s" in line for line in failures)


def test_undated_items_on_a_first_poll_are_recorded_without_alerting(world: World) -> None:
    body = (
        "<html><body><article>"
        + "<p>Alibaba opened a new data centre in Hangzhou for cloud customers today.</p>" * 4
    )
    first = world.web.add("/undated/1.html", body + "</article></body></html>", content_type="text/html")
    world.add_feed(
        "/undated.xml", rss_feed("Undated", [{"title": "Alibaba data centre", "link": first, "guid": "u1"}])
    )
    world.once()
    assert world.slack.messages() == []
    assert world.web.hits("/undated/1.html") == 0
    second = world.web.add(
        "/undated/2.html",
        body.replace("Hangzhou", "Ulanqab") + "</article></body></html>",
        content_type="text/html",
    )
    items = [
        {"title": "Alibaba data centre", "link": first, "guid": "u1"},
        {"title": "Alibaba second site", "link": second, "guid": "u2"},
    ]
    world.web.add("/undated.xml", rss_feed("Undated", items), content_type="application/rss+xml")
    world.once()
    assert world.titles_posted() == ["Alibaba second site"]


def test_same_text_at_two_urls_alerts_once(world: World) -> None:
    body = (
        "<html><body><article>"
        + "".join(
            f"<p>Alibaba's cloud unit signed contract number {i} with a provincial government on Monday.</p>"
            for i in range(6)
        )
        + "</article></body></html>"
    )
    a = world.web.add("/a/story.html", body, content_type="text/html")
    b = world.web.add(
        "/b/reprint.html",
        body.replace("<article>", "<article><p>Advertisement</p>"),
        content_type="text/html",
    )
    world.add_feed(
        "/a.xml",
        rss_feed("A", [{"title": "Alibaba contracts", "link": a, "guid": "a1", "pub_date": hours_ago(1)}]),
    )
    world.add_feed(
        "/b.xml",
        rss_feed(
            "B", [{"title": "Alibaba contracts (reprint)", "link": b, "guid": "b1", "pub_date": hours_ago(1)}]
        ),
    )
    world.once()
    assert len(world.slack.messages()) == 1


def test_watchlists_routed_to_one_channel_share_one_message(world: World) -> None:
    serve_sample_news(world)
    world.watchlists.append({"name": "china-chips", "channel": "#china-tech", "terms": ["T-Head"]})
    world.watchlists.append({"name": "everything-alibaba", "terms": ["Alibaba"]})  # default channel
    world.once()
    [chip] = [
        m for m in world.top_level("#china-tech") if "Chip unit expands" in m["blocks"][0]["text"]["text"]
    ]
    assert "alibaba-military, china-chips" in chip["blocks"][3]["elements"][0]["text"]
    # In each channel: the memo story's alert, the other outlet's reply in its thread, the chip news.
    for channel in ("#china-tech", "#news-alerts"):
        assert len(world.top_level(channel)) == 2 and len(world.slack.messages(channel)) == 3


def test_hostile_titles_ping_nobody(world: World) -> None:
    body = (
        "<html><body><article>"
        + "<p>Alibaba shares moved after the memo was published by the newspaper.</p>" * 4
        + "</article></body></html>"
    )
    link = world.web.add("/evil.html", body, content_type="text/html")
    title = "Alibaba <!channel> <@U0ADMIN> <https://phish.example|https://www.ft.com>"
    world.add_feed(
        "/evil.xml",
        rss_feed("Evil & Co", [{"title": title, "link": link, "guid": "e1", "pub_date": hours_ago(1)}]),
    )
    world.once()
    [message] = world.slack.messages()
    assert_no_mentions(world.slack)
    assert "&lt;!channel&gt;" in message["blocks"][0]["text"]["text"]
    assert "<https://phish.example" not in str(message)


def test_without_a_token_alerts_are_printed(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    serve_sample_news(world, blog=False)
    world.token = None
    assert world.once() == 0
    out = capsys.readouterr().out
    assert f"[#china-tech] {MINT_TITLE}" in out
    assert "matched: Alibaba, People's Liberation Army, PLA (watchlist alibaba-military)" in out
    assert world.slack.requests() == []


def test_links_to_private_addresses_are_not_fetched_by_default(world: World) -> None:
    serve_sample_news(world)
    world.settings["fetch"] = {"allow_private_addresses": False}
    world.once()
    # Feed URLs are the operator's and are fetched; article links on 127.0.0.1 are refused...
    assert world.web.hits("/mint/rss.xml") == 1
    assert world.web.hits("/mint/alibaba.html") == 0
    # ...and the feed's own text is used instead, so a matching item still alerts.
    assert MINT_TITLE in world.titles_posted()


def test_slack_errors_keep_the_alert_in_the_outbox(world: World) -> None:
    serve_sample_news(world)
    for method in ("chat.postMessage", "auth.test"):
        world.slack.inject(method, "http_503_html", times=1000)
    world.once()
    assert world.slack.messages() == []
    # One post found Slack down; the others were not tried, and auth.test asked whether it was back.
    assert len(world.slack.requests("chat.postMessage")) == 1
    assert world.slack.requests("auth.test")
    world.slack.reset()  # Slack is back
    world.once()  # the next run sends them all, whatever the backoff of the one that was tried
    assert len(world.slack.messages()) == 3


def test_identical_paywall_teasers_do_not_merge_different_stories(world: World) -> None:
    wall = (
        "Subscribe to continue reading this article about Alibaba and get unlimited access to our "
        "journalism. Already a subscriber? Sign in to read the full story and our daily newsletters."
    )
    # Every story's page is the same teaser, with a lazy rel=canonical pointing at the home page.
    head = "<head><link rel='canonical' href='/'></head>"
    teaser = f"<html>{head}<body><article><p>{wall}</p></article></body></html>"
    items = []
    for number in range(3):
        link = world.web.add(f"/ft/story-{number}.html", teaser, content_type="text/html")
        summary = (
            f"<p>Alibaba story number {number}: "
            + " ".join(f"detail{number}-{i}" for i in range(40))
            + ".</p>"
        )
        items.append({"title": f"Alibaba story {number}", "link": link, "guid": f"ft-{number}",
                      "description": summary, "pub_date": hours_ago(1)})  # fmt: skip
    world.add_feed("/ft.xml", rss_feed("FT", items))
    world.once()
    assert sorted(world.titles_posted()) == ["Alibaba story 0", "Alibaba story 1", "Alibaba story 2"]


def test_once_exits_1_when_no_feed_could_be_read(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.feeds.append({"url": world.web.url("/missing.xml")})
    world.feeds.append({"url": "http://127.0.0.1:9/feed.xml"})
    assert world.once() == 1
    assert "2 of 2 feeds failed" in capsys.readouterr().err
    serve_sample_news(world)
    assert world.once() == 0  # some feeds failing is a normal day


def test_a_syndicated_copy_with_other_boilerplate_alerts_once(world: World) -> None:
    serve_sample_news(world)
    world.once()
    before = len(world.slack.messages())
    # Another outlet republishes the Mint story's text with its own furniture, under its own URL and
    # canonical, and a different headline: not the same URL or fingerprint, but the same text.
    body = (PAGES_DIR / "mint-alibaba-denies.expected.txt").read_text(encoding="utf-8")
    html = (
        "<html><body><article><p>Also Read | Markets today</p>"
        + "".join(f"<p>{line}</p>" for line in body.splitlines() if line.strip())
        + "<p>(With inputs from AFP)</p><p>Source link</p></article></body></html>"
    )
    link = world.web.add("/aggregator/copy.html", html, content_type="text/html")
    items = [
        {
            "title": "Alibaba says memo claims are false",
            "link": link,
            "guid": "agg-1",
            "pub_date": hours_ago(0.2),
        }
    ]
    world.add_feed("/aggregator.xml", rss_feed("Aggregator", items))
    world.once()
    assert world.web.hits("/aggregator/copy.html") == 1  # read, then recognised as a copy
    assert len(world.slack.messages()) == before
