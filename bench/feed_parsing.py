"""Feed parsing cost: feedparser (as most bots call it, and as we used to) against the fast path.

Parses realistic 75 KB / 20-item RSS 2.0 and Atom 1.0 bodies (news-style items: a paragraph-long HTML
description and a few paragraphs of content:encoded / Atom content, the shape of WordPress and news
CMS feeds) in one run, no network, and prints milliseconds per feed for each way and its ratio to
plain `feedparser.parse`:

    python bench/feed_parsing.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import fastfeedparser  # noqa: E402
import feedparser  # noqa: E402

from monitor.stages.feed_parse import read_feed  # noqa: E402
from monitor.stages.poll import parse_feed  # noqa: E402
from tests.support.feeds import atom_feed, rss_feed  # noqa: E402
from tests.support.prose import distinct_prose  # noqa: E402

HEADERS = {"content-type": "application/rss+xml; charset=utf-8"}
ITEMS = 20
TARGET_BYTES = 75_000


def items(words: int) -> list[dict[str, object]]:
    """Twenty news items; `words` sets the size of each item's content."""
    start = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    return [
        {
            "title": f"Alibaba’s cloud unit signs deal {n} with a provincial government",
            "link": f"https://news.example.com/companies/alibaba-cloud-deal-{n}.html?utm_source=rss",
            "guid": f"https://news.example.com/?p={10_000 + n}",
            "pub_date": start - timedelta(minutes=37 * n),
            "author": "Staff Writer",
            "categories": ["Companies", "Technology"],
            "description": f"<p>{distinct_prose(f'summary-{n}', 45)}</p>",
            "content": "".join(
                f'<p>{distinct_prose(f"body-{n}-{p}", words // 4)} <a href="https://news.example.com/t/{p}">'
                f"more</a></p>"
                for p in range(4)
            ),
        }
        for n in range(ITEMS)
    ]


def sized(build: Callable[[list[dict[str, object]]], str]) -> bytes:
    """The feed built with as many content words as bring it to about TARGET_BYTES."""
    words = 100
    while len(body := build(items(words)).encode()) < TARGET_BYTES:
        words += 20
    return body


def ms_per_call(call: Callable[[], object], rounds: int) -> float:
    call()  # warm-up: imports, caches
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def ways(body: bytes) -> dict[str, Callable[[], object]]:
    url = "https://news.example.com/feed"
    return {
        "feedparser.parse (defaults)": lambda: feedparser.parse(io.BytesIO(body), response_headers=HEADERS),
        "feedparser, sanitize_html and resolve_relative_uris off": lambda: feedparser.parse(
            io.BytesIO(body), response_headers=HEADERS, sanitize_html=False, resolve_relative_uris=False
        ),
        "fastfeedparser.parse": lambda: fastfeedparser.parse(body),
        "read_feed (fast path with its checks)": lambda: read_feed(url, body, HEADERS),
        "parse_feed (all of poll: guard, fast path, FeedItems)": lambda: parse_feed(url, body, HEADERS),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    feeds = {
        "RSS 2.0": sized(lambda i: rss_feed("News", i)),
        "Atom 1.0": sized(lambda i: atom_feed("News", i)),
    }
    for name, body in feeds.items():
        assert read_feed("u", body, HEADERS).parser == "fastfeedparser", "the feed must take the fast path"
        print(f"\n{name}: {len(body) / 1000:.0f} KB, {ITEMS} items (median of {args.rounds} runs)")
        print(f"  {'way':58} {'ms/feed':>8} {'× faster':>9}")
        baseline = None
        for way, call in ways(body).items():
            ms = ms_per_call(call, args.rounds)
            baseline = baseline or ms
            print(f"  {way:58} {ms:8.2f} {baseline / ms:9.1f}")


if __name__ == "__main__":
    main()
