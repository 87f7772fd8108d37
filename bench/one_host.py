"""Many feeds on one host (issue 13): cold and warm cycles when every feed is served by one host.

    python bench/one_host.py [--feeds 1000] [--latency 0.05] [--per-host-concurrency N] [--json out.json]

A self-hosted RSSHub instance, or one search engine's news-search feeds: `--feeds` feeds all served by one
loopback address (bench/feedserver.py, `Plan(one_host=True)`), their articles on the sites' own addresses,
as an aggregator's links lead. The same cycles as bench/cycle.py (cold: an empty store, all items new,
about 3 % fresh articles fetched and matched; warm: every feed answers 304), measured in the same run
against the same feeds with every feed on its own host: the figure the one-host cycles are held to.
Feed polls of one host are limited by poll.per_host_concurrency with no delay between starts; at 1 s
a start, as article pages are, a cycle of 1,000 such feeds took 1,000 s.

Both are our own pipeline; the naive feedparser loop of bench/cycle.py does not care about hosts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.cycle import Timing, run_ours, write_config  # noqa: E402
from bench.feedserver import Plan, ServerProcess  # noqa: E402
from monitor.config import PollSettings  # noqa: E402


def cycles(plan: Plan, per_host_concurrency: int | None) -> tuple[Timing, Timing]:
    """Our cold and warm cycles over the plan's feeds, with a fresh store and server."""
    with ServerProcess(plan) as served, tempfile.TemporaryDirectory() as tmp:
        path = write_config(Path(tmp), served)
        if per_host_concurrency is not None:
            config = json.loads(path.read_text(encoding="utf-8"))
            config["poll"] = {"per_host_concurrency": per_host_concurrency}
            path.write_text(json.dumps(config), encoding="utf-8")
        return run_ours(path)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


TARGETS = {"cold cycle": "<= 2x the many-host cycle (baseline)", "warm cycle": "<= 2 s wall"}


def row_of(name: str, one: Timing, many: Timing, feeds: int, context: str) -> dict[str, object]:
    """One row for bench/run.py's table: the baseline is the same cycle with every feed on its own host."""
    cpu = f"CPU {one.cpu:.2f} s one host, {many.cpu:.2f} s many"
    note = f"baseline: the same cycle, every feed on its own host; {cpu}; {context}"
    return {"scenario": f"{name}, every feed on one host: {feeds:,} feeds", "ours": round(one.wall, 2),
            "baseline": round(many.wall, 2), "unit": "s wall", "target": TARGETS[name],
            "note": note}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument(
        "--per-host-concurrency", type=int, help="poll.per_host_concurrency (default: the config's)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    limit = args.per_host_concurrency or PollSettings.model_fields["per_host_concurrency"].default
    before = load()
    one_cold, one_warm = cycles(
        Plan(feeds=args.feeds, latency=args.latency, one_host=True), args.per_host_concurrency
    )
    many_cold, many_warm = cycles(Plan(feeds=args.feeds, latency=args.latency), args.per_host_concurrency)
    after = load()
    latency = f"{args.latency * 1000:.0f} ms latency"
    print(f"{args.feeds} feeds x 20 items, {latency}, poll.per_host_concurrency {limit}")
    print(f"{before} before, {after} after")
    print(f"{'scenario':<12} {'one host':>9} {'CPU':>7} {'many hosts':>11} {'CPU':>7} {'one / many':>11}")
    rows = [("cold cycle", one_cold, many_cold), ("warm cycle", one_warm, many_warm)]
    for name, one, many in rows:
        print(f"{name:<12} {one.wall:>8.2f}s {one.cpu:>6.2f}s {many.wall:>10.2f}s {many.cpu:>6.2f}s "
              f"{one.wall / many.wall:>10.1f}x")  # fmt: skip
    print(f"  one host cold: {one_cold.detail}\n  one host warm: {one_warm.detail}")
    if args.json:
        figures = [row_of(name, one, many, args.feeds, f"poll.per_host_concurrency {limit}; {after}")
                   for name, one, many in rows]  # fmt: skip
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
