"""The buttons on alerts, end to end (issue 17 §1, §2): `news-monitor run` as a real process, the real
slack-sdk Socket Mode client talking to the local Socket Mode fake, presses built from the buttons the
alert really carried in the Slack fake, and what each press does to later articles.

Articles come from the labelled story corpus (tests/fixtures/stories) through Newsroom's feeds, polled
every 2 s; every wait is for a condition (an ack, a message, an article's outcome), never a time.
"""

from __future__ import annotations

import json
import signal
import subprocess
from typing import Any

import pytest

from tests.support.feeds import rss_feed
from tests.support.socket_mode_fake import SocketModeFake
from tests.support.world import World, hours_ago
from tests.test_run import wait_for
from tests.test_story_threads import CHANNEL, Newsroom, thread_replies, top_level

BUTTONS = [
    "news_monitor.relevant",
    "news_monitor.not_relevant",
    "news_monitor.mute_story",
    "news_monitor.mute_outlet",
]
pytestmark = pytest.mark.timeout(120)


def newsroom(world: World, outlets: list[str]) -> Newsroom:
    news = Newsroom(world, outlets)
    for feed in world.feeds:
        feed["interval"] = "2s"
    return news


def buttons(message: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def marks(world: World, alert: dict[str, Any]) -> str:
    """The line of what was done with the alert's buttons, as the alert shows it now ('' when none)."""
    [now] = [m for m in world.slack.messages(CHANNEL) if m["ts"] == alert["ts"]]
    lines = [b["elements"][0]["text"] for b in now["blocks"] if b["type"] == "context"]
    return next((line for line in lines if " by " in line), "")


def updates(world: World, alert: dict[str, Any]) -> int:
    [now] = [m for m in world.slack.messages(CHANNEL) if m["ts"] == alert["ts"]]
    return len(now["history"]) - 1


def outcome(world: World, corpus_id: str) -> str | None:
    rows = world.store.rows("SELECT url, outcome FROM articles")
    return next((row.outcome for row in rows if f"/{corpus_id}.html" in row.url), None)


def stop(service: subprocess.Popen[str]) -> str:
    if service.poll() is None:
        service.send_signal(signal.SIGTERM)
    try:
        _, stderr = service.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        service.kill()
        _, stderr = service.communicate()
    assert service.returncode == 0, stderr
    return stderr


def test_judgements_replays_forgeries_a_dropped_socket_and_mute_story(
    world: World, sockets: SocketModeFake
) -> None:
    news = newsroom(world, ["FinanceBlog", "Mint"])
    news.publish("FinanceBlog", "s01-a1")
    service = world.spawn("run")
    try:
        wait_for(lambda: len(top_level(world)) == 1, 30, service)
        [alert] = top_level(world)
        assert buttons(alert) == BUTTONS
        assert sockets.wait_for_connections(1)

        relevant = sockets.press(alert, "news_monitor.relevant", user="U0AAA1")
        assert sockets.wait_for_ack(relevant)
        wait_for(lambda: marks(world, alert) == "Marked relevant by <@U0AAA1>", 30, service)
        sockets.replay(relevant)  # Slack retries the envelope: acked again, changes nothing
        assert sockets.wait_for_acks(relevant, 2)
        not_relevant = sockets.press(alert, "news_monitor.not_relevant", user="U0BBB2")
        assert sockets.wait_for_ack(not_relevant)
        wait_for(lambda: "Marked not relevant by <@U0BBB2>" in marks(world, alert), 30, service)

        forged = sockets.press(alert, "news_monitor.mute_story", user="U0CCC3", value="999999")
        assert sockets.wait_for_ack(forged)  # acked, and ignored (the log says so; nothing is stored)

        sockets.drop()  # Slack refreshes the connection: the client opens a new one
        assert sockets.wait_for_connections(2)
        muted = sockets.press(alert, "news_monitor.mute_story", user="U0AAA1")
        assert sockets.wait_for_ack(muted)
        wait_for(lambda: "Story muted by <@U0AAA1>" in marks(world, alert), 30, service)
        rewrites = updates(world, alert)

        news.publish("Mint", "s01-a2")  # another outlet's report of the muted story
        wait_for(lambda: outcome(world, "s01-a2") == "muted", 30, service)
    finally:
        stderr = stop(service)
    assert thread_replies(world, alert) == []  # no reply ...
    assert updates(world, alert) == rewrites == 3  # ... no parent update; one rewrite per recorded press
    assert marks(world, alert) == (
        "Marked relevant by <@U0AAA1> · Marked not relevant by <@U0BBB2> · Story muted by <@U0AAA1>"
    )
    rows = world.store.rows(
        "SELECT action, user_id, watchlist, channel, message_ts FROM interactions ORDER BY id"
    )
    assert [tuple(row) for row in rows] == [
        ("relevant", "U0AAA1", "alibaba", CHANNEL, alert["ts"]),
        ("not_relevant", "U0BBB2", "alibaba", CHANNEL, alert["ts"]),
        ("mute_story", "U0AAA1", "alibaba", CHANNEL, alert["ts"]),
    ]
    assert "interaction.repeated" in stderr
    assert "interaction.unknown_alert value=999999" in stderr
    assert len(world.slack.requests("apps.connections.open")) >= 2
    assert all(request["headers"]["authorization"] == f"Bearer {world.slack.app_token}"
               for request in world.slack.requests("apps.connections.open"))  # fmt: skip


def test_stories_shows_the_muted_article(
    world: World, sockets: SocketModeFake, capsys: pytest.CaptureFixture[str]
) -> None:
    news = newsroom(world, ["FinanceBlog", "Mint"])
    news.publish("FinanceBlog", "s01-a1")
    service = world.spawn("run")
    try:
        wait_for(lambda: len(top_level(world)) == 1, 30, service)
        [alert] = top_level(world)
        assert sockets.wait_for_connections(1)
        assert sockets.wait_for_ack(sockets.press(alert, "news_monitor.mute_story", user="U0AAA1"))
        wait_for(lambda: world.store.rows("SELECT story_id FROM story_mutes") != [], 30, service)
        news.publish("Mint", "s01-a2")
        wait_for(lambda: outcome(world, "s01-a2") == "muted", 30, service)
    finally:
        stop(service)
    capsys.readouterr()
    assert world.run_cli("stories", "--json") == 0
    [story] = json.loads(capsys.readouterr().out)
    assert [a["outcome"] for a in story["articles"]] == ["alerted", "muted"]


def test_mute_outlet_stops_its_alerts_for_the_watchlist_until_unmuted(
    world: World, sockets: SocketModeFake, capsys: pytest.CaptureFixture[str]
) -> None:
    news = newsroom(world, ["Mint"])
    news.publish("Mint", "s01-a1")
    service = world.spawn("run")
    try:
        wait_for(lambda: len(top_level(world)) == 1, 30, service)
        [alert] = top_level(world)
        mute = [e for b in alert["blocks"] if b["type"] == "actions" for e in b["elements"]][3]
        assert (
            mute["text"]["text"] == "Mute Mint for alibaba" and mute["confirm"]["confirm"]["text"] == "Mute"
        )
        assert sockets.wait_for_connections(1)
        assert sockets.wait_for_ack(sockets.press(alert, "news_monitor.mute_outlet", user="U0AAA1"))
        wait_for(lambda: marks(world, alert) == "Mint muted for alibaba by <@U0AAA1>", 30, service)
        news.publish("Mint", "s03-a1")  # another story, from the muted outlet
        wait_for(lambda: outcome(world, "s03-a1") is not None, 30, service)
        assert len(top_level(world)) == 1
    finally:
        stop(service)
    assert outcome(world, "s03-a1") == "no_match"

    # Stored: `watch list` shows it after the service stopped, and `watch unmute` undoes it.
    capsys.readouterr()
    assert world.run_cli("watch", "list") == 0
    assert "muted outlets:\n  alibaba  Mint  (by U0AAA1" in capsys.readouterr().out
    assert world.run_cli("watch", "unmute", "alibaba", "Mint") == 0
    assert world.run_cli("watch", "unmute", "alibaba", "Mint") == 2  # nothing left to unmute: it says so
    assert "Mint is not muted for alibaba" in capsys.readouterr().err

    news.publish("Mint", "s04-a1")
    assert world.once() == 0
    assert len(top_level(world)) == 2  # Mint alerts for alibaba again


def test_an_ack_is_sent_while_a_poll_is_in_flight(world: World, sockets: SocketModeFake) -> None:
    news = newsroom(world, ["Mint"])
    world.settings = {"fetch": {"timeout": "60s"}}  # the held feed must not time out while it is held
    news.publish("Mint", "s01-a1")
    service = world.spawn("run")
    try:
        wait_for(lambda: len(top_level(world)) == 1, 30, service)
        [alert] = top_level(world)
        assert sockets.wait_for_connections(1)
        item = {
            "title": "Huawei ships",
            "link": world.web.url("/held.html"),
            "guid": "held",
            "pub_date": hours_ago(1),
        }
        released = world.web.gate("/mint/rss.xml", rss_feed("Mint", [item]), "application/rss+xml")
        hits = world.web.hits("/mint/rss.xml")
        wait_for(lambda: world.web.hits("/mint/rss.xml") > hits, 30, service)  # a poll is now held open
        sockets.note("poll held")
        envelope = sockets.press(alert, "news_monitor.relevant", user="U0AAA1")
        assert sockets.wait_for_ack(envelope)
        sockets.note("poll released")
        released.set()
        wait_for(lambda: world.web.hits("/held.html") > 0, 30, service)  # the held poll went on
    finally:
        stop(service)
    order = [e for e in sockets.events if e in ("poll held", f"ack:{envelope}", "poll released")]
    assert order == ["poll held", f"ack:{envelope}", "poll released"]


def test_no_buttons_without_the_app_token_nor_from_once(world: World) -> None:
    news = newsroom(world, ["Mint"])
    news.publish("Mint", "s01-a1")
    service = world.spawn("run")  # no app token
    try:
        wait_for(lambda: len(top_level(world)) == 1, 30, service)
    finally:
        stderr = stop(service)
    assert buttons(top_level(world)[0]) == []
    assert "slack.buttons_off" in stderr and "NEWS_MONITOR_TEST_APP_TOKEN is not set" in stderr
    assert world.slack.requests("apps.connections.open") == []
    # `once` with the token: nothing listens for a press, so no buttons either.
    world.app_token = world.slack.app_token
    news.publish("Mint", "s03-a1")
    assert world.once() == 0
    assert [buttons(m) for m in top_level(world)] == [[], []]
