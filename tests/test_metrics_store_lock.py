"""/metrics scrapes waiting on a locked store hold up nothing else (found by an outside review; failed
before the fix): the store's gauges were read in asyncio.to_thread, the default executor (6 threads on a
2-core host) shared with feed parsing, extraction, press handling and lease renewal, and a scrape whose
client gave up kept its thread until the store answered. With PostgreSQL's `interactions` table locked
by another session, eight scrapes kept another feed's new article from being alerted while the lock was
held. Now the gauges have a thread of their own, one read at a time, shared by the scrapes that wait.
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from urllib.request import urlopen

import pytest
from sqlalchemy import create_engine, text

from tests.support.instances import Instance, wait_until
from tests.support.socket_mode_fake import SocketModeFake
from tests.support.world import World
from tests.test_interactions import newsroom
from tests.test_operator_output import free_port
from tests.test_story_threads import top_level

pytestmark = pytest.mark.timeout(150)


def scrape(port: int) -> None:
    # Timed out after 5 s: the client gives up, its thread in the service does not.
    with contextlib.suppress(OSError):
        urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()


def alerted(world: World, count: int, service: Instance) -> bool:
    try:
        wait_until(lambda: len(top_level(world)) == count, "the next alert", [service], timeout=20)
    except pytest.fail.Exception:
        return False
    return True


def test_scrapes_waiting_on_a_locked_table_do_not_hold_up_the_polls(
    world: World, sockets: SocketModeFake, tmp_path: Path
) -> None:
    if world.store.backend != "postgresql":
        pytest.skip("a table lock of PostgreSQL's")
    port = free_port()
    news = newsroom(world, ["Mint", "FinanceBlog"])
    world.settings = {"ops": {"enabled": True, "port": port}}
    news.publish("Mint", "s01-a1")
    world.write_config()
    service = Instance(world, tmp_path / "run.log")
    engine = create_engine(world.store.url)
    try:
        wait_until(lambda: len(top_level(world)) == 1, "the alert", [service])
        with engine.connect() as other:
            other.execute(text("LOCK TABLE interactions IN ACCESS EXCLUSIVE MODE"))
            scrapers = [threading.Thread(target=scrape, args=(port,)) for _ in range(8)]
            for scraper in scrapers:
                scraper.start()
            time.sleep(1)  # the scrapes are in
            news.publish("FinanceBlog", "s05-a1")  # matches nothing of `interactions`
            polled_while_locked = alerted(world, 2, service)
            other.rollback()
        for scraper in scrapers:
            scraper.join()
        wait_until(lambda: len(top_level(world)) == 2, "the next alert, once unlocked", [service])
    finally:
        service.stop()
        engine.dispose()
    assert polled_while_locked
