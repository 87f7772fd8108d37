"""Outbox queries for re-routing entries, waiting out a Slack outage, and saying what is pending
(queueing, sending and retrying an entry: alerts.py).

Statuses of an outbox entry: `pending` (to send), `sent` (Slack has it), `printed` (the console showed
it), `failed` (a permanent error; requeued after a fix) and `dropped` (will never be sent: its watchlist
is gone, or it was merged into another message of its story).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import schema
from .common import dialect_insert, outbox_columns, storage_errors
from .records import OutboxEntry, PendingCounts, QueuedAlert, StoredOutage

# The entries that are, or may still be, delivered; `failed` and `dropped` never reached anyone.
DELIVERED_OR_ON_THE_WAY = ("pending", "sent", "printed")
# The meta row that remembers an outage of Slack across processes (a cron `once` after another).
_OUTAGE_KEY = "slack_outage"


class OutboxQueries:
    engine: Engine
    instance_id: str

    # -- re-routing (delivery/rerouting.py) ---------------------------------------------------------

    def reroute_alert(self, alert_id: int, *, channel: str, payload: str, kind: str,
                      parent_id: int | None) -> bool:  # fmt: skip
        """Send the entry elsewhere (its claim kept: it is sent next); False when its article already has
        an entry in `channel` (one message per article and channel, a unique key). An entry of the article
        dropped from that channel before is deleted: this one takes its place."""
        table = schema.alerts
        values = {"channel": channel, "payload": payload, "kind": kind, "parent_id": parent_id}
        try:
            with self.engine.begin() as conn:
                article = select(table.c.article_id).where(table.c.id == alert_id).scalar_subquery()
                superseded = (
                    (table.c.article_id == article)
                    & (table.c.channel == channel)
                    & (table.c.status == "dropped")
                    & (table.c.id != alert_id)
                )
                conn.execute(delete(table).where(superseded))
                conn.execute(update(table).where(table.c.id == alert_id).values(**values))
        except IntegrityError:
            return False
        return True

    def drop_alert(self, alert_id: int, *, reason: str) -> None:
        """The entry will never be sent (its watchlist is gone, or another message carries it)."""
        values = {"status": "dropped", "error": reason[:2000], "claimed_by": None, "claimed_until": None}
        with storage_errors("drop an outbox entry"), self.engine.begin() as conn:
            conn.execute(update(schema.alerts).where(schema.alerts.c.id == alert_id).values(**values))

    def entry_for(self, article_id: int, channel: str) -> OutboxEntry | None:
        """The article's entry in `channel`, if it has one (of any status)."""
        table = schema.alerts
        query = select(*outbox_columns()).where(table.c.article_id == article_id, table.c.channel == channel)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return OutboxEntry(**row) if row else None

    def add_alerts(
        self, article_id: int, story_id: int | None, alerts: list[QueuedAlert], at: datetime
    ) -> list[OutboxEntry]:
        """More entries for a stored article; a channel it already has an entry in is skipped."""
        added = []
        with storage_errors("queue alerts"), self.engine.begin() as conn:
            for alert in alerts:
                values: dict[str, Any] = {"article_id": article_id, "channel": alert.channel,
                                          "payload": alert.payload, "status": "pending", "kind": alert.kind,
                                          "story_id": story_id, "parent_id": alert.parent_id}  # fmt: skip
                try:
                    with conn.begin_nested():
                        result = conn.execute(
                            insert(schema.alerts).values(created_at=at, attempts=0, **values)
                        )
                except IntegrityError:
                    continue
                key = result.inserted_primary_key
                if key is not None:
                    added.append(OutboxEntry(id=int(key[0]), **values))
        return added

    def requeue_undelivered(self, article_id: int) -> int:
        """Give an article's failed and dropped entries another chance (backfill): due now."""
        table = schema.alerts
        undelivered = (table.c.article_id == article_id) & table.c.status.in_(("failed", "dropped"))
        values = {"status": "pending", "next_attempt_at": None, "claimed_by": None, "claimed_until": None}
        with storage_errors("requeue an article's alerts"), self.engine.begin() as conn:
            return int(conn.execute(update(table).where(undelivered).values(**values)).rowcount or 0)

    # -- outages (delivery/slack_health.py) ----------------------------------------------------------

    def end_backoff(self, error_prefix: str) -> int:
        """Pending entries whose last error starts with `error_prefix` become due now (Slack is back)."""
        table = schema.alerts
        matching = (table.c.status == "pending") & (
            func.substr(table.c.error, 1, len(error_prefix)) == error_prefix
        )
        with storage_errors("end the backoff of outbox entries"), self.engine.begin() as conn:
            result = conn.execute(update(table).where(matching).values(next_attempt_at=None))
        return int(result.rowcount or 0)

    def end_backoff_except(self, now: datetime, *, error_prefixes: tuple[str, ...], skip: set[int]) -> int:
        """Pending entries waiting for a later attempt become due now, except those whose last error starts
        with one of `error_prefixes` (Slack's Retry-After) and those in `skip`."""
        table = schema.alerts
        waiting = (table.c.status == "pending") & (table.c.next_attempt_at > now)
        with storage_errors("end the backoff of outbox entries"), self.engine.begin() as conn:
            rows = conn.execute(select(table.c.id, table.c.error).where(waiting)).all()
            ids = [row.id for row in rows if row.id not in skip and not _starts(row.error, error_prefixes)]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                conn.execute(update(table).where(table.c.id.in_(chunk)).values(next_attempt_at=None))
        return len(ids)

    def pending_counts(self, now: datetime, *, retry_after_prefixes: tuple[str, ...]) -> PendingCounts:
        """How many entries are pending, and how many of them wait for a Retry-After or a backoff."""
        table = schema.alerts
        query = select(table.c.next_attempt_at, table.c.error).where(table.c.status == "pending")
        total = retry_after = backing_off = 0
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                total += 1
                if row.next_attempt_at is None or row.next_attempt_at <= now:
                    continue
                if _starts(row.error, retry_after_prefixes):
                    retry_after += 1
                elif row.error:
                    backing_off += 1
        return PendingCounts(total, retry_after, backing_off)

    def record_slack_outage(self, outage: StoredOutage) -> None:
        """Remember that Slack is down, unless an earlier start is remembered already."""
        value = json.dumps({"since": outage.since.isoformat(), "problem": outage.problem})
        with storage_errors("record an outage of Slack"), self.engine.begin() as conn:
            # Instances that find Slack down at once both write: the first one's start stands.
            statement = dialect_insert(conn, schema.meta).values(key=_OUTAGE_KEY, value=value)
            conn.execute(statement.on_conflict_do_nothing())

    def clear_slack_outage(self) -> None:
        with storage_errors("record that Slack is back"), self.engine.begin() as conn:
            conn.execute(delete(schema.meta).where(schema.meta.c.key == _OUTAGE_KEY))

    def slack_outage(self) -> StoredOutage | None:
        """The outage of Slack a process saw and no process has seen end, if any."""
        with self.engine.connect() as conn:
            value = conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == _OUTAGE_KEY)).scalar()
        if value is None:
            return None
        try:
            data = json.loads(value)
            return StoredOutage(datetime.fromisoformat(data["since"]), str(data["problem"]))
        except (ValueError, KeyError, TypeError):
            return None  # written by something else: not ours to read


def _starts(error: str | None, prefixes: tuple[str, ...]) -> bool:
    return error is not None and error.startswith(prefixes)
