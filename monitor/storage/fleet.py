"""Several instances on one store: leases on feeds and outbox entries, the instances alive, fleet jobs.

Every claim is a lease (holder, until when). An instance renews its leases while it lives and gives them
back when it stops; if it dies, they run out and another instance takes its feeds and unsent alerts. A
claim is taken by a single statement the database arbitrates (an upsert guarded by `claimed_until`, or
an UPDATE whose WHERE is re-checked on the row it locks), so two instances never both win one.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from .. import __version__
from ..errors import StorageError
from . import schema
from .base import OutboxEntry
from .stories import outbox_columns

# How long a claim outlives its holder's last renewal: the longest a dead instance's feeds and alerts
# wait for another instance. Renewed every third of it (storage.fleet.RENEW_FRACTION).
DEFAULT_LEASE = timedelta(seconds=60)
# Instances silent for this long are dropped from the list (their leases ran out long before).
FORGET_INSTANCES_AFTER = timedelta(days=1)
# Outbox entries claimed at once: the sender works through them at Slack's pace, renewing the lease.
ALERT_CLAIM_BATCH = 100


@dataclass(frozen=True)
class Instance:
    """A process sharing the store, with what it holds now."""

    id: str
    host: str
    pid: int
    version: str
    started_at: datetime
    seen_at: datetime
    feeds_held: int
    alerts_held: int


def new_instance_id() -> str:
    """host:pid:random - readable in `status`, unique even when a container restarts with pid 1."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def pid_alive(pid: int) -> bool:
    """Whether an earlier instance on this host with this pid may still run (ours: it was before us)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


class FleetQueries:
    """Mixin of SQLStorage: the queries that let several instances share one store."""

    engine: Engine
    instance_id: str
    lease: timedelta

    # -- instances ---------------------------------------------------------------------------------

    def join_fleet(self, now: datetime, *, alive: Callable[[int], bool] = pid_alive) -> None:
        """Register this instance; free at once the leases of dead predecessors on this host.

        A predecessor on the same host whose process is gone (or whose pid is ours: a restarted
        container) cannot be polling any more, so its feeds need not wait for their leases to run out.
        """
        host, pid = socket.gethostname(), os.getpid()
        table = schema.instances
        with self.engine.begin() as conn:
            rows = conn.execute(select(table.c.id, table.c.pid).where(table.c.host == host)).all()
            dead = [row.id for row in rows if row.id != self.instance_id and not alive(row.pid)]
            stale = select(table.c.id).where(table.c.seen_at < now - FORGET_INSTANCES_AFTER)
            dead += [row for row in conn.execute(stale).scalars() if row not in dead]
            for instance_id in dead:
                _release(conn, instance_id)
            if dead:
                conn.execute(delete(table).where(table.c.id.in_(dead)))
            me = {"id": self.instance_id, "host": host, "pid": pid, "version": __version__}
            conn.execute(insert(table).values(**me, started_at=now, seen_at=now))

    def renew_claims(self, now: datetime, *, feeds: list[str], alerts: list[int]) -> None:
        """Say this instance is alive, and extend its leases on `feeds` and `alerts` (those it is still
        working on: a claim left behind by a poll that crashed is not kept alive) by `lease` from now."""
        until = now + self.lease
        claims, outbox = schema.feed_claims, schema.alerts
        with _storage_errors("renew this instance's leases"), self.engine.begin() as conn:
            instances = schema.instances
            conn.execute(update(instances).where(instances.c.id == self.instance_id).values(seen_at=now))
            for chunk in _chunks(feeds, 500):
                held = claims.c.url.in_(chunk) & (claims.c.claimed_by == self.instance_id)
                conn.execute(update(claims).where(held).values(claimed_until=until))
            for ids in _chunks(alerts, 500):
                held = outbox.c.id.in_(ids) & (outbox.c.claimed_by == self.instance_id)
                conn.execute(update(outbox).where(held).values(claimed_until=until))

    def leave_fleet(self) -> None:
        """Give back every claim (a clean stop: others need not wait for the leases) and unregister."""
        with _storage_errors("give back this instance's leases"), self.engine.begin() as conn:
            _release(conn, self.instance_id)
            conn.execute(delete(schema.instances).where(schema.instances.c.id == self.instance_id))

    def instances(self, now: datetime) -> list[Instance]:
        """The instances registered, with how many feeds and alerts each holds now."""
        table, feeds, alerts = schema.instances, schema.feed_claims, schema.alerts
        with self.engine.connect() as conn:
            held_feeds = _held(conn, feeds, now)
            held_alerts = _held(conn, alerts, now)
            rows = conn.execute(select(table).order_by(table.c.started_at)).mappings().all()
        return [
            Instance(
                **row, feeds_held=held_feeds.get(row["id"], 0), alerts_held=held_alerts.get(row["id"], 0)
            )
            for row in rows
        ]

    # -- feeds -------------------------------------------------------------------------------------

    def claim_feeds(self, urls: list[str], now: datetime, *, due_only: bool = True) -> list[str]:
        """Take the feeds among `urls` no other live instance holds (and, with due_only, that are due).

        Claim first, then check due-ness in the same transaction: a feed another instance finished
        polling a moment ago is then seen with its new next_poll_at, and given back.
        """
        if not urls:
            return []
        until = now + self.lease
        claims = schema.feed_claims
        with self.engine.begin() as conn:
            candidates = _due(conn, urls, now) if due_only else urls
            claimed: list[str] = []
            for chunk in _chunks(candidates, 500):
                rows = [{"url": url, "claimed_by": self.instance_id, "claimed_until": until} for url in chunk]
                free = claims.c.claimed_until < now
                statement = _upsert(conn, claims, rows, ["url"], {"claimed_by", "claimed_until"}, free)
                claimed += conn.execute(statement.returning(claims.c.url)).scalars().all()
            if due_only and claimed:
                not_due = set(claimed) - set(_due(conn, claimed, now))
                if not_due:
                    mine = claims.c.url.in_(not_due) & (claims.c.claimed_by == self.instance_id)
                    conn.execute(delete(claims).where(mine))
                    claimed = [url for url in claimed if url not in not_due]
        order = {url: index for index, url in enumerate(urls)}
        return sorted(claimed, key=order.__getitem__)

    def release_feeds(self, conn: Connection, urls: list[str]) -> None:
        """Give back this instance's claims on `urls` (their polls are recorded, in the same transaction)."""
        claims = schema.feed_claims
        for chunk in _chunks(urls, 500):
            conn.execute(
                delete(claims).where(claims.c.url.in_(chunk), claims.c.claimed_by == self.instance_id)
            )

    # -- outbox ------------------------------------------------------------------------------------

    def claim_due_alerts(self, now: datetime, limit: int = ALERT_CLAIM_BATCH) -> list[OutboxEntry]:
        """Take up to `limit` pending, due outbox entries no live instance holds, oldest first."""
        table = schema.alerts
        free = (table.c.claimed_until.is_(None)) | (table.c.claimed_until < now)
        claimable = (
            (table.c.status == "pending")
            & free
            & (table.c.next_attempt_at.is_(None) | (table.c.next_attempt_at <= now))
        )
        with self.engine.begin() as conn:
            oldest = select(table.c.id).where(claimable).order_by(table.c.id).limit(limit)
            if conn.dialect.name == "postgresql":
                oldest = oldest.with_for_update(skip_locked=True)  # others' picks are skipped, not waited on
            ids = list(conn.execute(oldest).scalars())
            if not ids:
                return []
            # The WHERE is repeated on purpose: PostgreSQL re-checks it on the row it locks, so an entry
            # another instance claimed in between is not taken twice.
            taken = (
                conn.execute(
                    update(table)
                    .where(table.c.id.in_(ids), claimable)
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
        with self.engine.begin() as conn:
            for chunk in _chunks(ids, 500):
                held = table.c.id.in_(chunk) & (table.c.claimed_by == self.instance_id)
                conn.execute(update(table).where(held).values(claimed_by=None, claimed_until=None))

    # -- fleet-wide jobs ---------------------------------------------------------------------------

    def claim_job(self, name: str, now: datetime, every: timedelta) -> bool:
        """True for exactly one instance per due time of job `name`: the one that moves it forward."""
        table = schema.jobs
        with self.engine.begin() as conn:
            row = {"name": name, "next_run_at": now + every, "last_run_by": self.instance_id}
            due = table.c.next_run_at <= now
            statement = _upsert(conn, table, [row], ["name"], {"next_run_at", "last_run_by"}, due)
            return conn.execute(statement.returning(table.c.name)).first() is not None


@contextlib.contextmanager
def _storage_errors(doing: str) -> Iterator[None]:
    try:
        yield
    except SQLAlchemyError as exc:
        raise StorageError(f"storage: cannot {doing}: {getattr(exc, 'orig', exc)}") from exc


def _due(conn: Connection, urls: list[str], now: datetime) -> list[str]:
    """The feeds among `urls` whose next poll is due (never polled counts as due)."""
    table = schema.feeds
    scheduled: dict[str, Any] = {}
    for chunk in _chunks(urls, 500):
        rows = conn.execute(select(table.c.url, table.c.next_poll_at).where(table.c.url.in_(chunk)))
        scheduled.update((row.url, row.next_poll_at) for row in rows)
    return [url for url in urls if scheduled.get(url) is None or scheduled[url] <= now]


def _upsert(conn: Connection, table: Any, rows: list[dict[str, Any]], keys: list[str], columns: set[str],
            where: Any) -> Any:  # fmt: skip
    """INSERT, or on a key conflict UPDATE `columns` where `where` holds (SQLite and PostgreSQL alike)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(rows)
    return statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in columns}, where=where
    )


def _release(conn: Connection, instance_id: str) -> None:
    conn.execute(delete(schema.feed_claims).where(schema.feed_claims.c.claimed_by == instance_id))
    held = schema.alerts.c.claimed_by == instance_id
    conn.execute(update(schema.alerts).where(held).values(claimed_by=None, claimed_until=None))


def _held(conn: Connection, table: Any, now: datetime) -> dict[str, int]:
    query = (
        select(table.c.claimed_by, func.count())
        .where(table.c.claimed_by.is_not(None), table.c.claimed_until >= now)
        .group_by(table.c.claimed_by)
    )
    return {holder: int(count) for holder, count in conn.execute(query).all()}


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
