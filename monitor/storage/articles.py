"""Articles: the dedup keys checked before a page is fetched, recording an article with its keys, indexes
and alerts in one transaction, near-copy candidates, preview and backfill reads, and retention."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from ..errors import StorageError
from . import schema
from .alerts import queue_alert
from .common import dialect_insert, inserted_id
from .outbox import DELIVERED_OR_ON_THE_WAY
from .records import ArticleKey, ArticleRecord, QueuedAlert, RecordResult, StoredArticle
from .stories import index_story


class ArticleQueries:
    """Mixin of SQLStorage: the articles table and its key and near-copy indexes."""

    engine: Engine

    def find_seen_key(self, keys: list[ArticleKey]) -> ArticleKey | None:
        """The first of `keys` already recorded, or None: the cheap check before fetching a page."""
        table = schema.article_keys
        with self.engine.connect() as conn:
            for key in keys:
                query = select(table.c.kind).where(table.c.kind == key.kind, table.c.key == _stored(key))
                if conn.execute(query).first():
                    return key
        return None

    def near_copy_candidates(self, bands: list[str], since: datetime) -> list[tuple[int, bytes]]:
        """Articles first seen since `since` that share an LSH band with `bands`, with their signatures."""
        index, articles = schema.near_dup_bands, schema.articles
        sharing = select(index.c.article_id).where(
            index.c.band_key.in_(bands), index.c.first_seen_at >= since
        )
        query = select(articles.c.id, articles.c.signature).where(
            articles.c.id.in_(sharing), articles.c.signature.is_not(None)
        )
        with self.engine.connect() as conn:
            return [(int(row.id), bytes(row.signature)) for row in conn.execute(query)]

    def record_article(
        self, record: ArticleRecord, keys: list[ArticleKey], alerts: list[QueuedAlert]
    ) -> RecordResult:
        """Store an article, its keys and its alerts in one transaction, unless a key was seen before.

        The transaction is the guarantee: either the article is recorded with every alert queued, or
        nothing is (a crash in between leaves no half-recorded article that would never alert).
        """
        try:
            with self.engine.begin() as conn:
                article_id = self._insert_article(conn, record)
                duplicate = self._claim_keys(conn, keys, article_id)
                if duplicate:
                    conn.rollback()
                else:
                    self._index_bands(conn, record, article_id)
                    index_story(conn, record, article_id)
                    story_id = record.story_id or article_id
                    outbox = tuple(
                        queue_alert(conn, article_id, alert, record.first_seen_at, story_id)
                        for alert in alerts
                    )
                    return RecordResult(article_id=article_id, outbox=outbox)
            self._alias_keys(keys, duplicate)
            return RecordResult(article_id=None, duplicate_of=duplicate)
        except OperationalError as exc:
            raise StorageError(f"storage: cannot record an article: url={record.url}: {exc.orig}") from exc

    def _index_bands(self, conn: Connection, record: ArticleRecord, article_id: int) -> None:
        if record.bands:
            rows = [
                {"band_key": key, "article_id": article_id, "first_seen_at": record.first_seen_at}
                for key in record.bands
            ]
            conn.execute(insert(schema.near_dup_bands), rows)

    def _alias_keys(self, keys: list[ArticleKey], known: ArticleKey) -> None:
        """Point a duplicate's other keys at the stored article, so the next poll skips it before fetching."""
        table = schema.article_keys
        with self.engine.begin() as conn:
            query = select(table.c.article_id).where(
                table.c.kind == known.kind, table.c.key == _stored(known)
            )
            existing_id = conn.execute(query).scalar_one()
            self._claim_keys(conn, keys, existing_id)

    def _insert_article(self, conn: Connection, record: ArticleRecord) -> int:
        values = {
            "feed_url": record.feed_url,
            "guid": record.guid,
            "url": record.url,
            "canonical_url": record.canonical_url,
            "title": record.title,
            "text": record.text,
            "published_at": record.published_at,
            "first_seen_at": record.first_seen_at,
            "fingerprint": record.fingerprint,
            "outcome": record.outcome,
            "matches": record.matches_json,
            "signature": record.signature,
            "story_id": record.story_id,
            "source": record.source,
            "story_profile": record.story_profile,
        }
        return inserted_id(conn.execute(insert(schema.articles).values(**values)))

    def _claim_keys(self, conn: Connection, keys: list[ArticleKey], article_id: int) -> ArticleKey | None:
        """Record those of the keys no article holds yet; return the first one another article holds."""
        unique = list(dict.fromkeys(keys))
        if not unique:
            return None
        rows = [{"kind": key.kind, "key": _stored(key), "article_id": article_id} for key in unique]
        table = schema.article_keys
        # One statement for all the keys; a key held already is skipped, not an error that would abort
        # the transaction (PostgreSQL refuses every later statement after one).
        statement = dialect_insert(conn, table).values(rows).on_conflict_do_nothing()
        inserted = {tuple(row) for row in conn.execute(statement.returning(table.c.kind, table.c.key))}
        pairs = zip(unique, rows, strict=True)
        return next((key for key, row in pairs if (row["kind"], row["key"]) not in inserted), None)

    def recent_articles(self, since: datetime) -> list[StoredArticle]:
        """Articles first seen since `since` whose text is still kept, oldest first."""
        articles, alerts = schema.articles, schema.alerts
        query = (
            select(articles)
            .where(articles.c.first_seen_at >= since, articles.c.text != "")
            .order_by(articles.c.first_seen_at, articles.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
            channels: dict[int, list[str]] = {}
            # An alert that failed or was dropped never reached anyone: its article counts as not alerted.
            for article_id, channel in conn.execute(
                select(alerts.c.article_id, alerts.c.channel).where(
                    alerts.c.article_id.in_([r["id"] for r in rows]),
                    alerts.c.status.in_(DELIVERED_OR_ON_THE_WAY),
                )
            ):
                channels.setdefault(article_id, []).append(channel)
        return [
            StoredArticle(row["id"], _record_from(row), tuple(channels.get(row["id"], ()))) for row in rows
        ]

    def prune(self, *, text_before: datetime, rows_before: datetime) -> tuple[int, int]:
        """Drop article text first seen before `text_before`, and whole old articles before `rows_before`.

        Text is what preview and backfill need (kept for `retention`); the rows and their keys are what
        dedup needs, so they are kept longer.
        """
        articles = schema.articles
        with self.engine.begin() as conn:
            # The near-duplicate index only needs the story window, which is shorter than `retention`.
            for index in (schema.near_dup_bands, schema.story_keys):
                conn.execute(index.delete().where(index.c.first_seen_at < text_before))
            cleared = conn.execute(
                update(articles)
                .where(articles.c.first_seen_at < text_before, articles.c.text != "")
                .values(text="", story_profile=None)  # profiles are only compared within the window
            ).rowcount
            old = select(articles.c.id).where(articles.c.first_seen_at < rows_before)
            conn.execute(schema.article_keys.delete().where(schema.article_keys.c.article_id.in_(old)))
            conn.execute(
                schema.alerts.delete().where(
                    schema.alerts.c.article_id.in_(old), schema.alerts.c.status != "pending"
                )
            )
            pending = select(schema.alerts.c.article_id).where(schema.alerts.c.status == "pending")
            deleted = conn.execute(
                articles.delete().where(articles.c.id.in_(old), articles.c.id.not_in(pending))
            ).rowcount
        return int(cleared or 0), int(deleted or 0)


def _stored(key: ArticleKey) -> str:
    return schema.fitted_key(key.key, schema.KEY_LENGTH)


def _record_from(row: Any) -> ArticleRecord:
    return ArticleRecord(
        feed_url=row["feed_url"],
        guid=row["guid"],
        url=row["url"],
        canonical_url=row["canonical_url"],
        title=row["title"],
        text=row["text"],
        published_at=row["published_at"],
        first_seen_at=row["first_seen_at"],
        fingerprint=row["fingerprint"],
        outcome=row["outcome"],
        matches_json=row["matches"],
        signature=row["signature"],
    )
