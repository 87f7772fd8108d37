"""Operations that say what is happening (issue 13, part 7), through the real CLI.

`run` says at start where its state lives, which notifier posts, where /healthz listens and when the
next poll is, then logs a summary line every ops.summary_interval; `once` prints the same summary;
`status` calls a past poll time "overdue"; --config is read after the command and from the environment;
a closed pipe ends a command quietly; durations combine units (1h30m).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from monitor.cli.main import main
from monitor.config import parse_duration
from monitor.logs import format_value
from monitor.redact import mask_configured_url
from monitor.storage import schema
from tests.support.feeds import rss_feed
from tests.support.world import REPO_ROOT, World, hours_ago

ARTICLE = "<html><body><article>" + "<p>Alibaba's chip unit T-Head shipped a new processor.</p>" * 4
ARTICLE += "</article></body></html>"


def serve_one_matching_article(world: World, *, interval: str | None = None) -> str:
    page = world.web.add("/a1.html", ARTICLE, content_type="text/html")
    item = {"title": "T-Head ships", "link": page, "guid": "1", "pub_date": hours_ago(1)}
    extra = {"interval": interval} if interval else {}
    return world.add_feed("/feed.xml", rss_feed("Chips", [item]), **extra)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class StderrLines:
    """Collects a running process's stderr lines in a thread, so a test can wait for one."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def matching(self, pattern: str) -> list[str]:
        return [line for line in list(self.lines) if re.search(pattern, line)]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                self.stop()
                pytest.fail(f"the service exited ({self.process.returncode}):\n" + "\n".join(self.lines))
            time.sleep(0.1)
        self.stop()
        pytest.fail("timed out; service stderr:\n" + "\n".join(self.lines))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._reader.join(5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


# -- run -------------------------------------------------------------------------------------------


@pytest.mark.timeout(90)
def test_run_says_where_things_are_then_summarises_every_interval(world: World) -> None:
    serve_one_matching_article(world)
    port = free_port()
    world.settings["ops"] = {"enabled": True, "port": port, "summary_interval": "1s"}
    stderr = StderrLines(world.spawn("run"))
    try:
        stderr.wait_for(lambda: bool(stderr.matching(r"service\.summary .*alerts_sent=1 ")))
        stderr.wait_for(lambda: len(stderr.matching(r"service\.summary ")) >= 3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert "status" in json.loads(answer.read())  # it listens where the line said
    finally:
        stderr.stop()
    [store] = stderr.matching(r"service\.store ")
    assert store.endswith(f"service.store url={format_value(mask_configured_url(world.store.url))}")
    [notifier] = stderr.matching(r"service\.notifier ")
    assert f"notifier=slack api={world.slack.api_url}" in notifier
    [healthz] = stderr.matching(r"service\.healthz ")
    assert healthz.endswith(f"url=http://127.0.0.1:{port}/healthz")
    [next_poll] = stderr.matching(r"service\.next_poll ")
    assert "due_now=1" in next_poll and "summary_every=1s" in next_poll
    summaries = stderr.matching(r"service\.summary ")
    # One alert was sent, and each summary counts those of its own interval.
    assert sum(int(re.search(r"alerts_sent=(\d+)", line)[1]) for line in summaries) == 1  # type: ignore[index]
    last = summaries[-1]
    assert "feeds_ok=1 feeds_failing=0" in last and "alerts_pending=0 alerts_failed=0" in last
    assert "sent_in=1s" in last


@pytest.mark.timeout(60)
def test_run_without_token_or_ops_says_so_and_when_the_next_poll_is(world: World) -> None:
    serve_one_matching_article(world)
    world.token = None
    assert world.once() == 0  # the feed was polled: its next poll is 10 minutes away
    stderr = StderrLines(world.spawn("run"))
    try:
        stderr.wait_for(lambda: bool(stderr.matching(r"service\.next_poll ")))
    finally:
        stderr.stop()
    [notifier] = stderr.matching(r"service\.notifier ")
    assert "notifier=console" in notifier and "set $NEWS_MONITOR_TEST_TOKEN to post to Slack" in notifier
    [healthz] = stderr.matching(r"service\.healthz ")
    assert "state=off" in healthz and "ops.enabled: true" in healthz
    [next_poll] = stderr.matching(r"service\.next_poll ")
    assert "due_now=0" in next_poll and re.search(r"next_at=\S+ next_in=\d+m", next_poll), next_poll


# -- once ------------------------------------------------------------------------------------------


def test_once_prints_the_summary_after_the_cycle_line(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_one_matching_article(world)
    world.feeds.append({"url": world.web.url("/gone.xml")})  # answers 404
    assert world.once() == 0
    err = capsys.readouterr().err
    assert "cycle done: " in err and "feeds/polled=" in err  # the line scripts already read stays
    [summary] = [line for line in err.splitlines() if line.startswith("service.summary ")]
    assert summary == (
        'service.summary feeds_ok=1 feeds_failing=1 alerts_sent=1 sent_in="this cycle" '
        "alerts_pending=0 alerts_failed=0"
    )


def summary_line(err: str) -> str:
    [summary] = [line for line in err.splitlines() if line.startswith("service.summary ")]
    return summary


def test_once_summary_says_why_alerts_are_pending_or_failed(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_one_matching_article(world)
    world.watchlists[0]["channel"] = "#no-such-channel"
    world.watchlists.append({"name": "also", "channel": "#news-alerts", "terms": ["T-Head"]})
    world.slack.inject("chat.postMessage", "http_503_html", times=100)  # Slack is down for this cycle
    assert world.once() == 0
    summary = summary_line(capsys.readouterr().err)
    assert "alerts_sent=0" in summary and "alerts_pending=2 alerts_failed=0" in summary
    # Slack itself is down: that is why both wait (not each alert's last error).
    why = r'pending_why="2 alerts pending: Slack unreachable \(HTTP 503\) since [^"]*UTC"'
    assert re.search(why, summary), summary

    world.slack.reset()  # Slack is back
    world.let_backoff_pass()
    assert world.once() == 0
    summary = summary_line(capsys.readouterr().err)
    assert "alerts_sent=1" in summary and "alerts_pending=0 alerts_failed=1" in summary
    assert 'failed_why="channel_not_found' in summary


# -- status ----------------------------------------------------------------------------------------


def test_status_of_a_stopped_service_calls_past_polls_overdue(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_one_matching_article(world)
    assert world.once() == 0
    due = hours_ago(0) - timedelta(minutes=11, seconds=5)  # the service stopped before the feed was due
    with world.store.engine.begin() as conn:
        conn.execute(update(schema.feeds).values(next_poll_at=due))
    capsys.readouterr()
    assert world.run_cli("status") == 0
    out = capsys.readouterr().out
    [row] = [line for line in out.splitlines() if line.startswith("Chips ")]
    assert "overdue by 11m" in row, out
    assert "no `news-monitor run` is alive" in out


# -- the command line ------------------------------------------------------------------------------


def test_config_is_read_after_the_command_and_from_the_environment(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    serve_one_matching_article(world)
    config = str(world.write_config())
    assert main(["check", "--config", config]) == 0
    assert main(["watch", "list", "--config", config]) == 0
    assert f"{config}: OK" in capsys.readouterr().out
    monkeypatch.setenv("NEWS_MONITOR_CONFIG", config)
    assert main(["check"]) == 0
    assert f"{config}: OK" in capsys.readouterr().out
    # Given on the command line, it wins over the environment, before or after the command.
    missing = str(tmp_path / "elsewhere.yaml")
    assert main(["--config", missing, "check"]) == 2
    assert main(["check", "--config", missing]) == 2
    assert capsys.readouterr().err.count(f"{missing}: file not found") == 2


def test_a_closed_pipe_ends_a_command_quietly(world: World) -> None:
    serve_one_matching_article(world)
    config = str(world.write_config())
    reader, writer = os.pipe()
    os.close(reader)  # `| head` that has already gone
    try:
        result = subprocess.run(
            [sys.executable, "-m", "monitor", "watch", "list", "--config", config],
            stdout=writer, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT, timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(writer)
    assert result.returncode == 141  # 128 + SIGPIPE, what a shell shows for `yes | head`
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("2h", timedelta(hours=2)),
        ("90s", timedelta(seconds=90)),
        ("1h 30m 15s", timedelta(hours=1, minutes=30, seconds=15)),
        ("1.5h", timedelta(minutes=90)),
    ],
)
def test_durations_combine_units(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["30m1h", "1h1h", "1h30", "h30m", "1h-30m"])
def test_combined_durations_must_be_well_formed(text: str) -> None:
    with pytest.raises(ValueError, match="1h30m"):
        parse_duration(text)


def test_combined_durations_work_in_the_config_and_on_the_command_line(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_one_matching_article(world, interval="1h30m")
    world.settings["poll"] = {"interval": "1h30m", "max_age": "1d12h"}
    assert world.once() == 0
    assert world.run_cli("stories", "--since", "1h30m") == 0
    assert world.run_cli("preview", "--since", "1d12h") == 0
    assert "T-Head ships" in capsys.readouterr().out
