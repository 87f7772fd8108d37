"""A local world for end-to-end tests: feeds and pages on WebServer, Slack on SlackFake, a config on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.cli.main import main
from tests.support.slack_fake import SlackFake
from tests.support.store import Store
from tests.support.web_server import WebServer

REPO_ROOT = Path(__file__).resolve().parents[2]
PAGES = REPO_ROOT / "tests" / "fixtures" / "pages"

WATCHLISTS: list[dict[str, Any]] = [
    {
        "name": "alibaba-military",
        "channel": "#china-tech",
        "terms": [
            "Alibaba",
            {
                "term": "PLA",
                "case_sensitive": True,
                "aliases": ["People's Liberation Army"],
                "exclude": ["PLA filament", "PLA plastic"],
            },
            {"term": "T-Head", "aliases": ["Pingtouge", "平头哥"]},
        ],
    }
]


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def hours_ago(hours: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


@dataclass
class World:
    """Writes monitor.yaml + watchlists.yaml into `folder` and runs the CLI against the local servers."""

    folder: Path
    web: WebServer
    slack: SlackFake
    store: Store  # SQLite in `folder`, or a PostgreSQL schema (tests/support/store.py)
    feeds: list[dict[str, Any]] = field(default_factory=list)
    watchlists: list[dict[str, Any]] = field(default_factory=lambda: [dict(w) for w in WATCHLISTS])
    settings: dict[str, Any] = field(default_factory=dict)
    token: str | None = None
    app_token: str | None = (
        None  # the Socket Mode token (tests/support/socket_mode_fake.py); None: no buttons
    )

    def __post_init__(self) -> None:
        self.token = self.slack.token

    @property
    def config_path(self) -> Path:
        return self.folder / "monitor.yaml"

    def add_feed(self, path: str, body: str, **feed: Any) -> str:
        url = self.web.add(path, body, content_type="application/rss+xml")
        self.feeds.append({"url": url, **feed})
        return url

    def write_config(self) -> Path:
        monitor = {
            "slack": {
                "token_env": "NEWS_MONITOR_TEST_TOKEN",
                "app_token_env": "NEWS_MONITOR_TEST_APP_TOKEN",
                "api_url": self.slack.api_url,
                "default_channel": "#news-alerts",
                "min_post_interval": "0s",  # pacing has its own test; elsewhere it only costs time
            },
            "storage": self.store.config_url,
            "poll": {"interval": "10m", "max_age": "3d"},
            # Politeness delays would only slow the tests down; the fault tests switch them on.
            "fetch": {"timeout": "5s", "allow_private_addresses": True, "per_host_delay": "0s"},
            "feeds": self.feeds,
            "watchlists": "watchlists.yaml",
        }
        for section, values in self.settings.items():
            monitor[section] = {**monitor.get(section, {}), **values} if isinstance(values, dict) else values
        # JSON is valid YAML, and needs no YAML writer in the tests.
        self.config_path.write_text(json.dumps(monitor, ensure_ascii=False, indent=2), encoding="utf-8")
        watchlists = json.dumps({"watchlists": self.watchlists}, ensure_ascii=False, indent=2)
        (self.folder / "watchlists.yaml").write_text(watchlists, encoding="utf-8")
        return self.config_path

    def environment(self) -> dict[str, str]:
        # SLACK_API_URL and NEWS_MONITOR_STORAGE would override the world's own Slack fake and store.
        outside = ("SLACK_API_URL", "NEWS_MONITOR_STORAGE")
        env = {key: value for key, value in os.environ.items() if key not in outside}
        env.pop("NEWS_MONITOR_TEST_TOKEN", None)
        env.pop("NEWS_MONITOR_TEST_APP_TOKEN", None)
        if self.token:
            env["NEWS_MONITOR_TEST_TOKEN"] = self.token
        if self.app_token:
            env["NEWS_MONITOR_TEST_APP_TOKEN"] = self.app_token
        return env

    def run_cli(self, *args: str) -> int:
        """Run `news-monitor --config <world> ARGS` in this process (real HTTP, a real store)."""
        self.write_config()
        saved, environment = dict(os.environ), self.environment()  # read before the clear empties it
        os.environ.clear()
        os.environ.update(environment)
        try:
            return main(["--config", str(self.config_path), *args])
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def once(self) -> int:
        return self.run_cli("once")

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        """Start `python -m monitor --config <world> ARGS` as a real process."""
        self.write_config()
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(self.config_path), *args],
            cwd=REPO_ROOT,
            env=self.environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def let_backoff_pass(self) -> None:
        """Time passes: every alert waiting for a retry becomes due (what a later cron run would see)."""
        self.store.execute("UPDATE alerts SET next_attempt_at = NULL WHERE status = 'pending'")

    def top_level(self, channel: str | None = None) -> list[dict[str, Any]]:
        """The messages the fake received outside threads (alerts, not "Also reported by" replies)."""
        return [m for m in self.slack.messages(channel) if m["thread_ts"] is None]

    def titles_posted(self, channel: str | None = None) -> list[str]:
        """The linked titles of the alerts the fake received, in order (thread replies left out)."""
        return [message_title(m) for m in self.top_level(channel)]


def message_title(message: dict[str, Any]) -> str:
    """The label of the title link in the first block: `*<url|label>*` -> label."""
    text = message["blocks"][0]["text"]["text"]
    return text.split("|", 1)[1].rsplit(">*", 1)[0] if "|" in text else text.strip("*")
