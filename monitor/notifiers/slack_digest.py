"""Block Kit for one digest: a heading, the period, one section per story, and how many were left out.

Only the layout lives here: every string goes through slack_message.py's pieces (Text, Link, Markup)
and `render`, which clean, escape, show each link's real host and cut at safe points. Sizes, from
../shared/SLACK.md §2: at most MAX_STORIES + 3 blocks (of 50), each section under 3,000 characters,
and the blocks' text together under TEXT_BUDGET, since Slack refuses a message whose blocks are too
long in total (`msg_blocks_too_long`, seen at ~13,200 characters) without documenting the limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..models import Digest, DigestStory
from .slack_message import (
    FALLBACK_TEXT_LIMIT,
    Link,
    Markup,
    Piece,
    SlackMessage,
    Text,
    context,
    joined,
    render,
    section,
)

TEXT_BUDGET = 10_000
OUTLETS_SHOWN = 5
OUTLET_NAME_LIMIT = 60


def digest_message(digest: Digest) -> SlackMessage:
    return SlackMessage(text=build_digest_text(digest), blocks=build_digest_blocks(digest))


def build_digest_blocks(digest: Digest) -> list[dict[str, Any]]:
    """Heading, period, the stories in rank order, and a count of those not shown."""
    blocks = [
        section(Markup("*News digest: "), Text(", ".join(digest.watchlists), 200), Markup("*")),
        context(*period_line(digest)),
    ]
    used = sum(len(_text_of(block)) for block in blocks)
    shown = 0
    for rank, story in enumerate(digest.stories, start=1):
        block = section(*story_pieces(rank, story, digest.timezone))
        if used + len(_text_of(block)) > TEXT_BUDGET:
            break
        blocks.append(block)
        used += len(_text_of(block))
        shown += 1
    left_out = len(digest.stories) - shown + digest.more
    if left_out:
        blocks.append(context(Markup(f"…and {left_out} more {_plural(left_out, 'story', 'stories')}")))
    return blocks


def build_digest_text(digest: Digest) -> str:
    """Plain one-line text for notifications: how many stories, and the top one."""
    count = len(digest.stories) + digest.more
    line = f"News digest ({', '.join(digest.watchlists)}): {count} {_plural(count, 'story', 'stories')}"
    if digest.stories:
        top = digest.stories[0]
        line += f"; top: {top.title} ({len(top.outlets)} {_plural(len(top.outlets), 'outlet', 'outlets')})"
    return render([Text(line)], FALLBACK_TEXT_LIMIT)


def period_line(digest: Digest) -> list[Piece]:
    zone = _zone(digest.timezone)
    start, end = (local_time(t, zone) for t in (digest.period_start, digest.period_end))
    return [
        Markup(f"{start} – {end} ("),
        Text(digest.timezone, 100),
        Markup("), ranked by how many outlets carried each story"),
    ]


def story_pieces(rank: int, story: DigestStory, timezone: str) -> list[Piece]:
    """`3. *<url|title>* (host)` and a line with the outlets and when the story was first seen."""
    count = len(story.outlets)
    more = f" +{count - OUTLETS_SHOWN}" if count > OUTLETS_SHOWN else ""
    seen = local_time(story.first_seen, _zone(timezone))
    return [
        Markup(f"{rank}. "),
        Link(story.url, story.title or story.url, bold=True),
        Markup(f"\n{count} {_plural(count, 'outlet', 'outlets')}: "),
        *joined(story.outlets[:OUTLETS_SHOWN], OUTLET_NAME_LIMIT),
        Markup(f"{more} · first seen {seen}"),
    ]


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%a %d %b %H:%M")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):  # checked at load; a digest queued under an older config may name another
        return ZoneInfo("UTC")


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def _text_of(block: dict[str, Any]) -> str:
    text = block["text"] if block["type"] == "section" else block["elements"][0]
    return str(text["text"])
