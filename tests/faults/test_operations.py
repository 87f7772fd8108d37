"""Operations: `status`, /healthz and /metrics, secrets kept out of logs, broken stores refused loudly."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.error
import urllib.request

import pytest

from monitor.config import load_config
from monitor.pipeline.feed_cycle import Pipeline
from monitor.service.assembly import with_pipeline
from monitor.service.ops import check_health
from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago

PAGE = "<html><body><article>" + "<p>Alibaba's cloud unit signed a deal with a provincial government.</p>" * 4
PAGE += "</article></body></html>"


def add_news(world: World) -> None:
    page = world.web.add("/story.html", PAGE, content_type="text/html")
    item = {"title": "Alibaba deal", "link": page, "guid": "1", "pub_date": hours_ago(1)}
    world.add_feed("/feed.xml", rss_feed("Good feed", [item]), name="Good")
    world.web.add("/broken.xml", "nope", status=500)
    world.feeds.append({"url": world.web.url("/broken.xml"), "name": "Broken"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_status_shows_feeds_and_outbox(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    add_news(world)
    world.watchlists.append({"name": "lost", "channel": "#no-such-channel", "terms": ["Alibaba"]})
    world.once()
    capsys.readouterr()
    assert world.run_cli("status") == 0
    out = capsys.readouterr().out
    assert "Good" in out and "1 item " in out
    assert "Broken" in out and "failing" in out and "HTTP 500" in out
    assert "OUTBOX  pending 0 · sent 1 · failed 1" in out
    assert "FAILED  #no-such-channel 'Alibaba deal': channel_not_found" in out

    assert world.run_cli("status", "--json") == 0
    status = json.loads(capsys.readouterr().out)
    feeds = {feed["name"]: feed for feed in status["feeds"]}
    assert feeds["Broken"]["consecutive_failures"] == 1 and feeds["Broken"]["result"] == "HTTP 500"
    assert feeds["Good"]["state"] == "ok" and feeds["Good"]["next_poll"]
    [failed] = status["outbox"]["failed_alerts"]
    assert failed["channel"] == "#no-such-channel" and "check the channel name" in failed["error"]


def test_healthz_and_metrics(world: World) -> None:
    add_news(world)
    port = free_port()
    world.settings["ops"] = {"enabled": True, "port": port}
    service = world.spawn("run")
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(world.slack.messages()) < 1:
            time.sleep(0.1)
        time.sleep(0.5)
        status, body = get(f"http://127.0.0.1:{port}/healthz")
        health = json.loads(body)
        assert status == 200 and health["status"] == "ok"
        assert health["scheduler_alive"] and health["store_writable"]
        assert health["last_cycle_age_seconds"] is not None and health["last_cycle_age_seconds"] < 20
        status, metrics = get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert 'news_monitor_feed_polls_total{result="ok"} 1.0' in metrics
        assert 'news_monitor_feed_polls_total{result="error"} 1.0' in metrics
        assert "news_monitor_alerts_sent_total 1.0" in metrics
        assert 'news_monitor_items_total{outcome="matched"} 1.0' in metrics
        assert "news_monitor_outbox_pending 0.0" in metrics
        assert "news_monitor_feed_poll_duration_seconds_count 2.0" in metrics
    finally:
        service.terminate()
        service.communicate(timeout=15)


def test_endpoints_listen_on_loopback_by_default(world: World) -> None:
    add_news(world)
    world.write_config()
    assert load_config(world.config_path).ops.host == "127.0.0.1"
    assert load_config(world.config_path).ops.enabled is False


def test_unhealthy_when_the_scheduler_stops_ticking(world: World) -> None:
    add_news(world)
    world.write_config()

    async def go() -> bool:
        async def probe(pipeline: Pipeline) -> bool:
            healthy_now = check_health(pipeline, started=time.time()).ok
            pipeline.start_due_polls()
            ticking = check_health(pipeline, started=time.time()).scheduler_alive
            pipeline.last_tick = time.monotonic() - 60
            stuck = check_health(pipeline, started=time.time())
            await pipeline.stop(grace=5)
            return not healthy_now and ticking and not stuck.ok and not stuck.scheduler_alive

        return await with_pipeline(load_config(world.config_path), probe)

    assert asyncio.run(go())


def test_tokens_and_credentials_never_reach_the_logs(world: World, capfd: pytest.CaptureFixture[str]) -> None:
    add_news(world)
    with_password = world.web.url("/missing.xml").replace("http://", "http://reader:hunter2@")
    world.feeds.append({"url": with_password})
    assert world.run_cli("--log-level", "DEBUG", "once") == 0
    captured = capfd.readouterr()
    logs = captured.err + captured.out
    assert "alert.sent" in logs and "feed.failed" in logs  # there was something to log
    assert world.slack.token not in logs
    assert "hunter2" not in logs and "***@127.0.0.1" in logs


@pytest.mark.sqlite_only("a corrupt SQLite file")
def test_corrupt_store_fails_loudly(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    add_news(world)
    (world.folder / "state").mkdir()
    (world.folder / "state" / "news-monitor.db").write_bytes(b"this is not a database" * 100)
    assert world.run_cli("once") == 1
    err = capsys.readouterr().err
    assert "file is not a database" in err and "move it aside" in err


def test_store_from_another_version_is_refused(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    add_news(world)
    world.store.execute("CREATE TABLE feeds (url TEXT PRIMARY KEY)")
    assert world.run_cli("once") == 1
    refusal = "holds tables that are not a news-monitor store's; this news-monitor needs revision"
    assert refusal in capsys.readouterr().err


@pytest.mark.sqlite_only("SQLite's journal mode")
def test_the_store_runs_in_wal_mode(world: World) -> None:
    add_news(world)
    world.once()
    assert world.store.rows("PRAGMA journal_mode") == [("wal",)]


def test_retry_sends_failed_alerts_after_a_fix_no_config_shows(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    add_news(world)
    world.slack.add_channel("#private-desk", member=False)
    world.watchlists = [{"name": "desk", "channel": "#private-desk", "terms": ["Alibaba"]}]
    world.once()
    assert world.run_cli("status") == 0
    assert "not_in_channel" in capsys.readouterr().out
    world.slack.set_channel("#private-desk", member=True)  # someone invited the bot
    assert world.run_cli("retry", "--channel", "#private-desk") == 0
    assert "1 failed alert(s) queued again; 1 sent, 0 failed again" in capsys.readouterr().out
    assert len(world.slack.messages("#private-desk")) == 1
    assert world.run_cli("retry") == 0  # nothing left: nothing posted twice
    assert len(world.slack.messages("#private-desk")) == 1
