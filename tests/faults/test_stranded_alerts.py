"""Stranded alerts: an alert that failed in a misspelled channel goes where its watchlists route once fixed.

The whole story, end to end through the CLI against the Slack fake: a watchlist's `channel:` is
misspelled, its alert fails with channel_not_found; the operator fixes the file; the alert is then
delivered once, in the right channel (under `run`, by live reload; with `retry`), joining what its story
already has there. `preview` and `backfill` count an alert that never reached anyone as not alerted.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest

from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago, message_title
from tests.test_story_threads import CORPUS, Newsroom, thread_replies

TYPO, RIGHT = "#chna-tech", "#china-tech"  # the fake knows #china-tech (and #news-alerts), not the typo
TITLE = "Alibaba opens a chip design centre"
PAGE = (
    "<html><body><article>"
    + "<p>Alibaba said on Monday that it opened a chip design centre in Hangzhou for its cloud unit.</p>" * 4
    + "</article></body></html>"
)
# A process given this long to do what takes it a few seconds: a bound for a hung process, not a speed.
EVENTUALLY_SECONDS = 60


def add_story(world: World) -> None:
    link = world.web.add("/alibaba.html", PAGE, content_type="text/html")
    item = {"title": TITLE, "link": link, "guid": "alibaba-1", "pub_date": hours_ago(1)}
    world.add_feed("/feed.xml", rss_feed("Desk", [item]), name="Desk")


def posts_to(world: World, channel: str) -> int:
    """chat.postMessage requests the fake received for `channel` (by name, as the bot sends it)."""
    return sum(r["body"]["channel"] == channel for r in world.slack.requests("chat.postMessage"))


def watch(world: World, channel: str) -> None:
    world.watchlists = [{"name": "alibaba", "channel": channel, "terms": ["Alibaba"]}]


def wait_until(condition: Callable[[], bool], service: subprocess.Popen[str]) -> bool:
    deadline = time.monotonic() + EVENTUALLY_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return True
        if service.poll() is not None:
            _, err = service.communicate()
            pytest.fail(f"the service exited early ({service.returncode}): {err[-4000:]}")
        time.sleep(0.1)
    return condition()


@pytest.fixture
def service(world: World) -> Iterator[Callable[[], subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start() -> subprocess.Popen[str]:
        started.append(world.spawn("run"))
        return started[-1]

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_run_sends_the_alert_to_the_fixed_channel_after_a_live_edit(
    world: World, service: Callable[[], subprocess.Popen[str]]
) -> None:
    add_story(world)
    watch(world, TYPO)
    running = service()
    assert wait_until(lambda: posts_to(world, TYPO) == 1, running), "the misspelled channel was never tried"

    watch(world, RIGHT)  # the operator fixes the channel in watchlists.yaml; `run` reloads it
    world.write_config()
    assert wait_until(lambda: len(world.slack.messages(RIGHT)) == 1, running)
    running.terminate()
    _, err = running.communicate(timeout=30)

    assert [message_title(m) for m in world.slack.messages(RIGHT)] == [TITLE], err[-4000:]
    assert posts_to(world, TYPO) == 1  # never sent to the misspelled channel again
    assert "outbox.requeued" in err and "alert.rerouted" in err


def test_retry_sends_the_alert_to_the_fixed_channel(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    add_story(world)
    watch(world, TYPO)
    assert world.once() == 0
    assert world.slack.messages() == [] and posts_to(world, TYPO) == 1

    watch(world, RIGHT)
    capsys.readouterr()
    assert world.run_cli("retry") == 0
    assert "1 failed alert(s) queued again; 1 sent, 0 failed again" in capsys.readouterr().out
    assert [message_title(m) for m in world.slack.messages(RIGHT)] == [TITLE]
    assert posts_to(world, TYPO) == 1

    assert world.run_cli("retry") == 0  # nothing is left to send: nothing is sent twice
    assert world.once() == 0
    assert len(world.slack.messages()) == 1


def test_a_story_already_in_the_fixed_channel_takes_the_alert_as_a_reply_in_its_thread(world: World) -> None:
    news = Newsroom(world, ["FinanceBlog", "Mint"])
    world.feeds[0]["tags"], world.feeds[1]["tags"] = ["finance"], ["mint"]
    desk = {"terms": ["Alibaba", "PLA", "Huawei"]}
    world.watchlists = [
        {"name": "finance", "channel": "#news-alerts", "feeds": ["finance"], **desk},
        {"name": "mint", "channel": "#news-alrets", "feeds": ["mint"], **desk},  # misspelled
    ]
    news.publish("FinanceBlog", "s01-a1")
    assert world.once() == 0
    news.publish("Mint", "s01-a2")  # the same story: its alert goes to the misspelled channel, and fails
    assert world.once() == 0
    [alert] = world.top_level("#news-alerts")
    assert thread_replies(world, alert) == []

    world.watchlists[1]["channel"] = "#news-alerts"
    assert world.run_cli("retry") == 0
    [alert] = world.top_level("#news-alerts")  # still one message for the story...
    assert message_title(alert) == CORPUS["s01-a1"]["title"]
    [reply] = thread_replies(world, alert)  # ...and Mint's report in its thread
    assert reply["text"].startswith("Also reported by Mint")


def test_an_alert_whose_watchlists_now_route_apart_goes_to_each_channel_once(world: World) -> None:
    add_story(world)
    world.watchlists = [
        {"name": "alibaba", "channel": TYPO, "terms": ["Alibaba"]},
        {"name": "chips", "channel": TYPO, "terms": ["chip"]},
    ]
    assert world.once() == 0  # one alert naming both watchlists, in the misspelled channel
    world.watchlists[0]["channel"], world.watchlists[1]["channel"] = RIGHT, "#news-alerts"
    assert world.run_cli("retry") == 0
    assert [message_title(m) for m in world.slack.messages(RIGHT)] == [TITLE]
    assert [message_title(m) for m in world.slack.messages("#news-alerts")] == [TITLE]
    assert world.once() == 0
    assert len(world.slack.messages()) == 2


def test_an_alert_whose_watchlist_is_gone_is_dropped_and_the_log_says_why(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    add_story(world)
    watch(world, TYPO)
    assert world.once() == 0
    world.watchlists = [{"name": "huawei", "channel": RIGHT, "terms": ["Huawei"]}]  # alibaba removed
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="monitor"):
        assert world.run_cli("retry") == 0
    assert world.slack.messages() == [] and posts_to(world, TYPO) == 1
    dropped = [r.getMessage() for r in caplog.records if "alert.dropped" in r.getMessage()]
    assert len(dropped) == 1 and "alibaba are no longer in the configuration" in dropped[0]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="monitor"):
        assert world.run_cli("retry") == 0  # dropped for good: not tried, not logged again
    assert not [r for r in caplog.records if "alert.dropped" in r.getMessage()]


def test_preview_and_backfill_count_a_never_delivered_alert_as_not_alerted(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    add_story(world)
    watch(world, TYPO)
    assert world.once() == 0
    watch(world, RIGHT)  # fixed in the file, but no `run` is there to requeue it

    capsys.readouterr()
    assert world.run_cli("preview", "--json") == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["title"], row["verdict"]) == (TITLE, "new")

    assert world.run_cli("backfill", "--since", "1d") == 0
    assert "1 article(s) queued and sent" in capsys.readouterr().out
    assert [message_title(m) for m in world.slack.messages(RIGHT)] == [TITLE]
    assert world.run_cli("preview", "--json") == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["verdict"] == "alerted"
    assert world.run_cli("backfill", "--since", "1d") == 0
    assert world.once() == 0
    assert len(world.slack.messages()) == 1 and posts_to(world, TYPO) == 1
