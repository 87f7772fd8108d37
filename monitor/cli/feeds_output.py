"""What `feeds discover`, `feeds list` and `feeds test` print: text for a terminal, and the JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..redact import mask_url
from ..sources.discovery import Discovery, FoundFeed
from ..sources.feed_kind import FeedReading
from ..stages.feed_kind import SITEMAP_INDEX, kind_label
from ..stages.sitemap_index import MAX_CHILD_SITEMAPS
from .check_online import _when  # `2026-01-05 10:00 UTC (2h ago)`, as `check --online` says it
from .status import _cell, _relative, _table

# A discovery lists every reason a candidate was not a feed up to here; the rest are counted.
MAX_NOT_FEEDS_SHOWN = 20


def describe_feed(feed: FoundFeed, now: datetime) -> str:
    """`RSS 2.0, "Example News", 20 items, newest 2026-01-05 10:00 UTC (2h ago)`."""
    reading = feed.reading
    parts = [kind_label(reading.kind, reading.version)]
    parts.append(f'"{_cell(reading.title, 80)}"' if reading.title else "no title")
    parts += reading_counts(reading, now)
    if reading.problem:
        parts.append(f"malformed, read anyway ({_cell(reading.problem, 80)})")
    return ", ".join(parts)


def reading_counts(reading: FeedReading, now: datetime) -> list[str]:
    """`20 items`, `newest ...`; a sitemap index: `12 sitemaps, the most recent of ... (a poll reads the
    newest 3)`."""
    if reading.kind == SITEMAP_INDEX:
        counted = [f"{count(reading.children, 'sitemap')} listed"]
        if reading.newest:
            counted.append(f"the most recent from {_when(reading.newest, now)}")
        return [*counted[:-1], f"{counted[-1]} (a poll reads the {MAX_CHILD_SITEMAPS} most recent)"]
    counted = [count(reading.items, "item")]
    if reading.newest:
        counted.append(f"newest {_when(reading.newest, now)}")
    return counted


def count(number: int, noun: str) -> str:
    """`1 item`, `3 items`."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def render_discovery(discovery: Discovery, now: datetime) -> str:
    shown = mask_url(discovery.url)
    if discovery.feeds:
        count = len(discovery.feeds)
        lines = [f"{shown} offers {count} feed{'s' if count != 1 else ''}, best first:"]
    else:
        lines = [f"No feed found at {shown}."]
    for number, feed in enumerate(discovery.feeds, 1):
        comments = "  (comments)" if feed.comments else ""
        lines.append(f"  {number}. {_cell(mask_url(feed.url))}{comments}")
        lines.append(f"     {describe_feed(feed, now)}; found: {feed.found}")
    if discovery.not_feeds:
        lines.append(f"Not feeds ({len(discovery.not_feeds)}):")
        for rejected in discovery.not_feeds[:MAX_NOT_FEEDS_SHOWN]:
            reason = _cell(rejected.reason, 120)
            lines.append(f"  {_cell(mask_url(rejected.url), 100)} ({rejected.found}): {reason}")
        hidden = len(discovery.not_feeds) - MAX_NOT_FEEDS_SHOWN
        if hidden > 0:
            lines.append(f"  ... and {hidden} more (see --json)")
    if discovery.not_checked:
        lines.append(
            f"Not checked: {discovery.not_checked} more candidate(s), past the limit of one discovery"
        )
    lines.append(f"{discovery.requests} request(s).")
    if discovery.best:
        lines.append(f"Add the best with: news-monitor feeds add {_cell(mask_url(discovery.best.url))}")
    return "\n".join(lines)


def discovery_as_json(discovery: Discovery) -> dict[str, Any]:
    return {
        "url": mask_url(discovery.url),
        "feeds": [
            {
                "url": mask_url(feed.url),
                "kind": feed.reading.kind,
                "version": feed.reading.version or None,
                "title": feed.reading.title,
                "items": feed.reading.items,
                "sitemaps": feed.reading.children if feed.reading.kind == SITEMAP_INDEX else None,
                "newest": _iso(feed.reading.newest),
                "problem": feed.reading.problem,
                "comments": feed.comments,
                "found": feed.found,
            }
            for feed in discovery.feeds
        ],
        "not_feeds": [
            {"url": mask_url(rejected.url), "found": rejected.found, "reason": rejected.reason}
            for rejected in discovery.not_feeds
        ],
        "not_checked": discovery.not_checked,
        "requests": discovery.requests,
    }


def render_feed_list(rows: list[dict[str, Any]], now: datetime) -> str:
    header = ("NAME", "URL", "KIND", "LAST POLL", "LAST RESULT")
    table = [header] + [
        (
            _cell(row["name"] or "-", 30),
            _cell(row["url"], 60),
            kind_label(row["kind"]) if row["kind"] else "-",
            _relative(row.get("last_poll"), now) or "never polled",
            _cell(row["result"] or "-", 60),
        )
        for row in rows
    ]
    return _table(table)


def render_test(report: dict[str, Any], now: datetime) -> str:
    newest = report["newest"]
    when = f", newest {_when(datetime.fromisoformat(newest), now)}" if newest else ""
    lines = [f'{report["url"]}: "{_cell(report["title"], 80)}", {count(report["items"], "item")}{when}']
    if report["problem"]:
        lines.append(f"  malformed, read anyway: {_cell(report['problem'], 120)}")
    if report["moved_to"]:
        lines.append(f"  moved permanently to {_cell(report['moved_to'])}: add that URL instead")
    matched = report["matched"]
    lines.append(
        f"{len(matched)} of {count(report['items'], 'item')} "
        f"{'matches' if len(matched) == 1 else 'match'} the current watchlists, on the feed's own titles "
        "and summaries (the service also reads each article's page, which may match more)"
        + ("" if report["configured"] else "; watchlists limited to feed tags skip a feed not configured")
        + (":" if matched else ".")
    )
    for item in matched:
        old = "  (older than poll.max_age: would not alert)" if item["older_than_max_age"] else ""
        lines.append(f"  {_cell(item['title'], 100)}{old}")
        lines.append(f"    {_cell(item['link'])}")
        for match in item["matches"]:
            terms = ", ".join(dict.fromkeys(match["terms"]))
            lines.append(f"    {match['watchlist']} -> {match['channel']}: {_cell(terms, 100)}")
    return "\n".join(lines)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
