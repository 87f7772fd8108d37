"""Turns across the fleet: which instance runs a job now, posts to a channel next, or decides a story."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.engine import Connection

from . import schema
from .common import storage_errors, upsert
from .fleet import LONGEST_CHANNEL_HOLD

# Any constant: the PostgreSQL advisory lock under which an article's story is decided (story_lock).
STORY_LOCK = 7_203_114_952


class TurnQueries:
    """Mixin of SQLStorage: the jobs table (fleet-wide jobs and posting turns) and the story lock."""

    engine: Engine
    instance_id: str

    # -- story decisions ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def story_lock(self) -> Iterator[None]:
        """One instance at a time decides and records an article's story (the pipeline reads the store,
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


def _move_job(conn: Connection, name: str, next_run_at: datetime, by: str | None, *, where: Any) -> bool:
    """Set job `name`'s next run (creating the row) where `where` holds of its current one; True if set."""
    table = schema.jobs
    row = {"name": name, "next_run_at": next_run_at, "last_run_by": by}
    statement = upsert(conn, table, [row], ["name"], {"next_run_at", "last_run_by"}, where)
    return conn.execute(statement.returning(table.c.name)).first() is not None
