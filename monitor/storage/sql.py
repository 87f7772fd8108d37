"""SQLStorage: the Storage interface on SQLAlchemy Core (SQLite by default; PostgreSQL shares the schema)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from ..errors import StorageError
from ..logs import log_event
from ..redact import mask_configured_url
from . import schema
from .claims import ClaimQueries
from .common import dialect_insert, due_outbox_entries, inserted_id, outbox_columns
from .digests import DigestQueries
from .feeds import FeedQueries
from .fleet import (
    DEFAULT_LEASE,
    FleetQueries,
    new_instance_id,
)
from .migrate import SchemaState, migrate, schema_state
from .outbox import DELIVERED_OR_ON_THE_WAY, OutboxQueries
from .records import (
    ArticleKey,
    ArticleRecord,
    OutboxEntry,
    QueuedAlert,
    RecordResult,
    StoredArticle,
)
from .stories import StoryQueries
from .turns import TurnQueries

log = logging.getLogger("monitor.storage")


class SQLStorage(
    FeedQueries, StoryQueries, DigestQueries, FleetQueries, ClaimQueries, TurnQueries, OutboxQueries
):
    """State in one relational database; every dedup decision is a unique constraint."""

    def __init__(self, url: str, *, lease: timedelta = DEFAULT_LEASE):
        self.url = driver_url(url)
        self.instance_id = new_instance_id()  # this process, in the fleet's claims (storage/fleet.py)
        self.lease = lease
        self.engine = _create_engine(self.url)
        self._closed = False
        event.listen(self.engine, "checkin", self._close_if_store_closed)
        try:
            self._open_schema()
        except StorageError:
            self.engine.dispose()
            raise
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise StorageError(
                f"storage: cannot open the state database {_redact(url)}: {getattr(exc, 'orig', exc)}. "
                "If the file is corrupt, move it aside and start again (articles newer than poll.max_age "
                "may then alert once more); if the folder is not writable, fix its permissions or point "
                "`storage:` in monitor.yaml elsewhere."
            ) from exc

    def _open_schema(self) -> None:
        """Create a new store, upgrade an older SQLite one, refuse anything else before touching it."""
        state = schema_state(self.engine)
        if state.foreign or not state.known:
            found = (
                "tables that are not a news-monitor store's"
                if state.foreign
                else (f"a schema made by a newer news-monitor (revision {state.revision})")
            )
            raise StorageError(
                f"storage: the state database {_redact(self.url)} holds {found}; this news-monitor needs "
                f"revision {state.head}. Run the newer version, point `storage:` at a new database, or "
                "move the old one aside (articles newer than poll.max_age may then alert once more)."
            )
        if state.current:
            return
        if state.empty or self.engine.dialect.name == "sqlite":
            before, head = self.migrate()
            log_event(log, logging.INFO, "store.migrated", store=_redact(self.url),
                      from_revision=before.revision or "none", to_revision=head)  # fmt: skip
            return
        raise StorageError(
            f"storage: the state database {_redact(self.url)} is at schema revision {state.revision}, "
            f"this news-monitor needs {state.head}. Run `news-monitor --config PATH migrate` once (stop "
            "instances of the older version first, or they may fail on the new columns), then start again."
        )

    def migrate(self) -> tuple[SchemaState, str]:
        """Bring the schema to this version's head (see migrate.py); returns (state before, head)."""
        return migrate(self.url, connect_args=_connect_args(self.url))

    # -- articles ----------------------------------------------------------------------------------

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
                    self._index_story(conn, record, article_id)
                    story_id = record.story_id or article_id
                    outbox = tuple(
                        self._queue_alert(conn, article_id, alert, record.first_seen_at, story_id)
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

    def _queue_alert(
        self, conn: Connection, article_id: int, alert: QueuedAlert, at: datetime, story_id: int | None
    ) -> OutboxEntry:
        values: dict[str, Any] = {
            "article_id": article_id,
            "channel": alert.channel,
            "payload": alert.payload,
            "status": "pending",
            "kind": alert.kind,
            "story_id": story_id,
            "parent_id": alert.parent_id,
        }
        result = conn.execute(insert(schema.alerts).values(created_at=at, attempts=0, **values))
        return OutboxEntry(id=inserted_id(result), **values)

    # -- outbox ------------------------------------------------------------------------------------

    def due_alerts(self, now: datetime) -> list[OutboxEntry]:
        """Pending alerts whose next attempt is due, oldest first."""
        query = select(*outbox_columns()).where(due_outbox_entries(now)).order_by(schema.alerts.c.id)
        with self.engine.connect() as conn:
            return [OutboxEntry(**row) for row in conn.execute(query).mappings()]

    def outbox_entries(self, statuses: tuple[str, ...]) -> list[OutboxEntry]:
        table = schema.alerts
        query = select(*outbox_columns()).where(table.c.status.in_(statuses)).order_by(table.c.id)
        with self.engine.connect() as conn:
            return [OutboxEntry(**row) for row in conn.execute(query).mappings()]

    def alert_status(self, alert_id: int) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(schema.alerts.c.status).where(schema.alerts.c.id == alert_id)).scalar()

    def mark_alert_sent(
        self,
        alert_id: int,
        *,
        ts: str | None,
        at: datetime,
        status: str = "sent",
        channel_id: str | None = None,
    ) -> None:
        """Done: `sent` to Slack (with its ts and channel ID), or `printed` by the console notifier."""
        table = schema.alerts
        values = {"status": status, "ts": ts, "sent_at": at, "error": None, "attempts": table.c.attempts + 1,
                  "channel_id": channel_id}  # fmt: skip
        self._update_alert(alert_id, values)

    def reschedule_alert(self, alert_id: int, *, error: str, next_attempt_at: datetime) -> None:
        """A transient failure: keep the alert pending and try again at `next_attempt_at`."""
        table = schema.alerts
        values = {"error": error[:2000], "attempts": table.c.attempts + 1, "next_attempt_at": next_attempt_at}
        self._update_alert(alert_id, values)

    def postpone_alert(self, alert_id: int, *, next_attempt_at: datetime) -> None:
        self._update_alert(alert_id, {"next_attempt_at": next_attempt_at})

    def fail_alert(self, alert_id: int, *, error: str, config_fingerprint: str) -> None:
        """A permanent failure: stop trying until the configuration (or token) changes."""
        table = schema.alerts
        values = {
            "status": "failed",
            "error": error[:2000],
            "attempts": table.c.attempts + 1,
            "failed_config": config_fingerprint,
        }
        self._update_alert(alert_id, values)

    def requeue_failed_alerts(self, config_fingerprint: str) -> int:
        """Put permanently failed alerts back in the queue when the config they failed under has changed."""
        table = schema.alerts
        return self._requeue((table.c.status == "failed") & (table.c.failed_config != config_fingerprint))

    def requeue_failed(self, channel: str | None = None) -> int:
        """Put permanently failed alerts (of one channel, or all) back in the queue: the operator fixed it."""
        table = schema.alerts
        failed = table.c.status == "failed"
        return self._requeue(failed if channel is None else failed & (table.c.channel == channel))

    def _requeue(self, condition: Any) -> int:
        """Make the alerts matching `condition` pending and due now."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(schema.alerts)
                .where(condition)
                .values(status="pending", next_attempt_at=None, claimed_by=None, claimed_until=None)
            )
        return int(result.rowcount or 0)

    def _update_alert(self, alert_id: int, values: dict[str, Any]) -> None:
        """Change an entry and give back its claim: it was just sent, failed or put off."""
        with self.engine.begin() as conn:
            conn.execute(update(schema.alerts).where(schema.alerts.c.id == alert_id)
                         .values(**values, claimed_by=None, claimed_until=None))  # fmt: skip

    def outbox_counts(self) -> dict[str, int]:
        table = schema.alerts
        query = select(table.c.status, func.count()).group_by(table.c.status)
        with self.engine.connect() as conn:
            return {status: int(count) for status, count in conn.execute(query).all()}

    def outbox_sent_since(self, since: datetime) -> int:
        """Alerts, replies and digests sent (or printed by the console) at `since` or later."""
        table = schema.alerts
        query = select(func.count()).where(table.c.status.in_(("sent", "printed")), table.c.sent_at >= since)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def heartbeat(self, name: str, at: datetime) -> None:
        """Write a liveness mark; raises StorageError when the store cannot be written."""
        table = schema.heartbeats
        try:
            with self.engine.begin() as conn:
                if not conn.execute(update(table).where(table.c.name == name).values(at=at)).rowcount:
                    conn.execute(insert(table).values(name=name, at=at))
        except SQLAlchemyError as exc:
            raise StorageError(
                f"storage: cannot write to {_redact(self.url)}: {getattr(exc, 'orig', exc)}"
            ) from exc

    # -- preview, backfill, retention -------------------------------------------------------------

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

    def queue_alerts(
        self, article_id: int, alerts: list[QueuedAlert], at: datetime, matches_json: str
    ) -> list[OutboxEntry]:
        """Queue alerts for a stored article (backfill); a channel it was already alerted in is skipped."""
        queued = []
        story_id = self.story_of(article_id)
        with self.engine.begin() as conn:
            for alert in alerts:
                try:
                    with conn.begin_nested():
                        queued.append(self._queue_alert(conn, article_id, alert, at, story_id))
                except IntegrityError:
                    continue  # (article, channel) is unique: never two alerts for one article in one channel
            if queued:
                conn.execute(
                    update(schema.articles)
                    .where(schema.articles.c.id == article_id)
                    .values(outcome="alerted", matches=matches_json)
                )
        return queued

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

    def close(self) -> None:
        self._closed = True
        self.engine.dispose()

    def _close_if_store_closed(self, dbapi_connection: Any, record: Any) -> None:
        """A storage call still running in a worker thread when the store is closed (a poll or lease
        renewal cancelled at shutdown: cancelling `asyncio.to_thread` leaves its thread running) gives its
        connection back after `dispose()`, to a pool nobody closes any more; it must be closed here, or the
        driver's connection is only dropped by the garbage collector (psycopg then warns, and a server
        connection stays open until then)."""
        if self._closed and dbapi_connection is not None:
            dbapi_connection.close()


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


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        _ensure_sqlite_folder(Path(url.removeprefix("sqlite:///")))
    try:
        # pre_ping: a pooled connection a PostgreSQL restart or failover cut is replaced, not failed on.
        pre_ping = not url.startswith("sqlite")
        engine = create_engine(url, connect_args=_connect_args(url), pool_pre_ping=pre_ping)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StorageError(f"storage: cannot use {_redact(url)}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


def driver_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (the driver news-monitor installs), not SQLAlchemy's psycopg2."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _connect_args(url: str) -> dict[str, Any]:
    # SQLite: wait for another writer up to 30 s instead of failing at once with "database is locked".
    return {"timeout": 30} if url.startswith("sqlite") else {}


def _ensure_sqlite_folder(db_path: Path) -> None:
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"storage: cannot create the folder for the state database {db_path}: {exc}"
        ) from exc


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets status/preview read while the service writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _redact(url: str) -> str:
    """Hide a password in a database URL before it reaches a log or an error."""
    return mask_configured_url(url)
