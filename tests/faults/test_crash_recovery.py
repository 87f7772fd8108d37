"""Delivery guarantees of the real `news-monitor` process across SIGKILL, SIGTERM and a Slack outage.

What the README promises (Reliability), checked from the outside: every matching article alerts once; a
crash leaves unsent alerts in the outbox and the next start sends them; SIGTERM starts no new work, lets
the post in flight finish and exits. The one documented exception: a post Slack accepted just before the
process died, not yet recorded as sent, is posted once more, so a kill costs at most ONE duplicate.

The tests drive only the command line (`news-monitor --config PATH once|run`), the local feed server and
the Slack fake; never the storage or the delivery code, so they keep holding while those change.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from tests.support.feeds import rss_feed
from tests.support.prose import distinct_prose
from tests.support.slack_fake import SlackFake
from tests.support.store import Store
from tests.support.web_server import WebServer
from tests.support.world import REPO_ROOT, World, hours_ago, message_title

# One desk per feed: its own watchlist term and its own channel, so per-channel pacing (about 1 msg/s,
# SLACK.md §3.1) drains the desks side by side instead of queueing every alert on one channel.
DESKS = ("Alibaba", "Tencent", "Huawei", "Baidu", "Xiaomi")
CITIES = ("Hangzhou", "Shenzhen", "Beijing", "Shanghai", "Chengdu", "Wuhan", "Nanjing", "Suzhou", "Xiamen")
# A page of about 1.3 kB dripped at this rate takes half a second; eight at once (all pages are on one
# host, hence `per_host_concurrency`) make a cycle over 30 items last a few seconds, so kills land in it.
DRIP_BYTES_PER_SECOND = 2600
PAGES_AT_ONCE = 8
# 30 alerts at 1 msg/s per channel over 5 channels drain in 8-12 s, the cycle included. The deadline is
# generous for slow machines; a passing run never waits for it.
DRAIN_SECONDS = 45
# After the last expected alert arrived, keep watching this long for a late duplicate.
SETTLE_SECONDS = 2.0
# How long a test waits for a clean exit after SIGTERM. The service's own deadlines (the post in flight up
# to slack.timeout, 8 s, and running polls 5 s at the same time) keep it within Docker's 10 s; these tests
# check that it exits cleanly and repeats nothing, and wait far longer than those deadlines, so a busy
# machine (where a stop with a 6.5 s post in flight took over 8 s) cannot fail them.
STOP_SECONDS = 30


@dataclass(frozen=True)
class Story:
    """One feed item whose page, and only its page, names a watched company."""

    desk: int
    number: int

    @property
    def company(self) -> str:
        return DESKS[self.desk]

    @property
    def title(self) -> str:
        # Neither the title nor the feed summary names a watched term: only the fetched page matches, so
        # an item recorded from its feed summary (page not read, e.g. cut off at shutdown) shows as missing.
        return f"Desk {self.desk} story {self.number}: quarterly results"

    @property
    def path(self) -> str:
        return f"/desk{self.desk}/story-{self.number}.html"

    def page(self) -> str:
        city = CITIES[(self.desk * 3 + self.number) % len(CITIES)]
        # One templated sentence names the company; the rest is the story's own, so that stories of one
        # desk are told apart (a page that is mostly template would be one story told again).
        paragraphs = [
            f"{self.company} reported results for its unit number {self.desk * 100 + self.number} on "
            f"Tuesday, and analysts in {city} said the figures were better than expected.",
            distinct_prose(f"desk{self.desk}-story{self.number}", 150),
        ]
        body = "".join(f"<p>{text}</p>" for text in paragraphs)
        return (
            f"<html><head><title>{self.title}</title></head><body><article><h1>{self.title}</h1>"
            f"{body}</article></body></html>"
        )

    def item(self, web: WebServer) -> dict[str, object]:
        return {
            "title": self.title,
            "link": web.url(self.path),
            "guid": f"desk{self.desk}-{self.number}",
            "description": "<p>Read the full story on our site.</p>",
            "pub_date": hours_ago(1 + self.number / 10),
        }


def desk_channel(desk: int) -> str:
    return f"#desk-{DESKS[desk].lower()}"


def build_newsroom(
    world: World, *, feeds: int, items: int, serve: Callable[[Story], object] | None = None
) -> list[Story]:
    """`feeds` feeds (polled every 2 s) of `items` matching stories each; one desk per feed."""
    web, slack = world.web, world.slack
    serve = serve or (lambda story: web.add(story.path, story.page(), content_type="text/html"))
    world.watchlists = [
        {"name": f"desk-{DESKS[d].lower()}", "channel": desk_channel(d), "terms": [DESKS[d]]}
        for d in range(feeds)
    ]
    world.settings = {"fetch": {"per_host_concurrency": PAGES_AT_ONCE}}
    stories = []
    for desk in range(feeds):
        slack.add_channel(desk_channel(desk))
        desk_stories = [Story(desk, number) for number in range(items)]
        for story in desk_stories:
            serve(story)
        feed = rss_feed(f"Desk {desk}", [story.item(web) for story in desk_stories])
        world.add_feed(f"/desk{desk}/rss.xml", feed, interval="2s")
        stories += desk_stories
    return stories


def serve_all_fast(web: WebServer, stories: list[Story]) -> None:
    for story in stories:
        web.add(story.path, story.page(), content_type="text/html")


# --- the service as a process -------------------------------------------------------------------


class Service:
    """`news-monitor --config <world> COMMAND` as a real process.

    Its output goes to a log file, not a pipe: a pipe nobody reads fills up and stalls the service.
    """

    def __init__(self, world: World, command: str, log_path: Path):
        world.write_config()
        self.log_path = log_path
        self._log: IO[str] = log_path.open("a", encoding="utf-8")
        self._log.write(f"\n===== news-monitor {command} =====\n")
        self._log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(world.config_path), command],
            cwd=REPO_ROOT,
            env=world.environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no handler runs; whatever is not committed is lost."""
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self, timeout: float) -> tuple[int | None, float]:
        """SIGTERM, then wait up to `timeout`; returns (exit code, None if still running; seconds taken)."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code: int | None = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        return code, time.monotonic() - started

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def close(self) -> None:
        if self.alive():
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()

    def output(self) -> str:
        """The end of the log of every process of the test (they share one file)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-8000:]


Start = Callable[[World, str], Service]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    """`start(world, command)` runs the CLI; every process still running is killed at the end."""
    started: list[Service] = []

    def start_service(world: World, command: str) -> Service:
        service = Service(world, command, tmp_path / "service.log")
        started.append(service)
        return service

    yield start_service
    for service in started:
        service.close()


@pytest.fixture
def world(tmp_path: Path, web_server: WebServer, slack_fake: SlackFake, store: Store) -> World:
    return World(tmp_path, web_server, slack_fake, store)


def wait_until(condition: Callable[[], bool], seconds: float, service: Service | None = None) -> bool:
    """Poll `condition` until true or `seconds` pass; fail at once if the service exits meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        if service is not None and not service.alive():
            pytest.fail(f"the service exited early ({service.process.returncode}):\n{service.output()}")
        time.sleep(0.05)
    return condition()


def posted_titles(slack: SlackFake) -> Counter[str]:
    return Counter(message_title(message) for message in slack.messages())


def all_delivered(slack: SlackFake, stories: list[Story]) -> Callable[[], bool]:
    expected = {story.title for story in stories}
    return lambda: expected <= set(posted_titles(slack))


def delivery_problems(slack: SlackFake, stories: list[Story], allowed_duplicates: int) -> list[str]:
    """What is wrong with what Slack received: missing, unexpected, or more duplicates than allowed."""
    posted = posted_titles(slack)
    expected = {story.title for story in stories}
    problems = []
    missing = sorted(expected - set(posted))
    if missing:
        problems.append(f"{len(missing)} of {len(expected)} alerts never arrived: {missing}")
    unexpected = sorted(set(posted) - expected)
    if unexpected:
        problems.append(f"unexpected alerts: {unexpected}")
    duplicates = {title: count for title, count in posted.items() if count > 1}
    if sum(count - 1 for count in duplicates.values()) > allowed_duplicates:
        problems.append(f"at most {allowed_duplicates} duplicate(s) allowed, got {duplicates}")
    return problems


def stop_cleanly(service: Service) -> None:
    code, seconds = service.stop(STOP_SECONDS)
    assert code == 0, f"SIGTERM: exit code {code} after {seconds:.1f}s\n{service.output()}"


# --- a. SIGKILL at seeded moments, then restart ---------------------------------------------------


def kill_moment(kind: str, rng: random.Random, slack: SlackFake, service: Service) -> str:
    """Wait for a seeded moment of the given kind; return a description of it for failure messages.

    time       0.8-3 s after the start: usually before the first alert, while the first pages drip in
    messages   just after 1-12 more alerts arrived: mid-cycle, alerts recorded and waiting for pacing
    in_flight  while Slack holds a post it has already accepted (a slow reply): the documented window
    """
    if kind == "time":
        delay = rng.uniform(0.8, 3.0)
        time.sleep(delay)
        return f"{delay:.2f}s after the start"
    target = len(slack.messages()) + rng.randint(1, 12 if kind == "messages" else 4)
    assert wait_until(lambda: len(slack.messages()) >= target, 30, service), f"no message {target}"
    if kind == "messages":
        delay = rng.uniform(0.0, 0.5)
        time.sleep(delay)
        return f"{delay:.2f}s after message {target}"
    slow_before = sum(r["fault"] == "slow" for r in slack.requests("chat.postMessage"))
    slack.inject("chat.postMessage", "slow", seconds=4)  # Slack stores the next post, replies 4 s later
    took_it = wait_until(
        lambda: sum(r["fault"] == "slow" for r in slack.requests("chat.postMessage")) > slow_before,
        20,
        service,
    )
    assert took_it, "no post came to land in the window"
    delay = rng.uniform(0.1, 1.5)
    time.sleep(delay)
    return f"{delay:.2f}s into a post Slack accepted (after message {target})"


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("seed", "plan"),
    [(1, ("time",)), (2, ("messages", "in_flight")), (3, ("in_flight", "messages"))],
    ids=["early", "mid-cycle-then-in-flight", "in-flight-then-mid-cycle"],
)
def test_sigkill_then_restart_delivers_every_alert_with_at_most_one_duplicate_per_kill(
    world: World, start: Start, seed: int, plan: tuple[str, ...]
) -> None:
    rng = random.Random(seed)
    web = world.web
    stories = build_newsroom(
        world,
        feeds=5,
        items=6,
        serve=lambda s: web.slow_drip(s.path, s.page(), bytes_per_second=DRIP_BYTES_PER_SECOND),
    )
    world.settings["slack"] = {"min_post_interval": "1s"}  # the production pacing: alerts queue up
    moments = []
    for kind in plan:
        service = start(world, "run")
        moments.append(kill_moment(kind, rng, world.slack, service))
        assert service.alive(), f"the service exited before the kill:\n{service.output()}"
        service.kill()
    survivor = start(world, "run")
    wait_until(all_delivered(world.slack, stories), DRAIN_SECONDS, survivor)
    time.sleep(SETTLE_SECONDS)
    stop_cleanly(survivor)

    problems = delivery_problems(world.slack, stories, allowed_duplicates=len(plan))
    assert not problems, f"killed at {moments}: " + "; ".join(problems) + f"\n{survivor.output()}"


# --- b. SIGTERM while pages and Slack are slow --------------------------------------------------


@pytest.mark.timeout(120)
def test_sigterm_with_slow_pages_and_a_post_in_flight_exits_promptly_and_restart_sends_the_rest(
    world: World, start: Start
) -> None:
    web, slack = world.web, world.slack
    slow_pages = {(desk, number) for desk in range(3) for number in (1, 3)}

    def serve(story: Story) -> None:
        # Half the pages trickle in over a minute: their fetch is in flight when SIGTERM arrives.
        if (story.desk, story.number) in slow_pages:
            web.slow_drip(story.path, story.page(), bytes_per_second=20)
        else:
            web.add(story.path, story.page(), content_type="text/html")

    stories = build_newsroom(world, feeds=3, items=4, serve=serve)
    world.settings["fetch"]["timeout"] = "90s"  # the slow pages are slow, not broken
    # Slack stores the first post and replies 4 s later, so the other fast stories queue behind it.
    slack.inject("chat.postMessage", "slow", seconds=4)

    service = start(world, "run")
    assert wait_until(lambda: bool(slack.requests("chat.postMessage")), 30, service), service.output()
    post_started = time.monotonic()
    slow_paths = [story.path for story in stories if (story.desk, story.number) in slow_pages]
    assert wait_until(lambda: all(web.hits(path) for path in slow_paths), 10, service), service.output()
    time.sleep(max(0.0, 1.0 - (time.monotonic() - post_started)))  # aim at 1 s into the 4 s reply
    code, seconds = service.stop(STOP_SECONDS)
    assert code == 0, f"SIGTERM: exit code {code} after {seconds:.1f}s\n{service.output()}"

    serve_all_fast(web, stories)  # the site is fast again
    restarted = start(world, "run")
    wait_until(all_delivered(slack, stories), DRAIN_SECONDS, restarted)
    time.sleep(SETTLE_SECONDS)
    stop_cleanly(restarted)

    problems = delivery_problems(slack, stories, allowed_duplicates=0)
    assert not problems, "; ".join(problems) + f"\n{restarted.output()}"


@pytest.mark.timeout(120)
def test_sigterm_lets_a_slow_post_finish_so_the_restart_does_not_repeat_it(
    world: World, start: Start
) -> None:
    slack = world.slack
    stories = build_newsroom(world, feeds=1, items=3)
    # slack.timeout (8 s by default) bounds the post; SIGTERM waits for it to finish.
    slack.inject("chat.postMessage", "slow", seconds=6.5)  # stored at once, answered 6.5 s later

    service = start(world, "run")
    assert wait_until(lambda: bool(slack.requests("chat.postMessage")), 30, service), service.output()
    time.sleep(0.5)
    code, seconds = service.stop(STOP_SECONDS)
    assert code == 0, f"SIGTERM: exit code {code} after {seconds:.1f}s\n{service.output()}"

    restarted = start(world, "run")
    wait_until(all_delivered(slack, stories), DRAIN_SECONDS, restarted)
    time.sleep(SETTLE_SECONDS)
    stop_cleanly(restarted)
    problems = delivery_problems(slack, stories, allowed_duplicates=0)
    assert not problems, "; ".join(problems) + f"\n{restarted.output()}"


# --- c. Slack down for a whole cycle, then back ---------------------------------------------------


@pytest.mark.timeout(120)
def test_slack_down_for_a_cycle_then_back_delivers_everything_once(world: World, start: Start) -> None:
    stories = build_newsroom(world, feeds=2, items=3)
    slack = world.slack
    for method in ("chat.postMessage", "auth.test"):
        for _ in range(50):  # an outage that looks different from call to call
            slack.inject(method, "http_503_html", times=2)
            slack.inject(method, "drop_connection", times=2)

    down = start(world, "once")
    assert down.wait(timeout=90) == 0, down.output()
    assert slack.messages() == []
    assert slack.requests("chat.postMessage"), "the cycle never tried to post, so the outage proves nothing"

    # Slack is back: no faults left, and a clean record of what arrives from now on. The next `once`
    # (right away: a Slack outage is not each alert's backoff) sends everything.
    slack.reset()
    back = start(world, "once")
    assert back.wait(timeout=90) == 0, back.output()
    problems = delivery_problems(slack, stories, allowed_duplicates=0)
    assert not problems, "; ".join(problems) + f"\n{back.output()}"
