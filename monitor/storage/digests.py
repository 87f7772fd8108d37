"""Digest queries: the last digest of a watchlist, the matched articles since, and queueing a digest once.

A digest is one outbox row (kind `digest`, no article) whose `dedup_key` names the watchlist and the end of
its period: the unique key is what makes a digest queue once, whichever process or task tries.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from . import schema
from .common import outbox_columns
from .records import OutboxEntry, Story
from .stories import group_into_stories


class DigestQueries:
    engine: Engine

    def queue_digest(self, channel: str, payload: str, dedup_key: str, at: datetime) -> bool:
        """Put a digest in the outbox; False when one with this key is there already."""
        values = {"channel": channel, "payload": payload, "dedup_key": dedup_key, "kind": "digest"}
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(schema.alerts).values(status="pending", attempts=0, created_at=at, **values)
                )
        except IntegrityError:
            return False
        return True

    def last_digest(self, key_prefix: str) -> OutboxEntry | None:
        """The digest whose key starts with `key_prefix` and sorts last (keys end in a UTC time)."""
        table = schema.alerts
        # substr, not LIKE: a watchlist name may contain % or _.
        query = (
            select(*outbox_columns())
            .where(table.c.kind == "digest", func.substr(table.c.dedup_key, 1, len(key_prefix)) == key_prefix)
            .order_by(table.c.dedup_key.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return OutboxEntry(**row) if row else None

    def last_article_id(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(schema.articles.c.id))).scalar() or 0)

    def matched_stories(
        self, watchlist: str, *, after: datetime, after_id: int, until: datetime, up_to_id: int
    ) -> list[Story]:
        """Stories with an article matched by `watchlist`, first seen by `until` and stored by `up_to_id`,
        that is new: first seen after `after`, or stored after `after_id`. Each story with its articles
        first seen by `until`, oldest first."""
        articles = schema.articles
        new = (articles.c.first_seen_at > after) | (articles.c.id > after_id)
        query = select(articles.c.id, articles.c.story_id, articles.c.matches).where(
            new, articles.c.first_seen_at <= until, articles.c.id <= up_to_id, articles.c.matches != "[]"
        )
        with self.engine.connect() as conn:
            story_ids = {
                int(row.story_id or row.id)
                for row in conn.execute(query)
                if any(m.get("watchlist") == watchlist for m in json.loads(row.matches or "[]"))
            }
        return self.stories_by_id(sorted(story_ids), until=until, up_to_id=up_to_id)

    def stories_by_id(self, story_ids: list[int], *, until: datetime, up_to_id: int) -> list[Story]:
        articles = schema.articles
        story = func.coalesce(articles.c.story_id, articles.c.id)
        names = ("id", "source", "title", "url", "canonical_url", "first_seen_at", "outcome", "matches")
        columns = [articles.c[name] for name in names]
        query = (
            select(*columns, story.label("story"))
            .where(story.in_(story_ids), articles.c.first_seen_at <= until, articles.c.id <= up_to_id)
            .order_by(articles.c.first_seen_at, articles.c.id)
        )
        with self.engine.connect() as conn:
            return group_into_stories(conn.execute(query).mappings(), story_column="story")
