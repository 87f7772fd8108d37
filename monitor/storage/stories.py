"""Story queries: finding a new article's story, a story's Slack thread, and the stories of a period.

Every lookup is by index (story keys, story_id, alert id), bounded by the story window: the cost per
article does not grow with the store.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.engine import Connection

from ..models import StoryMember, StoryReply, published_time
from . import schema
from .common import outbox_columns
from .records import ArticleRecord, OutboxEntry, Story, StoryArticle, StoryThread

# Per key, the newest articles carrying it; then the best-sharing of those, and the stories they are in.
# A common name ("Beijing") can be in thousands of articles of the window: reading all of them would make
# the cost per article grow with the store. A story's other articles are found through its rarer names.
ARTICLES_PER_KEY = 50
MAX_STORY_CANDIDATES = 100
# Stories compared per article (those of the best-sharing articles first), each through its newest
# MEMBERS_COMPARED members and its first article (the story's age is counted from it).
MAX_STORIES_COMPARED = 12
# The story stage's MEMBERS_COMPARED (stages/stories.py): storage may not import a stage, so the number
# is written twice and tests/test_storage_story_members.py checks the two agree. Reading fewer would change
# the stage's centroids; reading more, only its work.
MEMBERS_COMPARED = 24


class StoryQueries:
    engine: Engine

    def story_members(self, keys: list[str], since: datetime) -> list[StoryMember]:
        """Members of the recent stories whose articles share most of `keys`: a few indexed reads per
        key and per story, at any store size."""
        with self.engine.connect() as conn:
            stories = _stories_sharing(conn, keys, since)
            members: list[StoryMember] = []
            for story_id in stories:
                members.extend(_members_of(conn, story_id, since))
            return members

    def exact_copy_of(self, fingerprint: str, since: datetime) -> int | None:
        """The article first seen since `since` that holds this text fingerprint as its dedup key, if any."""
        keys, articles = schema.article_keys, schema.articles
        query = (
            select(articles.c.id)
            .join(keys, keys.c.article_id == articles.c.id)
            .where(keys.c.kind == "fingerprint", keys.c.key == fingerprint, articles.c.first_seen_at >= since)
        )
        with self.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else int(found)

    def story_of(self, article_id: int) -> int | None:
        with self.engine.connect() as conn:
            return article_story(conn, article_id)

    def story_thread(
        self, story_id: int, channel: str, *, excluding: int | None = None
    ) -> StoryThread | None:
        """The story's alert in `channel` (not a digest) and the outlets its thread already shows.

        Entries dropped are not in it (they will never be posted), nor the entry `excluding` (one being
        re-routed, which must not find itself)."""
        alerts, articles = schema.alerts, schema.articles
        in_story = (
            (alerts.c.story_id == story_id) & (alerts.c.channel == channel) & (alerts.c.status != "dropped")
        )
        if excluding is not None:
            in_story &= alerts.c.id != excluding
        with self.engine.connect() as conn:
            # An alert Slack has (a ts) before one only printed to the console.
            parent = conn.execute(
                select(alerts.c.id)
                .where(in_story, alerts.c.kind == "alert")
                .order_by(alerts.c.ts.is_(None), alerts.c.id)
                .limit(1)
            ).scalar()
            if parent is None:
                return None
            shown = conn.execute(
                select(articles.c.source, alerts.c.kind, alerts.c.payload)
                .join(alerts, alerts.c.article_id == articles.c.id)
                .where(in_story, alerts.c.kind.in_(("alert", "reply")))
            ).all()
        return StoryThread(
            alert_id=int(parent),
            outlets=frozenset(row.source for row in shown if row.source),
            broadcast=any(
                row.kind == "reply" and StoryReply.from_json(row.payload).broadcast for row in shown
            ),
        )

    def make_alert(self, alert_id: int, payload: str) -> None:
        """A reply whose story alert never reached Slack becomes an alert of its own."""
        with self.engine.begin() as conn:
            conn.execute(
                update(schema.alerts)
                .where(schema.alerts.c.id == alert_id)
                .values(kind="alert", parent_id=None, payload=payload)
            )

    def story_outlets(self, story_id: int) -> list[str]:
        """The outlets that carried the story, in the order they did (copies on other sites count)."""
        articles = schema.articles
        query = (
            select(articles.c.source, func.min(articles.c.id).label("first"))
            .where(articles.c.story_id == story_id, articles.c.source.is_not(None))
            .group_by(articles.c.source)
            .order_by("first")
        )
        with self.engine.connect() as conn:
            return [row.source for row in conn.execute(query)]

    def stories_since(self, since: datetime) -> list[Story]:
        """Stories with an article first seen since `since`, with all their articles, newest first."""
        articles = schema.articles
        recent = select(articles.c.story_id).where(articles.c.first_seen_at >= since).distinct()
        query = (
            select(articles)
            .where(articles.c.story_id.in_(recent))
            .order_by(articles.c.id)  # the order the story decisions were made in
        )
        with self.engine.connect() as conn:
            stories = group_into_stories(conn.execute(query).mappings(), story_column="story_id")
        return sorted(stories, key=lambda s: s.articles[-1].first_seen_at, reverse=True)

    def record_reply_posted(self, alert_id: int, ts: str) -> None:
        """The reply is in the thread; what is left is updating the parent (the entry stays pending)."""
        with self.engine.begin() as conn:
            conn.execute(update(schema.alerts).where(schema.alerts.c.id == alert_id).values(ts=ts))

    def outbox_entry(self, alert_id: int) -> OutboxEntry | None:
        table = schema.alerts
        with self.engine.connect() as conn:
            row = conn.execute(select(*outbox_columns()).where(table.c.id == alert_id)).mappings().first()
        return OutboxEntry(**row) if row else None


def article_story(conn: Connection, article_id: int) -> int | None:
    """The story the article is in (named by its first article's id); None if there is no such article."""
    articles = schema.articles
    row = conn.execute(select(articles.c.id, articles.c.story_id).where(articles.c.id == article_id)).first()
    return None if row is None else int(row.story_id or row.id)


def index_story(conn: Connection, record: ArticleRecord, article_id: int) -> None:
    """Name the story (its first article's id when it starts one) and index the article's keys."""
    if record.story_id is None:
        articles = schema.articles
        conn.execute(update(articles).where(articles.c.id == article_id).values(story_id=article_id))
    if record.story_keys:
        rows = [
            {"key": key, "article_id": article_id, "first_seen_at": record.first_seen_at}
            for key in dict.fromkeys(
                schema.fitted_key(key, schema.STORY_KEY_LENGTH) for key in record.story_keys
            )
        ]
        conn.execute(schema.story_keys.insert(), rows)


def _stories_sharing(conn: Connection, keys: list[str], since: datetime) -> list[int]:
    """The stories of the recent articles sharing most of `keys`, those sharing most first."""
    index, articles = schema.story_keys, schema.articles
    shared: Counter[int] = Counter()
    for key in dict.fromkeys(schema.fitted_key(key, schema.STORY_KEY_LENGTH) for key in keys):
        newest = (
            select(index.c.article_id)
            .where(index.c.key == key, index.c.first_seen_at >= since)
            .order_by(index.c.article_id.desc())
            .limit(ARTICLES_PER_KEY)
        )
        shared.update(conn.execute(newest).scalars())
    best = [article_id for article_id, _ in shared.most_common(MAX_STORY_CANDIDATES)]
    query = select(articles.c.id, articles.c.story_id).where(
        articles.c.id.in_(best), articles.c.story_profile.is_not(None)
    )
    story_of = {int(row.id): int(row.story_id or row.id) for row in conn.execute(query)}
    ranked = dict.fromkeys(story_of[article_id] for article_id in best if article_id in story_of)
    return list(ranked)[:MAX_STORIES_COMPARED]


def _members_of(conn: Connection, story_id: int, since: datetime) -> list[StoryMember]:
    """The story's newest profiled members of the window, each with when the story started."""
    articles = schema.articles
    columns = (articles.c.published_at, articles.c.first_seen_at)
    # The story is named after its first article (_index_story), which may be older than the window.
    first = conn.execute(select(*columns).where(articles.c.id == story_id)).first()
    newest = conn.execute(
        select(articles.c.id, articles.c.story_profile, *columns)
        .where(
            articles.c.story_id == story_id,
            articles.c.story_profile.is_not(None),
            articles.c.first_seen_at >= since,
        )
        .order_by(articles.c.id.desc())
        .limit(MEMBERS_COMPARED)
    ).all()
    if not newest:
        return []
    started = min(
        published_time(row.published_at, row.first_seen_at) for row in (*newest, *([first] if first else []))
    )
    return [
        StoryMember(
            article_id=int(row.id),
            story_id=story_id,
            profile=row.story_profile,
            published=published_time(row.published_at, row.first_seen_at),
            story_started=started,
        )
        for row in newest
    ]


def group_into_stories(rows: Iterable[Any], *, story_column: str) -> list[Story]:
    """Article rows (mappings) grouped by story, in the rows' order; the URL is the canonical one if any."""
    by_story: dict[int, list[StoryArticle]] = {}
    for row in rows:
        by_story.setdefault(int(row[story_column]), []).append(
            StoryArticle(
                id=int(row["id"]),
                source=row["source"],
                title=row["title"],
                url=row.get("canonical_url") or row["url"],
                first_seen_at=row["first_seen_at"],
                outcome=row["outcome"],
                story_profile=row.get("story_profile"),  # a digest does not read the largest column
                watchlists=matched_watchlists(row.get("matches")),
                fingerprint=row.get("fingerprint"),
                signature=bytes(row["signature"]) if row.get("signature") is not None else None,
            )
        )
    return [Story(id=story_id, articles=tuple(items)) for story_id, items in by_story.items()]


def matched_watchlists(matches: str | None) -> tuple[str, ...]:
    """The watchlist names in an article's stored matches (JSON: [{watchlist, channel, terms}])."""
    try:
        return tuple(dict.fromkeys(str(m["watchlist"]) for m in json.loads(matches or "[]")))
    except (ValueError, KeyError, TypeError):
        return ()
