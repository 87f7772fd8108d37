"""Fairness: one slow host's backlog, or one feed's, never holds up another host's article (issue 12).

Asserted as orders and counts of requests (the web servers log each one), never as durations.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import monitor.models
from monitor.gates import FairGate
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
