"""Cold and warm poll cycles over many feeds: news-monitor against a naive feedparser loop, in one run.

    python bench/cycle.py [--feeds 1000] [--latency 0.05] [--json out.json]

The local server (bench/feedserver.py) serves `--feeds` feeds of 20 items (about 75 KB each), every
feed on its own loopback address, each response after `--latency` seconds. All items are new to the
store; about 3 % were published in the last hour, so news-monitor fetches, extracts and matches those
pages (the rest are older than poll.max_age and are only recorded). Then:

- cold: one cycle over all feeds from an empty store;
- warm: the next cycle, nothing changed (the server answers 304 to the ETag);
- baseline: a sequential `feedparser.parse(url)` loop over the same feeds (what most RSS bots do),
  then the same loop with the ETags it got (warm).

Wall time and this process's CPU time (all threads) are printed side by side, with the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import feedparser  # noqa: E402

from bench.feedserver import WATCHED, Plan, ServerProcess  # noqa: E402
from monitor.config import load_config  # noqa: E402
from monitor.pipeline.feed_cycle import CycleReport, Pipeline  # noqa: E402
from monitor.service.assembly import with_pipeline  # noqa: E402


@dataclass
class Timing:
    wall: float
    cpu: float
    detail: str = ""


def measure(action: Any) -> tuple[Any, Timing]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, Timing(time.perf_counter() - wall, time.process_time() - cpu)


def write_config(folder: Path, plan: Plan) -> Path:
    """monitor.yaml with the plan's feeds and a watchlist of the names the fresh articles carry."""
    monitor = {
        "slack": {"default_channel": "#bench", "token_env": "NEWS_MONITOR_BENCH_NO_TOKEN"},
        "storage": f"sqlite:///{folder}/state.db",
        "fetch": {"allow_private_addresses": True},  # the benchmark's sites are on loopback
        "feeds": [{"url": site.feed_url} for site in plan.sites()],
        "watchlists": [{"name": "china-tech", "terms": WATCHED}],
    }
    path = folder / "monitor.yaml"
    path.write_text(json.dumps(monitor), encoding="utf-8")
    return path


def run_ours(config_path: Path) -> tuple[Timing, Timing]:
    config = load_config(config_path)

    async def cycles(pipeline: Pipeline) -> tuple[Timing, Timing]:
        timings = []
        for _ in range(2):
            wall, cpu = time.perf_counter(), time.process_time()
            report: CycleReport = await pipeline.run_cycle()
            timings.append(Timing(time.perf_counter() - wall, time.process_time() - cpu, report.summary()))
        # Sending is paced by Slack's rules, not by the cycle: outside the timing.
        await pipeline.outbox.drain()
        return timings[0], timings[1]

    # Alerts go to the console notifier (no token): printed into a buffer, not the terminal.
    with contextlib.redirect_stdout(io.StringIO()):
        return asyncio.run(with_pipeline(config, cycles))


def run_naive(plan: Plan) -> tuple[Timing, Timing]:
    etags: dict[str, str | None] = {}

    def cold() -> int:
        items = 0
        for site in plan.sites():
            parsed = feedparser.parse(site.feed_url)
            etags[site.feed_url] = parsed.get("etag")
            items += len(parsed.entries)
        return items

    def warm() -> int:
        return sum(len(feedparser.parse(url, etag=etag).entries) for url, etag in etags.items())

    items, cold_timing = measure(cold)
    cold_timing.detail = f"{items} entries parsed"
    changed, warm_timing = measure(warm)
    warm_timing.detail = f"{changed} entries parsed"
    return cold_timing, warm_timing


def row_of(name: str, ours: Timing, naive: Timing, feeds: int, target: str) -> dict[str, object]:
    """One row for bench/run.py's table."""
    cpu = f"CPU {ours.cpu:.2f} s ours ({ours.cpu / feeds * 1000:.2f} ms per feed), {naive.cpu:.2f} s naive"
    return {"scenario": f"{name}: {feeds:,} feeds", "ours": round(ours.wall, 2),
            "baseline": round(naive.wall, 2), "unit": "s wall", "target": target, "note": cpu}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--no-baseline", action="store_true", help="ours only (while working on it)")
    args = parser.parse_args()
    with (
        ServerProcess(Plan(feeds=args.feeds, latency=args.latency)) as plan,
        tempfile.TemporaryDirectory() as tmp,
    ):
        ours_cold, ours_warm = run_ours(write_config(Path(tmp), plan))
        skipped = Timing(float("nan"), float("nan"), "not run")
        naive_cold, naive_warm = (skipped, skipped) if args.no_baseline else run_naive(plan)
    rows = [("cold cycle", ours_cold, naive_cold), ("warm cycle", ours_warm, naive_warm)]
    latency = f"{args.latency * 1000:.0f} ms latency"
    print(
        f"{args.feeds} feeds x {plan.items} items, {latency}, the server in another process on the same cores"
    )
    print(f"{'scenario':<12} {'ours wall':>10} {'ours CPU':>9} {'naive wall':>11} {'naive CPU':>10} "
          f"{'wall ratio':>11}")  # fmt: skip
    for name, ours, naive in rows:
        print(f"{name:<12} {ours.wall:>9.2f}s {ours.cpu:>8.2f}s {naive.wall:>10.2f}s {naive.cpu:>9.2f}s "
              f"{naive.wall / ours.wall:>10.1f}x")  # fmt: skip
    print(f"  ours cold: {ours_cold.detail}\n  ours warm: {ours_warm.detail}")
    if args.json:
        targets = {"cold cycle": "<= 3 s wall and >= 30x the naive loop", "warm cycle": "<= 1 s wall"}
        figures = [row_of(name, ours, naive, args.feeds, targets[name]) for name, ours, naive in rows]
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
