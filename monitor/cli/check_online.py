"""`news-monitor check --online`: does what the configuration names answer, right now?

Slack (check_slack.py): the token works and the bot can post in every configured channel; with an
app-level token, Slack accepts it for the buttons (check_buttons.py). Feeds: each
answers one GET (no conditional headers, no politeness delay: one request per feed) with a feed; its line
gives the HTTP status, the format, the item count and the newest item's date. Nothing is posted and
nothing is written to the store. Every check is one line; `ok` and `WARN` hold, `FAIL` does not, and
the command exits 0 only when every check holds.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..config import Config, FeedConfig, duration_text
from ..errors import FeedError, FetchError
from ..http.client import HostLimiter, HttpClient, Response
from ..redact import mask_configured_url, mask_url
from ..sources.feed_kind import FeedReading, read_candidate
from ..stages.feed_kind import SITEMAP_INDEX, kind_label
from ..stages.sitemap_index import MAX_CHILD_SITEMAPS
from .check_buttons import check_buttons
from .check_slack import check_slack
from .check_verdict import Verdict

# What to do about a feed that answers with an HTTP error.
_STATUS_FIXES = {
    401: "the server wants credentials: check the URL's user:password or token",
    403: "the server refuses us: check the URL, or whether the site blocks bots",
    404: "no feed at this URL: check it in monitor.yaml (the site may have moved its feed)",
    410: "the feed is gone for good: remove it from monitor.yaml or find its new URL",
    429: "the server asks us to slow down: raise the feed's interval",
}


@dataclass(frozen=True)
class OnlineReport:
    slack: list[Verdict]
    slack_heading: str
    feeds: list[Verdict]

    @property
    def failures(self) -> int:
        return sum(1 for verdict in [*self.slack, *self.feeds] if not verdict.holds)

    def lines(self) -> list[str]:
        checks = len(self.slack) + len(self.feeds)
        outcome = "every check holds" if not self.failures else f"{self.failures} of {checks} checks failed"
        return [
            self.slack_heading,
            *_verdict_lines(self.slack),
            "feeds:",
            *_verdict_lines(self.feeds),
            f"check --online: {outcome}",
        ]


def _verdict_lines(verdicts: list[Verdict]) -> list[str]:
    """One line each; a fix the line above already gave is not repeated in full."""
    lines, previous = [], None
    for verdict in verdicts:
        repeated = verdict.fix is not None and verdict.fix == previous
        lines.append(dataclasses.replace(verdict, fix="as above").line() if repeated else verdict.line())
        previous = verdict.fix
    return lines


async def check_online(config: Config, now: datetime | None = None) -> OnlineReport:
    """Slack and every feed, at the same time."""
    now = now or datetime.now(UTC)
    token = config.slack.token()
    api = mask_configured_url(config.slack.resolved_api_url())
    if token:
        heading = f"Slack at {api} (token from ${config.slack.token_env}):"
        slack, buttons, feeds = await asyncio.gather(
            check_slack(config, token), check_buttons(config), check_feeds(config, now)
        )
        slack = [*slack, *buttons]
    else:
        heading = (
            f"Slack: not checked: ${config.slack.token_env} is not set, so alerts are printed to the console"
        )
        slack, feeds = [], await check_feeds(config, now)
    return OnlineReport(slack, heading, feeds)


async def check_feeds(config: Config, now: datetime) -> list[Verdict]:
    """One verdict per configured feed, in the configuration's order."""
    limiter = HostLimiter(config.fetch.per_host_concurrency, 0.0)
    gate = asyncio.Semaphore(config.poll.concurrency)
    async with HttpClient(
        timeout=config.fetch.timeout.total_seconds(),
        user_agent=config.fetch.resolved_user_agent(),
        allow_private_addresses=config.fetch.allow_private_addresses,
        host_limiter=limiter,
        max_redirects=config.fetch.max_redirects,
    ) as http:

        async def one(feed: FeedConfig) -> Verdict:
            async with gate:
                return await check_feed(http, feed, config, now)

        return list(await asyncio.gather(*(one(feed) for feed in config.feeds)))


async def check_feed(http: HttpClient, feed: FeedConfig, config: Config, now: datetime) -> Verdict:
    """GET the feed once and read it: `HTTP 200, RSS 2.0, 20 items, newest 2026-12-06 07:10 UTC (1h ago)`."""
    shown = mask_configured_url(feed.url)
    subject = f"{feed.name} ({shown})" if feed.name else shown
    try:
        response = await http.get(feed.url, max_bytes=config.fetch.max_feed_bytes, paced=False)
        if response.status >= 400:
            return Verdict.failed(subject, f"HTTP {response.status}", _STATUS_FIXES.get(response.status))
        content_type = response.headers.get("Content-Type", "")
        max_bytes = config.fetch.max_feed_bytes
        reading = await asyncio.to_thread(
            read_candidate, feed.url, response.body, content_type, max_bytes=max_bytes
        )
    except FetchError as exc:
        return Verdict.failed(subject, exc.reason, "check the URL, and that this machine can reach the host")
    except FeedError as exc:
        return Verdict.failed(
            subject,
            f"HTTP {response.status}, {exc.reason}",
            "point the URL at the site's RSS or Atom feed (a page's <link rel=alternate>)",
        )
    detail = f"HTTP {response.status}, {kind_label(reading.kind, reading.version)}, {_counts(reading, now)}"
    return _feed_verdict(subject, detail, response, reading, config, now)


def _counts(reading: FeedReading, now: datetime) -> str:
    """`20 items, newest ...`; a sitemap index: its sitemaps, the most recent one's date."""
    if reading.kind == SITEMAP_INDEX:
        listed = _count(reading.children, "sitemap")
        recent = f", the most recent from {_when(reading.newest, now)}" if reading.newest else ""
        return f"{listed} listed{recent} (a poll reads the {MAX_CHILD_SITEMAPS} most recent)"
    newest = f", newest {_when(reading.newest, now)}" if reading.newest else ""
    return _count(reading.items, "item") + (newest or (", no item dates" if reading.items else ""))


def _feed_verdict(
    subject: str, detail: str, response: Response, reading: FeedReading, config: Config, now: datetime
) -> Verdict:
    """ok, or WARN for what works but will not do what the operator expects."""
    if response.moved_to:
        return Verdict.warned(
            subject,
            f"{detail}; moved permanently to {mask_url(response.moved_to)}",
            "put the new URL in monitor.yaml",
        )
    if reading.problem:
        return Verdict.warned(subject, f"{detail}; malformed ({reading.problem}), read anyway")
    if reading.kind == SITEMAP_INDEX:
        return Verdict.passed(subject, detail)  # its items are its children's: a poll reads them
    dates = [reading.newest] if reading.newest else []
    items = reading.items
    if dates and now - max(dates) > config.poll.max_age:
        age = duration_text(config.poll.max_age)
        return Verdict.warned(
            subject, f"{detail}; nothing newer than poll.max_age ({age}), so nothing alerts"
        )
    if not items:
        return Verdict.warned(subject, detail + "; nothing to match until items appear")
    return Verdict.passed(subject, detail)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _when(moment: datetime, now: datetime) -> str:
    """`2026-12-06 07:10 UTC (1h ago)`."""
    age = now - moment
    if age < timedelta(0):
        ago = "in the future"
    elif age < timedelta(minutes=90):
        ago = f"{age.total_seconds() / 60:.0f}m ago"
    elif age < timedelta(hours=48):
        ago = f"{age.total_seconds() / 3600:.0f}h ago"
    else:
        ago = f"{age.days}d ago"
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({ago})"
