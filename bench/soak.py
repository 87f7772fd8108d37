"""A bounded soak of `news-monitor run` under publishing, faults, kills and restarts, all on 127.0.0.1.

    python bench/soak.py [--minutes 2] [--seed 1] [--feeds 6] [--keep]

A local world runs in this process: a WebServer for feeds and pages and a SlackFake with Slack's rate
limit (1 msg/s per channel, burst 3). Beside the service, four threads:

- publisher   adds items to the feeds at random moments: stories that match a watchlist, stories that
              do not, matching stories too old for `poll.max_age`, and copies of earlier stories at new
              URLs (same text: the service must alert once per story);
- faults      Slack 429 bursts (the fake's clock stops, so its rate buckets, burst 1, do not refill),
              503s, dropped connections and slow replies (shorter than the client timeout, so never a
              lost reply);
              feeds answering 500 for a few seconds; pages are published slow (dripped) or missing (404);
- supervisor  runs `news-monitor run` as a subprocess and SIGKILLs or SIGTERMs and restarts it;
- a hard stop after minutes + 1: whatever is running is killed and the soak fails.

Faults stop 30 s before publishing does (QUIET_TAIL_SECONDS explains why); kills go on to the end.

Then publishing stops, the service drains (up to 60 s), is stopped with SIGTERM, and a table compares
what Slack received with what was published. Titles and feed summaries name no watched term unless said
so: only the page (or, for a missing page, a summary that names the company) can match. Exit code 0 when
no expected alert is missing and there are no more duplicates than SIGKILLs (README: one per crash).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root, for `tests.support.*`

from tests.support.feeds import rss_feed
from tests.support.prose import distinct_prose
from tests.support.slack_fake import SlackFake
from tests.support.web_server import WebServer
from tests.support.world import REPO_ROOT, World, message_title

DESKS = {"Alibaba": "#desk-alibaba", "Tencent": "#desk-tencent", "Huawei": "#desk-huawei"}
OTHERS = ("Samsung", "Siemens", "Nokia", "Toyota")
CITIES = ("Hangzhou", "Shenzhen", "Beijing", "Shanghai", "Seoul", "Munich", "Espoo", "Nagoya")
MAX_AGE_DAYS = 3
FEED_INTERVAL = "3s"
# Bounds the whole of a page fetch and of a Slack call (the service uses fetch.timeout for both).
CLIENT_TIMEOUT_SECONDS = 6
# What each published item is, with its weight.
ITEM_KINDS = {"match": 45, "no_match": 25, "old_match": 8, "copy": 22}
# How a new page is served: slow ones finish well inside the timeout; missing ones are 404.
PAGE_MODES = {"ok": 75, "slow": 15, "missing": 10}
SLACK_FAULTS = ("slack_429_burst", "slack_503", "slack_drop", "slack_slow")
DRAIN_SECONDS = 60
SETTLE_SECONDS = 3.0
# Faults stop this long before publishing does. Injected faults hit the next calls, however late they
# come, and every transient failure doubles an alert's backoff (10 s, 20 s, 40 s ...; README): without a
# quiet tail, the last faults leave alerts waiting out a backoff longer than the drain, which would count
# as missing although nothing is lost.
QUIET_TAIL_SECONDS = 30
STOP_TIMEOUT_SECONDS = 15.0


def weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class SoakClock:
    """The SlackFake's clock: frozen during a 429 burst, so its per-channel buckets stop refilling."""

    def __init__(self) -> None:
        self.frozen_at: float | None = None

    def __call__(self) -> float:
        return self.frozen_at if self.frozen_at is not None else time.time()

    def freeze(self) -> None:
        self.frozen_at = time.time()

    def thaw(self) -> None:
        self.frozen_at = None


# --- what is published ---------------------------------------------------------------------------


@dataclass
class Story:
    number: int
    company: str
    published: datetime
    page_mode: str
    summary_names_company: bool
    copies: int = 0

    @property
    def title(self) -> str:
        return f"Wire story {self.number:04d}: quarterly update"

    @property
    def matching(self) -> bool:
        return self.company in DESKS

    @property
    def fresh(self) -> bool:
        return datetime.now(UTC) - self.published < timedelta(days=MAX_AGE_DAYS)

    @property
    def expected(self) -> bool:
        """Alerts once: it matches, is young enough, and its page or its summary names the company."""
        readable = self.page_mode != "missing" or self.summary_names_company
        return self.matching and self.fresh and readable

    def page(self) -> str:
        city = CITIES[self.number % len(CITIES)]
        # One templated sentence names the company; the rest is the story's own, so that the stories
        # are told apart (pages that are mostly template would be one story told again and again).
        paragraphs = [
            f"{self.company} reported results for unit {self.number} on Tuesday, and analysts in {city} "
            "said the figures were better than they had expected.",
            distinct_prose(f"wire-{self.number}", 150),
        ]
        body = "".join(f"<p>{text}</p>" for text in paragraphs)
        return f"<html><head><title>{self.title}</title></head><body><article>{body}</article></body></html>"

    def summary(self) -> str:
        if self.summary_names_company:
            return f"<p>{self.company} reported quarterly results for unit {self.number}.</p>"
        return "<p>Read the full story on our site.</p>"


@dataclass
class Feed:
    path: str
    items: list[dict[str, Any]] = field(default_factory=list)
    broken: bool = False  # answering 500 for now


class Newsroom:
    """The feeds and pages on the WebServer, and a record of everything published."""

    def __init__(self, world: World, feeds: int, rng: random.Random):
        self.web = world.web
        self.rng = rng
        self.lock = threading.Lock()
        self.stories: list[Story] = []
        self.published: Counter[str] = Counter()
        self.page_faults: Counter[str] = Counter()
        self.feeds = [Feed(f"/news{index}/rss.xml") for index in range(feeds)]
        for feed in self.feeds:
            world.add_feed(feed.path, self._render(feed), interval=FEED_INTERVAL)

    def publish_one(self) -> None:
        kind = weighted(self.rng, ITEM_KINDS)
        with self.lock:
            # Only stories whose own page was readable get copies: a copy of a story alerted from its
            # feed summary has other text, and would rightly alert as a different article.
            originals = [s for s in self.stories if s.matching and s.fresh and s.page_mode != "missing"]
            if kind == "copy" and originals:
                self._publish_copy(self.rng.choice(originals))
            else:
                self._publish_story("no_match" if kind == "copy" else kind)

    def _publish_story(self, kind: str) -> None:
        number = len(self.stories) + 1
        company = self.rng.choice(list(DESKS) if kind != "no_match" else OTHERS)
        age = timedelta(days=self.rng.uniform(4, 9)) if kind == "old_match" else self._fresh_age()
        mode = weighted(self.rng, PAGE_MODES)
        story = Story(number, company, datetime.now(UTC) - age, mode, self.rng.random() < 0.5)
        self.stories.append(story)
        self.published[kind] += 1
        path = f"/story/{number}.html"
        self._serve(story, path, mode)
        self._add_item(story, path, guid=f"story-{number}")

    def _publish_copy(self, story: Story) -> None:
        """The same article at a new URL, on any feed (a wire copy): it must not alert again."""
        story.copies += 1
        self.published["copy"] += 1
        path = f"/wire/{story.number}-{story.copies}.html"
        self._serve(story, path, "slow" if self.rng.random() < 0.2 else "ok")
        self._add_item(story, path, guid=f"wire-{story.number}-{story.copies}")

    def _fresh_age(self) -> timedelta:
        return timedelta(minutes=self.rng.uniform(0, 120))

    def _serve(self, story: Story, path: str, mode: str) -> None:
        if mode == "missing":
            self.page_faults["page_404"] += 1
            return  # never added: 404
        if mode == "slow":
            self.page_faults["page_slow"] += 1
            seconds = self.rng.uniform(0.5, 2.0)
            self.web.slow_drip(path, story.page(), bytes_per_second=len(story.page()) / seconds)
        else:
            self.web.add(path, story.page(), content_type="text/html")

    def _add_item(self, story: Story, path: str, guid: str) -> None:
        feed = self.rng.choice(self.feeds)
        item = {"title": story.title, "link": self.web.url(path), "guid": guid}
        feed.items.append({**item, "description": story.summary(), "pub_date": story.published})
        if not feed.broken:
            self.web.add(feed.path, self._render(feed), content_type="application/rss+xml")

    def break_feed(self, feed: Feed) -> None:
        with self.lock:
            feed.broken = True
            self.web.add(feed.path, "<h1>Internal Server Error</h1>", status=500, content_type="text/html")

    def mend_feed(self, feed: Feed) -> None:
        with self.lock:
            feed.broken = False
            self.web.add(feed.path, self._render(feed), content_type="application/rss+xml")

    def _render(self, feed: Feed) -> str:
        return rss_feed(f"Soak feed {feed.path}", list(reversed(feed.items)))

    def expected_titles(self) -> set[str]:
        with self.lock:
            return {story.title for story in self.stories if story.expected}


# --- the service ---------------------------------------------------------------------------------


class Supervisor:
    """Runs `news-monitor run`; kills (SIGKILL) or stops (SIGTERM) and restarts it at random moments."""

    def __init__(self, world: World, log_path: Path, rng: random.Random):
        self.world = world
        self.rng = rng
        self.log: IO[str] = log_path.open("a", encoding="utf-8")
        self.process: subprocess.Popen[str] | None = None
        self.sigkills = 0
        self.sigterms = 0
        self.term_escalations = 0  # SIGTERM not obeyed in time: killed (counted in sigkills too)
        self.term_exit_codes: Counter[int] = Counter()
        self.stop_seconds: list[float] = []
        self.starts = 0

    def start(self) -> None:
        self.world.write_config()
        self.log.write(f"\n===== start {self.starts + 1} at {time.strftime('%H:%M:%S')} =====\n")
        self.log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(self.world.config_path), "run"],
            cwd=REPO_ROOT,
            env=self.world.environment(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.starts += 1

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.sigkills += 1

    def terminate(self) -> None:
        """SIGTERM; the README promises a clean stop, so a stop that hangs is escalated to SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.sigterms += 1
        try:
            self.term_exit_codes[self.process.wait(timeout=STOP_TIMEOUT_SECONDS)] += 1
        except subprocess.TimeoutExpired:
            self.term_escalations += 1
            self.kill()
        self.stop_seconds.append(time.monotonic() - started)

    def churn(self, stopping: threading.Event) -> None:
        """The supervisor thread: let it run 8-20 s, kill or stop it, restart after 0-2 s; repeat."""
        self.start()
        while not stopping.wait(self.rng.uniform(8, 20)):
            if not self.running():
                self.log.write(f"\n===== exited by itself with {self.process and self.process.returncode}\n")
            elif self.rng.random() < 0.6:
                self.kill()
            else:
                self.terminate()
            if stopping.wait(self.rng.uniform(0, 2)):
                break
            self.start()


# --- faults --------------------------------------------------------------------------------------


class FaultInjector:
    """Injects one fault every 2-6 s, into Slack or a feed, and counts them by kind."""

    def __init__(self, slack: SlackFake, clock: SoakClock, newsroom: Newsroom, rng: random.Random):
        self.slack = slack
        self.clock = clock
        self.newsroom = newsroom
        self.rng = rng
        self.injected: Counter[str] = Counter()  # fault events by kind
        self.calls: Counter[str] = Counter()  # calls (or seconds) they were meant to affect

    def run(self, stopping: threading.Event, until: float) -> None:
        """Inject until `stopping` is set or the monotonic time `until` (the quiet tail starts)."""
        while not stopping.wait(self.rng.uniform(2, 6)) and time.monotonic() < until:
            kind = self.rng.choice((*SLACK_FAULTS, "feed_500"))
            getattr(self, kind)(stopping)
            self.injected[kind] += 1
        self.clock.thaw()

    def slack_429_burst(self, stopping: threading.Event) -> None:
        seconds = self.rng.uniform(3, 8)
        self.clock.freeze()
        stopping.wait(seconds)
        self.clock.thaw()
        self.calls["slack_429_burst seconds"] += round(seconds)

    def slack_503(self, stopping: threading.Event) -> None:
        times = self.rng.randint(1, 2)
        self.slack.inject("chat.postMessage", "http_503_html", times=times)
        self.calls["slack_503 calls"] += times

    def slack_drop(self, stopping: threading.Event) -> None:
        times = self.rng.randint(1, 2)
        self.slack.inject("chat.postMessage", "drop_connection", times=times)
        self.calls["slack_drop calls"] += times

    def slack_slow(self, stopping: threading.Event) -> None:
        # Shorter than the client timeout: slow, never a lost reply (which may duplicate by design).
        self.slack.inject("chat.postMessage", "slow", seconds=self.rng.uniform(1, CLIENT_TIMEOUT_SECONDS - 3))
        self.calls["slack_slow calls"] += 1

    def feed_500(self, stopping: threading.Event) -> None:
        feed = self.rng.choice(self.newsroom.feeds)
        seconds = self.rng.uniform(2, 8)
        self.newsroom.break_feed(feed)
        stopping.wait(seconds)
        self.newsroom.mend_feed(feed)
        self.calls["feed_500 seconds"] += round(seconds)


def fault_seconds(args: argparse.Namespace) -> float:
    """How long faults are injected: all of the publishing but its quiet tail (at most a quarter)."""
    publishing = args.minutes * 60
    return publishing - min(QUIET_TAIL_SECONDS, publishing / 4)


def publish(newsroom: Newsroom, rng: random.Random, stopping: threading.Event) -> None:
    """The publisher thread: a new item every 1.2 s on average (a Poisson process)."""
    while not stopping.wait(rng.expovariate(1 / 1.2)):
        newsroom.publish_one()


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Outcome:
    expected: set[str]
    posted: Counter[str]

    @property
    def missing(self) -> set[str]:
        return self.expected - set(self.posted)

    @property
    def duplicated(self) -> int:
        return sum(count - 1 for count in self.posted.values() if count > 1)

    @property
    def unexpected(self) -> set[str]:
        return set(self.posted) - self.expected


def title_of(message: dict[str, Any]) -> str:
    """The alert's title: the label of the linked title block, or the plain text's start (text-only)."""
    if message.get("blocks"):
        return message_title(message)
    return str(message.get("text") or "").split(" (", 1)[0]


def posted_titles(slack: SlackFake) -> Counter[str]:
    return Counter(title_of(message) for message in slack.messages())


def build_world(folder: Path, web: WebServer, slack: SlackFake) -> World:
    world = World(folder, web, slack)
    world.watchlists = [
        {"name": f"desk-{company.lower()}", "channel": channel, "terms": [company]}
        for company, channel in DESKS.items()
    ]
    world.settings = {
        "slack": {"min_post_interval": "1s"},  # the production pacing, against the fake's real limit
        "poll": {"max_age": f"{MAX_AGE_DAYS}d", "max_backoff": "15s"},  # a feed's 500s cost seconds
        # Every "site" is 127.0.0.1 here, so per-host politeness would throttle all of them as one.
        "fetch": {"timeout": f"{CLIENT_TIMEOUT_SECONDS}s", "per_host_concurrency": 8, "per_host_delay": "0s"},
    }
    return world


def drain(supervisor: Supervisor, slack: SlackFake, expected: set[str], deadline: float) -> float:
    """Keep the service running until every expected alert arrived or the deadline; returns seconds."""
    started = time.monotonic()
    if not supervisor.running():
        supervisor.start()
    while time.monotonic() < deadline and not expected <= set(posted_titles(slack)):
        if not supervisor.running():
            supervisor.start()
        time.sleep(0.25)
    time.sleep(min(SETTLE_SECONDS, max(0.0, deadline - time.monotonic())))  # late duplicates show up here
    return time.monotonic() - started


def outbox_status(world: World) -> dict[str, Any] | None:
    """`news-monitor status --json` (the CLI's own view of the outbox), for diagnosing missing alerts."""
    command = [sys.executable, "-m", "monitor", "--config", str(world.config_path), "status", "--json"]
    try:
        done = subprocess.run(
            command, cwd=REPO_ROOT, env=world.environment(), capture_output=True, text=True, timeout=30
        )
        return json.loads(done.stdout)["outbox"] if done.returncode == 0 else None
    except (subprocess.TimeoutExpired, ValueError, KeyError):
        return None


def slack_traffic(slack: SlackFake) -> str:
    requests = slack.requests("chat.postMessage")
    statuses = Counter(
        "dropped" if r["status"] is None else ("slow 200" if r["fault"] == "slow" else str(r["status"]))
        for r in requests
    )
    return f"{len(requests)} chat.postMessage: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))


@dataclass
class Soak:
    """Everything a run has, for the report."""

    args: argparse.Namespace
    newsroom: Newsroom
    supervisor: Supervisor
    faults: FaultInjector
    slack: SlackFake


def counts(counter: Counter[str]) -> str:
    return " · ".join(f"{kind} {count}" for kind, count in sorted(counter.items())) or "none"


def report_rows(soak: Soak, outcome: Outcome, drained: float) -> list[tuple[str, str]]:
    newsroom, supervisor = soak.newsroom, soak.supervisor
    matching_fresh = [s for s in newsroom.stories if s.matching and s.fresh]
    unreadable = len([s for s in matching_fresh if not s.expected])
    codes = ", ".join(f"exit {code} x{n}" for code, n in sorted(supervisor.term_exit_codes.items()))
    slowest = max(supervisor.stop_seconds, default=0.0)
    delivered = len(outcome.expected & set(outcome.posted))
    return [
        ("run", f"{soak.args.minutes:g} min publishing (faults in its first {fault_seconds(soak.args):.0f}s),"
                f" seed {soak.args.seed}, {len(newsroom.feeds)} feeds, then {drained:.0f}s draining"),
        ("published", f"{sum(newsroom.published.values())} items: {counts(newsroom.published)}"),
        ("alerts expected", f"{len(outcome.expected)}  (fresh matching stories {len(matching_fresh)}, less "
                            f"{unreadable} with a 404 page and a summary naming no term; copies count once)"),
        ("delivered", f"{delivered}  ({sum(outcome.posted.values())} messages in Slack)"),
        ("missing", f"{len(outcome.missing)}  {sample(outcome.missing)}"),
        ("duplicated", f"{outcome.duplicated}  (SIGKILLs {supervisor.sigkills}: one per kill allowed)"),
        ("unexpected", f"{len(outcome.unexpected)}  {sample(outcome.unexpected)}"),
        ("service", f"{supervisor.starts} starts · SIGKILL {supervisor.sigkills} · SIGTERM "
                    f"{supervisor.sigterms} ({codes or 'none'}, slowest stop {slowest:.1f}s, "
                    f"{supervisor.term_escalations} escalated to SIGKILL)"),
        ("faults injected", counts(soak.faults.injected)),
        ("fault sizes", counts(soak.faults.calls)),
        ("page faults", counts(newsroom.page_faults)),
        ("slack traffic", slack_traffic(soak.slack)),
    ]  # fmt: skip


def sample(titles: set[str]) -> str:
    return str(sorted(titles)[:6]) if titles else ""


def print_report(soak: Soak, outcome: Outcome, drained: float) -> bool:
    """Print the table; True when nothing is missing and duplicates stay within one per SIGKILL."""
    ok = not outcome.missing and outcome.duplicated <= soak.supervisor.sigkills
    rows = [*report_rows(soak, outcome, drained), ("result", "PASS" if ok else "FAIL")]
    width = max(len(name) for name, _ in rows)
    print("\nnews-monitor soak")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    return ok


def run_soak(args: argparse.Namespace, workdir: Path) -> int:
    hard_deadline = time.monotonic() + (args.minutes + 1) * 60
    rng = random.Random(args.seed)
    clock = SoakClock()
    # Burst 1: the service's own pacing (1 s) is then exactly Slack's rate, so anything faster is a 429.
    slack_fake = SlackFake(channels=DESKS.values(), rate_limit=True, burst=1, clock=clock)
    with WebServer() as web, slack_fake as slack:
        world = build_world(workdir, web, slack)
        newsroom = Newsroom(world, args.feeds, random.Random(rng.random()))
        supervisor = Supervisor(world, workdir / "service.log", random.Random(rng.random()))
        faults = FaultInjector(slack, clock, newsroom, random.Random(rng.random()))
        arm_hard_stop(hard_deadline, supervisor)
        stopping = threading.Event()
        threads = [
            threading.Thread(target=publish, args=(newsroom, random.Random(rng.random()), stopping)),
            threading.Thread(target=faults.run, args=(stopping, time.monotonic() + fault_seconds(args))),
            threading.Thread(target=supervisor.churn, args=(stopping,)),
        ]
        for thread in threads:
            thread.start()
        stopping.wait(args.minutes * 60)
        stopping.set()
        for thread in threads:
            thread.join()
        clock.thaw()
        expected = newsroom.expected_titles()
        drained = drain(
            supervisor, slack, expected, min(time.monotonic() + DRAIN_SECONDS, hard_deadline - 20)
        )
        supervisor.terminate()
        outcome = Outcome(expected, posted_titles(slack))
        ok = print_report(Soak(args, newsroom, supervisor, faults, slack), outcome, drained)
        if outcome.missing:
            print_outbox(world, outcome.missing)
        supervisor.log.close()
    if args.keep or not ok:
        print(f"  {'service log':<15}  {workdir / 'service.log'}")
    return 0 if ok else 1


def print_outbox(world: World, missing: set[str]) -> None:
    outbox = outbox_status(world)
    if outbox is None:
        print("  (status --json failed; see the service log)")
        return
    waiting = [a for a in outbox["pending_alerts"] + outbox["failed_alerts"] if a["title"] in missing]
    print(f"  outbox: pending {outbox['pending']}, failed {outbox['failed']}; the missing ones in it:")
    for alert in waiting[:10]:
        attempts, next_try = alert["attempts"], alert["next_attempt"]
        print(f"    {alert['title']}: attempts {attempts}, next {next_try}, {alert['error']}")
    never_queued = len(missing) - len(waiting)
    if never_queued:
        print(f"    {never_queued} missing alert(s) never queued (not recorded, or recorded without a match)")


def arm_hard_stop(deadline: float, supervisor: Supervisor) -> None:
    """Whatever happens, nothing outlives minutes + 1: kill the service and leave with exit code 1."""

    def hard_stop() -> None:
        print("\nsoak: hard stop (minutes + 1 reached); killing the service", file=sys.stderr)
        if supervisor.process is not None and supervisor.process.poll() is None:
            supervisor.process.kill()
        os._exit(1)

    timer = threading.Timer(max(0.0, deadline - time.monotonic()), hard_stop)
    timer.daemon = True
    timer.start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="how long to publish (default: 2)")
    parser.add_argument("--seed", type=int, default=1, help="seed of every random choice (default: 1)")
    parser.add_argument("--feeds", type=int, default=6, help="number of feeds (default: 6)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (kept anyway on failure)")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.feeds < 1:
        parser.error("--minutes must be positive and --feeds at least 1")
    workdir = Path(tempfile.mkdtemp(prefix="news-monitor-soak-"))
    code = run_soak(args, workdir)
    if code == 0 and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
