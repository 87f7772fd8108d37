"""Adaptive polling over a simulated day: requests saved, and what it costs in freshness.

    python bench/adaptive.py [--feeds 1000] [--seed 1] [--json out.json]

Each simulated feed publishes as a Poisson process at its own rate, drawn log-uniformly between one item
every 3 minutes and one every 3 days (a few wire feeds, many quiet blogs); it shows its latest 20 items.
Both policies poll the same feeds over the same 24 hours (after a week of history):

- fixed: every poll.interval (10 minutes), what news-monitor did before;
- adaptive: monitor.pipeline.feed_schedule.adaptive_interval on the dates the feed shows at each poll, between
  poll.min_interval (2 minutes) and poll.max_interval (30 minutes), the shipped defaults
  (`--max-interval 60` shows what a longer ceiling saves, and costs).

Printed: requests per day, the delay from an item's publication to the poll that sees it (median, 90th
percentile, worst), and items lost (pushed out of a feed's last 20 before any poll saw them).
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import random
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.pipeline.feed_schedule import adaptive_interval  # noqa: E402

START = datetime(2026, 11, 30, tzinfo=UTC)
DAY = timedelta(days=1)
HISTORY = timedelta(days=7)
SHOWN = 20  # items a feed shows
INTERVAL, MINIMUM = timedelta(minutes=10), timedelta(minutes=2)


@dataclass
class Outcome:
    requests: int
    delays: list[float]  # seconds, one per item seen
    lost: int


def publications(rng: random.Random) -> list[datetime]:
    """One feed's publication times from a week before START to the end of the day."""
    per_second = 1 / math.exp(rng.uniform(math.log(180), math.log(3 * 86400)))
    moments, moment = [], START - HISTORY
    while moment < START + DAY:
        moment += timedelta(seconds=rng.expovariate(per_second))
        moments.append(moment)
    return moments


def simulate(published: list[datetime], adaptive: bool, rng: random.Random, maximum: timedelta) -> Outcome:
    requests, delays, lost, seen_upto = 0, [], 0, bisect.bisect_right(published, START)
    now = START + timedelta(seconds=rng.uniform(0, INTERVAL.total_seconds()))  # feeds start out of step
    while now < START + DAY:
        requests += 1
        visible = bisect.bisect_right(published, now)
        shown_from = max(0, visible - SHOWN)
        lost += max(0, shown_from - seen_upto)  # pushed out of the feed before a poll saw them
        for index in range(max(seen_upto, shown_from), visible):
            delays.append((now - published[index]).total_seconds())
        seen_upto = max(seen_upto, visible)
        if adaptive:
            dates = published[shown_from:visible]
            interval = adaptive_interval(now, dates, default=INTERVAL, minimum=MINIMUM, maximum=maximum)
        else:
            interval = INTERVAL
        now += interval
    return Outcome(requests, delays, lost)


def summary(name: str, outcomes: list[Outcome]) -> dict[str, float]:
    delays = sorted(d for o in outcomes for d in o.delays)
    return {
        "policy": name,
        "requests": sum(o.requests for o in outcomes),
        "median_delay_min": statistics.median(delays) / 60 if delays else 0.0,
        "p90_delay_min": delays[int(len(delays) * 0.9)] / 60 if delays else 0.0,
        "worst_delay_min": delays[-1] / 60 if delays else 0.0,
        "items": len(delays),
        "lost": sum(o.lost for o in outcomes),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-interval", type=int, default=30, help="poll.max_interval, in minutes")
    parser.add_argument("--json", type=Path, help="also write the figures to this file (bench/run.py)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    feeds = [publications(rng) for _ in range(args.feeds)]
    ceiling = timedelta(minutes=args.max_interval)
    fixed = summary("fixed 10m", [simulate(p, False, random.Random(n), ceiling) for n, p in enumerate(feeds)])
    name = f"adaptive 2m-{args.max_interval}m"
    adaptive = summary(name, [simulate(p, True, random.Random(n), ceiling) for n, p in enumerate(feeds)])
    print(f"{args.feeds} feeds, one simulated day; items seen: {fixed['items']}")
    print(f"{'policy':<16} {'requests':>9} {'median delay':>13} {'p90 delay':>10} {'worst':>8} {'lost':>5}")
    for row in (fixed, adaptive):
        delays = (f"{row['median_delay_min']:>11.1f} m {row['p90_delay_min']:>8.1f} m "
                  f"{row['worst_delay_min']:>6.0f} m")  # fmt: skip
        print(f"{row['policy']:<16} {row['requests']:>9,} {delays} {row['lost']:>5}")
    saved = 1 - adaptive["requests"] / fixed["requests"]
    print(f"adaptive polling makes {saved:.0%} fewer requests")
    if args.json:
        note = (
            f"median delay {adaptive['median_delay_min']:.1f} min (fixed: {fixed['median_delay_min']:.1f}), "
            f"p90 {adaptive['p90_delay_min']:.1f} ({fixed['p90_delay_min']:.1f}), worst "
            f"{adaptive['worst_delay_min']:.0f} ({fixed['worst_delay_min']:.0f}); "
            f"items lost {adaptive['lost']}"
        )
        row = {"scenario": f"adaptive polling: requests per day, {args.feeds:,} feeds",
               "ours": adaptive["requests"], "baseline": fixed["requests"], "unit": "requests/day",
               "target": "fewer requests, nothing lost", "note": note}  # fmt: skip
        args.json.write_text(json.dumps([row], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
