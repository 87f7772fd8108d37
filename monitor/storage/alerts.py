"""Outbox entries (the `alerts` table) through their life: queued with an article or later (backfill),
sent, retried, failed and requeued, counted. Re-routing and outages: storage/outbox.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from . import schema
from .common import due_outbox_entries, inserted_id, outbox_columns
from .records import OutboxEntry, QueuedAlert
from .stories import article_story


class AlertQueries:
    """Mixin of SQLStorage: sending outbox entries and recording how it went."""

    engine: Engine

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

    def queue_alerts(
        self, article_id: int, alerts: list[QueuedAlert], at: datetime, matches_json: str
    ) -> list[OutboxEntry]:
        """Queue alerts for a stored article (backfill); a channel it was already alerted in is skipped."""
        queued = []
        with self.engine.connect() as conn:
            story_id = article_story(conn, article_id)
        with self.engine.begin() as conn:
            for alert in alerts:
                try:
                    with conn.begin_nested():
                        queued.append(queue_alert(conn, article_id, alert, at, story_id))
                except IntegrityError:
                    continue  # (article, channel) is unique: never two alerts for one article in one channel
            if queued:
                conn.execute(
                    update(schema.articles)
                    .where(schema.articles.c.id == article_id)
                    .values(outcome="alerted", matches=matches_json)
                )
        return queued


def queue_alert(
    conn: Connection, article_id: int, alert: QueuedAlert, at: datetime, story_id: int | None
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
