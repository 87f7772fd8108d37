"""Typed records passed between pipeline stages.

FeedItem (poll) -> Page (fetch) -> Article (extract) -> Match (match) -> Alert (summarise) -> notifiers.
StoryMember is what storage reads back of a recent story for the story stage (storage may not import a
stage, so the record lives here). Every record is immutable so a stage can never change what an earlier
stage saw.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from .text import html_to_text

# A feed's summary is fallback text, not an archive: longer ones are cut.
MAX_FEED_SUMMARY_CHARS = 20_000


@dataclass(frozen=True)
class FeedItem:
    """One entry of a polled feed, before its page is fetched."""

    feed_url: str
    feed_title: str
    guid: str
    link: str
    title: str
    summary_html: str  # the feed's summary as written (HTML); see summary_text
    published: datetime | None  # timezone-aware UTC, None when the feed gives no usable date
    # Its link is shared by other entries of the feed with their own ids and titles (posts that are
    # #fragments of one day page, podcast episodes all linking the show): the link is then no key of
    # this item's, and its text is the feed's own (stages/dedupe.py mark_shared_links).
    link_shared: bool = False
    # Its link is no page of the article's to fetch (a Google News token, behind Google's consent wall in
    # the EU): its text is the feed's own title and summary (sources/search/google_news.py).
    text_only: bool = False

    @cached_property
    def summary_text(self) -> str:
        """The summary with its HTML cleaned off: the fallback article text.

        Cleaned on first use, not when the feed is read: most items of a poll are already seen or too
        old, and cleaning twenty summaries cost more than parsing the feed.
        """
        return html_to_text(self.summary_html, max_chars=MAX_FEED_SUMMARY_CHARS).replace("\x00", "").strip()


@dataclass(frozen=True)
class FeedPoll:
    """The outcome of polling one feed: its items, or that nothing changed (HTTP 304)."""

    feed_url: str
    title: str
    items: tuple[FeedItem, ...]
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    problem: str | None = None  # why the feed is malformed, when feedparser could still read items from it
    refresh_hint: timedelta | None = None  # the server's: Cache-Control max-age, or RSS <ttl>
    moved_to: str | None = None  # the feed's new URL, when it answered with a permanent redirect
    kind: str | None = None  # what the URL serves (stages/feed_kind.py): rss, atom, json_feed, news_sitemap…


@dataclass(frozen=True)
class Page:
    """A fetched HTML page; `url` is where the last redirect landed."""

    url: str
    html: str
    status: int = 200


@dataclass(frozen=True)
class Article:
    """An article's main text and metadata, from its page or, failing that, from the feed item."""

    url: str
    title: str
    text: str
    canonical_url: str | None = None
    published: datetime | None = None
    authors: tuple[str, ...] = ()
    site_name: str | None = None
    from_feed_summary: bool = False  # True when the page could not be fetched or extracted


@dataclass(frozen=True)
class TermHit:
    """One occurrence of a watch term in an article."""

    term: str  # the configured term (not the alias that matched)
    matched_text: str  # the text as it appears in the article
    in_title: bool
    sentence: str
    # Where: character offsets in the normalised headline (in_title) or body; -1 when not known. Not
    # compared: two hits are the same hit wherever a caller found them.
    start: int = field(default=-1, compare=False)
    end: int = field(default=-1, compare=False)


@dataclass(frozen=True)
class Match:
    """An article matching one watchlist."""

    watchlist: str
    channel: str
    hits: tuple[TermHit, ...]
    priority: str = "normal"  # low | normal | high
    notify_here: bool = False

    @property
    def terms(self) -> tuple[str, ...]:
        """Configured terms that matched, in first-seen order, without repeats."""
        return tuple(dict.fromkeys(hit.term for hit in self.hits))


@dataclass(frozen=True)
class Alert:
    """What is posted to one channel about one article."""

    channel: str
    article: Article
    source: str  # the outlet's name: the feed's configured name, its title, or the site name
    summary: str  # 2-4 plain-text sentences; escaping for Slack happens in the notifier
    watchlists: tuple[str, ...]
    terms: tuple[str, ...]
    article_id: int | None = None
    extra: dict[str, str] = field(default_factory=dict)
    priority: str = "normal"  # the highest of the watchlists routed here
    notify_here: bool = False  # a high-priority watchlist opted in to @here
    # The words that matched, as the article writes them ("chipmakers" for the query's chip*), each
    # spelling once, headline first. Empty in payloads queued before they were kept: `terms` is shown.
    matched: tuple[str, ...] = ()
    backfilled: bool = False  # queued by `news-monitor backfill`, not when the article was first seen

    def to_json(self) -> str:
        """The outbox payload: everything needed to send this alert again after a restart.

        The article's text is left out (it is stored with the article, and a message never shows it).
        """
        data = asdict(self)
        data["article"]["text"] = ""
        data["article"]["published"] = self.article.published.isoformat() if self.article.published else None
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, payload: str, *, article_id: int | None = None) -> Alert:
        """The alert of an outbox payload. Fields added since it was queued take their defaults; fields this
        version does not know (queued by a newer one, in a fleet being upgraded) are left out."""
        data: dict[str, Any] = _known_fields(cls, json.loads(payload))
        stored = _known_fields(Article, data.pop("article"))
        published = datetime.fromisoformat(stored["published"]) if stored.get("published") else None
        article = Article(**{**stored, "published": published, "authors": tuple(stored.get("authors", ()))})
        data["watchlists"] = tuple(data["watchlists"])
        data["terms"] = tuple(data["terms"])
        data["matched"] = tuple(data.get("matched", ()))  # optional: older payloads have none
        data["article_id"] = article_id if article_id is not None else data.get("article_id")
        return cls(article=article, **data)


def _known_fields(record: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(record)}
    return {key: value for key, value in data.items() if key in names}


# What the buttons on an alert do (delivery/interactions.py); their Slack action ids are in
# delivery/notifiers/slack_buttons.py.
ALERT_ACTIONS = ("relevant", "not_relevant", "mute_story", "mute_outlet")


@dataclass(frozen=True)
class AlertMark:
    """What someone did with an alert's buttons, shown on the alert: "Story muted by <@U…>"."""

    action: str  # one of ALERT_ACTIONS
    user_id: str  # Slack's user ID (U…/W…), checked when the interaction was recorded
    outlet: str = ""  # mute_outlet: the outlet muted, and for which watchlists
    watchlists: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertControls:
    """An alert's buttons and what was done with them: the buttons' value is the alert's outbox id."""

    alert_id: int
    marks: tuple[AlertMark, ...] = ()
    # False where nothing listens for presses (`once`, no app-level token, a token refused): the marks
    # already made are still shown (a rewrite must not erase them), the buttons are not.
    buttons: bool = True


@dataclass(frozen=True)
class DigestHeadline:
    """One article of a digest's story, under its own headline."""

    title: str
    url: str
    source: str


@dataclass(frozen=True)
class DigestStory:
    """One story in a digest: the first article the watchlist matched, the others it matched (each under
    its own headline: one joined to the story by mistake must not vanish under another's), and who
    carried the story."""

    title: str
    url: str
    source: str  # the outlet of the article whose headline leads
    outlets: tuple[str, ...]  # every outlet that carried it, in the order they did
    articles: int
    first_seen: datetime
    also: tuple[DigestHeadline, ...] = ()  # the story's other matched articles, in the order first seen


@dataclass(frozen=True)
class Digest:
    """One digest message: the stories a watchlist matched in a period, most outlets first."""

    channel: str
    watchlists: tuple[str, ...]
    period_start: datetime  # exclusive; UTC
    period_end: datetime  # inclusive: the schedule's fire time (or when it was asked for); UTC
    timezone: str  # the schedule's zone, for showing times
    stories: tuple[DigestStory, ...]
    more: int = 0  # stories left out to keep the message readable
    # The newest article the digest considered: the next one takes every later article, even one first
    # seen before this period ended but stored after the digest was built.
    last_article_id: int = 0

    def to_json(self) -> str:
        """The outbox payload: everything needed to send this digest again after a restart."""
        data = asdict(self)
        data["period_start"] = self.period_start.isoformat()
        data["period_end"] = self.period_end.isoformat()
        for story in data["stories"]:
            story["first_seen"] = story["first_seen"].isoformat()
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, payload: str) -> Digest:
        data: dict[str, Any] = json.loads(payload)
        data["watchlists"] = tuple(data["watchlists"])
        data["period_start"] = datetime.fromisoformat(data["period_start"])
        data["period_end"] = datetime.fromisoformat(data["period_end"])
        data["stories"] = tuple(
            DigestStory(
                **{
                    **story,
                    "outlets": tuple(story["outlets"]),
                    "first_seen": datetime.fromisoformat(story["first_seen"]),
                    "also": tuple(DigestHeadline(**line) for line in story.get("also", ())),
                }
            )
            for story in data["stories"]
        )
        return cls(**data)


@dataclass(frozen=True)
class SiteRule:
    """A per-site extraction override from sites.yaml, for pages where generic extraction fails."""

    domain: str  # "livemint.com" also covers www.livemint.com
    content: str | None = None  # CSS selector of the article body; generic extraction when None
    remove: tuple[str, ...] = ()  # CSS selectors of boilerplate to drop before extracting


@dataclass(frozen=True)
class StoryReply:
    """A later article of a story already alerted: a reply in that alert's Slack thread. From an outlet
    not in the thread yet it says "Also reported by"; from one already there (`update`), "Update from"."""

    channel: str
    story_id: int
    outlet: str
    title: str
    url: str
    broadcast: bool = False  # also shown in the channel: the story just reached stories.broadcast_at outlets
    alert: str = ""  # the article's own alert (JSON), posted instead when the story's alert has no thread
    update: bool = False  # the outlet is in the thread already: its outlet count does not change

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, payload: str) -> StoryReply:
        return cls(**json.loads(payload))


@dataclass(frozen=True)
class StoryMember:
    """A stored article of a recent story: its id, its story, its profile and when it was published."""

    article_id: int
    story_id: int
    profile: str  # StoryProfile JSON (stages/stories.py), parsed only when compared
    published: datetime
    story_started: datetime  # its story's first article's publication: the story's age counts from it


def published_time(published: datetime | None, seen: datetime) -> datetime:
    """When an article came out, as a story's age counts it: its stated date, unless it has none or
    states a time later than when it was seen."""
    return seen if published is None else min(published, seen)
