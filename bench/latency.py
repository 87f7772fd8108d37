"""Scenario 6, latency: from an item appearing in a feed to the Slack fake receiving its post.

    python bench/latency.py [--quick] [--repeats 10] [--interval 10] [--json out.json]

`python -m monitor --config ... run` runs as a real process with `poll.interval: 10s` (also set on each
feed, so adaptive polling keeps it) over 20 feeds:
19 from the local feed server (bench/feedserver.py, nothing fresh, 50 ms latency) and one whose items
change, served from this process (`ChangingFeed`, 50 ms latency, ETags, article pages). Its alerts go
to the Slack fake (tests/support/slack_fake.py) through the real slack-sdk client; the rest of the
configuration is the default (per-host delay 1 s, robots.txt honoured, Slack pacing 1 s per channel).

At random moments (0 to one interval after the previous item was posted) a new item naming a watched
company is added to the changing feed; it is in the next response. The time until the fake has the
chat.postMessage carrying its link is measured, `--repeats` times.

Baseline, in the same run and on the same items: a naive bot in a thread of this process, a loop of
sequential `feedparser.parse(url)` over the same 20 feeds, posting new entries whose title or summary
names the company with slack-sdk's WebClient, then sleeping the same interval (what most RSS bots do).

The JSON's `ours` and `baseline` are the worst case (max), which the target bounds; min and median
are beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import feedparser  # noqa: E402
from aiohttp import web  # noqa: E402
from slack_sdk import WebClient  # noqa: E402
from wordfreq import top_n_list  # noqa: E402

from bench.feedserver import Plan, ServerProcess, feed_response, free_port, robots_response  # noqa: E402
from bench.memory import spawn_run, stop  # noqa: E402
from tests.support.slack_fake import SlackFake  # noqa: E402

WATCHED = "Alibaba"
TOKEN_ENV = "NEWS_MONITOR_BENCH_TOKEN"
OURS_CHANNEL, NAIVE_CHANNEL = "#bench", "#naive"
# Two sleeps at most: the item can wait a full interval for the next poll; three means it was lost.
TRIAL_TIMEOUT_INTERVALS = 3
# How often the fake's messages are looked at: the resolution of the figures.
WATCH_SECONDS = 0.01


@dataclass(frozen=True)
class Item:
    number: int
    title: str
    text: str
    published: datetime


class ChangingFeed:
    """An RSS feed on 127.0.0.1 whose items this process adds while it is served, with their pages."""

    def __init__(self, latency: float, seed: int):
        self.latency = latency
        self.port = free_port("127.0.0.1")
        self.rng = random.Random(seed)
        self.words = top_n_list("en", 3000)
        old = datetime.now(UTC) - timedelta(days=10)
        # Two old items, so the first poll finds a feed with history and nothing to alert.
        self.items = [self._item(-1, old), self._item(-2, old)]
        self.lock = threading.Lock()
        self.agents: Counter[str] = Counter()  # feed requests by client
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def feed_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/rss.xml"

    def page_url(self, number: int) -> str:
        return f"http://127.0.0.1:{self.port}/news/{number}.html"

    def publish(self, number: int) -> float:
        """Add a fresh item naming the watched company; returns the monotonic time it became visible."""
        item = self._item(number, datetime.now(UTC))
        with self.lock:
            self.items.insert(0, item)
            return time.monotonic()

    def _item(self, number: int, published: datetime) -> Item:
        # Distinct words and invented names in every item, so no item is a copy or the same story as another.
        names = [f"Q{self.rng.randrange(36**5):05x}".title() for _ in range(6)]
        sentences = [" ".join(self.rng.choices(self.words, k=18)).capitalize() + "." for _ in range(24)]
        for position, name in enumerate(names):
            sentences[position * 4] = f"{name} {sentences[position * 4]}"
        sentences[3] = f"{WATCHED} {sentences[3]}"
        title = f"{WATCHED} and {names[0]}: {' '.join(self.rng.choices(self.words, k=7))}"
        return Item(number, title, " ".join(sentences), published)

    def _feed(self) -> bytes:
        with self.lock:
            items = list(self.items)
        entries = "".join(
            f"<item><title>{escape(item.title)}</title><link>{self.page_url(item.number)}</link>"
            f"<guid>{self.page_url(item.number)}</guid><pubDate>{format_datetime(item.published)}</pubDate>"
            f"<description>{escape(item.text[:300])}</description></item>"
            for item in items
        )
        channel = f"<channel><title>Changing</title><link>{self.feed_url}</link>{entries}</channel>"
        return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0">{channel}</rss>'.encode()

    def _page(self, number: int) -> str | None:
        with self.lock:
            item = next((item for item in self.items if item.number == number), None)
        if item is None:
            return None
        paragraphs = "".join(
            f"<p>{escape(item.text[n : n + 400])}</p>" for n in range(0, len(item.text), 400)
        )
        return (f"<!doctype html><html><head><title>{escape(item.title)}</title></head><body><nav>Home</nav>"
                f"<article><h1>{escape(item.title)}</h1>{paragraphs}</article></body></html>")  # fmt: skip

    def _app(self) -> web.Application:
        async def feed(request: web.Request) -> web.StreamResponse:
            self.agents[request.headers.get("User-Agent", "").split("/")[0]] += 1
            await asyncio.sleep(self.latency)
            # Read after the latency: an item added meanwhile is in this response.
            return feed_response(request, self._feed())

        async def page(request: web.Request) -> web.StreamResponse:
            await asyncio.sleep(self.latency)
            html = self._page(int(request.match_info["number"]))
            return web.Response(text=html, content_type="text/html") if html else web.Response(status=404)

        async def robots(request: web.Request) -> web.StreamResponse:
            await asyncio.sleep(self.latency)
            return robots_response()

        app = web.Application()
        app.router.add_get("/rss.xml", feed)
        app.router.add_get("/news/{number}.html", page)
        app.router.add_get("/robots.txt", robots)
        return app

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(self._app(), access_log=None)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._started.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

    def __enter__(self) -> ChangingFeed:
        self._thread.start()
        if not self._started.wait(timeout=30):
            raise RuntimeError("the changing feed's server did not start within 30 s")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


class NaiveBot(threading.Thread):
    """The baseline: sequential feedparser.parse(url) over every feed, post what is new, sleep, again."""

    def __init__(self, urls: list[str], slack: SlackFake, interval: float):
        super().__init__(daemon=True)
        self.urls, self.interval = urls, interval
        self.client = WebClient(token=slack.token, base_url=slack.api_url)
        self.stopping = threading.Event()
        self.first_pass_done = threading.Event()

    def run(self) -> None:
        seen: set[str] = set()
        while not self.stopping.is_set():
            for url in self.urls:
                for entry in feedparser.parse(url, agent="naive-bot/1.0").entries:
                    key = entry.get("id") or entry.get("link", "")
                    if key in seen:
                        continue
                    seen.add(key)
                    # The first pass only learns what is there, as such bots do on their first run.
                    if self.first_pass_done.is_set() and WATCHED in entry.title + entry.get("summary", ""):
                        self.client.chat_postMessage(
                            channel=NAIVE_CHANNEL, text=f"{entry.title} {entry.link}"
                        )
            self.first_pass_done.set()
            self.stopping.wait(self.interval)


def service_config(
    folder: Path, plan: Plan, changing: ChangingFeed, slack: SlackFake, interval: float
) -> Path:
    """Everything default but the feeds, the interval, Slack's address and loopback being allowed."""
    feed_urls = [site.feed_url for site in plan.sites()] + [changing.feed_url]
    monitor = {
        "slack": {"default_channel": OURS_CHANNEL, "token_env": TOKEN_ENV, "api_url": slack.api_url},
        "storage": f"sqlite:///{folder}/state.db",
        "poll": {"interval": f"{interval:g}s"},
        "fetch": {"allow_private_addresses": True},  # every site here is on loopback
        # Each feed's own `interval:` too: adaptive polling (on by default) would slow a feed whose
        # items are old down to poll.max_interval; this scenario is about a fixed 10 s interval.
        "feeds": [{"url": url, "interval": f"{interval:g}s"} for url in feed_urls],
        "watchlists": [{"name": "china-tech", "terms": [WATCHED]}],
    }
    path = folder / "monitor.yaml"
    path.write_text(json.dumps(monitor), encoding="utf-8")
    return path


def posted_at(slack: SlackFake, link: str, wanted: set[str], deadline: float) -> dict[str, float]:
    """When each wanted channel first had a message carrying `link` (monotonic), until the deadline."""
    seen: dict[str, float] = {}
    while time.monotonic() < deadline and len(seen) < len(wanted):
        for name in wanted - set(seen):
            if any(link in json.dumps(m["args"]) for m in slack.messages(name)):
                seen[name] = time.monotonic()
        time.sleep(WATCH_SECONDS)
    return seen


def run_trials(changing: ChangingFeed, slack: SlackFake, repeats: int, interval: float, seed: int,
               wanted: set[str]) -> dict[str, list[float]]:  # fmt: skip
    rng = random.Random(seed)
    delays: dict[str, list[float]] = {name: [] for name in wanted}
    for number in range(repeats):
        time.sleep(rng.uniform(0, interval))
        appeared = changing.publish(number)
        deadline = appeared + TRIAL_TIMEOUT_INTERVALS * interval
        received = posted_at(slack, changing.page_url(number), wanted, deadline)
        for name in wanted:
            delays[name].append(received[name] - appeared if name in received else float("inf"))
        print(f"  item {number}: " + ", ".join(f"{name} {delays[name][-1]:.2f}s" for name in sorted(wanted)))
    return delays


def wait_until_polled(
    changing: ChangingFeed, naive: NaiveBot | None, process: subprocess.Popen[bytes], timeout: float
) -> None:
    """Both bots have read the changing feed once (their first cycle), so the next item is new to both."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"news-monitor run exited early ({process.returncode})")
        ours_ready = changing.agents["news-monitor"] > 0
        if ours_ready and (naive is None or naive.first_pass_done.is_set()):
            return
        time.sleep(0.1)
    raise TimeoutError(f"the bots did not poll the changing feed within {timeout:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 items instead of 10")
    parser.add_argument("--repeats", type=int, help="items to time (default 10, 3 with --quick)")
    parser.add_argument("--interval", type=float, default=10.0, help="poll.interval in seconds")
    parser.add_argument("--feeds", type=int, default=20, help="feeds polled, the changing one included")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--no-baseline", action="store_true", help="ours only")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 10)
    wanted = {OURS_CHANNEL} if args.no_baseline else {OURS_CHANNEL, NAIVE_CHANNEL}
    plan = Plan(feeds=args.feeds - 1, fresh_share=0.0, latency=args.latency)
    print(f"scenario 6, latency: `run` with poll.interval {args.interval:g}s over {args.feeds} feeds, "
          f"{repeats} items added at random moments")  # fmt: skip
    with (
        ServerProcess(plan) as plan,
        ChangingFeed(args.latency, args.seed) as changing,
        SlackFake(channels=[OURS_CHANNEL, NAIVE_CHANNEL]) as slack,
        tempfile.TemporaryDirectory() as tmp,
    ):
        folder = Path(tmp)
        config = service_config(folder, plan, changing, slack, args.interval)
        log = folder / "run.log"
        process = spawn_run(config, log, {**_environment(), TOKEN_ENV: slack.token})
        naive, delays = None, {}
        if not args.no_baseline:
            naive = NaiveBot(
                [site.feed_url for site in plan.sites()] + [changing.feed_url], slack, args.interval
            )
            naive.start()
        try:
            try:
                wait_until_polled(changing, naive, process, timeout=120)
            except (RuntimeError, TimeoutError) as exc:
                raise RuntimeError(f"{exc}:\n{log.read_text()[-3000:]}") from None
            delays = run_trials(changing, slack, repeats, args.interval, args.seed, wanted)
        finally:
            if naive is not None:
                naive.stopping.set()
            code = stop(process)
            if any(delay == float("inf") for delay in delays.get(OURS_CHANNEL, [])):
                print(f"news-monitor missed items; its log ends:\n{log.read_text()[-4000:]}", file=sys.stderr)
        if code != 0:
            raise RuntimeError(f"news-monitor run stopped with exit code {code}:\n{log.read_text()[-3000:]}")
    target = args.interval + 2
    report(delays, target, args.interval)
    if args.json:
        args.json.write_text(json.dumps(rows(delays, target, args.interval), indent=2), encoding="utf-8")
    return 0


def _environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "SLACK_API_URL"}


def summary(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def report(delays: dict[str, list[float]], target: float, interval: float) -> None:
    print(f"  {'':<24} {'min':>7} {'median':>7} {'max':>7}")
    rows = [("news-monitor run", OURS_CHANNEL), ("naive feedparser loop", NAIVE_CHANNEL)]
    for label, channel in rows:
        if channel not in delays:
            print(f"  {label:<24} no baseline (--no-baseline)")
            continue
        low, middle, high = summary(delays[channel])
        verdict = f"   target <= {target:g}s: {'meets' if high <= target else 'MISSES'}"
        print(
            f"  {label:<24} {low:>6.2f}s {middle:>6.2f}s {high:>6.2f}s"
            + (verdict if channel == OURS_CHANNEL else "")
        )
    print(
        f"  the naive loop sleeps {interval:g}s after each sequential pass, so its period is longer than that"
    )


def rows(delays: dict[str, list[float]], target: float, interval: float) -> list[dict[str, object]]:
    """bench/run.py's rows: the median and the worst case, ours against the naive loop's."""
    ours = summary(delays[OURS_CHANNEL])
    naive = summary(delays[NAIVE_CHANNEL]) if NAIVE_CHANNEL in delays else None
    count = len(delays[OURS_CHANNEL])
    spread = f"ours min {ours[0]:.2f} s" + (f", naive min {naive[0]:.2f} s" if naive else ", no baseline")
    return [
        {"scenario": f"latency, median of {count} items: item in feed to Slack post, interval {interval:g} s",
         "ours": round(ours[1], 2), "baseline": round(naive[1], 2) if naive else None, "unit": "s",
         "target": "", "note": spread},
        {"scenario": f"latency, worst of {count} items", "ours": round(ours[2], 2),
         "baseline": round(naive[2], 2) if naive else None, "unit": "s", "target": f"<= {target:g} s",
         "note": "the naive loop sleeps the interval after each sequential pass"},
    ]  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
