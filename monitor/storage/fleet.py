"""Several instances on one store: the instances alive, and the leases their claims are held under.

Every claim is a lease (holder, until when). An instance renews its leases while it lives and gives them
back when it stops; if it dies, they run out and another instance takes its work over: the feed items it
was reading (item_claims) and its unsent alerts as soon as their short lease runs out, its feeds when
they would have been polled next anyway (a feed is not requested twice within its interval). A claim
is taken by a single statement the database arbitrates (an upsert guarded by `claimed_until`, or an
UPDATE whose WHERE is re-checked on the row it locks), so two instances never both win one.

Here: joining and leaving the fleet, renewing leases, the instances listed, and the constants of the
lease model. Taking claims: claims.py. Fleet-wide jobs, posting turns and the story lock: turns.py.
"""

from __future__ import annotations

import functools
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, case, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from .. import __version__
from . import schema
from .common import chunks, storage_errors
from .records import Instance

# How long a claim outlives its holder's last renewal: about the longest a dead instance's alerts and
# the items it was reading wait for another instance (Kubernetes' leader election uses 15 s too).
# Renewed every fifth of it (service/fleet.py), so a slow store may miss four renewals in a row.
DEFAULT_LEASE = timedelta(seconds=15)
# A feed claim is held for this share of the feed's interval (and at least a lease): the scheduler may
# poll a feed this early (feed_schedule.JITTER_SHARE), so a dead holder's feed is taken over when it
# would have been polled next anyway, never twice within its interval.
FEED_HOLD_SHARE = 0.9
# Instances silent for this long are dropped from the list (their leases ran out long before).
FORGET_INSTANCES_AFTER = timedelta(days=1)
# The longest a 429 holds a channel for every instance (Slack's "rate_limited" asks for minutes).
LONGEST_CHANNEL_HOLD = timedelta(minutes=5)


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
