"""Claims: the feeds, feed items and outbox entries an instance works on, each held under a lease
(storage/fleet.py says how leases work)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.selectable import ScalarSelect

from ..errors import StorageError
from . import schema
from .common import chunks, due_outbox_entries, outbox_columns, storage_errors, upsert
from .feeds import feed_schedule, is_due, stored_interval
from .fleet import FEED_HOLD_SHARE
from .records import OutboxEntry

# PostgreSQL's codes for a transaction it aborted to resolve a conflict: run it again.
RETRY_SQLSTATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure
CONFLICT_RETRIES = 3
# Outbox entries claimed at once: the sender works through them at Slack's pace (a second per post and
# channel), renewing their leases. Large, so one channel's backlog does not hold up the others' alerts.
ALERT_CLAIM_BATCH = 500


class ClaimQueries:
    """Mixin of SQLStorage: taking and giving back claims on feeds, items being read and outbox entries."""

    engine: Engine
    instance_id: str
    lease: timedelta

    # -- feeds -------------------------------------------------------------------------------------

    def claim_feeds(
        self,
        urls: list[str],
        now: datetime,
        *,
        due_only: bool = True,
        intervals: Mapping[str, timedelta] | None = None,
        default_interval: timedelta | None = None,
        limit: int | None = None,
    ) -> list[str]:
        """Take up to `limit` of the feeds among `urls` that no live claim holds (with due_only: that are
        due), in the order given.

        A claim is held for FEED_HOLD_SHARE of the feed's interval (`intervals`, else the adaptive
        interval stored for it, else `default_interval`), and at least a lease; recording the poll ends it.
        So a feed whose poller died mid-poll is taken over when it would have been polled next anyway.
        Due-ness is checked again after claiming, in the same transaction: a feed another instance
        finished polling a moment ago is then seen with its new next_poll_at, and given back.
        """
        if not urls:
            return []
        for attempt in range(CONFLICT_RETRIES):
            try:
                with storage_errors("claim feeds"), self.engine.begin() as conn:
                    return self._claim_feeds(
                        conn, urls, now, due_only, intervals or {}, default_interval, limit
                    )
            except StorageError as exc:
                if not _conflict(exc) or attempt == CONFLICT_RETRIES - 1:
                    raise
        return []

    def _claim_feeds(self, conn: Connection, urls: list[str], now: datetime, due_only: bool,
                     intervals: Mapping[str, timedelta], default_interval: timedelta | None,
                     limit: int | None) -> list[str]:  # fmt: skip
        claims = schema.feed_claims
        schedule = feed_schedule(conn, urls)
        due = [url for url in urls if is_due(schedule, url, now)] if due_only else urls
        # Feeds someone holds are skipped before the upsert, which would lock their rows; asked only of
        # the due ones (on most ticks none are).
        held = _held_feeds(conn, due, now) if due else set()
        candidates = [url for url in due if url not in held]
        candidates = candidates[:limit] if limit is not None else candidates
        claimed: list[str] = []
        for chunk in chunks(sorted(candidates), 500):  # one lock order for every instance
            rows = []
            for url in chunk:
                interval = intervals.get(url) or stored_interval(schedule, url) or default_interval
                hold = max(self.lease, interval * FEED_HOLD_SHARE) if interval else self.lease
                rows.append({"url": url, "claimed_by": self.instance_id, "claimed_until": now + hold})
            free = claims.c.claimed_until < now
            statement = upsert(conn, claims, rows, ["url"], {"claimed_by", "claimed_until"}, free)
            claimed += conn.execute(statement.returning(claims.c.url)).scalars().all()
        if due_only and claimed:
            rescheduled = feed_schedule(conn, claimed)
            not_due = {url for url in claimed if not is_due(rescheduled, url, now)}
            if not_due:
                mine = claims.c.url.in_(sorted(not_due)) & (claims.c.claimed_by == self.instance_id)
                conn.execute(delete(claims).where(mine))
                claimed = [url for url in claimed if url not in not_due]
        order = {url: index for index, url in enumerate(urls)}
        return sorted(claimed, key=order.__getitem__)

    # -- items being read --------------------------------------------------------------------------

    def hold_item(self, feed_url: str, work: str, now: datetime) -> int:
        """Hold a new feed item this instance starts reading (`work`: what another instance needs to
        read it instead); returns the claim's id, for renew_claims and finish_items."""
        row = {"feed_url": feed_url, "work": work, "created_at": now, "claimed_by": self.instance_id,
               "claimed_until": now + self.lease}  # fmt: skip
        with storage_errors("hold a feed item"), self.engine.begin() as conn:
            statement = insert(schema.item_claims).values(row).returning(schema.item_claims.c.id)
            return int(conn.execute(statement).scalar_one())

    def finish_items(self, ids: list[int]) -> None:
        """The items are read and their outcome recorded (or given up on): nobody needs to take them over."""
        table = schema.item_claims
        with storage_errors("finish feed items"), self.engine.begin() as conn:
            for chunk in chunks(sorted(ids), 500):
                conn.execute(delete(table).where(table.c.id.in_(chunk)))

    def claim_orphaned_items(self, now: datetime) -> list[tuple[int, str]]:
        """Take the items whose reader died (its lease ran out) or gave them back: (id, work) each."""
        table = schema.item_claims
        free = table.c.claimed_until.is_(None) | (table.c.claimed_until < now)
        with storage_errors("take over feed items"), self.engine.begin() as conn:
            # Read first: on most looks there is nothing, and an UPDATE would take SQLite's write lock.
            if not conn.execute(select(table.c.id).where(free).limit(1)).first():
                return []
            # The WHERE is re-checked on each row the UPDATE locks (PostgreSQL), or runs under SQLite's
            # write lock: an item another instance took in between is not taken twice.
            taken = conn.execute(
                update(table)
                .where(free)
                .values(claimed_by=self.instance_id, claimed_until=now + self.lease)
                .returning(table.c.id, table.c.work)
            ).all()
        return sorted((int(row.id), str(row.work)) for row in taken)

    def next_takeover_at(self, now: datetime) -> datetime | None:
        """When the next lease of another instance on an unsent alert or an item being read runs out (if
        its holder dies now, that is when its work can be taken over), or None if it holds none."""
        alerts, items = schema.alerts, schema.item_claims
        others_alerts = (
            (alerts.c.status == "pending")
            & (alerts.c.claimed_by != self.instance_id)
            & (alerts.c.claimed_until > now)
        )
        others_items = (items.c.claimed_by != self.instance_id) & (items.c.claimed_until > now)
        with storage_errors("look for leases to take over"), self.engine.connect() as conn:
            ends = [
                conn.execute(select(func.min(alerts.c.claimed_until)).where(others_alerts)).scalar(),
                conn.execute(select(func.min(items.c.claimed_until)).where(others_items)).scalar(),
            ]
        found = [end for end in ends if end is not None]
        return min(found) if found else None

    # -- outbox ------------------------------------------------------------------------------------

    def claim_due_alerts(self, now: datetime, limit: int = ALERT_CLAIM_BATCH) -> list[OutboxEntry]:
        """Take up to `limit` pending, due outbox entries no live instance holds, oldest first."""
        table = schema.alerts
        free = (table.c.claimed_until.is_(None)) | (table.c.claimed_until < now)
        claimable = due_outbox_entries(now) & free
        oldest = select(table.c.id).where(claimable).order_by(table.c.id).limit(limit)
        with storage_errors("claim outbox entries"), self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Locked by the SELECT, so the pick holds until the UPDATE; others' picks are skipped, not
                # waited on. (Not a subquery of the UPDATE: PostgreSQL may run that more than once.)
                picked: list[int] | ScalarSelect[int] = list(
                    conn.execute(oldest.with_for_update(skip_locked=True)).scalars()
                )
                if not picked:
                    return []
            else:
                # SQLite locks nothing on a read: the pick is a subquery of the UPDATE, under its write
                # lock (a separate SELECT let racing senders pick the same entries and come back empty).
                picked = oldest.scalar_subquery()
            # The WHERE is repeated on purpose: PostgreSQL re-checks it on the row it locks, so an entry
            # another instance claimed in between is not taken twice.
            taken = (
                conn.execute(
                    update(table)
                    .where(table.c.id.in_(picked), claimable)
                    .values(claimed_by=self.instance_id, claimed_until=now + self.lease)
                    .returning(table.c.id)
                )
                .scalars()
                .all()
            )
            if not taken:
                return []
            query = select(*outbox_columns()).where(table.c.id.in_(taken)).order_by(table.c.id)
            return [OutboxEntry(**row) for row in conn.execute(query).mappings()]

    def release_alerts(self, ids: list[int]) -> None:
        """Give back entries this instance claimed but will not send now (it is stopping)."""
        table = schema.alerts
        with storage_errors("give back outbox entries"), self.engine.begin() as conn:
            for chunk in chunks(ids, 500):
                held = table.c.id.in_(chunk) & (table.c.claimed_by == self.instance_id)
                conn.execute(update(table).where(held).values(claimed_by=None, claimed_until=None))


def _held_feeds(conn: Connection, urls: list[str], now: datetime) -> set[str]:
    claims = schema.feed_claims
    held: set[str] = set()
    for chunk in chunks(urls, 500):
        live = claims.c.url.in_(chunk) & (claims.c.claimed_until >= now)
        held.update(conn.execute(select(claims.c.url).where(live)).scalars())
    return held


def _conflict(exc: StorageError) -> bool:
    """Whether PostgreSQL aborted the transaction to resolve a conflict (a deadlock): worth running again."""
    cause = exc.__cause__
    return isinstance(cause, DBAPIError) and getattr(cause.orig, "sqlstate", None) in RETRY_SQLSTATES
