"""Block Kit for one digest: a heading, the period, the stories, and how many were left out.

A story is its lead headline, its outlets, then one line per other article the watchlist matched, each
under its own headline; in one section, or more when its lines pass a section's 3,000 characters.

Only the layout lives here: every string goes through slack_message.py's pieces (Text, Link, Markup)
and `render`, which clean, escape, show each link's real host and cut at safe points. Sizes, from
../shared/SLACK.md §2: at most MAX_BLOCKS blocks, each section under 3,000 characters, and the blocks'
text together under TEXT_BUDGET, since Slack refuses a message whose blocks are too long in total
(`msg_blocks_too_long`, seen at ~13,200 characters) without documenting the limit. A story is shown whole
or counted among those left out, so an article is never hidden while its story shows; only a first story
too long for the whole message is cut, and says how many of its articles it leaves out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ...models import Digest, DigestHeadline, DigestStory
from .slack_message import (
    FALLBACK_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    Link,
    Markup,
    Piece,
    SlackMessage,
    Text,
    context,
    joined,
    mrkdwn,
    render,
    section,
)

TEXT_BUDGET = 10_000
MAX_BLOCKS = 50  # Slack's limit per message
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
        lines = story_lines(rank, story, digest.timezone)
        room = TEXT_BUDGET - used
        if not shown and sum(map(len, lines)) + len(lines) > room:
            # A first story longer than a whole message: its first lines, the rest counted (100 characters
            # left for that count's line).
            lines = _cut_lines(lines, room - 100)
        story_blocks = [mrkdwn_section(text) for text in _in_sections(lines)]
        size = sum(len(_text_of(block)) for block in story_blocks)
        if used + size > TEXT_BUDGET or len(blocks) + len(story_blocks) >= MAX_BLOCKS:
            break
        blocks += story_blocks
        used += size
        shown += 1
    left_out = len(digest.stories) - shown + digest.more
    if left_out:
        blocks.append(context(Markup(f"…and {left_out} more {_plural(left_out, 'story', 'stories')}")))
    return blocks


def story_lines(rank: int, story: DigestStory, timezone: str) -> list[str]:
    """The story's lead (headline, outlets, first seen), then a line per other matched article."""
    lead = render(story_pieces(rank, story, timezone), SECTION_TEXT_LIMIT)
    return [lead, *(render(headline_pieces(line), SECTION_TEXT_LIMIT) for line in story.also)]


def headline_pieces(line: DigestHeadline) -> list[Piece]:
    """`• <url|title> (host) · Mint`: another article of the story, under its own headline."""
    return [
        Markup("• "),
        Link(line.url, line.title or line.url),
        Markup(" · "),
        Text(line.source, OUTLET_NAME_LIMIT),
    ]


def _cut_lines(lines: list[str], room: int) -> list[str]:
    """As many of the lines as fit in `room` characters (the lead always), and how many were left out."""
    kept, used = lines[:1], len(lines[0])
    for line in lines[1:]:
        if used + len(line) + 1 > room:
            break
        kept.append(line)
        used += len(line) + 1
    left = len(lines) - len(kept)
    return [*kept, f"…and {left} more of its {_plural(left, 'article', 'articles')}"] if left else kept


def _in_sections(lines: list[str]) -> list[str]:
    """The lines joined into as few section texts as fit SECTION_TEXT_LIMIT (each line fits alone)."""
    sections = [lines[0]]
    for line in lines[1:]:
        if len(sections[-1]) + 1 + len(line) > SECTION_TEXT_LIMIT:
            sections.append(line)
        else:
            sections[-1] += "\n" + line
    return sections


def mrkdwn_section(text: str) -> dict[str, Any]:
    """A section of mrkdwn already rendered (every piece cleaned, escaped and cut by `render`)."""
    return {"type": "section", "text": mrkdwn(text)}


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
