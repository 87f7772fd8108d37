"""Recovery after a Slack outage: one condition of Slack, probed cheaply, not a backoff per alert.

End to end through the CLI against the Slack fake: while Slack fails (refused connections, 5xx), the
outbox posts nothing more after the first failure and asks auth.test until Slack answers; then every
alert that waited goes out, whatever backoff it had; `once` tries every pending alert that is not held
by Slack's Retry-After; what is pending, and why, is there for the `once` and `run` summaries.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.delivery.slack_health import PendingSummary
from monitor.pipeline.feed_cycle import Pipeline
from monitor.service.assembly import with_pipeline
from tests.faults.test_crash_recovery import (
    Service,
    all_delivered,
    build_newsroom,
    delivery_problems,
    wait_until,
)
from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago

# Generous bounds for a process doing what takes it seconds (measured: Slack's return is noticed by the
# next probe, 5-30 s after the last, and everything is sent within a second of it).
EVENTUALLY_SECONDS = 120
OUTAGE_FAULTS = ("http_503_html", "drop_connection")


def slack_goes_down(world: World) -> None:
    """Every chat.postMessage and auth.test fails, in more than one way, until `clear_faults`/`reset`."""
    for method in ("chat.postMessage", "auth.test"):
        for _ in range(100):
            for kind in OUTAGE_FAULTS:
                world.slack.inject(method, kind, times=2)


def add_news(world: World, count: int) -> list[str]:
    """`count` articles, each matching the world's watchlist (#china-tech)."""
    items, titles = [], []
    for number in range(count):
        title = f"Alibaba story {number}"
        page = f"<p>{title}: Alibaba opened office {number} this week.</p>" * 3
        page = f"<html><body><article>{page}</article></body></html>"
        link = world.web.add(f"/story-{number}.html", page, content_type="text/html")
        items.append({"title": title, "link": link, "guid": f"s{number}", "pub_date": hours_ago(1)})
        titles.append(title)
    world.add_feed("/feed.xml", rss_feed("Desk", items), name="Desk")
    world.watchlists = [{"name": "alibaba", "channel": "#china-tech", "terms": ["Alibaba"]}]
    return titles


def summary(world: World) -> PendingSummary:
    """What the `once` and `run` summaries say is pending (Outbox.pending_summary), read from the store."""

    async def read(pipeline: Pipeline) -> PendingSummary:
        return pipeline.outbox.pending_summary()

    return asyncio.run(with_pipeline(load_config(world.config_path), read))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def services(tmp_path: Path) -> Iterator[list[Service]]:
    started: list[Service] = []
    yield started
    for service in started:
        service.close()


@pytest.mark.timeout(300)
def test_run_probes_slack_while_it_is_down_and_sends_every_waiting_alert_once_it_answers(
    world: World, services: list[Service], tmp_path: Path
) -> None:
    stories = build_newsroom(world, feeds=2, items=2)  # 4 alerts, 2 channels
    slack = world.slack
    slack_goes_down(world)
    service = Service(world, "run", tmp_path / "service.log")
    services.append(service)
    probed = wait_until(lambda: len(slack.requests("auth.test")) >= 2, EVENTUALLY_SECONDS, service)
    assert probed, "Slack was never probed while it was down\n" + service.output()
    # Down is down for every alert: one post found it; since then only auth.test was asked.
    assert len(slack.requests("chat.postMessage")) == 1, service.output()
    assert "slack.unreachable" in service.output()

    # As if the outage had lasted long enough for the alerts' backoff to reach its 30-minute cap.
    later = datetime.now(UTC) + timedelta(minutes=30)
    waited = "UPDATE alerts SET next_attempt_at = :later WHERE status = 'pending' AND error IS NOT NULL"
    world.store.execute(waited, later=later)
    slack.clear_faults()  # Slack is back
    assert wait_until(all_delivered(slack, stories), EVENTUALLY_SECONDS, service), service.output()
    time.sleep(1.0)  # a late duplicate would show now
    assert not delivery_problems(slack, stories, allowed_duplicates=0), service.output()
    assert "slack.back" in service.output()


def test_once_tries_every_pending_alert_whatever_its_backoff_except_under_retry_after(world: World) -> None:
    titles = add_news(world, 3)
    slack_goes_down(world)
    assert world.once() == 0
    assert world.slack.messages() == []

    # Two alerts wait out a long backoff (an error Slack did not explain), one Slack's Retry-After (429).
    later = datetime.now(UTC) + timedelta(minutes=30)
    world.store.execute("UPDATE alerts SET next_attempt_at = :later, error = 'unknown_error'", later=later)
    [(held_id, payload)] = world.store.rows("SELECT id, payload FROM alerts ORDER BY id LIMIT 1")
    world.store.execute("UPDATE alerts SET error = 'ratelimited' WHERE id = :id", id=held_id)
    world.slack.reset()  # Slack is back
    assert world.once() == 0
    held = json.loads(payload)["article"]["title"]
    assert sorted(world.titles_posted()) == sorted(set(titles) - {held})
    assert len(world.slack.requests("chat.postMessage")) == 2  # the held one was not tried
    assert summary(world).describe() == "1 alert pending: 1 held by Slack's Retry-After"


def test_the_summary_says_what_is_pending_and_why_across_runs(world: World) -> None:
    add_news(world, 3)
    world.settings["slack"] = {"api_url": f"http://127.0.0.1:{free_port()}/api/"}  # nobody listens there
    assert world.once() == 0
    since = r"since (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC"
    pattern = r"3 alerts pending: Slack unreachable \(connection refused\) " + since
    assert re.fullmatch(pattern, summary(world).describe())
    assert world.once() == 0  # still down: the next run knows since when, and says it again
    assert re.fullmatch(pattern, summary(world).describe())

    del world.settings["slack"]  # Slack is reachable again
    assert world.once() == 0
    assert sorted(world.titles_posted()) == ["Alibaba story 0", "Alibaba story 1", "Alibaba story 2"]
    assert summary(world).describe() == "no alerts pending"


def test_a_channel_error_fails_only_that_channel_and_is_no_outage(world: World) -> None:
    add_news(world, 2)
    world.slack.add_channel("#private-desk", member=False)
    world.watchlists.append({"name": "private", "channel": "#private-desk", "terms": ["Alibaba"]})
    assert world.once() == 0
    assert len(world.top_level("#china-tech")) == 2  # the good channel got everything
    assert world.slack.requests("auth.test") == []  # not_in_channel says nothing about Slack itself
    assert summary(world).describe() == "no alerts pending"


def test_once_prints_that_its_pending_alerts_wait_for_slack(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    add_news(world, 2)
    world.settings["slack"] = {"api_url": f"http://127.0.0.1:{free_port()}/api/"}  # nobody listens there
    assert world.once() == 0
    [line] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("service.summary")]
    assert "alerts_pending=2" in line
    assert re.search(r'pending_why="2 alerts pending: Slack unreachable \(connection refused\) since', line)
