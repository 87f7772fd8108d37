"""Shared fixtures: a local web server for feeds/pages and a local fake of the Slack Web API.

Test support is imported as ``tests.support.<module>``; the repo root goes on sys.path here so that works
whatever import mode or rootdir pytest picks.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.slack_fake import SlackFake  # noqa: E402
from tests.support.web_server import WebServer  # noqa: E402
from tests.support.world import World  # noqa: E402

ALERT_CHANNELS = ("#news-alerts", "#china-tech")


@pytest.fixture
def slack_fake() -> Iterator[SlackFake]:
    """A running SlackFake with #news-alerts and #china-tech registered (bot is a member of both)."""
    with SlackFake(channels=ALERT_CHANNELS) as fake:
        yield fake


@pytest.fixture
def web_server() -> Iterator[WebServer]:
    """A running WebServer with no routes; add them with ``web_server.add(path, body, ...)``."""
    with WebServer() as server:
        yield server


@pytest.fixture
def world(tmp_path: Path, web_server: WebServer, slack_fake: SlackFake) -> Iterator[World]:
    """A World (config on disk, the CLI run against web_server and slack_fake) in tmp_path."""
    yield World(tmp_path, web_server, slack_fake)
