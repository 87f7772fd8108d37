"""`news-monitor check --online`: does what the configuration names answer, right now?

Slack (check_slack.py): the token works and the bot can post in every configured channel. Feeds: each
answers one GET (no conditional headers, no politeness delay: one request per feed) with a feed; its line
gives the HTTP status, the format, the item count and the newest item's date. Nothing is posted and
nothing is written to the store. Every check is one line; `ok` and `WARN` hold, `FAIL` does not, and
the command exits 0 only when every check holds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..config import Config, FeedConfig, duration_text
from ..errors import FeedError, FetchError
from ..http.client import HostLimiter, HttpClient, Response
from ..redact import mask_configured_url, mask_url
from ..stages.poll import parse_feed, parse_headers
from ..stages.xml_guard import root_element_start
from .check_slack import check_slack
from .check_verdict import Verdict

# How much of a body is read to name its format: the root element comes after the prolog.
_FORMAT_PEEK_BYTES = 4096
_ROOT = re.compile(r"<([A-Za-z_][\w.:-]*)([^>]*)>")
_VERSION = re.compile(r"""\bversion\s*=\s*["']([^"']+)["']""")
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
        slack, feeds = await asyncio.gather(check_slack(config, token), check_feeds(config, now))
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
        headers = parse_headers(response.headers.get("Content-Type", ""), response.url)
        _, items, problem = await asyncio.to_thread(parse_feed, feed.url, response.body, headers)
    except FetchError as exc:
        return Verdict.failed(subject, exc.reason, "check the URL, and that this machine can reach the host")
    except FeedError as exc:
        return Verdict.failed(
            subject,
            f"HTTP {response.status}, {exc.reason}",
            "point the URL at the site's RSS or Atom feed (a page's <link rel=alternate>)",
        )
    dates = [item.published for item in items if item.published is not None]
    detail = f"HTTP {response.status}, {feed_format(response.body)}, {_count(len(items))}"
    detail += f", newest {_when(max(dates), now)}" if dates else (", no item dates" if items else "")
    return _feed_verdict(subject, detail, response, problem, len(items), dates, config, now)


def _feed_verdict(
    subject: str,
    detail: str,
    response: Response,
    problem: str | None,
    items: int,
    dates: Sequence[datetime],
    config: Config,
    now: datetime,
) -> Verdict:
    """ok, or WARN for what works but will not do what the operator expects."""
    if response.moved_to:
        return Verdict.warned(
            subject,
            f"{detail}; moved permanently to {mask_url(response.moved_to)}",
            "put the new URL in monitor.yaml",
        )
    if problem:
        return Verdict.warned(subject, f"{detail}; malformed ({problem}), read anyway")
    if dates and now - max(dates) > config.poll.max_age:
        age = duration_text(config.poll.max_age)
        return Verdict.warned(
            subject, f"{detail}; nothing newer than poll.max_age ({age}), so nothing alerts"
        )
    if not items:
        return Verdict.warned(subject, detail + "; nothing to match until items appear")
    return Verdict.passed(subject, detail)


def feed_format(body: bytes) -> str:
    """`RSS 2.0`, `Atom`, `RSS 1.0 (RDF)`: what the root element says the document is."""
    text = body[:_FORMAT_PEEK_BYTES].decode("utf-8", "replace")
    root = _ROOT.match(text, root_element_start(text))
    if root is None:
        return "unknown format"
    name = root.group(1).rpartition(":")[2]
    if name == "rss":
        version = _VERSION.search(root.group(2))
        return f"RSS {version.group(1)}" if version else "RSS"
    return {"feed": "Atom", "RDF": "RSS 1.0 (RDF)"}.get(name, f"<{name}>")


def _count(items: int) -> str:
    return "1 item" if items == 1 else f"{items} items"


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
