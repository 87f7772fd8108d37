"""`run` when apps.connections.open misbehaves at start (found by an outside review; each test failed
before its fix): the first URL is asked for before the scheduler starts and before anything waits for
SIGTERM, so what that call raises or waits for must neither end `run` nor hold up the feeds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.instances import Instance, wait_until
from tests.support.slack_fake import _json_reply
from tests.support.socket_mode_fake import SocketModeFake
from tests.support.world import World
from tests.test_interactions import BUTTONS, buttons, newsroom
from tests.test_story_threads import top_level

pytestmark = pytest.mark.timeout(150)


def rate_limit_socket_urls(world: World, times: int, retry_after: str) -> None:
    """The next `times` apps.connections.open answer HTTP 429 `ratelimited` with this Retry-After (the
    Slack fake has no such fault of its own)."""
    fake, answer = world.slack, world.slack._handle_api
    left = [times]

    def handle(request: Any) -> Any:
        if request.method != "apps.connections.open" or left[0] <= 0:
            return answer(request)
        left[0] -= 1
        reply = _json_reply({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": retry_after})
        with fake._lock:
            fake._record(request, reply, None)
        return reply

    fake._handle_api = handle  # type: ignore[method-assign]


def test_a_connection_dropped_by_apps_connections_open_at_start_does_not_end_run(
    world: World, sockets: SocketModeFake, tmp_path: Path
) -> None:
    """ServerDisconnectedError is an aiohttp ClientError, not an OSError: start() lets it out of
    run_service, and `run` exits with a traceback (and an unclosed client session)."""
    world.slack.inject("apps.connections.open", "drop_connection")
    news = newsroom(world, ["Mint"])
    news.publish("Mint", "s01-a1")
    world.write_config()
    service = Instance(world, tmp_path / "run.log")
    try:
        wait_until(lambda: len(top_level(world)) == 1, "the alert", [service])
        assert sockets.wait_for_connections(1)  # the SDK asked again, as for a 503
    finally:
        log = service.stop()
    assert "Traceback" not in log and "Unclosed client session" not in log


def test_a_rate_limited_start_neither_holds_up_polling_nor_ignores_sigterm(
    world: World, sockets: SocketModeFake, tmp_path: Path
) -> None:
    """Retry-After: 120 on the first apps.connections.open: start() sleeps it out before the scheduler
    starts and before anything waits for SIGTERM, so no feed is polled for two minutes and a SIGTERM
    in that time is not acted on (Instance.stop kills it after 20 s)."""
    rate_limit_socket_urls(world, 1, "120")
    news = newsroom(world, ["Mint"])
    news.publish("Mint", "s01-a1")
    world.write_config()
    service = Instance(world, tmp_path / "run.log")
    try:
        wait_until(lambda: len(world.slack.requests("apps.connections.open")) == 1, "the 429", [service])
        wait_until(lambda: len(top_level(world)) == 1, "the alert, while Slack says wait", [service])
        assert len(world.slack.requests("apps.connections.open")) == 1  # Retry-After is heeded
        assert sockets.connections == 0
    finally:
        log = service.stop()  # SIGTERM: exit code 0 expected, not the kill after 20 s
    assert buttons(top_level(world)[0]) in ([], BUTTONS)
    assert 'reason="apps.connections.open: ratelimited; asking again in 120 s"' in log
