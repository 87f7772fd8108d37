"""Several instances on one store: leases on feeds, items and outbox entries, the instances alive, jobs.

Every claim is a lease (holder, until when). An instance renews its leases while it lives and gives them
back when it stops; if it dies, they run out and another instance takes its work over: the feed items it
was reading (item_claims) and its unsent alerts as soon as their short lease runs out, its feeds when
they would have been polled next anyway (a feed is not requested twice within its interval). A claim
is taken by a single statement the database arbitrates (an upsert guarded by `claimed_until`, or an
UPDATE whose WHERE is re-checked on the row it locks), so two instances never both win one.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import socket
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, case, delete, func, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect

from .. import __version__
from ..errors import StorageError
from . import schema
from .common import chunks, outbox_columns, storage_errors, upsert
from .feeds import feed_schedule, is_due, stored_interval
from .records import Instance, OutboxEntry

# How long a claim outlives its holder's last renewal: about the longest a dead instance's alerts and
# the items it was reading wait for another instance (Kubernetes' leader election uses 15 s too).
# Renewed every fifth of it (monitor/fleet.py), so a slow store may miss four renewals in a row.
DEFAULT_LEASE = timedelta(seconds=15)
# A feed claim is held for this share of the feed's interval (and at least a lease): the scheduler may
# poll a feed this early (feed_schedule.JITTER_SHARE), so a dead holder's feed is taken over when it
# would have been polled next anyway, never twice within its interval.
FEED_HOLD_SHARE = 0.9
# PostgreSQL's codes for a transaction it aborted to resolve a conflict: run it again.
RETRY_SQLSTATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure
CONFLICT_RETRIES = 3
# Any constant: the PostgreSQL advisory lock under which an article's story is decided (story_lock).
STORY_LOCK = 7_203_114_952
# Instances silent for this long are dropped from the list (their leases ran out long before).
FORGET_INSTANCES_AFTER = timedelta(days=1)
# The longest a 429 holds a channel for every instance (Slack's "rate_limited" asks for minutes).
LONGEST_CHANNEL_HOLD = timedelta(minutes=5)
# Outbox entries claimed at once: the sender works through them at Slack's pace (a second per post and
# channel), renewing their leases. Large, so one channel's backlog does not hold up the others' alerts.
ALERT_CLAIM_BATCH = 500


def new_instance_id() -> str:
    """host:pid:random - readable in `status`, unique even when a container restarts with pid 1."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@functools.cache
def process_namespace() -> str:
    """Which processes a pid names here: the kernel's boot and this PID namespace.

    Two containers may share a hostname (network_mode: host) and both be pid 1; only instances whose
    pids live in our namespace can be checked for being alive.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        pids = os.readlink("/proc/self/ns/pid")
    except OSError:  # not Linux: the host name is all there is
        boot = pids = "?"
    return f"{socket.gethostname()}|{boot}|{pids}"[:128]


def pid_alive(pid: int) -> bool:
    """Whether an earlier instance in this PID namespace with this pid may still run (ours: it ran
    before us, so it is gone)."""
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
        """Register this instance; free at once the leases of dead predecessors in this PID namespace.

        A predecessor whose process is gone (the same host and boot, the same PID namespace, its pid no
        longer running) cannot be polling any more, so its feeds need not wait for their leases to run
        out: a service restarted after a crash goes on at once. Elsewhere, only leases tell.
        """
        table = schema.instances
        namespace = process_namespace()
        with storage_errors("register this instance"), self.engine.begin() as conn:
            rows = conn.execute(select(table.c.id, table.c.pid).where(table.c.namespace == namespace)).all()
            dead = [row.id for row in rows if row.id != self.instance_id and not alive(row.pid)]
            stale = select(table.c.id).where(table.c.seen_at < now - FORGET_INSTANCES_AFTER)
            dead += [row for row in conn.execute(stale).scalars() if row not in dead]
            for instance_id in dead:
                _release(conn, instance_id)
            if dead:
                conn.execute(delete(table).where(table.c.id.in_(dead)))
            self._register(conn, now)

    def _register(self, conn: Connection, now: datetime) -> None:
        me = {"id": self.instance_id, "host": socket.gethostname(), "pid": os.getpid(),
              "namespace": process_namespace(), "version": __version__}  # fmt: skip
        conn.execute(insert(schema.instances).values(**me, started_at=now, seen_at=now))

    def renew_claims(
        self, now: datetime, *, feeds: list[str], alerts: list[int], items: Sequence[int] = ()
    ) -> None:
        """Say this instance is alive, and extend its leases on `feeds`, `alerts` and `items` (those it
        is still working on: a claim left behind by a poll that crashed is not kept alive) to `lease`
        from now; a feed's longer hold (see claim_feeds) is never shortened.

        One transaction of one UPDATE per kind of claim held (one per 500 claims), whatever else the
        instance does: the write cost of being in the fleet (bench/failover.py measures it)."""
        until = now + self.lease
        claims, outbox, instances = schema.feed_claims, schema.alerts, schema.instances
        with storage_errors("renew this instance's leases"), self.engine.begin() as conn:
            seen = update(instances).where(instances.c.id == self.instance_id).values(seen_at=now)
            if not conn.execute(seen).rowcount:
                self._register(conn, now)  # another instance took us for dead and forgot us: we are back
            for chunk in chunks(sorted(feeds), 500):
                held = claims.c.url.in_(chunk) & (claims.c.claimed_by == self.instance_id)
                later = case((claims.c.claimed_until < until, until), else_=claims.c.claimed_until)
                conn.execute(update(claims).where(held).values(claimed_until=later))
            for ids in chunks(sorted(alerts), 500):
                held = outbox.c.id.in_(ids) & (outbox.c.claimed_by == self.instance_id)
                conn.execute(update(outbox).where(held).values(claimed_until=until))
            work = schema.item_claims
            for ids in chunks(sorted(items), 500):
                held = work.c.id.in_(ids) & (work.c.claimed_by == self.instance_id)
                conn.execute(update(work).where(held).values(claimed_until=until))

    def leave_fleet(self) -> None:
        """Give back every claim (a clean stop: others need not wait for the leases) and unregister."""
        with storage_errors("give back this instance's leases"), self.engine.begin() as conn:
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

    # -- story decisions ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def story_lock(self) -> Iterator[None]:
        """One instance at a time decides and records an article's story (stories.py reads the store,
        decides, then writes: two instances interleaving would both start one story).

        PostgreSQL: a session advisory lock, let go on unlock or when the holder's connection dies.
        SQLite: an flock on a file beside the database (instances sharing a SQLite file share a host).
        """
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STORY_LOCK})
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STORY_LOCK})
                    conn.commit()
            return
        database = self.engine.url.database
        if not database or database == ":memory:":
            yield
            return
        with open(f"{database}.story-lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    # -- fleet-wide jobs ---------------------------------------------------------------------------

    def claim_job(self, name: str, now: datetime, every: timedelta) -> bool:
        """True for exactly one instance per due time of job `name`: the one that moves it forward."""
        with storage_errors(f"claim the {name} job"), self.engine.begin() as conn:
            due = schema.jobs.c.next_run_at <= now
            return _move_job(conn, name, now + every, self.instance_id, where=due)

    # -- posting turns ------------------------------------------------------------------------------

    def take_channel_turn(self, channel: str, now: datetime, pace: timedelta) -> datetime | None:
        """Take the channel's next turn to post, across every instance: None when this one may post now
        (the channel is then everyone else's only after `pace`), else when the channel is free again.

        Slack allows about one post per second per channel, and a burst may be dropped unseen (SLACK.md
        §3): instances pacing themselves alone would post as fast as there are instances. The turn is a
        wall-clock time, compared across hosts, so two guards: the instance that took the last turn may
        take the next (it paces itself on its monotonic clock, so a clock set back never stalls a single
        instance), and a turn further ahead than any hold was written by a clock that was wrong then or
        is now, and is ignored.
        """
        table = schema.jobs
        name = channel_job(channel)
        with storage_errors(f"take a posting turn in {channel}"), self.engine.begin() as conn:
            free = (
                (table.c.next_run_at <= now)
                | (table.c.last_run_by == self.instance_id)
                | (table.c.next_run_at > now + pace + LONGEST_CHANNEL_HOLD)
            )
            if _move_job(conn, name, now + pace, self.instance_id, where=free):
                return None
            return conn.execute(select(table.c.next_run_at).where(table.c.name == name)).scalar_one()

    def hold_channel(self, channel: str, until: datetime) -> None:
        """No instance, this one included, posts to the channel before `until` (at most
        LONGEST_CHANNEL_HOLD from `now`): Slack answered 429 with Retry-After."""
        with storage_errors(f"pause posting in {channel}"), self.engine.begin() as conn:
            # Held by nobody: the instance that took the last turn may not take the next one early.
            _move_job(conn, channel_job(channel), until, None, where=schema.jobs.c.next_run_at < until)


def channel_job(channel: str) -> str:
    """The `jobs` row that holds a channel's next posting turn (a name fits the column, 64 characters)."""
    name = f"post:{channel}"
    return name if len(name) <= 64 else "post:" + hashlib.sha256(channel.encode()).hexdigest()[:48]


def due_outbox_entries(now: datetime) -> ColumnElement[bool]:
    """Outbox entries to send now: pending, and past any backoff."""
    table = schema.alerts
    return (table.c.status == "pending") & (
        table.c.next_attempt_at.is_(None) | (table.c.next_attempt_at <= now)
    )


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


def _move_job(conn: Connection, name: str, next_run_at: datetime, by: str | None, *, where: Any) -> bool:
    """Set job `name`'s next run (creating the row) where `where` holds of its current one; True if set."""
    table = schema.jobs
    row = {"name": name, "next_run_at": next_run_at, "last_run_by": by}
    statement = upsert(conn, table, [row], ["name"], {"next_run_at", "last_run_by"}, where)
    return conn.execute(statement.returning(table.c.name)).first() is not None


def _release(conn: Connection, instance_id: str) -> None:
    conn.execute(delete(schema.feed_claims).where(schema.feed_claims.c.claimed_by == instance_id))
    for table in (schema.alerts, schema.item_claims):  # free for another instance at once
        held = table.c.claimed_by == instance_id
        conn.execute(update(table).where(held).values(claimed_by=None, claimed_until=None))


def _held(conn: Connection, table: Any, now: datetime) -> dict[str, int]:
    query = (
        select(table.c.claimed_by, func.count())
        .where(table.c.claimed_by.is_not(None), table.c.claimed_until >= now)
        .group_by(table.c.claimed_by)
    )
    return {holder: int(count) for holder, count in conn.execute(query).all()}
