"""Fairness: one slow host's backlog, or one feed's, never holds up another host's article (issue 12).

Asserted as orders and counts of requests (the web servers log each one), never as durations.
"""

from __future__ import annotations

import asyncio
import contextlib
import selectors
import socket
import threading
import time
from typing import Any

import pytest

import monitor.models
from monitor.pipeline.gates import FairGate
from monitor.pipeline.page_reading import PAGE_FETCH_SHARE
from tests.support.feeds import rss_feed
from tests.support.web_server import WebServer
from tests.support.world import World, hours_ago


class OtherHostServer(WebServer):
    """A WebServer on 127.0.0.2: another host for per-host politeness, on the same machine."""

    bind_address = "127.0.0.2"


PAGE = "<html><head><title>{title}</title></head><body><article>{text}</article></body></html>"
TEXT = "<p>The council met on Tuesday to discuss the new bus timetable for the northern districts.</p>" * 3


def add_page(server: WebServer, path: str, title: str) -> str:
    return server.add(path, PAGE.format(title=title, text=TEXT), content_type="text/html")


def test_a_slow_host_s_backlog_does_not_delay_another_host_s_article(world: World) -> None:
    backlog = 110  # more than the 64 page-fetch slots: before the fix they all waited for their turn
    slow_items = [
        {"title": f"Bus {n}", "link": add_page(world.web, f"/slow/{n}", f"Bus {n}"), "guid": f"s{n}",
         "pub_date": hours_ago(1)}
        for n in range(backlog)
    ]  # fmt: skip
    world.add_feed("/slow.xml", rss_feed("Slow", slow_items))
    with OtherHostServer() as other:
        link = add_page(other, "/other/1", "Trains")
        # The other feed arrives a little later (a slow drip), when the slow host's queue has formed.
        feed = rss_feed("Other", [{"title": "Trains", "link": link, "guid": "o1", "pub_date": hours_ago(1)}])
        world.feeds.append({"url": other.slow_drip("/other.xml", feed, bytes_per_second=len(feed) * 4)})
        world.settings["fetch"] = {"per_host_delay": "0.05s", "per_host_concurrency": 1}
        world.settings["fetch"]["respect_robots_txt"] = False
        world.once()
        fetched_at = other.requests("/other/1")[0]["time"]
    slow_starts = [r["time"] for r in world.web.requests() if r["path"].startswith("/slow/")]
    assert len(slow_starts) == backlog
    before = sum(start < fetched_at for start in slow_starts)
    # Fair: about as many as the slow host fits in the drip's quarter second (0.05 s apart). Before
    # the fix the other article waited for a free slot: for at least 110 - 64 of the slow ones.
    assert before < 20, before


def grant_order(capacity: int, waiters: list[str]) -> list[str]:
    """The keys in the order a full FairGate lets their waiters in (all queued before the first release)."""

    async def scenario() -> list[str]:
        gate, order, release = FairGate(capacity), [], asyncio.Event()

        async def hold() -> None:
            async with gate.slot("holder"):
                await release.wait()

        async def wait(key: str) -> None:
            async with gate.slot(key):
                order.append(key)

        holders = [asyncio.create_task(hold()) for _ in range(capacity)]
        await asyncio.sleep(0)
        tasks = [asyncio.create_task(wait(key)) for key in waiters]
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(*holders, *tasks)
        return order

    return asyncio.run(scenario())


def test_a_full_gate_serves_the_keys_in_turn() -> None:
    order = grant_order(2, ["big"] * 50 + ["small"] + ["other"] * 2)
    assert len(order) == 53
    assert order.index("small") <= 2  # not behind the 50 of "big" queued before it
    assert order[:6] == ["big", "small", "other", "big", "other", "big"]


def test_a_gate_with_free_slots_lets_everyone_in_at_once() -> None:
    assert grant_order(1, []) == []

    async def scenario() -> int:
        gate = FairGate(3)
        async with gate.slot("a"), gate.slot("a"), gate.slot("b"):
            return gate.waiting

    assert asyncio.run(scenario()) == 0


def test_a_waiter_that_gives_up_leaves_its_place_to_the_next() -> None:
    async def scenario() -> list[str]:
        gate, order = FairGate(1), []

        async def wait(key: str) -> None:
            async with gate.slot(key):
                order.append(key)

        async with gate.slot("holder"):
            quitter = asyncio.create_task(wait("quitter"))
            stayer = asyncio.create_task(wait("stayer"))
            await asyncio.sleep(0)
            quitter.cancel()
        await asyncio.gather(quitter, stayer, return_exceptions=True)
        return order

    assert asyncio.run(scenario()) == ["stayer"]


def test_feed_summaries_are_cleaned_off_the_event_loop(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[threading.Thread] = []
    real = monitor.models.html_to_text

    def recording(html: str, **options: Any) -> str:
        threads.append(threading.current_thread())
        return real(html, **options)

    monkeypatch.setattr(monitor.models, "html_to_text", recording)
    summary = "<p>The council met on <b>Tuesday</b>.</p>" * 50
    items = [{"title": "Buses", "link": "", "guid": "1", "pub_date": hours_ago(1), "description": summary}]
    world.add_feed("/feed.xml", rss_feed("Feed", items))
    world.once()  # in this thread: its event loop runs here
    assert threads and threading.current_thread() not in threads


def test_one_key_holds_at_most_its_share_and_a_newcomer_gets_a_free_slot() -> None:
    async def scenario() -> tuple[int, list[str]]:
        gate, order, release = FairGate(4, share=2), [], asyncio.Event()

        async def hold(key: str) -> None:
            async with gate.slot(key):
                order.append(key)
                await release.wait()

        greedy = [asyncio.create_task(hold("greedy")) for _ in range(10)]
        await asyncio.sleep(0)
        newcomer = asyncio.create_task(hold("newcomer"))
        await asyncio.sleep(0)
        granted = list(order)  # before any slot is given back
        release.set()
        await asyncio.gather(*greedy, newcomer)
        return gate.waiting, granted

    waiting, granted = asyncio.run(scenario())
    assert granted == ["greedy", "greedy", "newcomer"]
    assert waiting == 0


class SilentHosts:
    """Listeners on many loopback addresses that accept connections and never answer, until released."""

    def __init__(self, count: int):
        self.listeners = []
        for n in range(count):
            listener = socket.socket()
            listener.bind((f"127.0.1.{n + 1}", 0))
            listener.listen(64)
            listener.setblocking(False)
            self.listeners.append(listener)
        self.accepted: list[socket.socket] = []
        self.released = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def url(self, n: int, path: str) -> str:
        host, port = self.listeners[n].getsockname()
        return f"http://{host}:{port}{path}"

    def _accept(self) -> None:
        selector = selectors.DefaultSelector()
        for listener in self.listeners:
            selector.register(listener, selectors.EVENT_READ)
        while not self.released.is_set():
            for key, _ in selector.select(timeout=0.1):
                with contextlib.suppress(OSError):
                    self.accepted.append(key.fileobj.accept()[0])  # type: ignore[union-attr]
        selector.close()

    def release(self) -> None:
        """Close everything: the client's requests fail at once instead of waiting for its timeout."""
        self.released.set()
        self._thread.join()
        for sock in [*self.listeners, *self.accepted]:
            sock.close()


def test_a_feed_of_links_to_silent_hosts_does_not_hold_up_another_feed(world: World) -> None:
    # The review of issue 12: 300 links to hosts that accept and never answer held every connection with
    # their robots.txt requests (which took no page-fetch slot) for a whole fetch timeout.
    silent = SilentHosts(120)
    try:
        items = [
            {
                "title": f"Bus {n}",
                "link": silent.url(n, f"/bus/{n}"),
                "guid": f"s{n}",
                "pub_date": hours_ago(1),
            }
            for n in range(120)
        ]
        world.add_feed("/silent.xml", rss_feed("Silent", items))
        with OtherHostServer() as other:
            link = add_page(other, "/other/1", "Trains")
            feed = rss_feed(
                "Other", [{"title": "Trains", "link": link, "guid": "o1", "pub_date": hours_ago(1)}]
            )
            # The other feed comes after the silent hosts have taken what they can (a slow drip).
            world.feeds.append({"url": other.slow_drip("/other.xml", feed, bytes_per_second=len(feed) * 2)})
            world.settings["fetch"] = {"timeout": "120s"}

            def release_when_served() -> None:
                # Generous: the other article came within a second here; before the fix, never, until the
                # silent hosts' requests timed out.
                deadline = time.monotonic() + 30
                while not other.requests("/other/1") and time.monotonic() < deadline:
                    time.sleep(0.05)
                served_while_held.append(bool(other.requests("/other/1")))
                silent.release()

            served_while_held: list[bool] = []
            releaser = threading.Thread(target=release_when_served)
            releaser.start()
            world.once()
            releaser.join()
        assert served_while_held == [True]
        assert len(silent.accepted) <= PAGE_FETCH_SHARE  # one feed took at most its share of connections
    finally:
        if not silent.released.is_set():
            silent.release()
