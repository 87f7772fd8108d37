"""The Slack client's transport: the bot token never travels in clear.

Plain http is refused to any host but this machine (monitor.yaml's slack.api_url and $SLACK_API_URL
alike); loopback stays allowed for a local fake, and is reached directly even when $HTTPS_PROXY is set
(slack-sdk sends every call through it otherwise, ignoring NO_PROXY). A remote https API honours the
environment's proxy: the token then stays inside the TLS tunnel the proxy relays.
"""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.delivery.notifiers.slack import SlackNotifier
from monitor.errors import ConfigError
from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago

PAGE = "<html><body><article>" + "<p>Alibaba's cloud unit signed a deal with a provincial government.</p>" * 4
PAGE += "</article></body></html>"


def write_config(folder: Path, api_url: str) -> Path:
    monitor = {
        "slack": {
            "default_channel": "#news-alerts",
            "token_env": "NEWS_MONITOR_TEST_TOKEN",
            "api_url": api_url,
        },
        "storage": "sqlite:///state/news-monitor.db",
        "feeds": [{"url": "https://news.example/rss.xml", "name": "Example"}],
        "watchlists": [{"name": "chips", "terms": ["Alibaba"]}],
    }
    path = folder / "monitor.yaml"
    path.write_text(json.dumps(monitor), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWS_MONITOR_TEST_TOKEN", "xoxb-test-token")
    monkeypatch.delenv("SLACK_API_URL", raising=False)


@pytest.mark.parametrize(
    "api_url",
    [
        "http://slack.example/api/",
        "http://10.0.0.5:8080/api/",
        "http://127.0.0.1.example/api/",
        "HTTP://Slack.com/api/",
    ],
)
def test_plain_http_to_another_machine_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, api_url: str
) -> None:
    assert main(["--config", str(write_config(tmp_path, api_url)), "check"]) == 2
    err = capsys.readouterr().err
    assert "monitor.yaml" in err and "slack.api_url" in err and "https://" in err and "unencrypted" in err

    monkeypatch.setenv("SLACK_API_URL", api_url)  # the environment's URL is held to the same rule
    assert main(["--config", str(write_config(tmp_path, "https://slack.com/api/")), "check"]) == 2
    assert "SLACK_API_URL" in capsys.readouterr().err

    with pytest.raises(ConfigError, match="unencrypted"):
        SlackNotifier("xoxb-test-token", api_url=api_url)


@pytest.mark.parametrize(
    "api_url",
    ["http://127.0.0.1:9/api/", "http://localhost:9/api/", "http://[::1]:9/api/", "https://slack.com/api/"],
)
def test_https_and_loopback_are_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], api_url: str
) -> None:
    assert main(["--config", str(write_config(tmp_path, api_url)), "check"]) == 0
    assert f"Slack at {api_url}" in capsys.readouterr().out


def test_a_loopback_api_is_reached_without_the_environments_proxy(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:  # a proxy that is not there: any call through it fails
        sock.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    page = world.web.add("/story.html", PAGE, content_type="text/html")
    item = {"title": "Alibaba deal", "link": page, "guid": "1", "pub_date": hours_ago(1)}
    world.add_feed("/feed.xml", rss_feed("Good", [item]), name="Good")
    once = world.spawn("once")  # a real process, with the proxy in its environment
    _, log = once.communicate(timeout=60)
    assert once.returncode == 0, log
    assert [m["text"].split(" (")[0] for m in world.slack.messages()] == ["Alibaba deal"], log


def test_a_remote_api_uses_the_environments_proxy_and_logs_it_masked(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy-user:QZXpr0xyQZX@proxy.example:3128")
    with caplog.at_level(logging.INFO, logger="monitor.notifiers.slack"):
        notifier = SlackNotifier("xoxb-test-token", api_url="https://slack.com/api/")
    assert notifier.client.proxy == "http://proxy-user:QZXpr0xyQZX@proxy.example:3128"
    assert "slack.proxy" in caplog.text and "proxy.example:3128" in caplog.text
    assert "QZX" not in caplog.text
