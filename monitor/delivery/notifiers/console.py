"""ConsoleNotifier: alerts printed to standard output, for running without Slack."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from ...logs import safe_line
from ...models import Alert, AlertControls, Digest, StoryReply
from ...text import cut
from .base import Posted
from .slack_message import age_text, outlet_name, shown_words, utc_text


class ConsoleNotifier:
    name = "console"

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout

    async def send_alert(self, alert: Alert, controls: AlertControls | None = None) -> Posted | None:
        self.stream.write(format_alert(alert) + "\n")
        self.stream.flush()
        return None

    async def send_reply(self, reply: StoryReply, parent: Posted | None) -> Posted | None:
        broadcast = " (story now carried widely)" if reply.broadcast else ""
        line = f"[{reply.channel}]   also reported by {_one_line(reply.outlet)}: {_one_line(reply.title)}"
        self.stream.write(f"{line} · {_one_line(reply.url)}{broadcast}\n")
        self.stream.flush()
        return None

    async def update_alert(
        self, alert: Alert, parent: Posted, outlets: list[str], controls: AlertControls | None = None
    ) -> None:
        return None  # a printed line cannot be rewritten; each reply line says what was added

    async def send_notice(self, channel: str, text: str) -> None:
        self.stream.write(f"[{channel}] NOTICE {_one_line(text)}\n")
        self.stream.flush()

    async def send_digest(self, digest: Digest) -> str | None:
        self.stream.write(format_digest(digest) + "\n")
        self.stream.flush()
        return None

    async def probe(self) -> None:
        return None  # a terminal is always there

    async def close(self) -> None:
        return None


_PRIORITY = {"high": " HIGH PRIORITY", "normal": "", "low": " (low priority)"}


def format_alert(alert: Alert, now: datetime | None = None) -> str:
    """What the Slack alert says, as plain lines: outlet, publication time and age (at `now`), the words
    that matched as the article writes them, and whether `backfill` queued it."""
    article = alert.article
    backfilled = " BACKFILLED" if alert.backfilled else ""
    words = ", ".join(shown_words(alert))
    return "\n".join(
        [
            f"[{alert.channel}]{_PRIORITY[alert.priority]}{backfilled} {_one_line(article.title)}",
            f"  {_one_line(outlet_name(alert))} · {_published(alert, now or datetime.now(UTC))} · "
            f"{_one_line(article.canonical_url or article.url)}",
            f"  matched: {_one_line(words)} (watchlist {_one_line(', '.join(alert.watchlists))})",
            f"  {cut(_one_line(alert.summary), 700)}",
        ]
    )


def _published(alert: Alert, now: datetime) -> str:
    published = alert.article.published
    if published is None:
        return "date unknown"
    when = f"{utc_text(published)} ({age_text(published, now)})"
    return f"originally published {when}" if alert.backfilled else when


def _one_line(text: str) -> str:
    # Control characters from a hostile feed must not rewrite the operator's terminal; the same
    # neutralising (and secret masking) as every command's output and every log line.
    return safe_line(text)


def format_digest(digest: Digest) -> str:
    """The digest as a few lines per story, times in the digest's time zone."""
    zone = _zone(digest.timezone)
    start, end = (_local(t, zone) for t in (digest.period_start, digest.period_end))
    watchlists = _one_line(", ".join(digest.watchlists))
    lines = [f"[{digest.channel}] DIGEST {watchlists} · {start} – {end} {digest.timezone}"]
    for rank, story in enumerate(digest.stories, start=1):
        outlets = ", ".join(_one_line(o) for o in story.outlets)
        lines.append(f"  {rank}. {_one_line(story.title)} · {_one_line(story.url)}")
        lines.append(f"     {len(story.outlets)} outlet(s): {cut(outlets, 300)}")
        lines += [
            f"     · {_one_line(a.title)} · {_one_line(a.url)} ({_one_line(a.source)})" for a in story.also
        ]
    if digest.more:
        lines.append(f"  ...and {digest.more} more")
    return "\n".join(lines)


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        return ZoneInfo("UTC")
