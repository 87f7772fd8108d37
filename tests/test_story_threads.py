"""One story, one alert: later outlets reply in the alert's thread, end to end against the Slack fake.

Articles come from the labelled story corpus (tests/fixtures/stories), served as pages by the local web
server under feeds named after their outlets; `once` runs the real pipeline and the real slack-sdk
client talks to the fake, which rejects a thread_ts it never issued.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from monitor.stages.stories import STORY_THRESHOLD
from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago, message_title

CORPUS_FILE = Path(__file__).parent / "fixtures" / "stories" / "corpus.jsonl"
CORPUS = {row["id"]: row for row in map(json.loads, CORPUS_FILE.read_text(encoding="utf-8").splitlines())}
CHANNEL = "#news-alerts"  # registered in the Slack fake by the fixture


def article_page(article: dict[str, Any]) -> str:
    title = html.escape(article["title"])
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in article["text"].split("\n") if p.strip())
    return (
        f"<!doctype html><html><head><title>{title}</title></head>"
        f"<body><article><h1>{title}</h1>{paragraphs}</article></body></html>"
    )


class Newsroom:
    """Feeds of several outlets on the local web server; `publish` adds an article to one of them."""

    def __init__(self, world: World, outlets: list[str]):
        self.world = world
        self.items: dict[str, list[dict[str, Any]]] = {outlet: [] for outlet in outlets}
        for outlet in outlets:
            world.add_feed(self._feed_path(outlet), rss_feed(outlet, []), name=outlet)
        world.watchlists = [{"name": "alibaba", "channel": CHANNEL, "terms": ["Alibaba", "PLA", "Huawei"]}]

    def publish(
        self,
        outlet: str,
        article_id: str,
        *,
        as_id: str | None = None,
        title: str | None = None,
        article: dict[str, Any] | None = None,
    ) -> None:
        """Put corpus article `article_id` (or `article`) on `outlet`'s site and at the top of its feed
        (under `title`)."""
        article = article or CORPUS[article_id]
        article = {**article, "title": title or article["title"]}
        slug = as_id or article_id
        url = self.world.web.add(
            f"/{_slug(outlet)}/{slug}.html", article_page(article), content_type="text/html"
        )
        self.items[outlet].insert(
            0, {"title": article["title"], "link": url, "guid": f"{outlet}-{slug}", "pub_date": hours_ago(1)}
        )
        self.world.web.add(self._feed_path(outlet), rss_feed(outlet, self.items[outlet]),
                           content_type="application/rss+xml")  # fmt: skip

    @staticmethod
    def _feed_path(outlet: str) -> str:
        return f"/{_slug(outlet)}/rss.xml"


def _slug(outlet: str) -> str:
    return outlet.lower().replace(" ", "-")


def top_level(world: World) -> list[dict[str, Any]]:
    return [m for m in world.slack.messages(CHANNEL) if m["thread_ts"] is None]


def thread_replies(world: World, parent: dict[str, Any]) -> list[dict[str, Any]]:
    return world.slack.replies(CHANNEL, parent["ts"])


def outlets_line(message: dict[str, Any]) -> str:
    """The context line the alert gets once several outlets carry its story ('' when it has none)."""
    lines = [b["elements"][0]["text"] for b in message["blocks"] if b["type"] == "context"]
    return next((line for line in lines if "Carried by" in line), "")


def test_another_outlets_report_replies_in_the_thread_and_updates_the_alert(world: World) -> None:
    news = Newsroom(world, ["FinanceBlog", "Mint"])
    news.publish("FinanceBlog", "s01-a1")
    assert world.once() == 0
    [alert] = top_level(world)
    assert message_title(alert) == CORPUS["s01-a1"]["title"]
    assert outlets_line(alert) == ""

    news.publish("Mint", "s01-a2")  # Mint's own write-up of the same memo story
    assert world.once() == 0
    [alert] = top_level(world)  # still one top-level message
    [reply] = thread_replies(world, alert)
    assert reply["text"].startswith("Also reported by Mint: <http")
    assert html.escape(CORPUS["s01-a2"]["title"], quote=False) in reply["text"]
    assert not reply["reply_broadcast"]
    # chat.update rewrote the alert: same title, and now the outlets carrying the story.
    assert len(alert["history"]) == 2
    assert message_title(alert) == CORPUS["s01-a1"]["title"]
    assert "Carried by 2 outlets: FinanceBlog, Mint" in outlets_line(alert)


def test_one_reply_per_outlet_an_update_per_later_article_and_copies_post_nothing(world: World) -> None:
    news = Newsroom(world, ["FinanceBlog", "Mint", "Market Pulse"])
    news.publish("FinanceBlog", "s01-a1")
    assert world.once() == 0
    news.publish("Mint", "s01-a2")
    assert world.once() == 0
    news.publish("Mint", "s01-a3")  # another write-up of the story, by Mint: Mint is already in the thread
    assert world.once() == 0
    news.publish("Market Pulse", "s01-a6")  # a lightly edited copy of s01-a3
    assert world.once() == 0
    [alert] = top_level(world)
    replies = thread_replies(world, alert)
    assert [r["text"].split(":")[0] for r in replies] == ["Also reported by Mint", "Update from Mint"]
    # The copy posted nothing, but its outlet carries the story: the next update will count it.
    assert len(world.slack.messages(CHANNEL)) == 3


def test_a_different_story_about_the_same_company_gets_its_own_alert(world: World) -> None:
    news = Newsroom(world, ["FinanceBlog", "Capital Times"])
    news.publish("FinanceBlog", "s01-a1")  # the Alibaba-PLA memo
    news.publish("Capital Times", "s03-a1")  # Alibaba's quarterly results
    assert world.once() == 0
    titles = sorted(message_title(m) for m in top_level(world))
    assert titles == sorted([CORPUS["s01-a1"]["title"], CORPUS["s03-a1"]["title"]])
    assert all(not thread_replies(world, m) for m in top_level(world))


def test_broadcast_at_shows_the_reply_in_the_channel_when_the_story_reaches_n_outlets(world: World) -> None:
    world.settings["stories"] = {"broadcast_at": 3}
    outlets = ["FinanceBlog", "Mint", "Capital Times", "Dragon Wire"]
    news = Newsroom(world, outlets)
    for outlet, article_id in zip(outlets, ["s01-a1", "s01-a2", "s01-a3", "s01-a5"], strict=True):
        news.publish(outlet, article_id)  # four outlets' own write-ups of the memo story
        assert world.once() == 0
    [alert] = top_level(world)
    replies = thread_replies(world, alert)
    # Exactly the reply that made the story reach 3 outlets is shown in the channel too.
    assert [r["reply_broadcast"] for r in replies] == [False, True, False]
    assert "Carried by 4 outlets" in outlets_line(alert)


def test_a_reply_waits_for_its_alert_and_goes_in_its_thread(world: World) -> None:
    news = Newsroom(world, ["FinanceBlog", "Mint"])
    news.publish("FinanceBlog", "s01-a1")
    for method in ("chat.postMessage", "auth.test"):  # Slack is down: the alert waits until it answers
        world.slack.inject(method, "http_503_html", times=100)
    assert world.once() == 0
    assert world.slack.messages(CHANNEL) == []
    news.publish("Mint", "s01-a2")
    assert world.once() == 0
    assert world.slack.messages(CHANNEL) == []  # the reply has no thread to go in yet: it waits, unposted
    world.slack.clear_faults()  # Slack is back
    assert world.once() == 0
    [alert] = top_level(world)
    assert message_title(alert) == CORPUS["s01-a1"]["title"]
    [reply] = thread_replies(world, alert)
    assert reply["text"].startswith("Also reported by Mint")


def test_a_failed_update_is_retried_without_posting_the_reply_twice(world: World) -> None:
    news = Newsroom(world, ["FinanceBlog", "Mint"])
    news.publish("FinanceBlog", "s01-a1")
    assert world.once() == 0
    news.publish("Mint", "s01-a2")
    world.slack.inject("chat.update", "service_unavailable")
    world.slack.inject("auth.test", "service_unavailable", times=100)  # and stays down for this run
    assert world.once() == 0
    [alert] = top_level(world)
    assert len(thread_replies(world, alert)) == 1
    assert outlets_line(alert) == ""  # the update failed
    world.slack.clear_faults()  # Slack is back
    assert world.once() == 0
    [alert] = top_level(world)
    assert len(thread_replies(world, alert)) == 1
    assert "Carried by 2 outlets" in outlets_line(alert)


def test_a_reply_to_a_failed_alert_fails_with_it_and_retry_sends_both_in_order(world: World) -> None:
    news = Newsroom(world, ["FinanceBlog", "Mint"])
    news.publish("FinanceBlog", "s01-a1")
    world.slack.set_channel(CHANNEL, member=False)  # the bot is not in the channel: a permanent error
    assert world.once() == 0
    news.publish("Mint", "s01-a2")
    assert world.once() == 0
    assert world.slack.messages(CHANNEL) == []
    world.slack.set_channel(CHANNEL, member=True)  # the operator invites the bot, then runs `retry`
    assert world.run_cli("retry") == 0
    assert world.once() == 0
    [alert] = top_level(world)
    [reply] = thread_replies(world, alert)
    assert reply["text"].startswith("Also reported by Mint")


def test_stories_lists_the_articles_joined_and_why(world: World, capsys: Any) -> None:
    news = Newsroom(world, ["FinanceBlog", "Mint", "Market Pulse"])
    news.publish("FinanceBlog", "s01-a1")
    assert world.once() == 0
    news.publish("Mint", "s01-a2")
    news.publish("Market Pulse", "s03-a1")  # Alibaba's results: another story
    assert world.once() == 0
    capsys.readouterr()
    assert world.run_cli("stories", "--since", "1d", "--json") == 0
    stories = json.loads(capsys.readouterr().out)
    by_title = {s["title"]: s for s in stories}
    memo = by_title[CORPUS["s01-a1"]["title"]]
    assert memo["outlets"] == ["FinanceBlog", "Mint"]
    first, second = memo["articles"]
    assert first["joined"] is None
    assert second["joined"]["reason"] == "same event" and second["joined"]["like"] == first["id"]
    assert second["joined"]["score"] >= STORY_THRESHOLD and "alibaba" in second["joined"]["shared_names"]
    assert len(by_title[CORPUS["s03-a1"]["title"]]["articles"]) == 1
    assert world.run_cli("stories") == 0
    text = capsys.readouterr().out
    assert "STORY" in text and "2 outlets" in text and "joined: like #" in text


def test_a_reply_to_an_alert_slack_no_longer_has_fails_once_with_the_reason(world: World) -> None:
    news = Newsroom(world, ["FinanceBlog", "Mint"])
    news.publish("FinanceBlog", "s01-a1")
    assert world.once() == 0
    world.store.execute("UPDATE alerts SET ts = '1500000000.000001' WHERE kind = 'alert'")  # never issued
    news.publish("Mint", "s01-a2")
    assert world.once() == 0
    assert len(world.slack.messages(CHANNEL)) == 1  # the fake refused the reply: thread_not_found
    [(status, error)] = world.store.rows("SELECT status, error FROM alerts WHERE kind = 'reply'")
    assert status == "failed" and error.startswith(
        "thread_not_found (the story's alert is no longer in Slack"
    )


def test_backfill_after_an_edit_posts_a_story_once_with_the_other_outlet_in_its_thread(world: World) -> None:
    news = Newsroom(world, ["FinanceBlog", "Mint", "Market Pulse"])
    world.watchlists = [{"name": "chips", "channel": CHANNEL, "terms": ["Nvidia"]}]  # matches neither
    news.publish("FinanceBlog", "s01-a1")
    assert world.once() == 0
    news.publish("Mint", "s01-a2")
    news.publish("Market Pulse", "s01-a6")  # copies s01-a3, which is not stored here: a report of the event
    assert world.once() == 0
    assert world.slack.messages(CHANNEL) == []
    world.watchlists = [{"name": "alibaba", "channel": CHANNEL, "terms": ["Alibaba"]}]
    assert world.run_cli("backfill", "--since", "1d") == 0
    alerts = top_level(world)
    assert len(alerts) == 1 and message_title(alerts[0]) == CORPUS["s01-a1"]["title"]
    replies = thread_replies(world, alerts[0])
    assert sorted(r["text"].split(":")[0] for r in replies) == [
        "Also reported by Market Pulse",
        "Also reported by Mint",
    ]


def test_a_copy_alerts_where_its_original_did_not(world: World) -> None:
    news = Newsroom(world, ["Pacific Wire", "Bay Business Daily"])
    world.feeds[1]["tags"] = ["watched"]  # only the second outlet's feed is watched
    world.watchlists[0]["feeds"] = ["watched"]
    news.publish("Pacific Wire", "s01-a3")  # not matched: its feed is not watched
    assert world.once() == 0
    news.publish("Bay Business Daily", "s01-a4")  # a verbatim copy of s01-a3, on a watched feed
    assert world.once() == 0
    assert [message_title(m) for m in top_level(world)] == [CORPUS["s01-a4"]["title"]]


def test_a_story_first_printed_to_the_console_gets_its_alert_in_slack_later(world: World) -> None:
    news = Newsroom(world, ["FinanceBlog", "Mint"])
    news.publish("FinanceBlog", "s01-a1")
    token, world.token = world.token, None  # trying it out on the console first
    assert world.once() == 0
    world.token = token  # then Slack
    news.publish("Mint", "s01-a2")
    assert world.once() == 0
    [alert] = top_level(world)  # Slack never saw the story: Mint's report is its alert there
    assert message_title(alert) == CORPUS["s01-a2"]["title"]
    assert world.run_cli("status", "--json") == 0


def test_broadcast_goes_with_the_first_reply_at_or_past_n_outlets(world: World) -> None:
    world.settings["stories"] = {"broadcast_at": 3}
    outlets = ["FinanceBlog", "Pacific Wire", "Bay Business Daily", "Harbour Post", "Mint"]
    news = Newsroom(world, outlets)
    # The copy (s01-a4 copies s01-a3) brings the story to 3 outlets but posts nothing; the next reply
    # is the one shown in the channel, and only that one.
    for outlet, article_id in zip(outlets, ["s01-a1", "s01-a3", "s01-a4", "s01-a5", "s01-a2"], strict=True):
        news.publish(outlet, article_id)
        assert world.once() == 0
    [alert] = top_level(world)
    replies = thread_replies(world, alert)
    assert [r["text"].split(":")[0] for r in replies] == [
        "Also reported by Pacific Wire",
        "Also reported by Harbour Post",
        "Also reported by Mint",
    ]
    assert [r["reply_broadcast"] for r in replies] == [False, True, False]
    assert "Carried by 5 outlets" in outlets_line(alert)


def test_the_alert_update_asks_slack_not_to_parse_hostile_text(world: World) -> None:
    news = Newsroom(world, ["FinanceBlog", "Mint"])
    news.publish("FinanceBlog", "s01-a1")
    assert world.once() == 0
    news.publish("Mint", "s01-a2")
    assert world.once() == 0
    [update] = world.slack.requests("chat.update")
    assert update["body"]["parse"] == "none" and update["body"]["link_names"] in (False, "false", "0", 0)


def test_a_reply_shows_the_real_host_beside_a_title_that_claims_another_site(world: World) -> None:
    news = Newsroom(world, ["FinanceBlog", "Mint"])
    news.publish("FinanceBlog", "s01-a1")
    assert world.once() == 0
    claim = "https://www.reuters.com/markets/ " + CORPUS["s01-a2"]["title"]
    news.publish("Mint", "s01-a2", title=claim)
    assert world.once() == 0
    [alert] = top_level(world)
    [reply] = thread_replies(world, alert)
    label = html.escape(claim, quote=False)
    assert reply["text"].startswith("Also reported by Mint: <http://127.0.0.1:")
    assert reply["text"].endswith(f"|{label}> (127.0.0.1)")  # where the link really goes, beside the label
    assert reply["args"]["parse"] == "none"
