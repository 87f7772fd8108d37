"""Block Kit for one digest: a heading, the period, one section per story, and how many were left out.

The escaping rules are slack_message.py's (every feed string is untrusted). Sizes, from ../shared/SLACK.md
§2: at most MAX_STORIES + 3 blocks (of 50), each section under 3,000 characters, and the blocks' text
together under TEXT_BUDGET, since Slack refuses a message whose blocks are too long in total
(`msg_blocks_too_long`, seen at ~13,200 characters) without documenting the limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..models import Digest, DigestStory
from .slack_message import FALLBACK_TEXT_LIMIT, escape_mrkdwn, escaped_cut, safe_link

TEXT_BUDGET = 10_000
# Longer links (escaping can make one several times its length) are left out: the title stays.
MAX_DIGEST_LINK = 1500
OUTLETS_SHOWN = 5
OUTLET_NAME_LIMIT = 60


def build_digest_blocks(digest: Digest) -> list[dict[str, Any]]:
    """Heading, period, the stories in rank order, and a count of those not shown."""
    heading = f"*News digest: {escaped_cut(', '.join(digest.watchlists), 200)}*"
    blocks = [_section(heading), _context(period_line(digest))]
    used = len(heading) + len(blocks[1]["elements"][0]["text"])
    shown = 0
    for rank, story in enumerate(digest.stories, start=1):
        text = story_text(rank, story, digest.timezone)
        if used + len(text) > TEXT_BUDGET:
            break
        blocks.append(_section(text))
        used += len(text)
        shown += 1
    left_out = len(digest.stories) - shown + digest.more
    if left_out:
        blocks.append(_context(f"…and {left_out} more {_plural(left_out, 'story', 'stories')}"))
    return blocks


def build_digest_text(digest: Digest) -> str:
    """Plain one-line text for notifications: how many stories, and the top one."""
    count = len(digest.stories) + digest.more
    line = f"News digest ({', '.join(digest.watchlists)}): {count} {_plural(count, 'story', 'stories')}"
    if digest.stories:
        top = digest.stories[0]
        line += f"; top: {top.title} ({len(top.outlets)} {_plural(len(top.outlets), 'outlet', 'outlets')})"
    return escaped_cut(line, FALLBACK_TEXT_LIMIT)


def period_line(digest: Digest) -> str:
    zone = _zone(digest.timezone)
    start, end = (local_time(t, zone) for t in (digest.period_start, digest.period_end))
    return (
        f"{start} – {end} ({escape_mrkdwn(digest.timezone)}), ranked by how many outlets carried each story"
    )


def story_text(rank: int, story: DigestStory, timezone: str) -> str:
    """`3. *<url|title>*` and a line with the outlets and when the story was first seen."""
    link = safe_link(story.url, story.title or story.url)
    if len(link) > MAX_DIGEST_LINK:
        link = escaped_cut(story.title or "(no title)", 250)
    names = ", ".join(escaped_cut(name, OUTLET_NAME_LIMIT) for name in story.outlets[:OUTLETS_SHOWN])
    if len(story.outlets) > OUTLETS_SHOWN:
        names += f" +{len(story.outlets) - OUTLETS_SHOWN}"
    count = len(story.outlets)
    seen = local_time(story.first_seen, _zone(timezone))
    return f"{rank}. *{link}*\n{count} {_plural(count, 'outlet', 'outlets')}: {names} · first seen {seen}"


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%a %d %b %H:%M")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):  # checked at load; a digest queued under an older config may name another
        return ZoneInfo("UTC")


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim, as in slack_message.py: no auto-linking of names or domains in untrusted text.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(text)]}
