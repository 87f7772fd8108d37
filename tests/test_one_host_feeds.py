"""Many feeds on one host (issue 13, part 4): feed polls are limited per host without a delay between
starts, a host's 429/503 pauses all of its feeds, and article pages on the host stay paced.

Asserted as counts (requests in flight at the server, requests made, politeness waits), never as durations.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from monitor import metrics
from monitor.http.client import HostLimiter, HostPausedError
from tests.support.feeds import rss_feed
from tests.support.loopback import LoopbackServer
from tests.support.world import World, hours_ago

# How long a request waits at the server for the others to arrive (see FeedHost.gather): only a bound
# for a broken client, never reached when the client sends as many at once as it may.
GATHER_TIMEOUT_SECONDS = 3.0
PAGE = "<html><head><title>{n}</title></head><body><article>{text}</article></body></html>"
TEXT = "<p>The council met on Tuesday to discuss the new bus timetable for the northern districts.</p>" * 3


class FeedHost(LoopbackServer):
    """One host serving many feeds (/feed/N.xml, with an ETag, 304 to it) and pages (/page/N.html).

    Counts requests in flight at once (feeds and pages apart). `gather`: each request waits until that
    many feed requests are in flight at once (once reached, never again), so the count shows what the
    client allows, not how fast this machine happened to be. `status`/`headers`: what feeds answer.
    """

    def __init__(
        self, feed_body: str, *, gather: int = 0, status: int = 200, headers: dict[str, str] | None = None
    ):
        super().__init__()
        self.feed_body = feed_body.encode()
        self.gather = gather
        self.status = status
        self.headers = headers or {}
        self.lock = threading.Condition()
        self.in_flight: dict[str, int] = {"feed": 0, "page": 0}
        self.most_in_flight: dict[str, int] = {"feed": 0, "page": 0}
        self.requests: dict[str, int] = {"feed": 0, "page": 0}
        self.gathered = gather <= 1
        self.feed_arrivals: list[float] = []  # time.monotonic() of each feed request's arrival
        self.answer_after = 0.0  # seconds each feed request waits before its answer (a slow host)

    def feed_url(self, number: int) -> str:
        return f"{self.root_url}/feed/{number}.xml"

    def page_url(self, number: int) -> str:
        return f"{self.root_url}/page/{number}.html"

    def arrive(self, kind: str) -> None:
        with self.lock:
            self.requests[kind] += 1
            if kind == "feed":
                self.feed_arrivals.append(time.monotonic())
            self.in_flight[kind] += 1
            self.most_in_flight[kind] = max(self.most_in_flight[kind], self.in_flight[kind])
            if kind == "feed" and self.in_flight["feed"] >= self.gather:
                self.gathered = True
                self.lock.notify_all()
            if kind == "feed":
                self.lock.wait_for(lambda: self.gathered, timeout=GATHER_TIMEOUT_SECONDS)
                self.gathered = True  # waited once, in vain: the client sends fewer at once

    def leave(self, kind: str) -> None:
        with self.lock:
            self.in_flight[kind] -= 1


class OtherFeedHost(FeedHost):
    bind_address = "127.0.0.2"


class _FeedHostHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        host: FeedHost = self.server.owner  # type: ignore[attr-defined]
        kind = "feed" if self.path.startswith("/feed/") else "page"
        host.arrive(kind)
        try:
            if kind == "feed" and host.answer_after:
                time.sleep(host.answer_after)
            if kind == "page":
                number = self.path.rsplit("/", 1)[-1].split(".")[0]
                self._send(200, PAGE.format(n=number, text=TEXT).encode(), {"Content-Type": "text/html"})
            elif host.status != 200:
                self._send(host.status, b"slow down", {"Content-Type": "text/plain", **host.headers})
            elif self.headers.get("If-None-Match") == '"v1"':
                self._send(304, b"", {"ETag": '"v1"'})
            else:
                self._send(200, host.feed_body, {"Content-Type": "application/rss+xml", "ETag": '"v1"'})
        finally:
            host.leave(kind)

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


FeedHost.handler = _FeedHostHandler


def waits(request: str, reason: str) -> float:
    """How often per-host politeness has held back a request of this kind in this process so far."""
    value = metrics.REGISTRY.get_sample_value(
        "news_monitor_host_waits_total", {"request": request, "reason": reason}
    )
    return value or 0.0


OLD_ITEM = [{"title": "Old news", "link": "", "guid": "old", "pub_date": hours_ago(24 * 10)}]


def test_many_feeds_of_one_host_are_polled_at_once_without_a_delay(world: World) -> None:
    feeds = 200
    with FeedHost(rss_feed("Feed", OLD_ITEM), gather=8) as host:
        world.feeds = [{"url": host.feed_url(n)} for n in range(feeds)]
        # Article politeness as shipped (a start per second, 2 at once): feeds must not get it.
        world.settings["fetch"] = {"per_host_delay": "1s", "per_host_concurrency": 2, "timeout": "20s"}
        world.settings["poll"] = {"per_host_concurrency": 8}
        feed_delays = waits("feed", "delay")
        assert world.once() == 0
        assert host.requests["feed"] == feeds
        # 8 at once: the configured limit, reached (before: 2, and aiohttp's own cap of 6 per host) ...
        assert host.most_in_flight["feed"] == 8
        # ... and no forced delay between starts (before: a second each, 200 s for the cycle).
        assert waits("feed", "delay") == feed_delays
        states = world.store.rows("SELECT consecutive_failures, last_success_at FROM feeds")
        assert len(states) == feeds and all(s[0] == 0 and s[1] is not None for s in states)

        # The warm cycle: all unchanged, just as unhindered.
        host.gathered, host.most_in_flight["feed"] = False, 0
        world.store.execute("UPDATE feeds SET next_poll_at = NULL")
        assert world.once() == 0
        assert host.requests["feed"] == 2 * feeds
        assert host.most_in_flight["feed"] == 8
        assert waits("feed", "delay") == feed_delays


def test_a_429_with_retry_after_pauses_every_feed_of_the_host(world: World) -> None:
    limited_feeds, other_feeds = 60, 5
    retry_after = 3600
    body = rss_feed("Feed", OLD_ITEM)
    with (
        FeedHost(body, status=429, headers={"Retry-After": str(retry_after)}) as limited,
        OtherFeedHost(body) as other,
    ):
        limited_urls = [limited.feed_url(n) for n in range(limited_feeds)]
        other_urls = [other.feed_url(n) for n in range(other_feeds)]
        world.feeds = [{"url": url} for url in limited_urls + other_urls]
        # A small feed gate: the paused host's 60 feeds must not hold it while the other host's wait.
        world.settings["poll"] = {"per_host_concurrency": 4, "concurrency": 4}
        process = world.spawn("once")
        try:
            _, errors = process.communicate(timeout=45)
        except subprocess.TimeoutExpired:  # before the fix: every feed sat out the hour's pause
            process.kill()
            process.communicate()
            raise AssertionError(
                "`once` waited for the host's Retry-After instead of failing its feeds"
            ) from None
    # Only the requests already in flight when the first 429 came back: at most the per-host limit.
    assert limited.requests["feed"] <= 4, limited.requests
    assert other.requests["feed"] == other_feeds
    rows = world.store.rows("SELECT url, last_error, next_poll_at FROM feeds", datetimes=["next_poll_at"])
    by_url = {row[0]: row for row in rows}
    assert all(by_url[url][1] is None for url in other_urls)
    soonest = datetime.now(UTC) + timedelta(seconds=retry_after * 0.8)  # the jitter is at most 10 %
    for url in limited_urls:
        _, error, next_poll = by_url[url]
        assert error and ("429" in error or "Retry-After" in error), error
        assert next_poll > soonest, (error, next_poll)  # each feed asked again after the pause only
    not_requested = [row[1] for row in rows if row[1] and row[1].startswith("not requested")]
    assert len(not_requested) >= limited_feeds - 4
    assert "127.0.0.1 asked for a pause" in not_requested[0], errors
    # Said once for the host, not once per feed.
    assert len([line for line in errors.splitlines() if "host.paused host=127.0.0.1" in line]) == 1, errors


@pytest.mark.parametrize(
    ("status", "paused"),
    [
        (429, True),  # "too many requests" is about us: every feed of the host waits a minute
        (503, False),  # one broken feed (RSSHub answers a failing route so): the host's others go on
    ],
)
def test_without_retry_after_only_a_429_pauses_the_host(world: World, status: int, paused: bool) -> None:
    feeds = 30
    with FeedHost(rss_feed("Feed", OLD_ITEM), status=status) as host:
        world.feeds = [{"url": host.feed_url(n)} for n in range(feeds)]
        world.settings["poll"] = {"per_host_concurrency": 4}
        world.once()
    if paused:
        assert host.requests["feed"] <= 4, host.requests
    else:
        assert host.requests["feed"] == feeds


def test_a_short_pause_is_waited_out_by_the_host_s_other_feeds(world: World) -> None:
    feeds = 20
    with FeedHost(rss_feed("Feed", OLD_ITEM), status=429, headers={"Retry-After": "1"}) as host:
        world.feeds = [{"url": host.feed_url(n)} for n in range(feeds)]
        world.settings["poll"] = {"per_host_concurrency": 1}
        paused = waits("feed", "pause")

        first = threading.Event()

        def arrive(kind: str, original: Any = host.arrive) -> None:
            original(kind)
            if not first.is_set():
                first.set()
            else:
                host.status = 200  # only the first request is told to wait

        host.arrive = arrive  # type: ignore[method-assign]
        assert world.once() == 0
    # One feed was refused (429) and every other one waited for the pause, then was polled: none failed.
    assert host.requests["feed"] == feeds
    assert waits("feed", "pause") > paused
    errors = [row[0] for row in world.store.rows("SELECT last_error FROM feeds") if row[0]]
    assert len(errors) == 1 and "429" in errors[0], errors


def test_article_pages_on_the_feeds_host_stay_paced(world: World) -> None:
    pages = 3
    with FeedHost("") as host:
        items = [
            {"title": f"Bus {n}", "link": host.page_url(n), "guid": f"p{n}", "pub_date": hours_ago(1)}
            for n in range(pages)
        ]
        host.feed_body = rss_feed("Buses", items).encode()
        world.feeds = [{"url": host.feed_url(0)}]
        world.settings["fetch"] = {
            "per_host_delay": "0.5s",
            "per_host_concurrency": 1,
            "respect_robots_txt": False,
        }
        world.settings["poll"] = {"per_host_concurrency": 8}
        page_delays, feed_delays = waits("page", "delay"), waits("feed", "delay")
        assert world.once() == 0
    assert host.requests["page"] == pages
    assert host.most_in_flight["page"] == 1  # fetch.per_host_concurrency
    # Each page after the first waited for the host's delay; the feeds never did.
    assert waits("page", "delay") >= page_delays + 1
    assert waits("feed", "delay") == feed_delays


def test_a_host_s_many_feeds_do_not_hold_the_feed_gate_for_other_hosts(world: World) -> None:
    crowded_feeds = 100
    body = rss_feed("Feed", OLD_ITEM)
    with FeedHost(body) as crowded, OtherFeedHost(body) as other:
        crowded.answer_after = 0.05
        # The crowded host's feeds come first, and 2 of them fit in its host limit, of 4 gate slots.
        world.feeds = [{"url": crowded.feed_url(n)} for n in range(crowded_feeds)]
        world.feeds.append({"url": other.feed_url(0)})
        world.settings["poll"] = {"per_host_concurrency": 2, "concurrency": 4}
        assert world.once() == 0
    assert crowded.requests["feed"] == crowded_feeds and other.requests["feed"] == 1
    before_other = sum(arrival < other.feed_arrivals[0] for arrival in crowded.feed_arrivals)
    # The other host's feed took a free gate slot at once. Had the crowded host's feeds taken gate slots
    # before their host had room, they would have held all 4 and the other feed waited for ~96 of them.
    assert before_other < 20, before_other


def test_a_pause_from_any_request_holds_the_host_s_feeds_and_a_reload_changes_the_limit() -> None:
    async def scenario() -> tuple[float, int]:
        limiter = HostLimiter(concurrency=2, delay=0.0, feed_concurrency=2)
        limiter.pause("news.example", 3600)  # e.g. an article page's 429 with Retry-After: 3600
        with pytest.raises(HostPausedError) as refused:
            async with limiter.slot("news.example", feed=True):
                pass
        limiter.set_feed_concurrency(3)  # a live reload of poll.per_host_concurrency
        inside, most, release = 0, 0, asyncio.Event()

        async def poll() -> None:
            nonlocal inside, most
            async with limiter.slot("other.example", feed=True):
                inside += 1
                most = max(most, inside)
                await release.wait()
                inside -= 1

        tasks = [asyncio.create_task(poll()) for _ in range(5)]
        for _ in range(10):
            await asyncio.sleep(0)
        release.set()
        await asyncio.gather(*tasks)
        return refused.value.seconds_left, most

    seconds_left, most = asyncio.run(scenario())
    assert seconds_left > 3000
    assert most == 3
