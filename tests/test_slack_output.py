"""Hostile feed text through every Slack message kind, end to end: `once` runs the real pipeline, the real
slack-sdk client posts to the Slack fake, and each request is checked as sent (tests/support/slack_checks.py).

The kinds: an alert, its thread reply ("Also reported by …"), the chat.update that adds "Carried by …",
the plain-text post when Slack refuses the blocks, a digest, and an admin notice.
"""

from __future__ import annotations

import asyncio
import html
import json
from pathlib import Path
from typing import Any

from monitor.delivery.notifiers.slack import SlackNotifier
from tests.support.feeds import rss_feed
from tests.support.slack_checks import BIDI_AND_ZERO_WIDTH, request_problems
from tests.support.slack_fake import SlackFake
from tests.support.world import World, hours_ago, message_title

CORPUS_FILE = Path(__file__).parent / "fixtures" / "stories" / "corpus.jsonl"
CORPUS = {row["id"]: row for row in map(json.loads, CORPUS_FILE.read_text(encoding="utf-8").splitlines())}
CHANNEL = "#news-alerts"
# A title that claims another site, would ping the channel, hides a bidi override (U+202E shows
# "moc.sretuer" as "reuters.com") and zero-width characters, and names a #channel and a bare domain.
LYING_TITLE = (
    "https://www.reuters.com/markets <!channel> \u202emoc.sretuer\u202c "
    "A\u200bli\u2066baba #general evil.example"
)


def article_page(title: str, text: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n") if p.strip())
    title = html.escape(title)
    body = f"<article><h1>{title}</h1>{paragraphs}</article>"
    return f"<html><head><title>{title}</title></head><body>{body}</body></html>"


def publish(
    world: World, feed_title: str, article_id: str, *, title: str | None = None, link_length: int = 0
) -> str:
    """One feed (no configured name: its own title names the outlet) carrying a corpus article; its link
    padded with a query string of `&`-separated parameters to `link_length` characters."""
    article = CORPUS[article_id]
    slug = article_id
    url = world.web.add(
        f"/{slug}/a.html", article_page(title or article["title"], article["text"]), content_type="text/html"
    )
    query = "?" + "&".join(f"p{n}=1" for n in range(link_length // 4))
    link = (url + query)[:link_length] if link_length else url
    item = {"title": title or article["title"], "link": link, "guid": slug, "pub_date": hours_ago(1)}
    world.add_feed(f"/{slug}/rss.xml", rss_feed(feed_title, [item]))
    return url


def all_requests(fake: SlackFake) -> list[dict[str, Any]]:
    return fake.requests("chat.postMessage") + fake.requests("chat.update")


def test_alert_reply_update_and_text_fallback_send_no_lies_and_no_parsing(world: World) -> None:
    world.watchlists = [{"name": "alibaba", "channel": CHANNEL, "terms": ["Alibaba", "PLA"]}]
    publish(world, "Finance\u202eBlog\u200b", "s01-a1", title=LYING_TITLE + " " + CORPUS["s01-a1"]["title"])
    world.slack.inject("chat.postMessage", "msg_blocks_too_long")  # the alert goes out as plain text...
    assert world.once() == 0
    publish(world, "Mint\u2067 \u200dDaily", "s01-a2", title=LYING_TITLE + " " + CORPUS["s01-a2"]["title"])
    assert world.once() == 0  # ...the reply goes in its thread, and chat.update adds "Carried by 2 outlets"
    sent = [(r["method"], "thread_ts" in r["body"], "blocks" in r["body"]) for r in all_requests(world.slack)]
    assert sorted(sent) == [
        ("chat.postMessage", False, False),  # the alert's plain text, after
        ("chat.postMessage", False, True),  # its blocks were refused
        ("chat.postMessage", True, False),  # the reply
        ("chat.update", False, True),  # the alert with "Carried by 2 outlets"
    ]
    [reply] = [m for m in world.slack.messages(CHANNEL) if m["thread_ts"]]
    assert "|https://www.reuters.com/markets &lt;!channel&gt; moc.sretuer" in reply["text"]
    assert "> (127.0.0.1)" in reply["text"]  # the real host, beside the label that claims another
    for request in all_requests(world.slack):
        assert request_problems(request, hosts={"127.0.0.1"}) == []


def test_the_plain_text_sent_when_slack_refuses_the_blocks_is_not_parsed_either(world: World) -> None:
    world.watchlists = [{"name": "alibaba", "channel": CHANNEL, "terms": ["Alibaba", "PLA"]}]
    publish(world, "Finance\u202eBlog", "s01-a1", title=LYING_TITLE)
    world.slack.inject("chat.postMessage", "msg_blocks_too_long")
    assert world.once() == 0
    refused, text_only = world.slack.requests("chat.postMessage")
    assert refused["response"]["error"] == "msg_blocks_too_long" and "blocks" not in text_only["body"]
    assert request_problems(text_only) == []
    [message] = world.slack.messages(CHANNEL)
    assert message["text"].startswith("https://www.reuters.com/markets &lt;!channel&gt; moc.sretuer Alibaba")


def test_a_two_thousand_character_link_full_of_ampersands_costs_the_link_not_the_title(world: World) -> None:
    world.watchlists = [{"name": "alibaba", "channel": CHANNEL, "terms": ["Alibaba", "PLA"]}]
    publish(world, "FinanceBlog", "s01-a1", link_length=2000)  # the longest link a feed item may have
    assert world.once() == 0
    [alert] = world.slack.messages(CHANNEL)
    [request] = world.slack.requests("chat.postMessage")
    assert request_problems(request, hosts={"127.0.0.1"}) == []
    assert message_title(alert).startswith(html.escape(CORPUS["s01-a1"]["title"], quote=False)[:60])
    assert alert["blocks"][0]["text"]["text"].endswith(" (127.0.0.1)")


def test_an_admin_notice_is_escaped_cleaned_and_not_parsed(slack_fake: SlackFake) -> None:
    error = "watchlists.yaml:3: feed <!channel> \u202eevil.example #general &amp;\nsecond line\x1b[2J"
    text = f"news-monitor kept its last valid configuration; this edit was refused:\n{error}"

    async def send() -> None:
        notifier = SlackNotifier(slack_fake.token, api_url=slack_fake.api_url, timeout=5)
        try:
            await notifier.send_notice("#news-alerts", text)
        finally:
            await notifier.close()

    asyncio.run(send())
    [request] = slack_fake.requests("chat.postMessage")
    assert request_problems(request) == []
    [notice] = slack_fake.messages("#news-alerts")
    assert notice["text"].endswith("feed &lt;!channel&gt; evil.example #general &amp;amp;\nsecond line [2J")
    assert not set(BIDI_AND_ZERO_WIDTH) & set(notice["text"])


def test_blank_symbols_cannot_push_the_real_host_out_of_view(world: World) -> None:
    # The review of issue 12: 180 Braille blanks (U+2800, a visible character that draws nothing) and a
    # fake host after them; Slack would show the blanks, then "(reuters.com)", the real host far away.
    world.watchlists = [{"name": "alibaba", "channel": CHANNEL, "terms": ["Alibaba", "PLA"]}]
    title = CORPUS["s01-a1"]["title"] + "\u2800" * 180 + "(reuters.com)"
    publish(world, "Finance\u2800\u2800\u2800Blog", "s01-a1", title=title)
    assert world.once() == 0
    [request] = world.slack.requests("chat.postMessage")
    assert request_problems(request, hosts={"127.0.0.1"}) == []
    [alert] = world.slack.messages(CHANNEL)
    assert "\u2800" not in json.dumps(alert, ensure_ascii=False)
    assert message_title(alert).endswith(" (reuters.com)")  # the title says what it says, blanks gone
