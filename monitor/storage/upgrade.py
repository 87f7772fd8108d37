"""Upgrading a state database made by an older news-monitor, in place and in one transaction.

Each step takes the store from one SCHEMA_VERSION to the next without losing a row: what was seen stays
seen and pending alerts stay pending. New tables need no step (create_all makes them before this runs).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, insert, select, text, update

from . import schema


def upgrade(conn: Connection, found: int) -> None:
    """Run every step from version `found` to schema.SCHEMA_VERSION, then record the new version."""
    for version in range(found, schema.SCHEMA_VERSION):
        STEPS[version](conn)
    conn.execute(
        update(schema.meta)
        .where(schema.meta.c.key == "schema_version")
        .values(value=str(schema.SCHEMA_VERSION))
    )


def _stories(conn: Connection) -> None:
    """1 -> 2: stories (articles.story_id, source, story_profile), threaded and digest outbox entries,
    adaptive polling (feeds.poll_interval)."""
    for column, kind in (("story_id", "INTEGER"), ("source", "TEXT"), ("story_profile", "TEXT")):
        conn.execute(text(f"ALTER TABLE articles ADD COLUMN {column} {kind}"))
    conn.execute(text("ALTER TABLE feeds ADD COLUMN poll_interval INTEGER"))  # adaptive polling
    conn.execute(text("CREATE INDEX ix_articles_story_id ON articles (story_id)"))
    # Every article stored before stories existed is a story of its own.
    conn.execute(update(schema.articles).values(story_id=schema.articles.c.id))
    # alerts.article_id becomes optional (digests have none): SQLite cannot alter a column, so the
    # table is rebuilt under its new definition and the rows copied across.
    conn.execute(text("ALTER TABLE alerts RENAME TO alerts_v1"))
    schema.alerts.create(conn)
    kept = [
        "id", "article_id", "channel", "payload", "status", "ts", "error", "attempts",
        "created_at", "sent_at", "next_attempt_at", "failed_config",
    ]  # fmt: skip
    old = text(f"SELECT {', '.join(kept)}, article_id AS story_id FROM alerts_v1").columns(
        *(schema.alerts.c[name] for name in kept), schema.alerts.c.story_id
    )
    conn.execute(insert(schema.alerts).from_select([*kept, "story_id"], select(old.subquery())))
    conn.execute(text("DROP TABLE alerts_v1"))


STEPS: dict[int, Callable[[Connection], None]] = {1: _stories}
