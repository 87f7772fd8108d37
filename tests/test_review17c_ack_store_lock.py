"""Outside review of issue 17 (third): Socket Mode acks while another process holds SQLite's write lock.

/metrics reads the store in a worker thread, but the scheduler's tick does not: each second
start_due_polls -> flush_polls -> record_poll_successes (and claim_feeds) write the store on the event
loop, and wait there for up to the busy timeout (30 s). Meanwhile no envelope is acknowledged, though
Slack wants the ack within 3 s. Seen with faulthandler: the main thread in storage/feeds.py
record_poll_successes under scheduler._tick while the lock was held.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support.instances import Instance, wait_until
from tests.support.socket_mode_fake import SocketModeFake
from tests.support.world import World
from tests.test_interactions import marks, newsroom
from tests.test_story_threads import top_level

pytestmark = pytest.mark.timeout(150)


def test_an_ack_is_sent_while_another_process_holds_the_write_lock(
    world: World, sockets: SocketModeFake, tmp_path: Path
) -> None:
    if world.store.backend != "sqlite":
        pytest.skip("SQLite's file lock")
    news = newsroom(world, ["Mint"])
    news.publish("Mint", "s01-a1")
    world.write_config()
    service = Instance(world, tmp_path / "run.log")
    try:
        wait_until(lambda: len(top_level(world)) == 1, "the alert", [service])
        [alert] = top_level(world)
        assert sockets.wait_for_connections(1)
        # Another writer (a `retry`, `mute`, a backup) holds the lock for a while, less than the busy timeout.
        other = sqlite3.connect(make_url(world.store.url).database or "", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            # Feeds are polled every 2 s: within 3 s a tick has a poll's record to write, and waits for it.
            time.sleep(3)
            press = sockets.press(alert, "news_monitor.relevant", user="U0AAA1")
            acked_while_locked = sockets.wait_for_ack(press, timeout=10)
        finally:
            other.rollback()
            other.close()
        wait_until(lambda: marks(world, alert) == "Marked relevant by <@U0AAA1>", "the rewrite", [service])
    finally:
        service.stop()
    assert acked_while_locked  # the ack goes first, whatever the store is doing
