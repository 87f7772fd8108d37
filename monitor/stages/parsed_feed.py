"""What a feed parser read, before our cleaning and caps: the records both parse paths return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

FEEDPARSER = "feedparser"
FASTFEEDPARSER = "fastfeedparser"


@dataclass(frozen=True)
class ParsedEntry:
    """One entry as a parser read it, before our cleaning and caps."""

    id: str
    link: str
    title: str
    title_is_html: bool
    summary: str  # HTML
    published: datetime | None  # UTC


@dataclass(frozen=True)
class ParsedFeed:
    """A feed as a parser read it; `problem` says why it is malformed (feedparser only reports that)."""

    title: str
    title_is_html: bool
    entries: tuple[ParsedEntry, ...]
    problem: str | None
    parser: str  # FEEDPARSER or FASTFEEDPARSER
    fallback: str | None = None  # why the fast path was not taken
