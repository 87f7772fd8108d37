"""An alert rewritten by a process that shows no buttons keeps the line of what was done with them (found
by an outside review; both tests failed before the fix): after the app-level token is refused, and by
`once`, a story's next outlet rewrites the alert ("Carried by 2 outlets"), and "Marked relevant by …"
stays, as the press stays in the store.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.instances import Instance, wait_until
from tests.support.socket_mode_fake import SocketModeFake
from tests.support.world import World
from tests.test_interactions import marks, newsroom
from tests.test_story_threads import CHANNEL, top_level

pytestmark = pytest.mark.timeout(150)


def blocks_now(world: World, alert: dict[str, Any]) -> str:
    [now] = [m for m in world.slack.messages(CHANNEL) if m["ts"] == alert["ts"]]
    return json.dumps(now["blocks"])


def pressed(world: World, sockets: SocketModeFake, service: Instance) -> dict[str, Any]:
    wait_until(lambda: len(top_level(world)) == 1, "the alert", [service])
    [alert] = top_level(world)
    assert sockets.wait_for_connections(1)
    press = sockets.press(alert, "news_monitor.relevant", user="U0AAA1")
    assert sockets.wait_for_ack(press)
    wait_until(lambda: marks(world, alert) == "Marked relevant by <@U0AAA1>", "the rewrite", [service])
    return alert


def test_once_updating_the_story_keeps_the_marks(
    world: World, sockets: SocketModeFake, tmp_path: Path
) -> None:
    news = newsroom(world, ["Mint", "Market Pulse"])
    news.publish("Mint", "s01-a1")
    world.write_config()
    service = Instance(world, tmp_path / "run.log")
    try:
        alert = pressed(world, sockets, service)
    finally:
        service.stop()
    news.publish("Market Pulse", "s01-a6")  # the same story, another outlet: the alert is rewritten
    world.once()
    now = blocks_now(world, alert)
    assert "Carried by 2 outlets" in now
    assert "Marked relevant by <@U0AAA1>" in now


def test_a_rewrite_after_a_refusal_keeps_the_marks(
    world: World, sockets: SocketModeFake, tmp_path: Path
) -> None:
    news = newsroom(world, ["Mint", "Market Pulse"])
    news.publish("Mint", "s01-a1")
    world.write_config()
    service = Instance(world, tmp_path / "run.log")
    try:
        alert = pressed(world, sockets, service)
        world.slack.app_token = "xapp-1-A0000001-0000-another"  # revoked while `run` is up
        sockets.drop()
        wait_until(lambda: service.said("slack.socket_mode_refused"), "the refusal", [service])
        news.publish("Market Pulse", "s01-a6")
        wait_until(
            lambda: "Carried by 2 outlets" in blocks_now(world, alert), "the story's rewrite", [service]
        )
    finally:
        service.stop()
    assert "Marked relevant by <@U0AAA1>" in blocks_now(world, alert)
