"""Three `news-monitor run` processes on one store, one of them killed with SIGKILL mid-cycle.

What the issue asks of a fleet, checked at the local servers: every expected alert reaches the Slack
fake exactly once, and no feed is requested twice within its interval, even across the takeover of the
dead instance's feeds (a feed claim is held for 90 % of the feed's interval, the earliest its next poll
may come, even when the lease, set here shorter, has run out). `status` then shows the two instances
alive and the dead one silent.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.feeds import rss_feed
from tests.support.prose import distinct_prose
from tests.support.slack_fake import SlackFake
from tests.support.store import Store
from tests.support.web_server import WebServer
from tests.support.world import World, hours_ago, message_title

FEEDS = 12
INTERVAL = 10.0  # seconds, each feed's own interval
LEASE = 4.0  # seconds: shorter than the interval, so a takeover must wait for the feed's hold
JITTER = 0.1  # feed_schedule.JITTER_SHARE: a next poll comes up to 10 % early


def article_page(n: int) -> str:
    lead = f"<p>Alibaba's chip unit T-Head delivered order {n} to a customer, the company said.</p>"
    return f"<html><body><article>{lead}<p>{distinct_prose(f'fleet-{n}', 120)}</p></article></body></html>"


def build_world(tmp_path: Path, web_server: WebServer, slack_fake: SlackFake, store: Store) -> World:
    world = World(tmp_path, web_server, slack_fake, store)
    for n in range(FEEDS):
        page = web_server.add(f"/fleet/{n}.html", article_page(n), content_type="text/html")
        dull = web_server.add(f"/fleet/{n}-dull.html", "<html><body><p>Weather.</p></body></html>",
                              content_type="text/html")  # fmt: skip
        items = [
            {"title": f"T-Head order {n}", "link": page, "guid": f"{n}-a", "pub_date": hours_ago(1)},
            {"title": f"Weather {n}", "link": dull, "guid": f"{n}-b", "pub_date": hours_ago(1)},
        ]
        world.add_feed(f"/fleet/{n}.xml", rss_feed(f"Outlet {n}", items), name=f"Outlet {n}",
                       interval=f"{INTERVAL:g}s")  # fmt: skip
    # Pages of one host, 0.3 s apart per instance: a cycle lasts a few seconds, long enough to die in.
    world.settings = {
        "fetch": {"per_host_delay": "0.3s"},
        "fleet": {"lease": f"{LEASE:g}s"},
        "poll": {"adaptive": False},
    }
    return world


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, fleet: list[subprocess.Popen[str]]
) -> None:
    """Wait for `condition`; fail at once, with its stderr, if an instance not killed exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        for process in fleet:
            if process.poll() not in (None, -signal.SIGKILL):
                pytest.fail(f"an instance exited ({process.returncode}): {process.communicate()[1]}")
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def stop_all(fleet: list[subprocess.Popen[str]]) -> None:
    for process in fleet:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def feed_holders(store: Store) -> Counter[int]:
    """How many feeds each instance (by pid) holds a live claim on now."""
    rows = store.rows(
        "SELECT i.pid FROM feed_claims c JOIN instances i ON i.id = c.claimed_by",
    )
    return Counter(pid for (pid,) in rows)


def request_times(web_server: WebServer, path: str) -> list[float]:
    return sorted(request["time"] for request in web_server.requests(path))


@pytest.mark.timeout(150)
def test_three_instances_share_the_feeds_and_survive_one_killed_mid_cycle(
    tmp_path: Path, web_server: WebServer, slack_fake: SlackFake, store: Store
) -> None:
    world = build_world(tmp_path, web_server, slack_fake, store)
    assert world.run_cli("migrate") == 0  # the operator's step; on SQLite `run` would do it too
    fleet = [world.spawn("run") for _ in range(3)]
    victim: subprocess.Popen[str] | None = None
    try:
        # Kill, mid-cycle, an instance that holds feeds and has not finished them. All three have joined
        # first: an instance starting later on this host would free a dead one's leases at once (it
        # cannot be polling any more), which is the restart case, not the takeover tested here.
        joined = lambda: len(store.rows("SELECT id FROM instances")) == 3  # noqa: E731
        wait_for(
            lambda: joined() and bool(feed_holders(store)), 30, "three instances, one holding feeds", fleet
        )
        holders = feed_holders(store)
        victim = next(p for p in fleet if p.pid in holders)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        killed_at = time.time()
        survivors = [p for p in fleet if p is not victim]
        expected = sorted(f"T-Head order {n}" for n in range(FEEDS))
        wait_for(lambda: len(world.top_level()) >= FEEDS, 4 * INTERVAL, "every alert", fleet)
        # Keep polling past the takeover (the hold after the claim) until every feed was polled again
        # after it, so polls repeated too early would show.
        polled_twice = lambda: all(  # noqa: E731
            len(request_times(web_server, f"/fleet/{n}.xml")) >= 2 for n in range(FEEDS)
        )
        wait_for(polled_twice, 5 * INTERVAL, "every feed to be polled twice", fleet)
        assert world.run_cli("status", "--json") == 0
        for process in survivors:
            process.send_signal(signal.SIGTERM)
        for process in survivors:
            _, stderr = process.communicate(timeout=30)
            assert process.returncode == 0, stderr
    finally:
        stop_all(fleet)

    # Every expected alert arrived exactly once, and nothing else did.
    assert sorted(message_title(m) for m in world.top_level()) == expected
    # No feed was requested twice within its interval (the jitter may bring a poll 10 % early, and the
    # scheduler ticks once a second), not even when its poller died and another took over.
    shortest = INTERVAL * (1 - JITTER) - 0.5
    for n in range(FEEDS):
        times = request_times(web_server, f"/fleet/{n}.xml")
        relative = [round(t - killed_at, 2) for t in times]
        assert len(times) >= 2, f"feed {n} was polled once only, at {relative} s from the kill"
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert min(gaps) >= shortest, f"feed {n} polled twice within its interval: gaps {gaps}"
    # Every matching article page was fetched, and none more than twice (a second time only if the
    # dead instance fetched it and died before recording it).
    for n in range(FEEDS):
        assert 1 <= len(request_times(web_server, f"/fleet/{n}.html")) <= 2


def log_counts(stderr: str, event: str, key: str) -> int:
    """The sum of `key=N` over the log lines of `event` in a process's stderr."""
    lines = [line for line in stderr.splitlines() if f" {event} " in f" {line} "]
    return sum(int(line.split(f" {key}=", 1)[1].split()[0]) for line in lines if f" {key}=" in line)


@pytest.mark.timeout(150)
def test_the_items_a_killed_instance_was_reading_are_taken_over_when_its_lease_runs_out(
    tmp_path: Path, web_server: WebServer, slack_fake: SlackFake, store: Store
) -> None:
    world = World(tmp_path, web_server, slack_fake, store)
    feeds = 4
    for n in range(feeds):
        # Each page takes about 2 s to arrive: long enough to kill an instance while it reads them.
        body = article_page(n)
        page = web_server.slow_drip(f"/slow/{n}.html", body, bytes_per_second=len(body) / 2,
                                    content_type="text/html")  # fmt: skip
        items = [{"title": f"T-Head order {n}", "link": page, "guid": f"{n}-a", "pub_date": hours_ago(1)}]
        # A long interval: a feed polled again within the test would be a bug, so every alert of the
        # killed instance must come from taking over the items it held.
        world.add_feed(f"/slow/{n}.xml", rss_feed(f"Outlet {n}", items), name=f"Outlet {n}", interval="10m")
    world.settings = {
        "fleet": {"lease": "3s"},
        "poll": {"adaptive": False},
        "fetch": {"per_host_concurrency": 8},  # every page requested at once
    }
    assert world.run_cli("migrate") == 0
    fleet = [world.spawn("run") for _ in range(3)]
    try:
        joined = lambda: len(store.rows("SELECT id FROM instances")) == 3  # noqa: E731
        # Every page is being read (none has arrived yet) by the instances that polled the feeds, which
        # hold the feeds until their polls are recorded.
        reading = lambda: all(web_server.hits(f"/slow/{n}.html") for n in range(feeds))  # noqa: E731
        # (The claims are read in the wait too: one full run, on a busy machine, found none in a read
        # made right after it, which this test's own reasoning says cannot be; not reproduced since.)
        holding = lambda: bool(feed_holders(store))  # noqa: E731
        wait_for(lambda: joined() and reading() and holding(), 60, "three instances reading the new pages",
                 fleet)  # fmt: skip
        [(victim_pid, held)] = feed_holders(store).most_common(1)
        victim = next(p for p in fleet if p.pid == victim_pid)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        survivors = [p for p in fleet if p is not victim]
        # Measured: about 8 s (a 3 s lease, then 2 s per page); this bound only stops a hung test.
        wait_for(lambda: len(world.top_level()) >= feeds, 90, "every alert", fleet)
        for process in survivors:
            process.send_signal(signal.SIGTERM)
        logs = []
        for process in survivors:
            _, stderr = process.communicate(timeout=30)
            assert process.returncode == 0, stderr
            logs.append(stderr)
    finally:
        stop_all(fleet)

    assert sorted(world.titles_posted()) == sorted(f"T-Head order {n}" for n in range(feeds))
    # Not one feed was requested again: the killed instance's alerts came from the items it held ...
    assert [len(request_times(web_server, f"/slow/{n}.xml")) for n in range(feeds)] == [1] * feeds
    # ... which the survivors took over once their leases ran out (nothing else frees a live claim
    # here: nobody restarted on this host), each read and matched once more.
    assert sum(log_counts(stderr, "fleet.took_over", "items") for stderr in logs) == held
    assert sum(stderr.count("fleet.item_read") for stderr in logs) == held
    assert sum(stderr.count("outcome=matched") for stderr in logs) == held
    assert store.rows("SELECT id FROM item_claims") == []  # nothing left behind


def test_status_shows_the_instances_alive_and_the_dead_one_silent(
    tmp_path: Path,
    web_server: WebServer,
    slack_fake: SlackFake,
    store: Store,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = build_world(tmp_path, web_server, slack_fake, store)
    world.settings["fleet"] = {"lease": "3s"}
    assert world.run_cli("migrate") == 0
    fleet = [world.spawn("run") for _ in range(2)]
    try:
        wait_for(lambda: len(store.rows("SELECT id FROM instances")) == 2, 30, "two instances", fleet)
        os.kill(fleet[0].pid, signal.SIGKILL)
        fleet[0].wait(timeout=10)
        time.sleep(3.5)  # longer than a lease: the dead one has not been seen for that long
        capsys.readouterr()
        assert world.run_cli("status", "--json") == 0
        instances = {i["pid"]: i for i in json.loads(capsys.readouterr().out)["instances"]}
        assert instances[fleet[0].pid]["state"].startswith("silent")
        assert instances[fleet[1].pid]["state"] == "alive"
        assert world.run_cli("status") == 0
        table = capsys.readouterr().out
        assert "INSTANCES" in table and f":{fleet[1].pid}:" in table
    finally:
        stop_all(fleet)
