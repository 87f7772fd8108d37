"""When Slack refuses the Socket Mode connection after `run` started (issue 17 §1, the outside review):
an app-level token revoked while the service runs, and an `apps.connections.open` answer that must not
be dialled. Either is logged once with its fix, the socket is stopped (no retry loop) and later alerts
carry no buttons, since nothing would receive a press; a failure retrying can fix is still retried.

`run` processes (tests/support/instances.py) against the Slack and Socket Mode fakes. The retry loop is
bounded by counting apps.connections.open requests in the fake, never by timing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.instances import Instance, wait_until
from tests.support.socket_mode_fake import SocketModeFake
from tests.support.world import World
from tests.test_interactions import BUTTONS, buttons, newsroom
from tests.test_story_threads import top_level

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def sockets(sockets: SocketModeFake, world: World) -> SocketModeFake:
    world.settings = {"slack": {"socket_ping_interval": "1s"}}  # the SDK retries every ping interval
    return sockets


def url_requests(world: World) -> int:
    return len(world.slack.requests("apps.connections.open"))


def errors(log: str) -> list[str]:
    return [line for line in log.splitlines() if " ERROR " in line]


def test_a_token_revoked_while_run_is_up_stops_the_socket_and_the_buttons(
    world: World, sockets: SocketModeFake, tmp_path: Path
) -> None:
    news = newsroom(world, ["Mint"])
    news.publish("Mint", "s01-a1")
    world.write_config()
    service = Instance(world, tmp_path / "run.log")
    try:
        wait_until(lambda: len(top_level(world)) == 1, "the alert", [service])
        assert buttons(top_level(world)[0]) == BUTTONS
        assert sockets.wait_for_connections(1)
        world.slack.app_token = "xapp-1-A0000001-0000-another"  # the running service's token: invalid_auth
        sockets.drop()  # Slack refreshes the connection: the client asks for a new URL, and is refused
        wait_until(lambda: service.said("slack.socket_mode_refused"), "the refusal", [service])
        # A new story, read and posted after the refusal: a few poll cycles, many SDK retry periods.
        news.publish("Mint", "s03-a1")
        wait_until(lambda: len(top_level(world)) == 2, "the next story's alert", [service])
    finally:
        log = service.stop()
    assert buttons(top_level(world)[1]) == []  # no dead buttons
    assert url_requests(world) == 2  # the first URL, and the one refused: no retry loop
    [refused] = [line for line in log.splitlines() if "slack.socket_mode_refused" in line]
    assert "invalid_auth" in refused and "create one (xapp-…) under Basic Information" in refused
    assert errors(log) == [refused]
    assert "Failed to retrieve WSS URL" not in log


def test_a_refusal_after_a_failed_start_is_met_in_the_sdks_own_connect(
    world: World, sockets: SocketModeFake, tmp_path: Path
) -> None:
    """Slack does not answer at start (the SDK's connect() asks again), then refuses the token."""
    world.app_token = "xapp-1-A0000001-0000-notthetoken"
    world.slack.inject("apps.connections.open", "http_503_html")
    news = newsroom(world, ["Mint"])
    world.write_config()
    service = Instance(world, tmp_path / "run.log")
    try:
        wait_until(lambda: service.said("slack.socket_mode_refused"), "the refusal", [service])
        news.publish("Mint", "s01-a1")
        wait_until(lambda: len(top_level(world)) == 1, "the alert", [service])
    finally:
        log = service.stop()
    assert buttons(top_level(world)[0]) == []
    assert url_requests(world) == 2 and sockets.connections == 0
    assert log.count("slack.socket_mode_refused") == 1


def test_a_failure_retrying_can_fix_is_still_retried(
    world: World, sockets: SocketModeFake, tmp_path: Path
) -> None:
    news = newsroom(world, ["Mint"])
    news.publish("Mint", "s01-a1")
    world.write_config()
    service = Instance(world, tmp_path / "run.log")
    try:
        wait_until(lambda: len(top_level(world)) == 1, "the alert", [service])
        assert sockets.wait_for_connections(1)
        world.slack.inject("apps.connections.open", "http_503_html")
        world.slack.inject("apps.connections.open", "drop_connection")  # as a connection refused
        world.slack.inject("apps.connections.open", "internal_error")
        sockets.drop()
        assert sockets.wait_for_connections(2)  # after the three failures, a new connection
        news.publish("Mint", "s03-a1")
        wait_until(lambda: len(top_level(world)) == 2, "the next story's alert", [service])
    finally:
        log = service.stop()
    assert url_requests(world) == 5
    assert buttons(top_level(world)[1]) == BUTTONS
    assert "slack.socket_mode_refused" not in log


@pytest.mark.parametrize(
    "answer", ["ws://203.0.113.7:80/link/?ticket=1", "http://127.0.0.1:1/link/?ticket=1"]
)
def test_a_socket_url_that_is_not_wss_is_not_dialled(
    world: World, sockets: SocketModeFake, tmp_path: Path, answer: str
) -> None:
    """Plain ws:// only to a loopback fake (its API URL is loopback too); anything else is refused."""
    world.slack.socket_url = lambda: answer
    news = newsroom(world, ["Mint"])
    news.publish("Mint", "s01-a1")
    world.write_config()
    service = Instance(world, tmp_path / "run.log")
    try:
        wait_until(lambda: len(top_level(world)) == 1, "the alert", [service])
        news.publish("Mint", "s03-a1")
        wait_until(lambda: len(top_level(world)) == 2, "the next story's alert", [service])
    finally:
        log = service.stop()
    assert [buttons(alert) for alert in top_level(world)] == [[], []]
    assert url_requests(world) == 1 and sockets.connections == 0
    [refused] = [line for line in log.splitlines() if "slack.socket_mode_refused" in line]
    assert "not wss://" in refused and "SLACK_API_URL" in refused
    assert errors(log) == [refused]
    assert "ticket=1" not in log and "Failed to connect" not in log


def test_a_socket_urls_ticket_never_reaches_the_log(
    world: World, sockets: SocketModeFake, tmp_path: Path
) -> None:
    """The SDK logs the URL it failed to dial, through our logger: the real line, masked."""
    # A loopback URL that answers no WebSocket (the Slack fake's HTTP server): dialled, refused, retried.
    world.slack.socket_url = lambda: f"{world.slack.url.replace('http', 'ws')}/link/?ticket=QZXsecretQZX&a=1"
    news = newsroom(world, ["Mint"])
    news.publish("Mint", "s01-a1")
    world.write_config()
    service = Instance(world, tmp_path / "run.log")
    try:
        wait_until(lambda: service.said("Failed to connect"), "a failed dial", [service])
    finally:
        log = service.stop()
    assert "ticket=***" in log
    assert "QZXsecretQZX" not in log
