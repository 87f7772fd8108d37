"""The buttons when the connection or the fleet gets in the way (issue 17 §1, §2): a press Slack delivers
to two instances of a fleet is handled once, an outlet muted through one instance is muted on the other
and after a restart, and a Socket Mode connection that dies without a close frame is replaced, so a later
press still arrives.

`run` processes (tests/support/instances.py) against the Slack and Socket Mode fakes, in the world of
tests/test_interactions.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.instances import Instance, wait_until
from tests.support.socket_mode_fake import SocketModeFake
from tests.support.world import World
from tests.test_interactions import marks, newsroom, outcome, updates
from tests.test_story_threads import top_level

pytestmark = pytest.mark.timeout(120)


def pending_rewrites(world: World) -> int:
    return len(world.store.rows("SELECT id FROM alerts WHERE kind != 'alert' AND status = 'pending'"))


def test_a_press_slack_delivers_to_two_instances_is_handled_once(
    world: World, sockets: SocketModeFake, tmp_path: Path
) -> None:
    news = newsroom(world, ["Mint"])
    news.publish("Mint", "s01-a1")
    world.write_config()
    fleet = [Instance(world, tmp_path / f"instance-{n}.log") for n in (1, 2)]
    try:
        wait_until(lambda: len(top_level(world)) == 1, "the alert", fleet)
        [alert] = top_level(world)
        wait_until(lambda: sockets.live == 2, "both instances connected", fleet)

        # The press reaches one instance; Slack's retry of the same envelope (same action_ts) the other,
        # at once, before either has answered.
        press = sockets.press(alert, "news_monitor.not_relevant", user="U0AAA1", connection=0)
        sockets.replay(press, connection=1)
        assert sockets.wait_for_acks(press, 2)
        wait_until(lambda: any(i.said("interaction.repeated") for i in fleet), "the repeat seen", fleet)
        wait_until(lambda: marks(world, alert) == "Marked not relevant by <@U0AAA1>", "the rewrite", fleet)
        wait_until(lambda: pending_rewrites(world) == 0, "no rewrite left to send", fleet)
    finally:
        logs = [instance.stop() for instance in fleet]
    recorded = ["interaction.recorded" in log for log in logs]
    repeated = ["interaction.repeated" in log for log in logs]
    assert sorted(recorded) == [False, True] and sorted(repeated) == [False, True]
    assert recorded != repeated  # one instance recorded the press, the other saw the retry of it
    rows = world.store.rows("SELECT action, user_id FROM interactions")
    assert [tuple(row) for row in rows] == [("not_relevant", "U0AAA1")]
    assert updates(world, alert) == 1  # one chat.update, by one of the instances


@pytest.mark.parametrize("death", ["sever", "freeze"])
def test_a_socket_that_dies_without_a_close_frame_is_replaced(
    world: World, sockets: SocketModeFake, tmp_path: Path, death: str
) -> None:
    """`sever`: the TCP connection is aborted; `freeze`: it stays open, but nothing answers on it."""
    news = newsroom(world, ["Mint"])
    world.settings = {"slack": {"socket_ping_interval": "1s"}}  # a dead socket is noticed in seconds
    news.publish("Mint", "s01-a1")
    world.write_config()
    service = Instance(world, tmp_path / "run.log")
    try:
        wait_until(lambda: len(top_level(world)) == 1, "the alert", [service])
        [alert] = top_level(world)
        assert sockets.wait_for_connections(1)
        getattr(sockets, death)()
        assert sockets.wait_for_connections(2)  # a new connection, answering
        press = sockets.press(alert, "news_monitor.relevant", user="U0AAA1")  # on the new one
        assert sockets.wait_for_ack(press)
        wait_until(lambda: marks(world, alert) == "Marked relevant by <@U0AAA1>", "the rewrite", [service])
    finally:
        service.stop()
    assert len(world.slack.requests("apps.connections.open")) >= 2
    if death == "freeze":
        assert sockets.live == 0  # the client gave the frozen connection up (it closed its end)


def test_an_outlet_muted_on_one_instance_is_muted_on_the_other_and_after_a_restart(
    world: World, sockets: SocketModeFake, tmp_path: Path
) -> None:
    news = newsroom(world, ["Mint", "FinanceBlog"])
    news.publish("Mint", "s01-a1")
    world.write_config()
    fleet = [Instance(world, tmp_path / f"instance-{n}.log") for n in (1, 2)]
    try:
        wait_until(lambda: len(top_level(world)) == 1, "the alert", fleet)
        [alert] = top_level(world)
        wait_until(lambda: sockets.live == 2, "both instances connected", fleet)
        press = sockets.press(alert, "news_monitor.mute_outlet", user="U0AAA1", connection=0)
        assert sockets.wait_for_ack(press)
        wait_until(lambda: marks(world, alert) == "Mint muted for alibaba by <@U0AAA1>", "the mute", fleet)
        # The instance that took the press stops: the other one alone reads Mint's next article.
        [receiver] = [instance for instance in fleet if instance.said("interaction.recorded")]
        receiver.stop()
        [other] = [instance for instance in fleet if instance is not receiver]
        news.publish("Mint", "s03-a1")
        wait_until(lambda: outcome(world, "s03-a1") is not None, "Mint's next article read", [other])
    finally:
        logs = [instance.stop() for instance in fleet]
    assert outcome(world, "s03-a1") == "no_match"
    assert "match.outlet_muted" in logs[fleet.index(other)]
    assert len(top_level(world)) == 1

    # Stored: after a restart the mute still holds for Mint, and only for Mint.
    news.publish("Mint", "s04-a1")
    news.publish("FinanceBlog", "s05-a1")
    assert world.once() == 0
    assert (outcome(world, "s04-a1"), outcome(world, "s05-a1")) == ("no_match", "alerted")
